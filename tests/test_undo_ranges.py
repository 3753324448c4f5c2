"""An undo finds the rows its batch inserted by their ids (kept at import), and does exactly what
the old read of every row did: same observations, same kept versions, on SQLite and PostgreSQL."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from cityscore import Kit
from cityscore.store import audit, schema
from cityscore.store.schema import inserted_ids_table
from tests.test_bulk_writes import METRICS, as_bytes, values_file

NEW_DAYS = values_file(440, seed=9).query("date > '2025-03-05'")  # ten days after the history


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


def test_a_database_from_before_gets_the_table_without_waiting_for_a_writer(tmp_path) -> None:
    """An older database gains the table and the kept versions' indexes when a run can take the
    write lock at once; a run that cannot (an import holds it) reads on without them, and an undo
    then reads every row."""
    import sqlite3

    db = tmp_path / "city.db"
    old = Kit(f"sqlite:///{db}")
    old.init()
    batch = history_of_changes(old)
    old.store.engine.dispose()
    with sqlite3.connect(db) as raw:
        raw.execute("DROP TABLE inserted_observation_ids")  # as a database from an older kit
        for index in schema.SUPERSEDED_INDEXES:
            raw.execute(f"DROP INDEX {index.name}")
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process's import holds the write lock
    try:
        busy = Kit(f"sqlite:///{db}")
        assert len(busy.metrics()) == 3  # no wait, no error
        assert not sa.inspect(busy.store.engine).has_table("inserted_observation_ids")
        assert not kept_version_indexes(busy)
    finally:
        writer.rollback()
        writer.close()
    kit = Kit(f"sqlite:///{db}")
    assert kit.undo(batch).deleted == 90  # no range kept for it: every row read
    assert sa.inspect(kit.store.engine).has_table("inserted_observation_ids")
    assert kept_version_indexes(kit) == {index.name for index in schema.SUPERSEDED_INDEXES}
    assert kit.import_values(as_bytes(NEW_DAYS)).inserted
    with kit.store.transaction() as conn:
        last = kit.batches()["id"].max()
        assert audit.inserted_ids(conn, int(last)) is not None


def kept_version_indexes(kit: Kit) -> set[str]:
    indexes = sa.inspect(kit.store.engine).get_indexes("superseded_values")
    return {index["name"] for index in indexes}


def test_postgres_roles_that_may_not_create_or_write_the_table_still_read_import_and_undo(
    postgres_url: str,
) -> None:
    """A role with only SELECT, or only row rights on the kit's tables, keeps working on a database
    made before the table, and after its owner has added it (undo then reads every row)."""
    import uuid

    owner = Kit(postgres_url)
    owner.init()
    history_of_changes(owner)
    with owner.store.transaction(write=True) as conn:
        conn.exec_driver_sql("DROP TABLE inserted_observation_ids")  # an older kit's database
        for index in schema.SUPERSEDED_INDEXES:
            conn.exec_driver_sql(f"DROP INDEX {index.name}")
    reader, writer = (f"{role}_{uuid.uuid4().hex[:8]}" for role in ("reader", "writer"))
    tables = "metrics, targets, observations, import_batches, superseded_values, superseded_targets, superseded_metrics"
    with owner.store.engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {reader} LOGIN")
        conn.exec_driver_sql(f"CREATE ROLE {writer} LOGIN")
        conn.exec_driver_sql(f"GRANT SELECT ON {tables} TO {reader}")
        conn.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO {writer}")
        conn.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {writer}")
        conn.commit()
    as_role = {
        role: Kit(sa.make_url(postgres_url).set(username=role).render_as_string(False))
        for role in (reader, writer)
    }
    assert len(as_role[reader].observations()) == 1290
    result = as_role[writer].import_values(as_bytes(NEW_DAYS))
    assert result.inserted == len(NEW_DAYS)
    assert as_role[writer].undo(result.batch_id).deleted == len(NEW_DAYS)
    assert not kept_version_indexes(owner)  # only the table's owner may add them
    owner.init()  # the owner's next run adds the table; the writer has no rights on it
    assert sa.inspect(owner.store.engine).has_table("inserted_observation_ids")
    assert len(kept_version_indexes(owner)) == len(schema.SUPERSEDED_INDEXES)
    again = Kit(sa.make_url(postgres_url).set(username=writer).render_as_string(False))
    result = again.import_values(as_bytes(NEW_DAYS))
    assert result.inserted == len(NEW_DAYS)
    assert again.undo(result.batch_id).deleted == len(NEW_DAYS)
    assert len(as_role[reader].observations()) == 1290


def test_undoing_a_targets_or_metrics_batch_never_reads_the_values(kit: Kit) -> None:
    """Those batches write no value: their undo runs no statement on the observations."""
    history_of_changes(kit)
    targets = kit.import_targets(b"metric,effective_from,target\nV,2024-06-01,12\n")
    metrics = kit.import_metrics(METRICS.replace(b"V,higher,value,10", b"V,higher,value,11"))
    before = state(kit)
    statements: list[str] = []
    sa.event.listen(kit.store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    for batch in (metrics.batch_id, targets.batch_id):
        kit.undo(batch)
    assert statements and not [s for s in statements if "observations" in s]
    assert kit.targets().query("metric == 'V'")["target"].tolist() == [10.0]
    stored, kept = state(kit)
    pd.testing.assert_frame_equal(stored, before[0])
    pd.testing.assert_frame_equal(kept, before[1])


@pytest.mark.parametrize("analyzed", [False, True], ids=["no statistics", "after ANALYZE"])
def test_an_undo_finds_kept_versions_by_index_not_by_reading_them_all(
    kit: Kit, analyzed: bool
) -> None:
    """However many corrections are kept, a values batch's undo reaches its versions through the
    indexes on ``superseded_by`` and ``batch_id`` (SQLite's plan for every statement on the table),
    also once SQLite has statistics (a user's ``ANALYZE`` or ``PRAGMA optimize``)."""
    batch = history_of_changes(kit)
    if analyzed:
        with kit.store.transaction(write=True) as conn:
            conn.exec_driver_sql("ANALYZE")
    statements: list[tuple[str, object]] = []
    sa.event.listen(
        kit.store.engine, "before_cursor_execute", lambda *a: statements.append((a[2], a[3]))
    )
    kit.undo(batch)
    on_kept = [(sql, params) for sql, params in statements if "superseded_values" in sql]
    assert len(on_kept) >= 4  # the check, the copy, the restore, the delete
    raw = kit.store.engine.raw_connection()
    try:
        plans = [
            " | ".join(row[-1] for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params))
            for sql, params in on_kept
        ]
    finally:
        raw.close()
    assert not [plan for plan in plans if "SCAN superseded_values" in plan], plans
    for index in schema.SUPERSEDED_INDEXES:
        assert [plan for plan in plans if index.name in plan], (index.name, plans)


def test_an_older_postgres_database_opens_read_only_and_while_its_tables_are_locked(
    postgres_url: str,
) -> None:
    """Adding the indexes never fails a read-only connection (a standby, a read-only role) and never
    waits for a lock another tool holds on the table (a VACUUM, an open transaction): the run goes
    on without them, and a later one adds them."""
    import threading

    owner = Kit(postgres_url)
    owner.init()
    history_of_changes(owner)
    with owner.store.transaction(write=True) as conn:
        for index in schema.SUPERSEDED_INDEXES:
            conn.exec_driver_sql(f"DROP INDEX {index.name}")
    read_only = sa.make_url(postgres_url).update_query_dict(
        {"options": "-c default_transaction_read_only=on"}
    )
    assert len(Kit(read_only.render_as_string(False)).observations()) == 1290
    assert not kept_version_indexes(owner)

    holder = sa.create_engine(postgres_url).connect()
    holder.exec_driver_sql("LOCK TABLE superseded_values IN SHARE UPDATE EXCLUSIVE MODE")
    opened: list[int] = []
    reader = threading.Thread(target=lambda: opened.append(len(Kit(postgres_url).observations())))
    try:
        reader.start()
        reader.join(timeout=120)  # a hang detector: without a lock timeout it waits for the holder
        assert not reader.is_alive() and opened == [1290]
        assert not kept_version_indexes(owner)
    finally:
        holder.rollback()
        holder.close()
        reader.join()
    Kit(postgres_url).observations()  # the next run finds the table free
    assert len(kept_version_indexes(owner)) == len(schema.SUPERSEDED_INDEXES)


def test_an_in_memory_database_keeps_its_tables(tmp_path) -> None:
    """``sqlite:///:memory:`` lives in its one connection: the upgrade must not reconnect it."""
    kit = Kit("sqlite:///:memory:")
    kit.init()
    kit.import_metrics(METRICS)
    assert kit.import_values(as_bytes(NEW_DAYS)).inserted == len(NEW_DAYS)
    assert len(kit.observations()) == len(NEW_DAYS)
