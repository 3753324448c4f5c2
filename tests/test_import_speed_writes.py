"""The SQLite bulk insert's shortcuts store exactly what the plain path would.

Columns holding one value in every row (a citywide file's area, a value file's empty numerators)
are bound once a statement; a file already in key order is not sorted again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cityscore import Kit
from cityscore.store import writes
from tests.test_bulk_writes import METRICS, as_bytes, values_file

SAME = 0.1 + 0.2  # a double whose shortest text is long


def stored_rows(kit: Kit) -> pd.DataFrame:
    with kit.store.transaction() as conn:
        rows = conn.exec_driver_sql(
            "SELECT id, metric_id, area, date, value, numerator, denominator, batch_id, source "
            "FROM observations ORDER BY id"
        ).all()
    columns = ["id", "metric_id", "area", "date", "value", "numerator", "denominator"]
    return pd.DataFrame(rows, columns=[*columns, "batch_id", "source"])


def test_columns_of_one_value_are_stored_exactly(kit: Kit) -> None:
    kit.import_metrics(METRICS)
    dates = pd.date_range("2024-01-01", periods=700).strftime("%Y-%m-%d")
    frame = pd.DataFrame({"metric": "V", "date": dates, "value": repr(SAME), "area": "North"})
    result = kit.import_values(as_bytes(frame), dry_run=False)
    assert (result.inserted, result.updated) == (700, 0)
    rows = stored_rows(kit)
    assert len(rows) == 700 and rows["value"].tolist() == [SAME] * 700  # bit for bit
    assert rows["numerator"].isna().all() and rows["denominator"].isna().all()
    assert set(rows["area"]) == {"North"} and set(rows["source"]) == {"<upload>"}
    assert set(rows["batch_id"]) == {result.batch_id}
    assert rows["date"].tolist() == list(dates)  # in key order, each day once
    again = kit.import_values(as_bytes(frame))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 700)


def test_one_row_whose_every_column_is_constant(kit: Kit) -> None:
    kit.import_metrics(METRICS)
    kit.import_values(b"metric,date,value\nV,2024-01-01,3\n")
    changed = kit.import_values(b"metric,date,value\nV,2024-01-01,4\n")  # one changed row
    assert (changed.inserted, changed.updated) == (0, 1)
    assert kit.observations()["value"].tolist() == [4.0]
    assert kit.store.superseded_values()["value"].tolist() == [3.0]


def test_mixed_files_keep_every_value(kit: Kit) -> None:
    """Value and ratio metrics together: no column is constant, every cell is bound per row."""
    kit.import_metrics(METRICS)
    frame = values_file(200, seed=11)
    kit.import_values(as_bytes(frame))
    rows = stored_rows(kit)
    ids = {"V": 1, "R": 2, "W": 3}  # in the order metrics.csv names them
    expected = frame.assign(metric_id=frame["metric"].map(ids)).sort_values(["metric_id", "date"])
    np.testing.assert_array_equal(rows["value"], expected["value"].astype(float))
    np.testing.assert_array_equal(rows["denominator"], expected["denominator"].astype(float))
    assert rows["date"].tolist() == expected["date"].tolist()


def frame_of(
    metric_ids: list[int], days: list[str], areas: list[str] | None = None
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "metric_id": np.array(metric_ids, dtype=np.int64),
            "area": areas or [""] * len(days),
            "date": pd.to_datetime(days),
        }
    )


def test_in_key_order_keeps_an_ordered_frame_and_sorts_others() -> None:
    ordered = frame_of([1, 1, 2], ["2024-01-01", "2024-01-02", "2024-01-01"])
    assert writes.in_key_order(ordered) is ordered
    shuffled = frame_of([2, 1, 1], ["2024-01-01", "2024-01-02", "2024-01-01"])
    assert writes.in_key_order(shuffled)["date"].dt.day.tolist() == [1, 2, 1]
    repeated_day = frame_of([1, 1], ["2024-01-01", "2024-01-01"])
    assert writes.in_key_order(repeated_day) is not repeated_day  # not strictly increasing
    areas = frame_of([1, 1], ["2024-01-02", "2024-01-01"], ["North", "South"])
    assert writes.in_key_order(areas)["area"].tolist() == ["North", "South"]
