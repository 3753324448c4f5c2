"""Bulk reads into DataFrames, without a Python object per row where the driver allows it.

PostgreSQL is read through ADBC (Arrow Database Connectivity, libpq's binary COPY underneath): the
driver hands back Arrow columns, which become the frame's arrays directly. SQLite is read on the
transaction's own sqlite3 cursor, in chunks turned into NumPy arrays column by column. ADBC's SQLite
driver was faster still, but it brings a second copy of the SQLite library into the process, which
SQLite documents as a way to corrupt a database (POSIX locks of one copy are dropped when the
other closes the file) and which read stale data here. Any other database is read through
SQLAlchemy as plain tuples. Measurements and the choice: ``benchmarks/README.md``.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from cityscore.core.errors import StoreError
from cityscore.core.runtime import gc_paused
from cityscore.core.secrets import redact_url
from cityscore.store.schema import (
    VALUE_FIELDS,
    driver_connection,
    metrics_table,
    observations_table,
    reads_further_back,
    stored_date,
    targets_table,
)


def observations_query(
    start: dt.date | None,
    end: dt.date | None,
    with_source: bool,
    areas: bool = False,
    history_from: dt.date | None = None,
    metric: str | None = None,
    area: str | None = None,
    derivable: bool = False,
) -> sa.Select:
    """Observations by metric name and date, optionally within dates.

    Citywide rows only, unless ``areas``: then every row, with an ``area`` column after ``date``.
    ``history_from`` (before ``start``): history-baseline metrics' rows from that date on too.
    ``metric`` and ``area`` keep that metric's or that area's rows only; ``derivable`` keeps area
    rows of ratio and sum metrics only (the ones a citywide score can add up).
    """
    o, m = observations_table, metrics_table
    columns = [m.c.name.label("metric"), o.c.date, o.c.value, o.c.numerator, o.c.denominator]
    if areas:
        columns.insert(2, o.c.area)
    if with_source:
        columns += [o.c.source, o.c.batch_id]
    query = _only(
        sa.select(*columns).join(m, m.c.id == o.c.metric_id),
        areas,
        metric,
        area,
        _summed_area_rows(start, end, history_from).rows if derivable else None,
    )
    if start is not None:
        query = query.where(_since(start, history_from))
    if end is not None:
        query = query.where(o.c.date <= end)
    return query.order_by(m.c.name, o.c.area, o.c.date)


def _only(
    query: sa.Select,
    areas: bool,
    metric: str | None,
    area: str | None,
    derivable: sa.ColumnElement | None = None,
) -> sa.Select:
    """``query`` kept to citywide rows (unless ``areas``), to ``metric``'s and to ``area``'s, and
    to the area rows that ``derivable`` (``_summed_area_rows``) keeps."""
    o, m = observations_table, metrics_table
    if not areas:
        query = query.where(o.c.area == "")
    elif derivable is not None:
        query = query.where(sa.or_(o.c.area == "", derivable))
    if metric is not None:
        query = query.where(
            o.c.metric_id == sa.select(m.c.id).where(m.c.name == metric).scalar_subquery()
        )
    if area is not None:
        query = query.where(o.c.area == area)
    return query


class _SummedAreaRows(NamedTuple):
    """Which area rows a citywide score can add up (``_summed_area_rows``)."""

    rows: sa.ColumnElement  # a row's condition
    metric_ids: sa.Select  # the metrics some of whose area rows it keeps


def _summed_area_rows(
    start: dt.date | None, end: dt.date | None, history_from: dt.date | None
) -> _SummedAreaRows:
    """The area rows a citywide score can add up: rows of ratio and sum metrics on days without
    a citywide row, among the rows from ``start`` (a history-baseline metric's: ``history_from``)
    to ``end``.

    Decided per metric where it can be, as a per-row look-up of the citywide row costs as much as
    reading the row: a metric whose citywide rows fill every day of the read needs none of its
    area rows, and one without a citywide row there needs all of them. Only a metric with some
    citywide days (or a read without both ends) looks up each area row's day.
    """
    o, m = observations_table, metrics_table
    city = observations_table.alias("city")
    summed = sa.select(m.c.id).where(sa.or_(m.c.kind == "ratio", m.c.aggregation == "sum"))
    has_city_row = sa.exists().where(
        city.c.metric_id == o.c.metric_id, city.c.area == "", city.c.date == o.c.date
    )
    if start is None or end is None:
        return _SummedAreaRows(sa.and_(o.c.metric_id.in_(summed), ~has_city_row), summed)
    since: sa.ColumnElement = sa.literal(start, sa.Date)
    days: sa.ColumnElement = sa.literal((end - start).days + 1)
    if history_from is not None:
        history = reads_further_back()
        since = sa.case((history, sa.literal(history_from, sa.Date)), else_=since)
        days = sa.case((history, (end - history_from).days + 1), else_=days)
    city_days = (
        sa.select(sa.func.count())
        .where(city.c.metric_id == m.c.id, city.c.area == "")
        .where(city.c.date >= since, city.c.date <= end)
        .scalar_subquery()
    )
    coverage = summed.add_columns(city_days.label("city_days"), days.label("days")).cte(
        "citywide_days"
    )
    gaps = sa.select(coverage.c.id).where(coverage.c.city_days < coverage.c.days)
    none = sa.select(coverage.c.id).where(coverage.c.city_days == 0)
    some = gaps.where(coverage.c.city_days > 0)
    rows = sa.or_(o.c.metric_id.in_(none), sa.and_(o.c.metric_id.in_(some), ~has_city_row))
    return _SummedAreaRows(rows, gaps)


def _since(
    start: dt.date, history_from: dt.date | None, date: sa.ColumnElement | None = None
) -> sa.ColumnElement:
    """Rows from ``start`` on, and a history-baseline metric's from ``history_from`` on
    (``date``: the observations' date column, or an expression of it)."""
    o, m = observations_table, metrics_table
    date = o.c.date if date is None else date
    if history_from is None:
        return date >= start
    history = o.c.metric_id.in_(sa.select(m.c.id).where(reads_further_back()))
    return sa.or_(date >= start, sa.and_(date >= history_from, history))


def series_keys(areas: bool = True, metric: str | None = None, area: str | None = None) -> sa.CTE:
    """The stored series, ``(metric_id, area)``, as a CTE that is computed before it is joined.

    With ``areas``, a skip scan of the ``(metric_id, area, date)`` key finds each metric's areas,
    one index seek per series (whatever the years of data); the rows after a metric's last area
    have a NULL ``area``, which joins nothing (select ``area IS NOT NULL`` to list them). Without
    ``areas``, or with one ``area``, every metric with that one area (citywide: ``""``).
    ``metric`` keeps that metric's series only. Reads joined to it seek each series' dates in the
    key instead of walking the date index, which at 2,000 metrics reads a row at a time.
    """
    o, m = observations_table, metrics_table
    chosen = sa.select(m.c.id)
    if metric is not None:
        chosen = chosen.where(m.c.name == metric)
    if not areas or area is not None:
        fixed = sa.literal(area if area is not None else "", sa.String).label("area")
        return chosen.add_columns(fixed).cte("series_keys").prefix_with("MATERIALIZED")

    def next_area(metric_id: sa.ColumnElement, after: sa.ColumnElement | None) -> sa.ScalarSelect:
        first = sa.select(sa.func.min(o.c.area)).where(o.c.metric_id == metric_id)
        return (first if after is None else first.where(o.c.area > after)).scalar_subquery()

    first_areas = chosen.add_columns(next_area(m.c.id, None).label("area"))
    walk = first_areas.cte("series_keys", recursive=True)
    step = sa.select(walk.c.id, next_area(walk.c.id, walk.c.area))
    return walk.union_all(step.where(walk.c.area.is_not(None)))


def read_observations(
    conn: Connection,
    start: dt.date | None = None,
    end: dt.date | None = None,
    with_source: bool = False,
    *,
    arrow: bool = True,
    areas: bool = False,
    history_from: dt.date | None = None,
    metric: str | None = None,
    area: str | None = None,
    derivable: bool = False,
) -> pd.DataFrame:
    """Observations (``metric, date, value, numerator, denominator``), optionally within dates.

    Citywide rows only, unless ``areas``: then every row, with an ``area`` column after ``date``
    (``derivable``: only the area rows of ratio and sum metrics, the ones ``score_range`` uses).
    ``history_from`` (a date before ``start``) adds the rows from it up to ``start`` of the metrics
    scored against their own history: what a score needs, as the baseline's year reaches further
    back than the longest window (see ``Store.scoring_observations``). ``metric`` and ``area``
    read that metric's or that area's rows only.
    """
    if start is None or history_from is None or history_from >= start:
        history_from = None
    if arrow and conn.dialect.name == "sqlite":
        return _sqlite_observations(
            conn, start, end, with_source, areas, history_from, metric, area, derivable
        )
    types = {"metric": "str", "date": "date", **dict.fromkeys(VALUE_FIELDS, "float")}
    if areas:
        types["area"] = "str"
    if with_source:
        types |= {"source": "str", "batch_id": "int"}
    query = observations_query(
        start, end, with_source, areas, history_from, metric, area, derivable
    )
    return read_frame(conn, query, types, arrow=arrow)


def _sqlite_observations(
    conn: Connection,
    start: dt.date | None,
    end: dt.date | None,
    with_source: bool,
    areas: bool,
    history_from: dt.date | None = None,
    metric: str | None = None,
    area: str | None = None,
    derivable: bool = False,
) -> pd.DataFrame:
    """``read_observations`` on SQLite: the fewest Python objects per row, sorted afterwards.

    Rows come as (metric id, days since 1970, area, three floats) straight into typed NumPy
    fields: without a first date in the table's own order (a scan, no temporary B-tree for ORDER
    BY); from a first date series by series (``_by_series``). Names are joined and rows put in
    metric, area, date order in NumPy. Measured at 2,000 metrics x 10 years:
    ``benchmarks/README.md``.
    """
    o, m = observations_table, metrics_table
    columns = [
        o.c.metric_id,
        _days(o.c.date),
        o.c.area,
        *(o.c[f] for f in VALUE_FIELDS),
    ]
    fields = [("metric_id", np.int64), ("date", np.int64), ("area", object)]
    fields += [(f, np.float64) for f in VALUE_FIELDS]
    if with_source:
        columns += [o.c.source, o.c.batch_id]
        fields += [("source", object), ("batch_id", np.float64)]
    summed = _summed_area_rows(start, end, history_from) if derivable else None
    query = _only(sa.select(*columns), areas, metric, area, None if summed is None else summed.rows)
    scan = start is not None and metric is None and area is None and _spans_most(conn, start, end)
    # SQLite uses no index for a term on ``+date``: a read of most days is one pass in table order.
    date = sa.literal_column("+observations.date", sa.Date) if scan else o.c.date
    if end is not None:
        query = query.where(date <= end)
    if scan and start is not None:
        query = query.where(_since(start, history_from, date))
    elif start is not None:
        keys = series_keys(areas, metric, area)
        query = _by_series(query, start, history_from, keys)
        if summed is not None:  # the walk skips the area series of metrics that need none
            query = query.where(sa.or_(keys.c.area == "", keys.c.id.in_(summed.metric_ids)))
    rows = _sqlite_records(conn, query, np.dtype(fields))
    known = sa.select(m.c.id, m.c.name)
    if metric is not None:  # one metric's read: not every name of a large catalog
        known = known.where(m.c.name == metric)
    names = dict(conn.execute(known).all())
    return _observation_frame(rows, names, with_source, areas)


def stored_areas(conn: Connection) -> list[str]:
    """The areas named by stored values or targets, sorted; citywide (``""``) is left out
    (``Store.areas``: one index seek per series, whatever the years of data)."""
    keys = series_keys()
    query = sa.union(
        sa.select(keys.c.area).where(keys.c.area.is_not(None), keys.c.area != ""),
        sa.select(targets_table.c.area).where(targets_table.c.area != ""),
    )
    return sorted(conn.execute(query).scalars())


def stored_span(conn: Connection) -> tuple[dt.date | None, dt.date | None]:
    """(first, last) observation date, or (None, None) for an empty store.

    Two index look-ups: SQLite answers a lone ``min`` or ``max`` from the date index, but scans
    every row for the two in one ``SELECT``.
    """
    o = observations_table
    first = sa.select(sa.func.min(o.c.date)).scalar_subquery()
    last = sa.select(sa.func.max(o.c.date)).scalar_subquery()
    first, last = conn.execute(sa.select(first, last)).one()
    return stored_date(first), stored_date(last)


def _spans_most(conn: Connection, start: dt.date, end: dt.date | None) -> bool:
    """Whether ``start`` to ``end`` covers over half the stored days (two index look-ups).

    Then one pass over the table in its own order reads faster than seeking each series: at
    2,000 metrics x 10 years, 10 s against 10-20 s (the series' rows are scattered when the days
    were imported one at a time). Shorter reads seek (``_by_series``).
    """
    first, last = stored_span(conn)
    if first is None or last is None:
        return False
    covered = min(end or last, last) - max(start, first)
    return 2 * covered.days > (last - first).days


def _by_series(
    query: sa.Select, start: dt.date, history_from: dt.date | None, keys: sa.CTE
) -> sa.Select:
    """``query`` kept to dates from ``start`` (a history-baseline metric's from ``history_from``),
    read series by series through ``keys``: each series' dates are one range of the key.

    Measured at 2,000 metrics, a one-date read: 0.5 s, against 1.4 s through the date index and
    9 s when SQLite picks the date index for the per-metric start (``benchmarks/README.md``).
    """
    o, m = observations_table, metrics_table
    since: sa.ColumnElement = sa.literal(start, sa.Date)
    if history_from is not None:
        since = sa.case((reads_further_back(), history_from), else_=start)
    series = keys.join(m, m.c.id == keys.c.id).join(
        o, sa.and_(o.c.metric_id == keys.c.id, o.c.area == keys.c.area)
    )
    return query.select_from(series).where(o.c.date >= since)


def _days(date: sa.ColumnElement) -> sa.ColumnElement:
    """Days since 1970-01-01 of an ISO date, as an integer (``julianday`` exists in every SQLite;
    a date's Julian day is a whole number plus 0.5, so the difference is exact)."""
    return sa.cast(sa.func.julianday(date) - 2440587.5, sa.Integer)


def _sqlite_records(conn: Connection, query: sa.Select, record: np.dtype) -> np.ndarray:
    """The rows of ``query`` on the transaction's sqlite3 cursor as one structured array.

    NumPy converts each chunk of row tuples in C; a NULL in a float field becomes NaN.
    """
    sql, params = _compiled(conn.engine.url, query)
    blocks = []
    cursor = driver_connection(conn).cursor()
    try:
        cursor.execute(sql, params)
        with gc_paused():  # row tuples of numbers and text: no cycles for the collector to find
            while rows := cursor.fetchmany(SQLITE_CHUNK_ROWS):
                blocks.append(np.array(rows, dtype=record))
    finally:
        cursor.close()
    return np.concatenate(blocks) if blocks else np.empty(0, dtype=record)


def _observation_frame(
    rows: np.ndarray, names: dict[int, str], with_source: bool, areas: bool
) -> pd.DataFrame:
    """Records (metric id, days since 1970, area, floats...) as the observations frame, in metric
    name, area, date order (as ``observations_query`` sorts: SQLite's binary order is Python's)."""
    by_name = sorted(names, key=names.__getitem__)
    rank = np.full(max(names, default=0) + 1, len(by_name), dtype=np.int64)
    rank[by_name] = np.arange(len(by_name))
    metric = rank[rows["metric_id"]]  # every row's metric exists: a foreign key
    area_codes, area_labels = pd.factorize(rows["area"], sort=True)
    days = rows["date"]
    span = int(days.max() - days.min() + 1) if len(days) else 1
    key = (metric * max(len(area_labels), 1) + area_codes) * span + (days - days.min(initial=0))
    if len(key) > 1 and not (key[1:] > key[:-1]).all():
        order = np.argsort(key, kind="stable")
        rows, metric, area_codes = rows[order], metric[order], area_codes[order]
    frame = {
        "metric": _text_column([names[i] for i in by_name], metric),
        "date": rows["date"].astype("datetime64[D]").astype("datetime64[s]"),
    }
    if areas:
        frame["area"] = _text_column(list(area_labels), area_codes)
    frame |= {f: rows[f] for f in VALUE_FIELDS}
    if with_source:
        frame["source"] = pd.array(rows["source"], dtype="str")
        batch = rows["batch_id"]
        frame["batch_id"] = batch if np.isnan(batch).any() else batch.astype(np.int64)
    return pd.DataFrame(frame, copy=False)


def _text_column(labels: list[str], codes: np.ndarray) -> pd.Series:
    """``labels[code]`` per row as pandas' ``str`` column, built by one Arrow take."""
    import pyarrow as pa

    taken = pa.array(labels, type=pa.string()).take(pa.array(codes.astype(np.int32)))
    text = pd.StringDtype("pyarrow", na_value=np.nan)
    return taken.to_pandas(types_mapper={pa.string(): text}.get)


def read_frame(
    conn: Connection, query: sa.Select, types: dict[str, str], *, arrow: bool = True
) -> pd.DataFrame:
    """The rows of ``query`` as a frame, column types given as ``str``, ``date``, ``float``, ``int``.

    ``conn`` is an open transaction (the schema is known to exist). ``arrow=False`` reads through
    SQLAlchemy rows, the slow path kept for other databases and for tests. Dates come back as
    ``datetime64[s]``; an ``int`` column with NULLs as float.
    """
    url, uri = conn.engine.url, adbc_uri(conn.engine.url)
    if arrow and uri is not None:
        frame = _read_arrow(url, uri, query, types)
    elif arrow and conn.dialect.name == "sqlite":
        frame = _read_sqlite(conn, query, types)
    else:
        frame = query_frame(conn, query)
    for name, kind in types.items():
        if kind == "date":
            frame[name] = pd.to_datetime(frame[name]).astype("datetime64[s]")
        elif kind == "float":
            frame[name] = frame[name].astype(float)
        elif kind == "str":
            frame[name] = frame[name].astype("str")
        elif kind == "int" and frame.empty:
            frame[name] = frame[name].astype("int64")
    return frame


def adbc_uri(url: sa.URL) -> str | None:
    """What the ADBC driver connects to for ``url`` (PostgreSQL only); None when there is none."""
    if url.get_backend_name() != "postgresql" or url.query:
        return None  # driver options in the URL: SQLAlchemy's path keeps them
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def query_frame(
    conn: Connection, query: sa.Select, columns: list[str] | None = None
) -> pd.DataFrame:
    """The rows of ``query`` as a frame; columns named as the query's, unless ``columns``."""
    return result_frame(conn.execute(query), columns)


def result_frame(result: sa.CursorResult, columns: list[str] | None = None) -> pd.DataFrame:
    """A result's rows as a frame, built from plain tuples: pandas asks each SQLAlchemy row for
    attributes it lacks, one caught exception each (20 ms for a catalog of 2,000 metrics)."""
    return pd.DataFrame([tuple(row) for row in result], columns=columns or list(result.keys()))


SQLITE_CHUNK_ROWS = 100_000


def _read_sqlite(conn: Connection, query: sa.Select, types: dict[str, str]) -> pd.DataFrame:
    """``query`` on the transaction's sqlite3 cursor, each chunk of rows turned into column arrays."""
    sql, params = _compiled(conn.engine.url, query)
    names = [c.name for c in query.selected_columns]
    record = np.dtype([(name, object) for name in names])
    parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
    cursor = driver_connection(conn).cursor()
    try:
        cursor.execute(sql, params)
        with gc_paused():
            while rows := cursor.fetchmany(SQLITE_CHUNK_ROWS):
                block = np.array(rows, dtype=record)  # rows to columns without a Python loop
                for name in names:
                    parts[name].append(_array(block[name], types.get(name)))
    finally:
        cursor.close()
    return pd.DataFrame(
        {name: np.concatenate(p) if p else np.array([], dtype=object) for name, p in parts.items()}
    )


def _array(column: np.ndarray, kind: str | None) -> np.ndarray:
    """One column (objects) of a chunk as typed values: NaN for NULL floats, ISO dates parsed."""
    if kind == "float":
        return column.astype(float)  # None becomes NaN
    if kind == "date":
        return column.astype("datetime64[s]")
    if kind == "int" and not pd.isna(column).any():
        return column.astype(np.int64)
    return column


def _read_arrow(url: sa.URL, uri: str, query: sa.Select, types: dict[str, str]) -> pd.DataFrame:
    """Run ``query`` through the ADBC driver for ``url`` and convert the Arrow table to a frame."""
    import adbc_driver_manager

    sql, params = _compiled(url, query)
    try:
        with _adbc_connect(uri) as adbc, adbc.cursor() as cursor:
            cursor.execute(sql, params or None)
            table = cursor.fetch_arrow_table()
    except adbc_driver_manager.Error as exc:
        msg = f"cannot read observations from {redact_url(str(url))}: {exc}"
        raise StoreError(msg) from None
    return _to_frame(table, [c.name for c in query.selected_columns], types)


def _adbc_connect(uri: str):
    import adbc_driver_postgresql.dbapi

    return adbc_driver_postgresql.dbapi.connect(uri)


def _compiled(url: sa.URL, query: sa.Select) -> tuple[str, list[object]]:
    """The SQL text with positional parameters: ``?`` for sqlite3, ``$n`` for ADBC's PostgreSQL."""
    dialect: Dialect
    if url.get_backend_name() == "sqlite":
        from sqlalchemy.dialects import sqlite

        dialect = sqlite.dialect()
        convert = _iso  # SQLAlchemy stores SQLite dates as ISO text
    else:
        from sqlalchemy.dialects import postgresql  # a tenth of a second to import: only here

        dialect = postgresql.dialect(paramstyle="numeric_dollar")
        convert = _same
    compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = [convert(compiled.params[name]) for name in compiled.positiontup or []]
    return compiled.string, params


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


def _same(value: object) -> object:
    return value


def _to_frame(table, names: list[str], types: dict[str, str]) -> pd.DataFrame:
    """The Arrow table as the frame the SQLAlchemy path gives: text dates parsed, types fixed."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = table.rename_columns(names)
    arrow_types = {"str": pa.string(), "float": pa.float64(), "int": pa.int64()}
    for name, kind in types.items():
        column = table[name]
        if kind == "date":
            if pa.types.is_null(column.type) or pa.types.is_integer(column.type):
                column = column.cast(pa.string())  # an empty SQLite result has no type to go by
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                column = pc.strptime(pc.utf8_slice_codeunits(column, 0, 10), "%Y-%m-%d", "s")
            column = column.cast(pa.timestamp("s"))
        elif column.type != arrow_types[kind]:
            column = column.cast(arrow_types[kind])
        table = table.set_column(names.index(name), name, column)
    return table.to_pandas()
