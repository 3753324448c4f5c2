"""Set-based imports: bulk inserts, changed rows kept in superseded_values, counts exact."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cityscore import Kit

METRICS = b"name,direction,kind,target\nV,higher,value,10\nR,higher,ratio,0.9\nW,lower,value,5\n"


def values_file(days: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=days).strftime("%Y-%m-%d")
    frames = [
        pd.DataFrame({"metric": name, "date": dates, "value": rng.integers(0, 20, days) / 4})
        for name in ("V", "W")
    ]
    den = rng.integers(1, 40, days)
    frames.append(
        pd.DataFrame({"metric": "R", "date": dates, "numerator": den // 2, "denominator": den})
    )
    return pd.concat(frames, ignore_index=True)


def as_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def assert_bulk_import_keeps_every_version(kit: Kit) -> None:
    kit.import_metrics(METRICS)
    first = values_file(400, seed=1)
    result = kit.import_values(as_bytes(first))
    assert (result.inserted, result.updated, result.unchanged) == (1200, 0, 0)

    second = first.copy()
    changed = second.sample(frac=0.1, random_state=2).index
    value_rows = changed[second.loc[changed, "metric"] != "R"]
    ratio_rows = changed[second.loc[changed, "metric"] == "R"]
    second.loc[value_rows, "value"] += 1
    second.loc[ratio_rows, "numerator"] = 0
    more = values_file(430, seed=3).query("date > '2025-02-03'")  # 30 new days per metric
    second = pd.concat([second, more], ignore_index=True)

    plan = kit.preview_values(as_bytes(second))
    assert (len(plan.insert), len(plan.update), len(plan.unchanged)) == (90, len(changed), 1080)
    result = kit.import_values(as_bytes(second))
    assert (result.inserted, result.updated, result.unchanged) == (90, len(changed), 1080)

    stored = kit.store.observations(with_source=True)
    assert len(stored) == 1290 and set(stored["batch_id"]) == {2, result.batch_id}
    old = kit.store.superseded_values()
    assert len(old) == len(changed) and set(old["superseded_by"]) == {result.batch_id}
    before = first.loc[changed].assign(date=lambda f: pd.to_datetime(f["date"]))
    kept = old.assign(date=pd.to_datetime(old["date"])).merge(before, on=["metric", "date"])
    assert len(kept) == len(changed)
    np.testing.assert_array_equal(kept["value_x"], kept["value_y"])  # NaN for R on both sides
    np.testing.assert_array_equal(kept["numerator_x"], kept["numerator_y"])

    undo = kit.undo(result.batch_id)
    assert (undo.updated, undo.deleted) == (len(changed), 90)
    back = kit.observations()
    expected = first.assign(date=pd.to_datetime(first["date"])).sort_values(["metric", "date"])
    np.testing.assert_array_equal(back["value"], expected["value"].astype(float))
    np.testing.assert_array_equal(back["numerator"], expected["numerator"].astype(float))


def test_bulk_import_keeps_every_version_on_sqlite(kit: Kit) -> None:
    assert_bulk_import_keeps_every_version(kit)
