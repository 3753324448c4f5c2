"""An undo finds the rows its batch inserted by their ids (kept at import), and does exactly what
the old read of every row did: same observations, same kept versions, on SQLite and PostgreSQL."""

from __future__ import annotations

import pandas as pd
import pytest

from cityscore import Kit, audit
from cityscore.schema import inserted_ids_table
from tests.test_bulk_writes import METRICS, as_bytes, values_file


def history_of_changes(kit: Kit) -> int:
    """Batches A (new), B (changes a tenth of A, adds 30 days), C (changes some of B's new days),
    then C undone (those rows hold B's values and batch again). Returns B."""
    kit.import_metrics(METRICS)
    first = values_file(400, seed=1)
    kit.import_values(as_bytes(first))
    second = first.copy()
    changed = second.sample(frac=0.1, random_state=2).index
    second.loc[changed[second.loc[changed, "metric"] != "R"], "value"] += 1
    more = values_file(430, seed=3).query("date > '2025-02-03'")
    b = kit.import_values(as_bytes(pd.concat([second, more], ignore_index=True)))
    assert (b.inserted, b.updated) == (
        90,
        len(changed) - (second.loc[changed, "metric"] == "R").sum(),
    )
    third = more[more["metric"] == "V"].assign(value=lambda f: f["value"] + 100)
    c = kit.import_values(as_bytes(third))
    assert c.updated == 30
    kit.undo(c.batch_id)
    return b.batch_id


def state(kit: Kit) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Observations (with batch) and kept versions, without the times they were written."""
    stored = kit.store.observations(with_source=True).reset_index(drop=True)
    kept = kit.store.superseded_values().drop(columns=["superseded_at"])
    kept = kept.sort_values([*kept.columns[:3], "batch_id", "superseded_by"]).reset_index(drop=True)
    return stored, kept


def assert_undo_by_ids_equals_undo_by_reading_every_row(by_ids: Kit, by_scan: Kit) -> None:
    for kit in (by_ids, by_scan):
        batch = history_of_changes(kit)
    with by_ids.store.transaction() as conn:
        assert audit.inserted_ids(conn, batch) is not None  # the ids were kept and still hold
    with by_scan.store.transaction(write=True) as conn:  # as a batch from before they were kept
        conn.execute(inserted_ids_table.delete())
        assert audit.inserted_ids(conn, batch) is None
    results = [kit.undo(batch) for kit in (by_ids, by_scan)]
    assert [(r.updated, r.deleted) for r in results] == [(results[0].updated, 90)] * 2
    assert results[0].updated > 0
    for mine, theirs in zip(state(by_ids), state(by_scan), strict=True):
        pd.testing.assert_frame_equal(mine, theirs)
    stored, _ = state(by_ids)
    assert len(stored) == 1200 and set(stored["batch_id"]) == {2}  # as batch A left them


def test_undo_by_inserted_ids_equals_reading_every_row_on_sqlite(tmp_path) -> None:
    kits = [Kit(f"sqlite:///{tmp_path / f'{name}.db'}") for name in ("ids", "scan")]
    for kit in kits:
        kit.init()
    assert_undo_by_ids_equals_undo_by_reading_every_row(*kits)


@pytest.fixture
def pg_kits(postgres_url: str) -> list[Kit]:
    """Two kits on one server: the second in a database of its own."""
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS undo_scan")
        conn.exec_driver_sql("CREATE DATABASE undo_scan")
    engine.dispose()
    other = sa.make_url(postgres_url).set(database="undo_scan").render_as_string(False)
    kits = [Kit(postgres_url), Kit(other)]
    for kit in kits:
        kit.init()
    return kits


def test_undo_by_inserted_ids_equals_reading_every_row_on_postgres(pg_kits: list[Kit]) -> None:
    assert_undo_by_ids_equals_undo_by_reading_every_row(*pg_kits)


def test_ids_that_no_longer_hold_fall_back_to_reading_every_row(kit: Kit) -> None:
    """A range whose rows are not the batch's own (ids renumbered by hand, say) is not trusted."""
    batch = history_of_changes(kit)
    with kit.store.transaction(write=True) as conn:
        t = inserted_ids_table
        conn.execute(t.update().where(t.c.batch_id == batch).values(first_id=t.c.first_id + 1))
        assert audit.inserted_ids(conn, batch) is None
    assert kit.undo(batch).deleted == 90
    assert set(kit.store.observations(with_source=True)["batch_id"]) == {2}
