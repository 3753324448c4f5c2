"""The store's schema: tables, constants, and engines (SQLite pragmas, write locks).

Works on SQLite (the default file in data/) and PostgreSQL. ``superseded_values`` and
``superseded_targets`` keep every overwritten value with the batch that wrote it and the one that
replaced it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cityscore.core.errors import StoreError
from cityscore.core.secrets import redact_url
from cityscore.core.settings import database_url
from cityscore.core.vocabulary import HISTORY_BASELINES
from cityscore.frames.catalog import empty_metrics
from cityscore.store.dberrors import check_sqlite_path, lock_timeout

meta = sa.MetaData()

metrics_table = sa.Table(
    "metrics",
    meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("definition", sa.Text, nullable=False, default=""),
    sa.Column("category", sa.String(200), nullable=False),
    sa.Column("unit", sa.String(100), nullable=False, default=""),
    sa.Column("direction", sa.String(10), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("aggregation", sa.String(10), nullable=False, default=""),
    sa.Column("baseline", sa.String(10), nullable=False),
    sa.Column("trend", sa.Boolean, nullable=False, default=False),
    sa.Column("weight", sa.Float, nullable=False, default=1.0),
    # The target as metrics.csv last gave it; changing it there records a target change from today.
    sa.Column("catalog_target", sa.Float, nullable=True),
    # Added after the first release: ``upgrade`` adds them to an older database.
    sa.Column(
        "allow_negative", sa.Boolean, nullable=False, default=False, server_default=sa.false()
    ),
    sa.Column("per_residents", sa.Float, nullable=True),  # a rate per N residents; NULL: none
    # The days the metric reports on (existing metrics: daily), and the days it may go without a
    # value before it is stale (NULL: the schedule's default).
    sa.Column("schedule", sa.String(20), nullable=False, default="daily", server_default="daily"),
    sa.Column("stale_after", sa.Integer, nullable=True),
    sa.Column("batch_id", sa.Integer, nullable=True),  # the batch that last wrote the definition
)

batches_table = sa.Table(
    "import_batches",
    meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "kind", sa.String(20), nullable=False
    ),  # metrics, targets, values, demo, manual, sync
    sa.Column("source", sa.String(500), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("inserted", sa.Integer, nullable=False, default=0),
    sa.Column("updated", sa.Integer, nullable=False, default=0),
    sa.Column("unchanged", sa.Integer, nullable=False, default=0),
    sa.Column("undone_at", sa.DateTime, nullable=True),
)

targets_table = sa.Table(
    "targets",
    meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("metric_id", sa.ForeignKey("metrics.id"), nullable=False),
    sa.Column("effective_from", sa.Date, nullable=False),
    sa.Column("target", sa.Float, nullable=False),
    sa.Column("batch_id", sa.ForeignKey("import_batches.id"), nullable=True),
    sa.Column("area", sa.String(200), nullable=False, default="", server_default=""),
    sa.UniqueConstraint("metric_id", "area", "effective_from"),
)

observations_table = sa.Table(
    "observations",
    meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("metric_id", sa.ForeignKey("metrics.id"), nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("numerator", sa.Float, nullable=True),
    sa.Column("denominator", sa.Float, nullable=True),
    sa.Column("batch_id", sa.ForeignKey("import_batches.id"), nullable=True),
    sa.Column("source", sa.String(500), nullable=False, default=""),
    sa.Column("area", sa.String(200), nullable=False, default="", server_default=""),
    sa.UniqueConstraint("metric_id", "area", "date"),
)

superseded_values_table = sa.Table(
    "superseded_values",
    meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("metric_id", sa.ForeignKey("metrics.id"), nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("numerator", sa.Float, nullable=True),
    sa.Column("denominator", sa.Float, nullable=True),
    sa.Column("batch_id", sa.Integer, nullable=True),  # the batch that had written this value
    sa.Column("source", sa.String(500), nullable=False, default=""),
    sa.Column("superseded_at", sa.DateTime, nullable=False),
    sa.Column("superseded_by", sa.ForeignKey("import_batches.id"), nullable=False),
    sa.Column("area", sa.String(200), nullable=False, default="", server_default=""),
)

superseded_targets_table = sa.Table(
    "superseded_targets",
    meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("metric_id", sa.ForeignKey("metrics.id"), nullable=False),
    sa.Column("effective_from", sa.Date, nullable=False),
    sa.Column("target", sa.Float, nullable=False),
    sa.Column("batch_id", sa.Integer, nullable=True),
    sa.Column("superseded_at", sa.DateTime, nullable=False),
    sa.Column("superseded_by", sa.ForeignKey("import_batches.id"), nullable=False),
    sa.Column("area", sa.String(200), nullable=False, default="", server_default=""),
)

# A metric definition as it was before a metrics batch changed it (or removed it, by an undo).
superseded_metrics_table = sa.Table(
    "superseded_metrics",
    meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "metric_id", sa.Integer, nullable=False
    ),  # no foreign key: an undo may remove the metric
    *[sa.Column(c.name, c.type) for c in metrics_table.c if c.name not in ("id", "batch_id")],
    sa.Column("batch_id", sa.Integer, nullable=True),  # the batch that had written this definition
    sa.Column("superseded_at", sa.DateTime, nullable=False),
    sa.Column("superseded_by", sa.ForeignKey("import_batches.id"), nullable=False),
)

# The ids of the observations a batch inserted, first to last: an undo finds them by the primary
# key instead of reading every row for its ``batch_id`` (an index on it would cost a large import a
# fifth more). Optional: batches older than this table have no row in it, and a database role that
# could not create it (or may not write it) goes on without it; an undo then reads every row.
inserted_ids_table = sa.Table(
    "inserted_observation_ids",
    meta,
    sa.Column(
        "batch_id", sa.ForeignKey("import_batches.id"), primary_key=True, autoincrement=False
    ),
    sa.Column("first_id", sa.Integer, nullable=False),
    sa.Column("last_id", sa.Integer, nullable=False),
)

# The area catalog (areas.csv): each area's name as values and targets write it, its population,
# and the key of its shape in the city's GeoJSON. ``batch_id``: the batch that last wrote the row
# (an areas import, or a values or targets write that added the area).
areas_table = sa.Table(
    "areas",
    meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("code", sa.String(100), nullable=False, default="", server_default=""),
    sa.Column("population", sa.Float, nullable=True),
    sa.Column("geometry", sa.String(200), nullable=False, default="", server_default=""),
    sa.Column("parent", sa.String(200), nullable=False, default="", server_default=""),
    sa.Column("batch_id", sa.Integer, nullable=True),
)

# An area's catalog row as it was before an areas batch changed it (for undo).
superseded_areas_table = sa.Table(
    "superseded_areas",
    meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("area_id", sa.Integer, nullable=False),  # no foreign key: an undo may remove the area
    *[sa.Column(c.name, c.type) for c in areas_table.c if c.name not in ("id", "batch_id")],
    sa.Column("batch_id", sa.Integer, nullable=True),
    sa.Column("superseded_at", sa.DateTime, nullable=False),
    sa.Column("superseded_by", sa.ForeignKey("import_batches.id"), nullable=False),
)

# The morning run's alerts (``store/alert_state.py``): one row per alert from the day it started to
# the day it cleared, and whether each of the two notices has been sent. Added by ``upgrade``.
alert_state_table = sa.Table(
    "alert_state",
    meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("rule", sa.String(40), nullable=False),
    sa.Column("subject", sa.String(500), nullable=False),
    sa.Column("category", sa.String(200), nullable=True),
    sa.Column("started", sa.Date, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("cleared", sa.Date, nullable=True),  # null while the alert is open
    sa.Column("start_sent", sa.Boolean, nullable=False, default=False),
    sa.Column("clear_sent", sa.Boolean, nullable=False, default=False),
)

sa.Index("ix_observations_date", observations_table.c.date)
# An undo finds the versions its batch replaced (``superseded_by``) and asks whether a later batch
# replaced what it wrote (``batch_id``) through these, however long the history of corrections:
# without them each undo read every kept version (four times). A database from before them gains
# them as ``inserted_observation_ids`` is gained (``_add_optional``).
SUPERSEDED_INDEXES = (
    sa.Index("ix_superseded_values_superseded_by", superseded_values_table.c.superseded_by),
    sa.Index(
        "ix_superseded_values_batch_id",
        superseded_values_table.c.batch_id,
        superseded_values_table.c.superseded_by,  # the check's answer from the index alone
    ),
)
METRIC_FIELDS = list(empty_metrics().columns)
WRITE_LOCK_KEY = 0x43697479  # PostgreSQL advisory lock that serialises the kit's writers
VALUE_FIELDS = ["value", "numerator", "denominator"]
# Tables that gained an ``area`` column (``""`` = citywide) in issue 13; the first two also gained it
# in their unique key, which SQLite can only change by rebuilding the table.
AREA_TABLES = {
    "observations": observations_table,
    "targets": targets_table,
    "superseded_values": superseded_values_table,
    "superseded_targets": superseded_targets_table,
}
REKEYED = ("observations", "targets")


def reads_further_back() -> sa.ColumnElement[bool]:
    """The metrics whose scores read back further than their longest window: a baseline from
    their own past, or a weekly or monthly schedule (a report lands at the end of its period)."""
    m = metrics_table
    return sa.or_(m.c.baseline.in_(HISTORY_BASELINES), m.c.schedule.in_(("weekly", "monthly")))


def reads_beyond_a_year() -> sa.ColumnElement[bool]:
    """The metrics whose scores read back more than the baseline's year: a ``last_year`` window
    (the same window 52 weeks earlier), or a weekly or monthly report dated before its window."""
    m = metrics_table
    return sa.or_(m.c.baseline == "last_year", m.c.schedule.in_(("weekly", "monthly")))


def missing_area_columns(conn: Connection) -> list[str]:
    """The tables of a database made before areas that still lack the ``area`` column."""
    inspector = sa.inspect(conn)
    return [
        name
        for name in AREA_TABLES
        if inspector.has_table(name)
        and "area" not in {c["name"] for c in inspector.get_columns(name)}
    ]


def add_area_columns(conn: Connection, tables: list[str]) -> None:
    """Bring a database made before areas up to date, keeping every row (as citywide).

    Audit tables just gain the column; ``observations`` and ``targets`` also need ``area`` in their
    unique key: PostgreSQL swaps the constraint, SQLite rebuilds the table and copies the rows.
    """
    for name in tables:
        table = AREA_TABLES[name]
        if name not in REKEYED:
            conn.execute(
                sa.text(f"ALTER TABLE {name} ADD COLUMN area VARCHAR(200) NOT NULL DEFAULT ''")
            )
        elif conn.dialect.name == "sqlite":
            _rebuild_sqlite(conn, table)
        else:
            old_keys = sa.inspect(conn).get_unique_constraints(name)
            conn.execute(
                sa.text(f"ALTER TABLE {name} ADD COLUMN area VARCHAR(200) NOT NULL DEFAULT ''")
            )
            for key in old_keys:
                conn.execute(sa.text(f'ALTER TABLE {name} DROP CONSTRAINT "{key["name"]}"'))
            (unique,) = [c for c in table.constraints if isinstance(c, sa.UniqueConstraint)]
            columns = ", ".join(c.name for c in unique.columns)
            conn.execute(sa.text(f"ALTER TABLE {name} ADD UNIQUE ({columns})"))


def _rebuild_sqlite(conn: Connection, table: sa.Table) -> None:
    old = f"{table.name}_before_areas"
    for index in table.indexes:
        conn.execute(sa.text(f"DROP INDEX IF EXISTS {index.name}"))
    conn.execute(sa.text(f"ALTER TABLE {table.name} RENAME TO {old}"))
    table.create(conn)
    kept = ", ".join(c.name for c in table.columns if c.name != "area")
    conn.execute(sa.text(f"INSERT INTO {table.name} ({kept}) SELECT {kept} FROM {old}"))
    conn.execute(sa.text(f"DROP TABLE {old}"))


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (or the configured database); SQLite files get WAL and a busy timeout."""
    url = database_url(url)
    check_sqlite_path(url)  # a folder, or a file in a missing folder, is an error, not a new folder
    try:
        engine = sa.create_engine(url, future=True)
    except (sa.exc.ArgumentError, ImportError) as exc:
        msg = (
            f"cannot use database URL {redact_url(url)!r}: {exc}; write a URL such as "
            "sqlite:///city.db (a SQLite file) or postgresql+psycopg://user@host/dbname"
        )
        raise StoreError(msg) from None
    if engine.dialect.name == "sqlite":
        busy_ms = int(lock_timeout() * 1000)
        sa.event.listen(engine, "connect", lambda dbapi, record: _sqlite_pragmas(dbapi, busy_ms))
        sa.event.listen(engine, "begin", _sqlite_begin_immediate)
    return engine


