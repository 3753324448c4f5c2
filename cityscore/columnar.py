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

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

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
    conn: Connection,
    start: dt.date | None = None,
    end: dt.date | None = None,
    with_source: bool = False,
    *,
    arrow: bool = True,
    areas: bool = False,
) -> pd.DataFrame:
    """Observations (``metric, date, value, numerator, denominator``), optionally within dates.

    Citywide rows only, unless ``areas``: then every row, with an ``area`` column after ``date``.
    """
    types = {"metric": "str", "date": "date", **dict.fromkeys(VALUE_FIELDS, "float")}
    if areas:
        types["area"] = "str"
    if with_source:
        types |= {"source": "str", "batch_id": "int"}
    query = observations_query(start, end, with_source, areas)
    return read_frame(conn, query, types, arrow=arrow)


def read_frame(
    conn: Connection, query: sa.Select, types: dict[str, str], *, arrow: bool = True
) -> pd.DataFrame:
    """The rows of ``query`` as a frame, column types given as ``str``, ``date``, ``float``, ``int``.

    ``conn`` is an open transaction (the schema is known to exist). ``arrow=False`` reads through
    SQLAlchemy rows, the slow path kept for other databases and for tests. Dates come back as
    ``datetime64[s]``; an ``int`` column with NULLs as float.
    """
    url = conn.engine.url
    if arrow and adbc_uri(url) is not None:
        frame = _read_arrow(url, adbc_uri(url), query, types)
    elif arrow and conn.dialect.name == "sqlite":
        frame = _read_sqlite(conn, query, types)
    else:
        frame = _read_rows(conn, query)
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


def _read_rows(conn: Connection, query: sa.Select) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame([tuple(r) for r in result], columns=list(result.keys()))


SQLITE_CHUNK_ROWS = 100_000


def _read_sqlite(conn: Connection, query: sa.Select, types: dict[str, str]) -> pd.DataFrame:
    """``query`` on the transaction's sqlite3 cursor, each chunk of rows turned into column arrays."""
    sql, params = _compiled(conn.engine.url, query)
    names = [c.name for c in query.selected_columns]
    record = np.dtype([(name, object) for name in names])
    parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(sql, params)
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
    if url.get_backend_name() == "sqlite":
        dialect = sqlite.dialect()
        convert = _iso  # SQLAlchemy stores SQLite dates as ISO text
    else:
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
