"""Set-based imports: bulk inserts, changed rows kept in superseded_values, counts exact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

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


def test_bulk_import_keeps_every_version_on_postgres(pg_kit: Kit) -> None:
    assert_bulk_import_keeps_every_version(pg_kit)


# Doubles whose shortest text is long or unusual: the bulk paths (multi-row INSERT on SQLite, COPY
# of Arrow-written CSV on PostgreSQL) must store each one exactly. The smallest and largest are the
# kept range's ends (numbers beyond them are refused at import: docs/data-entry.md).
AWKWARD = [
    0.1 + 0.2,
    1 / 3,
    123456789.12345679,
    1e-12,
    1.2345678901234e-12,
    999999999999999.9,
    0.0,
    7.0,
]


def assert_values_stored_exactly(kit: Kit) -> None:
    kit.import_metrics(METRICS)
    dates = pd.date_range("2024-03-01", periods=len(AWKWARD)).strftime("%Y-%m-%d")
    frame = pd.DataFrame({"metric": "V", "date": dates, "value": [repr(v) for v in AWKWARD]})
    first = kit.import_values(as_bytes(frame))
    assert (first.inserted, first.updated) == (len(AWKWARD), 0)
    stored = kit.observations()
    assert stored["value"].tolist() == AWKWARD  # bit for bit, not approximately
    assert stored["numerator"].isna().all() and stored["denominator"].isna().all()
    again = kit.import_values(as_bytes(frame))  # the same file again changes nothing
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(AWKWARD))
    assert again.batch_id is None and len(kit.batches()) == 2


def test_values_stored_exactly_on_sqlite(kit: Kit) -> None:
    assert_values_stored_exactly(kit)


def test_values_stored_exactly_on_postgres(pg_kit: Kit) -> None:
    assert_values_stored_exactly(pg_kit)


def sqlite_indexes(kit: Kit) -> set[str]:
    with kit.store.transaction() as conn:
        rows = conn.exec_driver_sql("PRAGMA index_list(observations)").all()
    return {r[1] for r in rows}


def test_first_import_rebuilds_the_date_index_and_a_failure_keeps_it(kit: Kit, monkeypatch) -> None:
    """A first bulk import sets the date index aside and builds it after; if the import fails in
    between, the rollback brings the index back and nothing is written."""
    from cityscore.store import bulk

    before = sqlite_indexes(kit)
    assert "ix_observations_date" in before
    kit.import_metrics(METRICS)
    real = bulk._sqlite_insert

    def insert_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        assert "ix_observations_date" not in sqlite_indexes_in(args[0])
        raise RuntimeError("disk full")

    def sqlite_indexes_in(dbapi) -> set[str]:
        return {r[1] for r in dbapi.execute("PRAGMA index_list(observations)").fetchall()}

    monkeypatch.setattr(bulk, "_sqlite_insert", insert_then_fail)
    try:
        kit.import_values(as_bytes(values_file(50, seed=4)))
    except RuntimeError:
        pass
    else:
        raise AssertionError("the import should have failed")
    assert sqlite_indexes(kit) == before
    assert kit.observations().empty and len(kit.batches()) == 1

    monkeypatch.setattr(bulk, "_sqlite_insert", real)
    result = kit.import_values(as_bytes(values_file(50, seed=4)))
    assert result.inserted == 150 and sqlite_indexes(kit) == before
    with kit.store.transaction() as conn:
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT * FROM observations WHERE date >= '2024-02-01'"
        ).all()
    assert any("ix_observations_date" in str(row) for row in plan)


def test_rows_go_in_by_metric_and_day_whatever_the_file_order(kit: Kit) -> None:
    """New rows are inserted in key order (one B-tree append each), not in the file's order."""
    kit.import_metrics(METRICS)
    by_date = values_file(30, seed=5).sort_values(["date", "metric"], ascending=[False, True])
    kit.import_values(as_bytes(by_date))
    with kit.store.transaction() as conn:
        rows = conn.exec_driver_sql("SELECT id, metric_id, date FROM observations").all()
    ids = pd.DataFrame(rows, columns=["id", "metric_id", "date"]).sort_values("id")
    keyed = ids.sort_values(["metric_id", "date"])
    assert ids["metric_id"].nunique() == 3 and len(ids) == 90
    assert ids["id"].tolist() == keyed["id"].tolist()


def foreign_keys_on(conn) -> bool:
    return conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_an_import_sets_sqlite_key_checks_aside_and_every_other_transaction_keeps_them(
    kit: Kit, monkeypatch
) -> None:
    """An import's keys come from its own transaction, so SQLite's per-row look-ups are set aside
    for it alone: the pooled connection it used checks keys again afterwards, also after a failure."""
    from cityscore.store import writes

    kit.import_metrics(METRICS)
    seen: list[tuple[object, bool]] = []
    real = writes.bulk_insert

    def watch(conn, *args, **kwargs):
        seen.append((conn.connection.driver_connection, foreign_keys_on(conn)))
        return real(conn, *args, **kwargs)

    monkeypatch.setattr(writes, "bulk_insert", watch)
    assert kit.import_values(as_bytes(values_file(20, seed=6))).inserted == 60
    (used, checked_during_import), *_ = seen
    assert not checked_during_import

    def refused_orphan() -> None:
        with kit.store.transaction(write=True) as conn:
            assert conn.connection.driver_connection is used  # the pool hands the same one back
            assert foreign_keys_on(conn)
            row = "INSERT INTO observations (metric_id, date, value, source, area) VALUES (999, '2024-01-01', 1, '', '')"
            with pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"):
                conn.exec_driver_sql(row)

    refused_orphan()

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writes, "bulk_insert", fail)
    with pytest.raises(RuntimeError):
        kit.import_values(as_bytes(values_file(25, seed=7)))
    refused_orphan()
    assert len(kit.observations()) == 60
    with kit.store.transaction() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def test_an_import_whose_commit_fails_leaves_no_connection_without_key_checks(
    tmp_path, monkeypatch
) -> None:
    """SQLite can keep a transaction open when its COMMIT fails (busy, disk full). Here the COMMIT
    waits for a reader's lock in rollback-journal mode and gives up: nothing is written, and the
    next transaction runs on a connection that checks keys."""
    import sqlite3

    from cityscore.core.errors import StoreError
    from cityscore.store import schema

    monkeypatch.setenv("CITYSCORE_LOCK_TIMEOUT", "0.3")
    usual = schema._sqlite_pragmas

    def journal_mode_delete(dbapi, busy_ms):
        usual(dbapi, busy_ms)
        dbapi.execute("PRAGMA journal_mode=DELETE")  # a reader then blocks a COMMIT

    monkeypatch.setattr(schema, "_sqlite_pragmas", journal_mode_delete)
    db = tmp_path / "city.db"
    kit = Kit(f"sqlite:///{db}")
    kit.init()
    kit.import_metrics(METRICS)
    reader = sqlite3.connect(db, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM metrics").fetchall()  # holds a shared lock
    try:
        with pytest.raises(StoreError, match="nothing was written"):
            kit.import_values(as_bytes(values_file(10, seed=8)))
    finally:
        reader.rollback()
        reader.close()
    with kit.store.transaction(write=True) as conn:
        assert foreign_keys_on(conn)
        orphan = "INSERT INTO observations (metric_id, date, value, source, area) VALUES (999, '2024-01-01', 1, '', '')"
        with pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"):
            conn.exec_driver_sql(orphan)
    assert kit.observations().empty
    assert kit.import_values(as_bytes(values_file(10, seed=8))).inserted == 30
