"""Bulk reads of the observations table into a DataFrame, without a Python object per row.

SQLite files and PostgreSQL are read through ADBC (Arrow Database Connectivity): the driver hands
back Arrow columns, which become the frame's arrays directly. Measured on 0.7 million rows (see
``benchmarks/README.md``): ADBC 1.0 s on SQLite and 1.4 s on PostgreSQL, against 11 s through
SQLAlchemy rows, 5 s through the sqlite3 cursor and 1.8 s through PostgreSQL ``COPY`` parsed by
pyarrow. Any other database (and an in-memory SQLite) is read through SQLAlchemy, as plain tuples.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine

from .config import redact_url
from .errors import StoreError
from .schema import VALUE_FIELDS, metrics_table, observations_table

COLUMNS = ["metric", "date", *VALUE_FIELDS]
SOURCE_COLUMNS = ["source", "batch_id"]


def observations_query(
    start: dt.date | None, end: dt.date | None, with_source: bool, areas: bool = False
) -> sa.Select:
    """Observations by metric name and date, optionally within dates.

    Citywide rows only, unless ``areas``: then every row, with an ``area`` column after ``date``.
    """
    o, m = observations_table, metrics_table
    columns = [m.c.name.label("metric"), o.c.date, o.c.value, o.c.numerator, o.c.denominator]
    if areas:
        columns.insert(2, o.c.area)
    if with_source:
        columns += [o.c.source, o.c.batch_id]
    query = sa.select(*columns).join(m, m.c.id == o.c.metric_id)
    if not areas:
        query = query.where(o.c.area == "")
    if start is not None:
        query = query.where(o.c.date >= start)
    if end is not None:
        query = query.where(o.c.date <= end)
    return query.order_by(m.c.name, o.c.area, o.c.date)


def read_observations(
    engine: Engine,
    conn: Connection,
    start: dt.date | None = None,
    end: dt.date | None = None,
    with_source: bool = False,
    *,
    arrow: bool = True,
    areas: bool = False,
) -> pd.DataFrame:
    """Observations (``metric, date, value, numerator, denominator``), optionally within dates.

    ``conn`` is an open transaction on ``engine`` (the schema is known to exist); the Arrow path
    reads on a connection of its own, the fallback (or ``arrow=False``) on ``conn``.
    """
    query = observations_query(start, end, with_source, areas)
    uri = adbc_uri(engine.url) if arrow else None
    frame = _read_rows(conn, query) if uri is None else _read_arrow(engine.url, uri, query)
    frame["metric"] = frame["metric"].astype("str")
    if areas:
        frame["area"] = frame["area"].astype("str")
    frame["date"] = frame["date"].astype("datetime64[s]")
    for field in VALUE_FIELDS:
        frame[field] = frame[field].astype(float)
    return frame


def adbc_uri(url: sa.URL) -> str | None:
    """What an ADBC driver connects to for ``url``; None when there is no Arrow path for it."""
    if url.query:
        return None  # driver options SQLAlchemy would apply: keep its path
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return None
        return url.database
    if url.get_backend_name() == "postgresql":
        return url.set(drivername="postgresql").render_as_string(hide_password=False)
    return None


def _read_rows(conn: Connection, query: sa.Select) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame([tuple(r) for r in result], columns=list(result.keys()))


def _read_arrow(url: sa.URL, uri: str, query: sa.Select) -> pd.DataFrame:
    """Run ``query`` through the ADBC driver for ``url`` and convert the Arrow table to a frame."""
    import adbc_driver_manager

    sql, params = _compiled(url, query)
    try:
        with _adbc_connect(url, uri) as adbc, adbc.cursor() as cursor:
            if url.get_backend_name() == "sqlite":
                # Type each column from the whole result, not from its first rows (which may be NULL).
                cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": "1000000000"})
            cursor.execute(sql, params or None)
            table = cursor.fetch_arrow_table()
    except adbc_driver_manager.Error as exc:
        msg = f"cannot read observations from {redact_url(str(url))}: {exc}"
        raise StoreError(msg) from None
    return _to_frame(table, [c.name for c in query.selected_columns])


def _adbc_connect(url: sa.URL, uri: str):
    if url.get_backend_name() == "sqlite":
        import adbc_driver_sqlite.dbapi

        return adbc_driver_sqlite.dbapi.connect(uri)
    import adbc_driver_postgresql.dbapi

    return adbc_driver_postgresql.dbapi.connect(uri)


def _compiled(url: sa.URL, query: sa.Select) -> tuple[str, list[object]]:
    """The SQL text with positional parameters, as the ADBC driver for ``url`` takes them."""
    if url.get_backend_name() == "sqlite":
        compiled = query.compile(dialect=sa.dialects.sqlite.dialect())
        convert = _iso  # SQLAlchemy stores SQLite dates as ISO text
    else:
        compiled = query.compile(dialect=postgresql.dialect(paramstyle="numeric_dollar"))
        convert = _same
    params = [convert(compiled.params[name]) for name in compiled.positiontup or []]
    return compiled.string, params


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


def _same(value: object) -> object:
    return value


def _to_frame(table, names: list[str]) -> pd.DataFrame:
    """The Arrow table as the frame the SQLAlchemy path gives: text dates parsed, types fixed."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = table.rename_columns(names)
    types = {"metric": pa.string(), "area": pa.string(), "source": pa.string()}
    types["batch_id"] = pa.int64()
    types |= {field: pa.float64() for field in VALUE_FIELDS}
    for name, kind in types.items():
        if name in names and table.schema.field(name).type != kind:
            table = table.set_column(names.index(name), name, table[name].cast(kind))
    date = table["date"]
    if pa.types.is_null(date.type) or pa.types.is_integer(date.type):
        date = date.cast(pa.string())  # an empty SQLite result has no type to go by
    if pa.types.is_string(date.type) or pa.types.is_large_string(date.type):
        date = pc.strptime(pc.utf8_slice_codeunits(date, 0, 10), "%Y-%m-%d", "s")
    table = table.set_column(names.index("date"), "date", date.cast(pa.timestamp("s")))
    return table.to_pandas()
