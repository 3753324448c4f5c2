"""The SQL store: schema, atomic writes with import batches, and reads back into frames.

Works on SQLite (the default file in data/) and PostgreSQL. Every write happens in one transaction:
an import either lands whole or not at all. Overwritten values are copied to ``superseded_values``
(or ``superseded_targets``) first, with the batch that wrote them and the batch that replaced them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .catalog import EARLIEST, empty_metrics
from .config import database_url, redact_url
from .errors import CatalogError, StoreError
from .load import closest

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

sa.Index("ix_observations_date", observations_table.c.date)
METRIC_FIELDS = list(empty_metrics().columns)
WRITE_LOCK_KEY = 0x43697479  # PostgreSQL advisory lock that serialises the kit's writers
VALUE_FIELDS = ["value", "numerator", "denominator"]


@dataclass(frozen=True)
class ImportResult:
    """What a write did: rows inserted, updated (old values kept) and left unchanged, and its batch."""

    kind: str
    source: str
    inserted: int
    updated: int
    unchanged: int
    batch_id: int | None

    deleted: int = 0
    dry_run: bool = False

    def __str__(self) -> str:
        batch = f" (batch {self.batch_id})" if self.batch_id else " (nothing written)"
        if self.dry_run:
            batch = " (dry run: nothing written)"
        deleted = f", {self.deleted} deleted" if self.deleted else ""
        return (
            f"{self.source}: {self.inserted} inserted, {self.updated} updated, "
            f"{self.unchanged} unchanged{deleted}{batch}"
        )


@dataclass(frozen=True)
class ImportPlan:
    """A dry run: the rows an import would insert, update or leave unchanged, and the rejected ones.

    ``rejected`` has ``line, column, value, reason``; when it has rows nothing would be written.
    """

    source: str
    insert: pd.DataFrame
    update: pd.DataFrame
    unchanged: pd.DataFrame
    rejected: pd.DataFrame

    @property
    def ok(self) -> bool:
        return self.rejected.empty

    def summary(self) -> str:
        counts = (
            f"{self.source}: {len(self.insert)} to insert, {len(self.update)} to update, "
            f"{len(self.unchanged)} unchanged"
        )
        if self.ok:
            return counts + " (dry run: nothing written)"
        lines = self.rejected["line"].nunique()
        return (
            f"{counts}, {lines} row(s) rejected: fix them first, nothing will be written until then"
        )


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (or the configured database); SQLite files get WAL and a busy timeout."""
    url = database_url(url)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = sa.create_engine(url, future=True)
    except (sa.exc.ArgumentError, ImportError) as exc:
        msg = f"cannot use database URL {redact_url(url)!r}: {exc}"
        raise StoreError(msg) from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin_immediate)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let pysqlite stop managing transactions so BEGIN IMMEDIATE below takes the write lock up front:
    # two importers then queue (busy_timeout) instead of failing half-way.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin_immediate(connection) -> None:
    immediate = connection.get_execution_options().get("write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Store:
    """The kit's database. ``Store(url)``; ``init()`` creates the schema (safe to repeat)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = database_url(url)
        self.engine = make_engine(self.url)
        self._has_schema = False  # set once the tables are seen; they are never dropped by the kit

    def __repr__(self) -> str:
        return f"Store({redact_url(self.url)!r})"

    def init(self) -> None:
        """Create any missing tables; existing data is left as it is."""
        meta.create_all(self.engine)
        self._has_schema = True

    def is_initialised(self) -> bool:
        return sa.inspect(self.engine).has_table("metrics")

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Connection]:
        """One transaction; ``write=True`` takes SQLite's write lock at the start (writers queue).

        Inside ``rehearsal()`` a write transaction is rolled back instead of committed.
        """
        if not self._has_schema:
            if not self.is_initialised():
                msg = f"database {redact_url(self.url)} has no CityScore tables; run `cityscore init` first"
                raise StoreError(msg)
            self._has_schema = True
        with self.engine.connect().execution_options(write=write) as conn:
            trans = conn.begin()
            try:
                if write and conn.dialect.name == "postgresql":
                    # Writers queue, as with SQLite's BEGIN IMMEDIATE: each import sees the ones before it.
                    conn.execute(
                        sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY}
                    )
                yield conn
            except BaseException:
                trans.rollback()
                raise
            if write and self._rehearsing:
                trans.rollback()
            else:
                trans.commit()

    _rehearsing = False

    @contextmanager
    def rehearsal(self) -> Iterator[None]:
        """Run writes for real, then roll them back: a dry run that counts exactly what would change."""
        self._rehearsing = True
        try:
            yield
        finally:
            self._rehearsing = False

    def catalog_targets(self) -> dict[str, float | None]:
        """Each metric's target as metrics.csv (or the metric editor) last gave it."""
        m = metrics_table
        with self.transaction() as conn:
            return dict(conn.execute(sa.select(m.c.name, m.c.catalog_target)).all())

    # --- reads -------------------------------------------------------------------------------

    def metrics(self) -> pd.DataFrame:
        """The catalog, one row per metric, in name order within category."""
        query = sa.select(*[metrics_table.c[f] for f in METRIC_FIELDS]).order_by(
            metrics_table.c.category, metrics_table.c.name
        )
        with self.transaction() as conn:
            frame = pd.DataFrame(conn.execute(query).all(), columns=METRIC_FIELDS)
        if frame.empty:
            return empty_metrics()
        return frame.astype({"trend": bool, "weight": float})

    def targets(self) -> pd.DataFrame:
        """Every target in effect at some time: ``metric, effective_from, target``."""
        t, m = targets_table, metrics_table
        query = (
            sa.select(m.c.name.label("metric"), t.c.effective_from, t.c.target)
            .join(m, m.c.id == t.c.metric_id)
            .order_by(m.c.name, t.c.effective_from)
        )
        with self.transaction() as conn:
            frame = pd.DataFrame(
                conn.execute(query).all(), columns=["metric", "effective_from", "target"]
            )
        frame["effective_from"] = pd.to_datetime(frame["effective_from"])
        frame["target"] = frame["target"].astype(float)
        return frame

    def observations(
        self, start: dt.date | None = None, end: dt.date | None = None, with_source: bool = False
    ) -> pd.DataFrame:
        """Observations (``metric, date, value, numerator, denominator``), optionally within dates."""
        o, m = observations_table, metrics_table
        columns = [m.c.name.label("metric"), o.c.date, o.c.value, o.c.numerator, o.c.denominator]
        if with_source:
            columns += [o.c.source, o.c.batch_id]
        query = sa.select(*columns).join(m, m.c.id == o.c.metric_id)
        if start is not None:
            query = query.where(o.c.date >= start)
        if end is not None:
            query = query.where(o.c.date <= end)
        with self.transaction() as conn:
            result = conn.execute(query.order_by(m.c.name, o.c.date))
            frame = pd.DataFrame(result.all(), columns=list(result.keys()))
        frame["date"] = pd.to_datetime(frame["date"])
        for field in VALUE_FIELDS:
            frame[field] = frame[field].astype(float)
        return frame

    def date_range(self) -> tuple[dt.date | None, dt.date | None]:
        """(first, last) observation date, or (None, None) for an empty store."""
        o = observations_table
        with self.transaction() as conn:
            first, last = conn.execute(
                sa.select(sa.func.min(o.c.date), sa.func.max(o.c.date))
            ).one()
        return _as_date(first), _as_date(last)

    def last_dates(self) -> dict[str, dt.date]:
        """Each metric's latest stored date (metrics without values are absent)."""
        o, m = observations_table, metrics_table
        query = (
            sa.select(m.c.name, sa.func.max(o.c.date))
            .join(m, m.c.id == o.c.metric_id)
            .group_by(m.c.name)
        )
        with self.transaction() as conn:
            return {name: _as_date(last) for name, last in conn.execute(query)}

    def batches(self) -> pd.DataFrame:
        with self.transaction() as conn:
            result = conn.execute(sa.select(batches_table).order_by(batches_table.c.id))
            return pd.DataFrame(result.all(), columns=list(result.keys()))

    def superseded_values(self) -> pd.DataFrame:
        s, m = superseded_values_table, metrics_table
        query = (
            sa.select(
                m.c.name.label("metric"), *[c for c in s.c if c.name not in ("id", "metric_id")]
            )
            .join(m, m.c.id == s.c.metric_id)
            .order_by(s.c.id)
        )
        with self.transaction() as conn:
            result = conn.execute(query)
            return pd.DataFrame(result.all(), columns=list(result.keys()))

    # --- writes ------------------------------------------------------------------------------

    def write_metrics(
        self,
        metrics: pd.DataFrame,
        targets: pd.DataFrame,
        source: str,
        today: dt.date | None = None,
    ) -> ImportResult:
        """Insert new metrics and update changed ones, in one transaction.

        A new metric's target (from metrics.csv) applies from the start of time. If a later metrics.csv
        gives an existing metric another target, the new target applies from ``today`` on, so past
        scores are never rewritten (use targets.csv to choose another date).
        """
        today = today or dt.date.today()
        catalog_target = dict(zip(targets["metric"], targets["target"].astype(float), strict=True))
        rows = [
            {**r, "catalog_target": catalog_target.get(r["name"])}
            for r in metrics.to_dict("records")
        ]
        fields = [*METRIC_FIELDS[1:], "catalog_target"]
        with self.transaction(write=True) as conn:
            existing = _frame(conn, sa.select(metrics_table))
            by_name = existing.set_index("name") if len(existing) else None
            new_rows, changed = [], []
            for row in rows:
                if by_name is None or row["name"] not in by_name.index:
                    new_rows.append(row)
                    continue
                old = by_name.loc[row["name"]]
                if any(_differs(old[f], row[f]) for f in fields):
                    if old["kind"] != row["kind"] and self._has_values(conn, int(old["id"])):
                        msg = (
                            f"metric {row['name']!r} already has values as a {old['kind']} metric; "
                            f"its kind cannot change to {row['kind']}. Create a new metric instead"
                        )
                        raise CatalogError(msg)
                    changed.append((int(old["id"]), row, old))
            unchanged = len(rows) - len(new_rows) - len(changed)
            if not new_rows and not changed:
                return ImportResult("metrics", source, 0, 0, unchanged, None)
            batch = self._new_batch(conn, "metrics", source)
            if new_rows:
                conn.execute(metrics_table.insert(), new_rows)
            ids = self._metric_ids(conn)
            for row in new_rows:
                if row["catalog_target"] is not None:
                    self._put_target(conn, ids[row["name"]], EARLIEST, row["catalog_target"], batch)
            for metric_id, row, old in changed:
                conn.execute(
                    metrics_table.update().where(metrics_table.c.id == metric_id),
                    {f: row[f] for f in fields},
                )
                if row["catalog_target"] is not None and _differs(
                    old["catalog_target"], row["catalog_target"]
                ):
                    when = today if self._has_targets(conn, metric_id) else EARLIEST
                    self._put_target(conn, metric_id, when, row["catalog_target"], batch)
            self._finish_batch(conn, batch, len(new_rows), len(changed), unchanged)
        return ImportResult("metrics", source, len(new_rows), len(changed), unchanged, batch)

    def write_targets(self, targets: pd.DataFrame, source: str) -> ImportResult:
        """Insert or update target changes; a replaced target is kept in ``superseded_targets``."""
        with self.transaction(write=True) as conn:
            ids = self._metric_ids(conn)
            t = targets_table
            existing = {
                (mid, _as_date(when)): value
                for mid, when, value in conn.execute(
                    sa.select(t.c.metric_id, t.c.effective_from, t.c.target)
                )
            }
            plan = []
            for row in targets.itertuples(index=False):
                key = (ids[row.metric], pd.Timestamp(row.effective_from).date())
                if key not in existing:
                    plan.append(("insert", key, float(row.target)))
                elif _differs(existing[key], row.target):
                    plan.append(("update", key, float(row.target)))
            inserted = sum(1 for p in plan if p[0] == "insert")
            updated = len(plan) - inserted
            unchanged = len(targets) - len(plan)
            if not plan:
                return ImportResult("targets", source, 0, 0, unchanged, None)
            batch = self._new_batch(conn, "targets", source)
            for _, (metric_id, when), target in plan:
                self._put_target(conn, metric_id, when, target, batch)
            self._finish_batch(conn, batch, inserted, updated, unchanged)
        return ImportResult("targets", source, inserted, updated, unchanged, batch)

    def _put_target(
        self, conn: Connection, metric_id: int, when: dt.date, target: float, batch: int
    ) -> None:
        t = targets_table
        where = (t.c.metric_id == metric_id) & (t.c.effective_from == when)
        old = conn.execute(sa.select(t.c.target, t.c.batch_id).where(where)).first()
        if old is None:
            conn.execute(
                t.insert(),
                {
                    "metric_id": metric_id,
                    "effective_from": when,
                    "target": target,
                    "batch_id": batch,
                },
            )
            return
        conn.execute(
            superseded_targets_table.insert(),
            {
                "metric_id": metric_id,
                "effective_from": when,
                "target": old.target,
                "batch_id": old.batch_id,
                "superseded_at": now(),
                "superseded_by": batch,
            },
        )
        conn.execute(t.update().where(where), {"target": target, "batch_id": batch})

    def write_observations(
        self, observations: pd.DataFrame, source: str, kind: str = "values"
    ) -> ImportResult:
        """Insert new days, update changed ones (keeping the old value), skip identical ones."""
        with self.transaction(write=True) as conn:
            merged, is_new, is_changed = self._compare(conn, observations)
            inserted, updated = int(is_new.sum()), int(is_changed.sum())
            unchanged = len(merged) - inserted - updated
            if not inserted and not updated:
                return ImportResult(kind, source, 0, 0, unchanged, None)
            batch = self._new_batch(conn, kind, source)
            stamp = now()
            changed = merged[is_changed]
            if len(changed):
                conn.execute(
                    superseded_values_table.insert(),
                    [
                        {
                            "metric_id": int(r.metric_id),
                            "date": r.date,
                            "value": _none(r.value_old),
                            "numerator": _none(r.numerator_old),
                            "denominator": _none(r.denominator_old),
                            "batch_id": _none(r.batch_id_old),
                            "source": r.source_old,
                            "superseded_at": stamp,
                            "superseded_by": batch,
                        }
                        for r in changed.itertuples(index=False)
                    ],
                )
                conn.execute(
                    observations_table.update().where(
                        observations_table.c.id == sa.bindparam("obs")
                    ),
                    [
                        {
                            "obs": int(r.obs_id),
                            **{f: _none(getattr(r, f)) for f in VALUE_FIELDS},
                            "batch_id": batch,
                            "source": source,
                        }
                        for r in changed.itertuples(index=False)
                    ],
                )
            fresh = merged[is_new]
            if len(fresh):
                conn.execute(
                    observations_table.insert(),
                    [
                        {
                            "metric_id": int(r.metric_id),
                            "date": r.date,
                            **{f: _none(getattr(r, f)) for f in VALUE_FIELDS},
                            "batch_id": batch,
                            "source": source,
                        }
                        for r in fresh.itertuples(index=False)
                    ],
                )
            self._finish_batch(conn, batch, inserted, updated, unchanged)
        return ImportResult(kind, source, inserted, updated, unchanged, batch)

    def plan_observations(self, observations: pd.DataFrame) -> dict[str, pd.DataFrame]:
        """What ``write_observations`` would do, without writing: insert, update and unchanged rows.

        ``update`` rows also show the stored value they would replace (``*_old``, ``source_old``).
        """
        with self.transaction() as conn:
            merged, is_new, is_changed = self._compare(conn, observations)
        merged = merged.assign(date=pd.to_datetime(merged["date"]))
        shown = ["metric", "date", *VALUE_FIELDS]
        old = [f"{f}_old" for f in VALUE_FIELDS] + ["source_old"]
        return {
            "insert": merged.loc[is_new, shown].reset_index(drop=True),
            "update": merged.loc[is_changed, shown + old].reset_index(drop=True),
            "unchanged": merged.loc[~is_new & ~is_changed, shown].reset_index(drop=True),
        }

    def _compare(
        self, conn: Connection, observations: pd.DataFrame
    ) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
        """Incoming rows merged with the stored ones; masks of new rows and of changed rows."""
        ids = self._metric_ids(conn)
        incoming = observations.assign(
            metric_id=observations["metric"].map(ids),
            date=pd.to_datetime(observations["date"]).dt.date,
        )
        current = self._existing_observations(conn, incoming)
        merged = incoming.merge(
            current, on=["metric_id", "date"], how="left", suffixes=("", "_old")
        )
        is_new = merged["obs_id"].isna()
        same = np.ones(len(merged), dtype=bool)
        for field in VALUE_FIELDS:
            same &= ~np.array(
                [
                    _differs(a, b)
                    for a, b in zip(merged[field], merged[f"{field}_old"], strict=True)
                ],
                dtype=bool,
            )
        return merged, is_new, ~is_new & ~same

    def _existing_observations(self, conn: Connection, incoming: pd.DataFrame) -> pd.DataFrame:
        o = observations_table
        columns = [
            "obs_id",
            "metric_id",
            "date",
            *[f"{f}_old" for f in VALUE_FIELDS],
            "batch_id_old",
            "source_old",
        ]
        if incoming.empty:
            return pd.DataFrame(columns=columns)
        query = sa.select(
            o.c.id,
            o.c.metric_id,
            o.c.date,
            o.c.value,
            o.c.numerator,
            o.c.denominator,
            o.c.batch_id,
            o.c.source,
        ).where(
            o.c.metric_id.in_(sorted({int(i) for i in incoming["metric_id"]})),
            o.c.date >= min(incoming["date"]),
            o.c.date <= max(incoming["date"]),
        )
        frame = pd.DataFrame(conn.execute(query).all(), columns=columns)
        frame["date"] = [_as_date(d) for d in frame["date"]]
        return frame

    # --- audit: history and undo ------------------------------------------------------------

    def history(self, metric: str, date: dt.date) -> pd.DataFrame:
        """Every version of one day's value, oldest first: superseded ones and the current one."""
        o, s, m, b = observations_table, superseded_values_table, metrics_table, batches_table
        shown = [
            *VALUE_FIELDS,
            "source",
            "batch_id",
            "written_at",
            "status",
            "superseded_at",
            "superseded_by",
        ]
        with self.transaction() as conn:
            metric_id = conn.execute(sa.select(m.c.id).where(m.c.name == metric)).scalar()
            if metric_id is None:
                msg = f"unknown metric {metric!r}" + closest(metric, self._metric_ids(conn))
                raise CatalogError(msg)
            current = conn.execute(
                sa.select(
                    o.c.value,
                    o.c.numerator,
                    o.c.denominator,
                    o.c.source,
                    o.c.batch_id,
                    b.c.created_at,
                )
                .join(b, b.c.id == o.c.batch_id, isouter=True)
                .where(o.c.metric_id == metric_id, o.c.date == date)
            ).all()
            old = conn.execute(
                sa.select(
                    s.c.value,
                    s.c.numerator,
                    s.c.denominator,
                    s.c.source,
                    s.c.batch_id,
                    b.c.created_at,
                    s.c.superseded_at,
                    s.c.superseded_by,
                )
                .join(b, b.c.id == s.c.batch_id, isouter=True)
                .where(s.c.metric_id == metric_id, s.c.date == date)
                .order_by(s.c.id)
            ).all()
        rows = [(*r[:6], "superseded", r[6], r[7]) for r in old] + [
            (*r, "current", None, None) for r in current
        ]
        frame = pd.DataFrame(rows, columns=shown).astype(
            {"batch_id": "Int64", "superseded_by": "Int64"}
        )
        return frame.sort_values(
            ["written_at", "batch_id"], kind="stable", na_position="first"
        ).reset_index(drop=True)

    def undo(self, batch_id: int) -> ImportResult:
        """Revert a whole batch in one transaction, recorded as a batch of kind ``undo``.

        Values the batch replaced are restored (with their own batch and source); values it inserted
        are removed. What the batch wrote is kept in ``superseded_values``, so nothing is lost.
        """
        with self.transaction(write=True) as conn:
            batch = conn.execute(
                sa.select(batches_table).where(batches_table.c.id == batch_id)
            ).first()
            self._check_undoable(conn, batch, batch_id)
            undo_batch = self._new_batch(conn, "undo", f"undo of batch {batch_id} ({batch.source})")
            restored, deleted = self._undo_rows(conn, "values", batch_id, undo_batch)
            t_restored, t_deleted = self._undo_rows(conn, "targets", batch_id, undo_batch)
            conn.execute(
                batches_table.update().where(batches_table.c.id == batch_id), {"undone_at": now()}
            )
            self._finish_batch(conn, undo_batch, 0, restored + t_restored, 0)
        return ImportResult(
            "undo",
            f"undo of batch {batch_id}",
            0,
            restored + t_restored,
            0,
            undo_batch,
            deleted + t_deleted,
        )

    def _check_undoable(self, conn: Connection, batch: sa.Row | None, batch_id: int) -> None:
        if batch is None:
            msg = f"there is no batch {batch_id}; list the batches with Kit.batches() or `cityscore history`"
            raise StoreError(msg)
        if batch.undone_at is not None:
            msg = f"batch {batch_id} was already undone at {batch.undone_at}"
            raise StoreError(msg)
        if batch.kind in ("metrics", "undo"):
            msg = (
                f"batch {batch_id} is a {batch.kind} batch, which cannot be undone; "
                "import a corrected metrics.csv (or the original values) instead"
            )
            raise StoreError(msg)
        s = superseded_values_table
        later = (
            conn.execute(
                sa.select(s.c.superseded_by)
                .where(s.c.batch_id == batch_id)
                .distinct()
                .order_by(s.c.superseded_by)
            )
            .scalars()
            .all()
        )
        st = superseded_targets_table
        later += (
            conn.execute(sa.select(st.c.superseded_by).where(st.c.batch_id == batch_id).distinct())
            .scalars()
            .all()
        )
        if later:
            msg = (
                f"values from batch {batch_id} have since been changed by batch(es) {sorted(set(later))}; "
                "undo those first (newest first)"
            )
            raise StoreError(msg)

    def _undo_rows(
        self, conn: Connection, kind: str, batch_id: int, undo_batch: int
    ) -> tuple[int, int]:
        """Undo one batch's rows in ``observations`` (kind "values") or ``targets`` (kind "targets").

        Returns (restored, deleted).
        """
        table, old_table, key, fields = {
            "values": (
                observations_table,
                superseded_values_table,
                "date",
                [*VALUE_FIELDS, "source"],
            ),
            "targets": (targets_table, superseded_targets_table, "effective_from", ["target"]),
        }[kind]
        mine = conn.execute(sa.select(table).where(table.c.batch_id == batch_id)).all()
        if not mine:
            return 0, 0
        stamp = now()
        conn.execute(
            old_table.insert(),
            [
                {"metric_id": r.metric_id, key: getattr(r, key), **{f: getattr(r, f) for f in fields},
                 "batch_id": batch_id, "superseded_at": stamp, "superseded_by": undo_batch}
                for r in mine
            ],
        )  # fmt: skip
        replaced = {
            (r.metric_id, _as_date(getattr(r, key))): r
            for r in conn.execute(sa.select(old_table).where(old_table.c.superseded_by == batch_id))
        }
        restored = 0
        for r in mine:
            old = replaced.get((r.metric_id, _as_date(getattr(r, key))))
            if old is None:
                conn.execute(table.delete().where(table.c.id == r.id))
                continue
            restore = {f: getattr(old, f) for f in [*fields, "batch_id"]}
            conn.execute(table.update().where(table.c.id == r.id), restore)
            conn.execute(old_table.delete().where(old_table.c.id == old.id))
            restored += 1
        return restored, len(mine) - restored

    # --- helpers -----------------------------------------------------------------------------

    def _metric_ids(self, conn: Connection) -> dict[str, int]:
        return dict(conn.execute(sa.select(metrics_table.c.name, metrics_table.c.id)).all())

    def _has_targets(self, conn: Connection, metric_id: int) -> bool:
        t = targets_table
        return (
            conn.execute(sa.select(t.c.id).where(t.c.metric_id == metric_id).limit(1)).first()
            is not None
        )

    def _has_values(self, conn: Connection, metric_id: int) -> bool:
        o = observations_table
        return (
            conn.execute(sa.select(o.c.id).where(o.c.metric_id == metric_id).limit(1)).first()
            is not None
        )

    def _new_batch(self, conn: Connection, kind: str, source: str) -> int:
        result = conn.execute(
            batches_table.insert(), {"kind": kind, "source": source, "created_at": now()}
        )
        return int(result.inserted_primary_key[0])

    def _finish_batch(
        self, conn: Connection, batch: int, inserted: int, updated: int, unchanged: int
    ) -> None:
        conn.execute(
            batches_table.update().where(batches_table.c.id == batch),
            {"inserted": inserted, "updated": updated, "unchanged": unchanged},
        )


def _frame(conn: Connection, query: sa.Select) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def _as_date(value: object) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _none(value: object) -> object:
    """None for NaN/None (SQL NULL); plain Python numbers otherwise."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _differs(old: object, new: object) -> bool:
    """True when two stored values differ (NaN/None equal each other)."""
    old, new = _none(old), _none(new)
    if old is None or new is None:
        return (old is None) != (new is None)
    if (
        isinstance(old, (int, float))
        and isinstance(new, (int, float))
        and not isinstance(old, bool)
    ):
        return float(old) != float(new)
    return old != new
