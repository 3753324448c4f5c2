"""The store's schema: tables, constants, and engines (SQLite pragmas, write locks).

Works on SQLite (the default file in data/) and PostgreSQL. ``superseded_values`` and
``superseded_targets`` keep every overwritten value with the batch that wrote it and the one that
replaced it.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .catalog import empty_metrics
from .config import database_url, redact_url
from .dberrors import check_sqlite_path, lock_timeout
from .errors import StoreError

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
    sa.UniqueConstraint("metric_id", "effective_from"),
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
    sa.UniqueConstraint("metric_id", "date"),
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

sa.Index("ix_observations_date", observations_table.c.date)
METRIC_FIELDS = list(empty_metrics().columns)
WRITE_LOCK_KEY = 0x43697479  # PostgreSQL advisory lock that serialises the kit's writers
VALUE_FIELDS = ["value", "numerator", "denominator"]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (or the configured database); SQLite files get WAL and a busy timeout."""
    url = database_url(url)
    check_sqlite_path(url)  # a folder, or a file in a missing folder, is an error, not a new folder
    try:
        engine = sa.create_engine(url, future=True)
    except (sa.exc.ArgumentError, ImportError) as exc:
        msg = f"cannot use database URL {redact_url(url)!r}: {exc}"
        raise StoreError(msg) from None
    if engine.dialect.name == "sqlite":
        busy_ms = int(lock_timeout() * 1000)
        sa.event.listen(engine, "connect", lambda dbapi, record: _sqlite_pragmas(dbapi, busy_ms))
        sa.event.listen(engine, "begin", _sqlite_begin_immediate)
    return engine


def upgrade(engine: Engine) -> None:
    """Bring a database an older kit created up to this schema: missing tables and columns are added
    (existing metrics get ``allow_negative`` false); nothing else is touched."""
    meta.create_all(engine)
    have = {c["name"] for c in sa.inspect(engine).get_columns("metrics")}
    missing = [c for c in metrics_table.c if c.name not in have]
    if not missing:
        return
    with engine.begin() as conn:
        for column in missing:
            spec = sa.schema.CreateColumn(column).compile(dialect=engine.dialect)
            conn.execute(sa.text(f"ALTER TABLE metrics ADD COLUMN {spec}"))


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
    immediate = connection.get_execution_options().get("write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def as_date(value: object) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