def upgrade(engine: Engine) -> None:
    """Bring a database an older kit created up to this schema: missing tables and columns are added
    (existing metrics get ``allow_negative`` false; a database without an area catalog gains one
    holding the areas its values and targets name); nothing else is touched."""
    had_catalog = sa.inspect(engine).has_table(areas_table.name)
    meta.create_all(engine, tables=[t for t in meta.sorted_tables if t is not inserted_ids_table])
    # The metrics' columns, and the kept definitions' copy of them (an undo restores those).
    for table in (metrics_table, superseded_metrics_table):
        have = {c["name"] for c in sa.inspect(engine).get_columns(table.name)}
        missing = [c for c in table.c if c.name not in have]
        if missing:
            with engine.begin() as conn:
                for column in missing:
                    spec = sa.schema.CreateColumn(column).compile(dialect=engine.dialect)
                    conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {spec}"))
    _upgrade_areas(engine)
    if not had_catalog:
        _seed_area_catalog(engine)
    _add_optional(engine)


def under_write_lock(conn: Connection) -> None:
    """Queue behind the kit's other writers (SQLite: the ``write`` option's BEGIN IMMEDIATE)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})


@contextmanager
def inserted_ids_if_usable(conn: Connection) -> Iterator[None]:
    """Around a statement on ``inserted_observation_ids``, in a savepoint: where the table is
    missing or this role may not use it, the statement is skipped and the transaction goes on
    (an undo then reads every row)."""
    try:
        with conn.begin_nested():
            yield
    except (sa.exc.ProgrammingError, sa.exc.OperationalError):
        pass


def _add_optional(engine: Engine) -> None:
    """Add what a database made before them lacks of ``inserted_observation_ids`` and the
    ``SUPERSEDED_INDEXES``, if the write lock is free now.

    Never waits: a reader opening the database while an import runs (or, on PostgreSQL, while
    anything else holds a lock on the tables) goes on without them, and a later run adds them. Two
    processes opening it at once: one creates them, the other finds them (or skips). A role that
    may not create them, or a read-only database, goes on without them too. Without the table an
    undo reads every row, as before; without the indexes, every kept version.
    """
    missing = _missing_optional(engine)
    if not missing:
        return
    with engine.connect().execution_options(write=True) as conn, _without_waiting(conn):
        for item in _permitted(conn, missing):  # each on its own: one refused, the rest kept
            with conn.begin():
                if not _write_lock_now(conn):
                    return
                item.create(conn, checkfirst=True)  # checked again under the lock


@contextmanager
def _without_waiting(conn: Connection) -> Iterator[None]:
    """Inside the block SQLite's busy timeout is 0 (its own again after); a refusal (no
    privilege, a read-only database, a lock held) ends the block quietly."""
    raw = driver_connection(conn) if conn.dialect.name == "sqlite" else None
    if raw is not None:
        busy_ms = raw.execute("PRAGMA busy_timeout").fetchone()[0]
        raw.execute("PRAGMA busy_timeout=0")
    try:
        yield
    except (sa.exc.ProgrammingError, sa.exc.OperationalError, sa.exc.InternalError):
        pass  # InternalError: PostgreSQL's "read-only transaction" (a standby, a read-only role)
    finally:
        if raw is not None:  # restored, not reconnected: ``sqlite:///:memory:`` lives in it
            raw.execute(f"PRAGMA busy_timeout={int(busy_ms)}")


def _permitted(conn: Connection, missing: list[sa.Table | sa.Index]) -> list[sa.Table | sa.Index]:
    """Of ``missing``, what this PostgreSQL role may create in a writable transaction (a table:
    CREATE on the schema; an index: owning its table), asked first so a role that may not leaves
    no error in the server's log at every run. SQLite: all of it (the file decides)."""
    if conn.dialect.name != "postgresql":
        return missing
    rights = sa.text(
        "SELECT current_setting('transaction_read_only') = 'off', "
        "has_schema_privilege(current_schema(), 'CREATE'), "
        "(SELECT pg_has_role(relowner, 'USAGE') FROM pg_class "
        " WHERE oid = to_regclass(:owned))"
    )
    with conn.begin():
        writable, may_create, owner = conn.execute(
            rights, {"owned": superseded_values_table.name}
        ).one()
    if not writable:
        return []
    return [item for item in missing if (may_create if isinstance(item, sa.Table) else bool(owner))]


