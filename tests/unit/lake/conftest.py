import pytest

from include.lake import Lake


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake.from_uri(f"file://{tmp_path}/lake")
