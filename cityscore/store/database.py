"""The SQL store: one object for the kit's database, its transactions and its reads.

Works on SQLite (the default file in data/) and PostgreSQL. Every write happens in one transaction:
an import either lands whole or not at all. The schema lives in ``schema``, the writes in
``catalog_writes`` (metrics, targets) and ``writes`` (values), history and undo in ``audit``, the
bulk reads in ``columnar``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cityscore.core.errors import StoreError
from cityscore.core.secrets import redact_url
from cityscore.core.settings import database_url
from cityscore.core.vocabulary import BASELINE_DAYS, LAST_YEAR_DAYS, PERIODS
from cityscore.frames.catalog import empty_metrics
from cityscore.store import area_catalog, audit, catalog_writes, columnar, writes
from cityscore.store.batches import ImportPlan, ImportResult
from cityscore.store.dberrors import (
    lock_timeout,
    make_data_folder,
    mapped_errors,
    missing_sqlite_file,
)
from cityscore.store.parts import write_observation_parts
from cityscore.store.schema import (
    METRIC_FIELDS,
    VALUE_FIELDS,
    batches_table,
    make_engine,
    metrics_table,
    observations_table,
    reads_beyond_a_year,
    restore_foreign_keys,
    stored_date,
    superseded_values_table,
    targets_table,
    under_write_lock,
    upgrade,
)

__all__ = ["VALUE_FIELDS", "ImportPlan", "ImportResult", "Store", "make_engine"]


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
        make_data_folder(self.url)  # the default data/ folder, made only here where it is written
        with mapped_errors(self.url):
            upgrade(self.engine)
        self._has_schema = True

    def is_initialised(self) -> bool:
        with mapped_errors(self.url):
            return sa.inspect(self.engine).has_table("metrics")

    @contextmanager
    def transaction(self, write: bool = False, *, own_keys: bool = False) -> Iterator[Connection]:
        """One transaction; ``write=True`` takes SQLite's write lock at the start (writers queue).

        ``own_keys``: every foreign key the transaction writes comes from the transaction itself,
        so SQLite need not look each one up again (``schema.restore_foreign_keys``).
        Inside ``rehearsal()`` a write transaction is rolled back instead of committed.
        """
        with mapped_errors(self.url), self._transaction(write, own_keys) as conn:
            yield conn

    @contextmanager
    def _transaction(self, write: bool, own_keys: bool = False) -> Iterator[Connection]:
        if not self._has_schema:
            missing = missing_sqlite_file(self.url)  # reading must not create an empty file
            if missing is not None:
                raise missing
            if not self.is_initialised():
                msg = f"database {redact_url(self.url)} has no CityScore tables; run `cityscore init` first"
                raise StoreError(msg)
            upgrade(self.engine)  # a database from an older kit gets the newer columns
            self._has_schema = True
        options = {"write": write, "keys_from_transaction": own_keys}
        with self.engine.connect().execution_options(**options) as conn:
            try:
                with self._begun(conn, write):
                    yield conn
            finally:
                if own_keys:
                    restore_foreign_keys(conn)

    @contextmanager
    def _begun(self, conn: Connection, write: bool) -> Iterator[None]:
        """``conn``'s transaction around the caller's block: committed, or rolled back on an error
        and in a rehearsal."""
        trans = conn.begin()
        try:
            if write and conn.dialect.name == "postgresql":
                # Writers queue, as with SQLite's BEGIN IMMEDIATE: each import sees the ones before it.
                # As long as a SQLite writer would wait ($CITYSCORE_LOCK_TIMEOUT), then stop.
                conn.execute(
                    sa.text("SELECT set_config('lock_timeout', :ms, true)"),
                    {"ms": f"{int(lock_timeout() * 1000)}ms"},
                )
                under_write_lock(conn)
            yield
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
            frame = columnar.query_frame(conn, query, METRIC_FIELDS)
        if frame.empty:
            return empty_metrics()
        return frame.astype(
            {"trend": bool, "weight": float, "allow_negative": bool, "per_residents": float}
        )

    def targets(self, areas: bool = False) -> pd.DataFrame:
        """Every target in effect at some time: ``metric, effective_from, target``.

        Citywide targets only, unless ``areas``: then every target, with an ``area`` column.
        """
        t, m = targets_table, metrics_table
        columns = ["metric", "effective_from", "target", *(["area"] if areas else [])]
        query = (
            sa.select(m.c.name.label("metric"), t.c.effective_from, t.c.target)
            .join(m, m.c.id == t.c.metric_id)
            .order_by(m.c.name, t.c.area, t.c.effective_from)
        )
        query = query.add_columns(t.c.area) if areas else query.where(t.c.area == "")
        with self.transaction() as conn:
            frame = columnar.query_frame(conn, query, columns)
        frame["effective_from"] = pd.to_datetime(frame["effective_from"])
        frame["target"] = frame["target"].astype(float)
        return frame

    def observations(
        self,
        start: dt.date | None = None,
        end: dt.date | None = None,
        with_source: bool = False,
        areas: bool = False,
    ) -> pd.DataFrame:
        """Observations (``metric, date, value, numerator, denominator``), optionally within dates.

        Citywide rows only, unless ``areas``: then every row, with an ``area`` column.
        """
        with self.transaction() as conn:
            return columnar.read_observations(conn, start, end, with_source, areas=areas)

    def scoring_observations(
        self,
        first: dt.date,
        last: dt.date,
        *,
        metric: str | None = None,
        area: str | None = None,
        with_source: bool = False,
        citywide: bool = False,
    ) -> pd.DataFrame:
        """The observations scores for ``first`` to ``last`` depend on, area rows included
        (``citywide``: only those a citywide score uses, the area rows of ratio and sum metrics).

        Every metric's rows from the longest window (a quarter) before ``first``; a history-baseline
        metric's from the baseline's year before it. Scores from these equal scores from all rows
        (a test checks it), and a one-date score of 2,000 metrics reads under half the rows.
        ``metric`` or ``area`` reads only that metric's or that area's rows.
        """
        window = dt.timedelta(days=max(PERIODS.values()) - 1)
        history = dt.timedelta(days=BASELINE_DAYS)
        with self.transaction() as conn:
            if conn.execute(sa.select(sa.exists().where(reads_beyond_a_year()))).scalar():
                # A ``last_year`` window, or a weekly or monthly report dated before its window.
                history = dt.timedelta(days=LAST_YEAR_DAYS + max(PERIODS.values()))
            return columnar.read_observations(
                conn,
                first - window,
                last,
                with_source,
                areas=True,
                history_from=first - history,
                metric=metric,
                area=area,
                derivable=citywide,
            )

    def date_range(self) -> tuple[dt.date | None, dt.date | None]:
        """(first, last) observation date, or (None, None) for an empty store."""
        with self.transaction() as conn:
            return columnar.stored_span(conn)

    def last_dates(self) -> dict[str, dt.date]:
        """Each metric's latest stored date, in any area (metrics without values are absent).

        One index seek per series (``columnar.series_keys``), not a read of every row.
        """
        o, m = observations_table, metrics_table
        keys = columnar.series_keys()
        last = sa.select(sa.func.max(o.c.date)).where(
            o.c.metric_id == keys.c.id, o.c.area == keys.c.area
        )
        query = (
            sa.select(m.c.name, sa.func.max(last.scalar_subquery()))
            .join(m, m.c.id == keys.c.id)
            .where(keys.c.area.is_not(None))
            .group_by(m.c.name)
        )
        with self.transaction() as conn:
            rows = conn.execute(query).all()
        return {name: day for name, value in rows if (day := stored_date(value)) is not None}

    def areas(self) -> list[str]:
        """The areas named by stored values or targets, sorted; citywide (``""``) is left out.

        A skip scan of the ``(metric_id, area, date)`` key (``columnar.series_keys``): one index
        seek per metric and area, so 2,000 metrics x 25 areas cost about 50,000 seeks whatever
        the years of data.
        """
        with self.transaction() as conn:
            return columnar.stored_areas(conn)

    def area_catalog(self) -> pd.DataFrame:
        """The area catalog (``area_catalog.AREA_FIELDS``), one row per area in name order."""
        with self.transaction() as conn:
            return area_catalog.read_catalog(conn)

    def area_catalog_state(self) -> tuple[list[str], bool]:
        """(the catalog's area names, whether an areas.csv declared it): what row checks need."""
        with self.transaction() as conn:
            return area_catalog.catalog_names(conn), area_catalog.is_declared(conn)

    def write_areas(self, areas: pd.DataFrame, source: str) -> ImportResult:
        """Insert or update catalog areas in one batch of kind ``areas`` (see ``area_catalog``)."""
        with self.transaction(write=True) as conn:
            return area_catalog.write_areas(conn, areas, source)

    def batches(self) -> pd.DataFrame:
        with self.transaction() as conn:
            return columnar.query_frame(conn, sa.select(batches_table).order_by(batches_table.c.id))

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
            return columnar.query_frame(conn, query)

    # --- writes ------------------------------------------------------------------------------

    def write_metrics(
        self,
        metrics: pd.DataFrame,
        targets: pd.DataFrame,
        source: str,
        today: dt.date | None = None,
    ) -> ImportResult:
        """Insert new metrics and update changed ones, in one transaction (see ``catalog_writes``)."""
        with self.transaction(write=True) as conn:
            return catalog_writes.write_metrics(
                conn, metrics, targets, source, today or dt.date.today()
            )

    def write_targets(self, targets: pd.DataFrame, source: str) -> ImportResult:
        """Insert or update target changes; a replaced target is kept in ``superseded_targets``."""
        with self.transaction(write=True) as conn:
            return catalog_writes.write_targets(conn, targets, source)

    def write_observations(
        self, observations: pd.DataFrame, source: str, kind: str = "values"
    ) -> ImportResult:
        """Insert new days, update changed ones (keeping the old value), skip identical ones."""
        with self.transaction(write=True, own_keys=True) as conn:
            return writes.write_observations(conn, observations, source, kind)

    def write_observations_in_parts(
        self,
        parts: Iterable[pd.DataFrame],
        source: str,
        kind: str = "values",
        expected_rows: int = 0,
    ) -> ImportResult:
        """Write a large file's parts in one transaction, all or nothing (see ``store.parts``)."""
        with self.transaction(write=True, own_keys=True) as conn:
            return write_observation_parts(conn, parts, source, kind, expected_rows)

    def plan_observations(self, observations: pd.DataFrame) -> dict[str, pd.DataFrame]:
        """What ``write_observations`` would do, without writing: insert, update and unchanged rows."""
        with self.transaction() as conn:
            return writes.plan_observations(conn, observations)

    # --- audit: history and undo ------------------------------------------------------------

    def history(self, metric: str, date: dt.date, area: str = "") -> pd.DataFrame:
        """Every version of one day's value (citywide, or of ``area``), oldest first."""
        with self.transaction() as conn:
            return audit.history(conn, metric, date, area)

    def undo(self, batch_id: int) -> ImportResult:
        """Revert a whole batch in one transaction, recorded as a batch of kind ``undo``."""
        with self.transaction(write=True) as conn:
            return audit.undo(conn, batch_id)