def _write_lock_now(conn: Connection) -> bool:
    """Whether the kit's write lock is ours at once (SQLite: the transaction's BEGIN IMMEDIATE,
    with a busy timeout of 0, raised if not). On PostgreSQL, creating also needs locks on the
    tables: a VACUUM or another tool's open transaction then refuses it at once, not after a wait."""
    if conn.dialect.name != "postgresql":
        return True
    try_lock = sa.text("SELECT pg_try_advisory_xact_lock(:key)")
    if not conn.execute(try_lock, {"key": WRITE_LOCK_KEY}).scalar():
        return False
    conn.execute(sa.text("SELECT set_config('lock_timeout', '100ms', true)"))
    return True


def _missing_optional(engine: Engine) -> list[sa.Table | sa.Index]:
    """Which of ``inserted_observation_ids`` and the ``SUPERSEDED_INDEXES`` the database lacks."""
    inspector = sa.inspect(engine)
    missing: list[sa.Table | sa.Index] = []
    if not inspector.has_table(inserted_ids_table.name):
        missing.append(inserted_ids_table)
    have = {index["name"] for index in inspector.get_indexes(superseded_values_table.name)}
    return missing + [index for index in SUPERSEDED_INDEXES if index.name not in have]


def _upgrade_areas(engine: Engine) -> None:
    """Add the ``area`` column to a database made before areas (its rows stay citywide)."""
    with engine.connect() as conn:
        if not missing_area_columns(conn):
            return
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        under_write_lock(conn)
        # Checked again under the lock: another process may have just done it.
        add_area_columns(conn, missing_area_columns(conn))


