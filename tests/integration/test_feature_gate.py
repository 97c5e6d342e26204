"""The feature tables' quality gate: a sound partition stays where readers find it; a broken one
leaves features/ for quarantine/ with its reason, naming the expectations it broke."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from include import lake as lk
from include.lake.manifest import REASON_NAME
from include.quality import QualityGateFailed, gate_feature_partition

pytestmark = pytest.mark.integration

D = date(2026, 8, 20)
SHARES = ("declined_share", "cash_advance_share", "foreign_share", "night_share")


def training_set(rows: int = 40, **overrides: list) -> pa.Table:
    columns = {
        "account_id": list(range(1, rows + 1)),
        "label": [1 if i % 20 == 0 else 0 for i in range(rows)],
        "utilization_last": [0.1 * (i % 10) for i in range(rows)],
        "dpd_last": [0] * rows,
        "bureau_score": [600 + i for i in range(rows)],
    }
    for window in (7, 30, 90):
        columns[f"txn_count_{window}d"] = [i % 7 * window // 7 for i in range(rows)]
        for share in SHARES:
            columns[f"{share}_{window}d"] = [(i % 5) / 5 for i in range(rows)]
    columns.update(overrides)
    return pa.table(columns)


@pytest.fixture
def lake(tmp_path):
    return lk.Lake.from_uri(f"file://{tmp_path / 'lake'}")


def publish(lake, table: pa.Table) -> lk.PartitionRef:
    ref = lake.partition("features", "credit_default_training", "v123", ds=D)
    lk.write_partition(lake, ref, table, source_position={}, written_by={})
    return ref


def test_a_sound_feature_partition_passes_in_place(lake):
    ref = publish(lake, training_set())
    result = gate_feature_partition(lake, ref, postgres_uri=None)
    assert result["success"] and result["location_uri"] == ref.uri
    assert lk.partition_exists(lake, ref)


def test_a_broken_feature_partition_is_quarantined_naming_what_broke(lake):
    rows = 40
    broken = training_set(
        rows,
        cash_advance_share_30d=[1.5] + [0.0] * (rows - 1),  # a share above 1: a broken aggregate
        label=[2] + [0] * (rows - 1),  # not a binary label
    )
    ref = publish(lake, broken)
    with pytest.raises(QualityGateFailed) as failed:
        gate_feature_partition(lake, ref, postgres_uri=None)
    assert {"cash_advance_share_30d_is_a_share", "label_is_binary"} <= set(failed.value.result["failed_names"])
    assert not lk.partition_exists(lake, ref)
    quarantined = lake.partition("quarantine", "features", "credit_default_training.v123", ds=D)
    assert lk.partition_exists(lake, quarantined)
    assert "label_is_binary" in str(lk.read_json(lake, f"{quarantined.relative}/{REASON_NAME}"))
