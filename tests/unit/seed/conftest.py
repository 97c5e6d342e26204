"""Small portfolios shared by the seed tests: generated once per session, in memory."""

from dataclasses import replace
from datetime import date

import pytest

from devstack.seed.generate import Portfolio, SeedParams, generate

# Several blocks, so the tests cover what crosses block boundaries.
SMALL = SeedParams(
    customers=1_500, start=date(2026, 1, 1), end=date(2026, 6, 30), seed=7, kafka_days=10, block_size=700
)
DRIFT_FROM = date(2026, 4, 15)


@pytest.fixture(scope="session")
def params() -> SeedParams:
    return SMALL


@pytest.fixture(scope="session")
def portfolio() -> Portfolio:
    return generate(SMALL)


@pytest.fixture(scope="session")
def drift_params() -> SeedParams:
    return replace(SMALL, scenario="drift", drift_from=DRIFT_FROM)


@pytest.fixture(scope="session")
def drifted(drift_params) -> Portfolio:
    return generate(drift_params)