def _seed_area_catalog(engine: Engine) -> None:
    """Fill a new area catalog with the areas the database already holds (no population; no map
    key, so the map matches them by name), under the write lock; an area in it stays as it is."""
    named = sa.union(
        *[
            sa.select(t.c.area.label("name")).where(t.c.area != "")
            for t in (observations_table, targets_table)
        ]
    ).subquery()
    known = sa.select(areas_table.c.id).where(areas_table.c.name == named.c.name)
    query = sa.select(named.c.name).where(~known.exists())
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        under_write_lock(conn)
        names = sorted(conn.execute(query).scalars())
        if names:
            conn.execute(areas_table.insert(), [{"name": n} for n in names])


def _sqlite_pragmas(dbapi_connection, busy_ms: int) -> None:
    # Let pysqlite stop managing transactions so BEGIN IMMEDIATE below takes the write lock up front:
    # two importers then queue (busy_timeout) instead of failing half-way.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")  # $CITYSCORE_LOCK_TIMEOUT
    cursor.execute("PRAGMA foreign_keys=ON")
    # Bulk imports update three B-trees of observations; SQLite's default 2 MB page cache makes
    # that seek the disk once a city outgrows it. 64 MB is a cap, used only as pages are read.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def _sqlite_begin_immediate(connection) -> None:
    options = connection.get_execution_options()
    if options.get("keys_from_transaction", False):
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # see ``restore_foreign_keys``
    connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get("write", False) else "BEGIN")


