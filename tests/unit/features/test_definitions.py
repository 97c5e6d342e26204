from dataclasses import replace

from include.features.definitions import CREDIT_DEFAULT, Aggregate
from include.features.query import feature_columns


def test_version_is_a_stable_number_of_the_definitions():
    assert CREDIT_DEFAULT.version.isdigit()
    assert CREDIT_DEFAULT.version == replace(CREDIT_DEFAULT).version


def test_changing_any_definition_changes_the_version():
    changed = [
        replace(CREDIT_DEFAULT, windows_days=(7, 30, 60)),
        replace(CREDIT_DEFAULT, bureau_max_age_days=90),
        replace(CREDIT_DEFAULT, transaction_aggregates=(*CREDIT_DEFAULT.transaction_aggregates[:-1],)),
        replace(
            CREDIT_DEFAULT,
            transaction_aggregates=(*CREDIT_DEFAULT.transaction_aggregates, Aggregate("amount_min", "max", "-amount")),
        ),
    ]
    versions = {fs.version for fs in changed}
    assert CREDIT_DEFAULT.version not in versions
    assert len(versions) == len(changed)


def test_every_aggregate_exists_for_every_window_and_names_are_unique():
    columns = feature_columns(CREDIT_DEFAULT)
    assert len(columns) == len(set(columns))
    for agg in CREDIT_DEFAULT.transaction_aggregates:
        for w in CREDIT_DEFAULT.windows_days:
            assert f"{agg.name}_{w}d" in columns
    assert {d.name for d in CREDIT_DEFAULT.derived} <= set(columns)
    assert set(CREDIT_DEFAULT.categoricals) <= set(columns)
