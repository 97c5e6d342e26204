"""The command line refuses inconsistent arguments before it touches any source."""

import pytest

from devstack.seed import write
from devstack.seed.__main__ import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--scenario", "bad-batch"], "needs --defect and --defect-date"),
        (["--defect", "null_keys", "--defect-date", "2026-11-01"], "only apply to --scenario bad-batch or drift"),
        (["--scenario", "drift", "--defect", "null_keys"], "with a bad batch needs --defect and --defect-date"),
        (["--scenario", "bad-batch", "--defect", "unknown_currency", "--defect-date", "2026-11-01"], "does not apply"),
        (["--start", "2026-12-01", "--end", "2026-11-01"], "is after end"),
        (["--drift-from", "2026-06-01"], "only applies to scenario 'drift'"),
    ],
)
def test_inconsistent_arguments_fail_with_a_message(argv, message, capsys, monkeypatch):
    monkeypatch.setattr(write, "seed", lambda *a, **k: pytest.fail("must not seed"))
    assert main(argv) == 1
    assert message in capsys.readouterr().err


def test_unknown_sources_are_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit):
        main(["--only", "postgres,mysql"])
    assert "comma-separated subset of postgres,kafka,s3,hdfs" in capsys.readouterr().err


def test_bad_batch_of_a_source_that_is_not_seeded_is_refused(monkeypatch, capsys):
    argv = ["--scenario", "bad-batch", "--defect", "null_keys", "--defect-date", "2026-11-01", "--only", "postgres"]
    assert main(argv) == 1
    assert "bad batch for bureau needs the source s3" in capsys.readouterr().err


def test_the_defect_catalogue_is_listed(capsys):
    assert main(["--list-defects"]) == 0
    assert "future_timestamps  transactions" in capsys.readouterr().out