def restore_foreign_keys(conn: Connection) -> None:
    """Switch SQLite's foreign-key checks back on after a transaction that set them aside.

    A write whose every key comes from its own transaction (an import: metric ids read under the
    write lock, the batch it creates) runs with ``keys_from_transaction``: SQLite's per-row look-ups
    of both keys would only repeat what holds by construction, at about a fifth of a large import
    (measured: ``benchmarks/README.md``). The pragma can change only outside a transaction, so it
    is switched off before ``BEGIN`` and on again here, before the connection goes back to the pool.
    """
    if conn.dialect.name != "sqlite":
        return
    raw = driver_connection(conn)  # SQLAlchemy's own connection would first BEGIN
    try:
        if raw.in_transaction:  # a COMMIT that failed (busy, disk full) can leave it open
            raw.rollback()
        raw.execute("PRAGMA foreign_keys=ON")
        if raw.execute("PRAGMA foreign_keys").fetchone()[0] == 1:
            return
    except sqlite3.Error:
        pass
    except BaseException:
        conn.invalidate()
        raise
    conn.invalidate()  # never back to the pool unchecked: a new connection turns them on


def driver_connection(conn: Connection) -> Any:
    """The driver's own connection under ``conn`` (sqlite3's, psycopg's), there while it is open."""
    return conn.connection.driver_connection


def stored_date(value: object) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
