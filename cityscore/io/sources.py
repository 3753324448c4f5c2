"""SQL sources (sources.yml): read each metric's new days from a city's own databases, validated.

A ``sources.yml`` names the source databases and, for each metric, a query (or a table plus column
mapping) that returns one row per day between the bound parameters ``:start`` and ``:end``. The
aggregation runs in the source database (push-down): millions of raw rows never leave it.

Reading is incremental: a metric is read from the day after its last stored day, minus a look-back
of ``lookback_days`` so late corrections arrive. Queries run in a read-only transaction where the
server supports one. Passwords come from the environment (``${VAR}`` in a URL), never from files.

A query (or a table's ``columns: {area: ...}``) may also return an ``area`` column: one row per day
and area, an empty area being citywide, validated exactly as the ``area`` column of a values.csv.
``Kit.sync`` writes what ``fetch`` returns.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
import sqlalchemy as sa

from cityscore.core.errors import ConfigError, StoreError
from cityscore.core.nesting import refusing_deep_nesting
from cityscore.core.secrets import expand_env, has_literal_password, redact_url, scrub, url_secrets
from cityscore.io.area_names import KnownAreas
from cityscore.io.blank_areas import (
    BLANK_AREA_CHOICES,
    UNLOCATED,
    blank_rows,
    check_declared,
    check_unlocated_allowed,
    merge_blank_rows,
    with_unlocated,
)
from cityscore.io.timestamps import current_zone, local_day, local_day_text
from cityscore.io.value_rows import validate_values

DEFAULT_LOOKBACK_DAYS = 7
FIRST_SYNC_DAYS = 365  # a metric with no values yet is read for a year: what a baseline needs
# ``area`` is optional: a result without it is citywide, as a values.csv without the column.
COLUMN_ROLES = ("date", "value", "numerator", "denominator", "area")


@dataclass(frozen=True)
class Source:
    """One source database; ``password`` only ever comes from memory (widget) or the environment."""

    name: str
    url: str
    password: str | None = field(default=None, repr=False)
    timeout: float | None = None  # seconds to connect and for each query (None: no limit)


@dataclass(frozen=True)
class MetricQuery:
    """How to read one metric: a SQL query with ``:start``/``:end``, or a table and its columns."""

    metric: str
    source: str
    query: str | None = None
    table: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    lookback_days: int = DEFAULT_LOOKBACK_DAYS
    start: dt.date | None = None
    blank_area: str | None = None  # "unlocated" | "total": what an empty or NULL area is


@dataclass(frozen=True)
class SyncConfig:
    """A checked sources.yml: the source databases by name, and how to read each metric."""

    sources: dict[str, Source]
    metrics: list[MetricQuery]

    def selected(self, metrics: list[str] | None = None) -> list[MetricQuery]:
        """The queries of ``metrics`` (all for None); a name the file does not configure is an error."""
        missing = sorted(set(metrics or []) - {m.metric for m in self.metrics})
        if missing:
            msg = f"metric(s) {missing} are not in the sync configuration; configured: {[m.metric for m in self.metrics]}"
            raise ConfigError(msg)
        return [m for m in self.metrics if metrics is None or m.metric in metrics]


# --- configuration -------------------------------------------------------------------------------


def load_config(config: str | Path | dict) -> SyncConfig:
    """Read and check a sources.yml (path) or the same structure as a dict."""
    from_file = not isinstance(config, dict)
    data = config if isinstance(config, dict) else _read_yaml(Path(config))
    if not isinstance(data, dict) or not data.get("sources") or not data.get("metrics"):
        msg = "sources.yml needs a `sources:` mapping (name -> url) and a `metrics:` mapping (metric -> query)"
        raise ConfigError(msg)
    _mapping(data["sources"], "`sources:`", "name: {url: ...} per source database")
    _mapping(data["metrics"], "`metrics:`", "metric name: {query: ...} per metric")
    defaults = _mapping(data.get("defaults") or {}, "`defaults:`", "lookback_days: 7")
    sources = {
        str(name): _source(str(name), spec, from_file) for name, spec in data["sources"].items()
    }
    metrics = [
        _metric(
            str(name),
            _mapping(spec or {}, f"metric {name!r}", "query: ... or table: ..."),
            defaults,
            sources,
        )
        for name, spec in data["metrics"].items()
    ]
    return SyncConfig(sources, metrics)


def _mapping(value: Any, where: str, example: str) -> dict:
    """``value`` if it is a mapping; else an error saying what was found and what belongs there."""
    if not isinstance(value, dict):
        msg = f"{where} must be a mapping ({example}); got {_kind(value)}"
        raise ConfigError(msg)
    return value


def _text_field(spec: dict, key: str, where: str) -> str | None:
    """An optional text setting (``query``, ``table``, ``source``); a list or mapping is an error."""
    value = spec.get(key)
    if value is not None and not isinstance(value, str):
        msg = f"{where}: `{key}:` must be text; got {_kind(value)}"
        raise ConfigError(msg)
    return value


def _kind(value: Any) -> str:
    kinds: dict[type, str] = {list: "a list", dict: "a mapping"}
    return kinds.get(type(value), f"{type(value).__name__} {value!r}")


def _read_yaml(path: Path) -> Any:
    import yaml  # here: the Kit imports this module, and only a sync reads YAML

    if not path.exists():
        msg = f"sync configuration {path} not found; copy templates/sources.yml and edit it"
        raise ConfigError(msg)
    if path.is_dir():
        msg = f"{path} is a folder; give the sync configuration file, e.g. {path / 'sources.yml'}"
        raise ConfigError(msg)
    try:
        with refusing_deep_nesting(path.name):
            return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        msg = f"{path.name} is not valid YAML: {exc}"
        raise ConfigError(msg) from None


def _source(name: str, spec: Any, from_file: bool) -> Source:
    url = _text_field(spec, "url", f"source {name!r}") if isinstance(spec, dict) else spec
    if not isinstance(url, str) or "://" not in url:
        msg = f"source {name!r} needs `url: dialect+driver://user:${{PASSWORD_VAR}}@host/db`"
        raise ConfigError(msg)
    password = spec.get("password") if isinstance(spec, dict) else None
    if from_file and (password is not None or has_literal_password(url)):
        msg = (
            f"source {name!r}: a password is written in the file; put it in an environment variable "
            "and write ${VAR} in the url instead (files end up in git, passwords must not)"
        )
        raise ConfigError(msg)
    timeout = spec.get("timeout") if isinstance(spec, dict) else None
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0
    ):
        msg = f"source {name!r}: timeout must be a number of seconds above 0, e.g. timeout: 300; got {timeout!r}"
        raise ConfigError(msg)
    return Source(name, url, password, float(timeout) if timeout is not None else None)


def _metric(name: str, spec: dict, defaults: dict, sources: dict[str, Source]) -> MetricQuery:
    source = _text_field(spec, "source", f"metric {name!r}")
    source = source or (next(iter(sources)) if len(sources) == 1 else None)
    if source not in sources:
        msg = f"metric {name!r}: `source:` must name one of {sorted(sources)}"
        raise ConfigError(msg)
    query = _text_field(spec, "query", f"metric {name!r}")
    table = _text_field(spec, "table", f"metric {name!r}")
    if bool(query) == bool(table):
        msg = f"metric {name!r}: give either `query:` (SQL using :start and :end) or `table:` with `columns:`"
        raise ConfigError(msg)
    if query and not (re.search(r":start\b", query) and re.search(r":end\b", query)):
        msg = (
            f"metric {name!r}: the query must filter its days with the bound parameters :start and :end "
            "(e.g. WHERE day BETWEEN :start AND :end), so only the days needed are aggregated"
        )
        raise ConfigError(msg)
    columns = _mapping(
        spec.get("columns") or {}, f"metric {name!r}: `columns:`", "date: day, value: minutes"
    )
    if any(not isinstance(v, (str, int)) for v in columns.values()):
        msg = (
            f"metric {name!r}: each of `columns:` names one column, e.g. date: day; got {columns!r}"
        )
        raise ConfigError(msg)
    columns = {str(k): str(v) for k, v in columns.items()}
    bad = sorted(set(columns) - set(COLUMN_ROLES))
    if bad:
        msg = f"metric {name!r}: unknown column role(s) {bad}; map {list(COLUMN_ROLES)} to your columns"
        raise ConfigError(msg)
    if table and "value" not in columns and not {"numerator", "denominator"} <= set(columns):
        msg = (
            f"metric {name!r}: with `table:` give `columns:` for date and value "
            "(or numerator and denominator), e.g. columns: {date: day, value: minutes}"
        )
        raise ConfigError(msg)
    lookback = spec.get("lookback_days", defaults.get("lookback_days", DEFAULT_LOOKBACK_DAYS))
    if not isinstance(lookback, int) or isinstance(lookback, bool) or lookback < 0:
        msg = (
            f"metric {name!r}: lookback_days must be a whole number of days >= 0; got {lookback!r}"
        )
        raise ConfigError(msg)
    start = spec.get("start", defaults.get("start"))
    if start is not None and not isinstance(start, dt.date):
        try:
            start = dt.date.fromisoformat(str(start))
        except ValueError:
            msg = f"metric {name!r}: start must be a date YYYY-MM-DD; got {start!r}"
            raise ConfigError(msg) from None
    blank_area = spec.get("blank_area", defaults.get("blank_area"))
    if blank_area is not None and blank_area not in BLANK_AREA_CHOICES:
        msg = (
            f"metric {name!r}: blank_area must be `unlocated` (rows with no known area count in the "
            f"city and in no area) or `total` (blank rows are the city's totals); got {blank_area!r}"
        )
        raise ConfigError(msg)
    return MetricQuery(name, source, query, table, columns, lookback, start, blank_area)


# --- connections ---------------------------------------------------------------------------------


def source_engine(url: str, password: str | None = None, timeout: float | None = None) -> sa.Engine:
    """An engine for a source database; ``${VAR}`` expanded, ``password`` set without printing it.

    ``timeout`` (seconds) bounds connecting and each query: PostgreSQL's ``connect_timeout`` and
    ``statement_timeout``, MySQL's connect and read timeouts, SQLite's interrupt of a long query.

    A SQLite file is opened read-only (``mode=ro``): a mistyped path is an error, not a new empty
    file, and a query can neither ATTACH another file nor VACUUM INTO one.
    """
    try:
        parsed = sa.engine.make_url(expand_env(url))
        if password:
            parsed = parsed.set(password=password)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            return _sqlite_read_only(parsed, timeout)
        return sa.create_engine(parsed, connect_args=_timeout_args(parsed, timeout))
    except (sa.exc.ArgumentError, ImportError, ValueError) as exc:
        msg = f"cannot use source URL {redact_url(url)}: {_scrub(str(exc), password, url)}"
        raise ConfigError(msg) from None


def _timeout_args(url: sa.URL, timeout: float | None) -> dict[str, Any]:
    """The driver's connect arguments that bound connecting and each statement to ``timeout``."""
    if timeout is None:
        return {}
    seconds = max(1, round(timeout))
    if url.get_backend_name() == "postgresql":
        return {
            "connect_timeout": seconds,
            "options": f"-c statement_timeout={int(timeout * 1000)}",
        }
    if url.get_backend_name() in ("mysql", "mariadb"):
        return {"connect_timeout": seconds, "read_timeout": seconds}
    return {}


def _sqlite_read_only(url: sa.URL, timeout: float | None = None) -> sa.Engine:
    path = Path(str(url.database))  # a file name: source_engine sends only those here
    if not path.is_file():
        msg = f"SQLite source file {path} not found; check the path in the source's url"
        raise ConfigError(msg)
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    wait = timeout if timeout is not None else 5.0  # sqlite3's own default busy wait
    engine = sa.create_engine(
        "sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, timeout=wait)
    )
    deadline = [float("inf")]

    @sa.event.listens_for(engine, "connect")
    def _no_attach(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # VACUUM INTO attaches its target too: with no attach slots neither can create a file.
        dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        if timeout is not None:  # SQLite stops a query the handler answers with True
            handler = lambda: time.monotonic() > deadline[0]  # noqa: E731
            dbapi_connection.set_progress_handler(handler, 10_000)

    if timeout is not None:

        @sa.event.listens_for(engine, "before_cursor_execute")
        def _start_clock(*_args: object) -> None:
            deadline[0] = time.monotonic() + timeout

    return engine


def test_connection(url: str, *, password: str | None = None) -> str:
    """Connect and run ``SELECT 1``: a short OK message, or an error that never shows the password."""
    engine = source_engine(url, password)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1")).scalar()
            version = ".".join(str(v) for v in (engine.dialect.server_version_info or ())[:2])
    except sa.exc.SQLAlchemyError as exc:
        msg = f"cannot connect to {redact_url(url)}: {_scrub(_reason(exc), password, url)}"
        raise StoreError(msg) from None
    finally:
        engine.dispose()
    return f"connected: {engine.dialect.name} {version}".rstrip() + f" at {redact_url(url)}"


def _reason(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    reason = str(orig if orig is not None else exc).strip().splitlines()[0]
    if reason == "interrupted":  # the progress handler _sqlite_read_only sets for a timeout
        return (
            "the query took longer than the source's time limit (its `timeout:` in sources.yml, "
            "else [daily] source_timeout in cityscore.toml)"
        )
    if "too many attached databases" in reason:  # the limit _sqlite_read_only sets
        return "SQLite sources are read-only: a sync query may not ATTACH a file or VACUUM INTO one"
    return reason


def _scrub(text: str, password: str | None, url: str) -> str:
    """Remove any password (given, or from the URL as written or expanded) that a driver put in its message."""
    secrets = [password] if password else []
    secrets += url_secrets(url)
    with contextlib.suppress(Exception):  # scrubbing must never fail the error it is cleaning
        secrets += url_secrets(expand_env(url))
    return scrub(text, secrets)


def _begin_read_only(conn: sa.Connection) -> None:
    """Make the transaction read-only where the server supports it (a sync never writes a source)."""
    name = conn.dialect.name
    if name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
    elif name in ("mysql", "mariadb"):
        conn.exec_driver_sql("SET SESSION TRANSACTION READ ONLY")
    elif name == "sqlite":
        conn.exec_driver_sql("PRAGMA query_only = ON")


# --- reading -------------------------------------------------------------------------------------


def statement(spec: MetricQuery) -> sa.TextClause | sa.Select:
    """The SQL for one metric, with ``:start`` and ``:end`` left as bound parameters.

    In table mode the identifiers are quoted by SQLAlchemy, never pasted into the SQL text.
    """
    if spec.query:
        return sa.text(spec.query)
    schema, _, table = str(spec.table).rpartition(".")
    date: sa.ColumnClause[Any] = sa.column(spec.columns.get("date", "date"))
    roles = ["value"] if "value" in spec.columns else ["numerator", "denominator"]
    roles += ["area"] if "area" in spec.columns else []
    return (
        sa.select(date.label("date"), *[sa.column(spec.columns[r]).label(r) for r in roles])
        .select_from(sa.table(table, schema=schema or None))
        .where(date.between(sa.bindparam("start"), sa.bindparam("end")))
        .order_by(date)
    )


def read_metric(
    conn: sa.Connection, spec: MetricQuery, start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Rows of text (``metric, date, value, numerator, denominator, line``) for one metric.

    An ``area`` column is added when the result has one (the column ``columns: {area: ...}`` names,
    else ``area``); ``line`` is the row number in the query result.
    """
    result = conn.execute(statement(spec), {"start": start, "end": end})
    frame = pd.DataFrame([tuple(row) for row in result], columns=list(result.keys()))
    _check_columns(spec, list(frame.columns))
    rows = pd.DataFrame({"metric": spec.metric}, index=frame.index, dtype=object)
    zone = current_zone()  # the city's days: timestamps with an offset are read in its zone
    for role in COLUMN_ROLES:
        column = spec.columns.get(role, role) if spec.query else role  # table mode labels by role
        if column in frame:
            read = functools.partial(_day_text, zone=zone) if role == "date" else _text
            rows[role] = frame[column].map(read)
        elif role != "area":
            rows[role] = ""
    rows["line"] = range(1, len(rows) + 1)
    return rows.reset_index(drop=True)


def _check_columns(spec: MetricQuery, found: list[str]) -> None:
    """A query's result must hold the date and value (or numerator and denominator) columns it maps."""
    if not spec.query:
        return  # table mode selects the mapped columns itself; the database names a missing one
    column = {role: spec.columns.get(role, role) for role in COLUMN_ROLES}
    needed = [role for role in spec.columns if role not in ("date", "area")] or ["value"]
    if "value" not in spec.columns and {"numerator", "denominator"} <= set(found):
        needed = ["numerator", "denominator"]
    needed += ["area"] if "area" in spec.columns else []  # mapped, so it must be there
    missing = [role for role in ["date", *needed] if column[role] not in found]
    if missing:
        what = ", ".join(f"{column[r]!r} (for {r})" for r in missing)
        msg = (
            f"metric {spec.metric!r}: the query's result has no column {what}; it has {found}. "
            "Name the column in the query (e.g. SELECT ... AS day) or fix `columns:`"
        )
        raise ConfigError(msg)


def _text(value: object, zone: str | None = None) -> str:
    # A NULL arrives as None, or as NaN/NA where pandas infers a text or number column.
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, dt.datetime):
        return local_day(value, zone).isoformat()  # an offset read in the city's time zone
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _day_text(value: object, zone: str | None) -> str:
    """A date cell as text: a timestamp's local day, also when the driver gives it as text."""
    text = _text(value, zone)
    return (local_day_text(text, zone) or text) if isinstance(value, str) else text


def window(
    spec: MetricQuery, last: dt.date | None, end: dt.date, lookback_days: int | None
) -> dt.date:
    """The first day to read: after the last stored day minus the look-back, or the configured start."""
    lookback = spec.lookback_days if lookback_days is None else lookback_days
    if last is not None:
        return last + dt.timedelta(days=1 - lookback)
    return spec.start or end - dt.timedelta(days=FIRST_SYNC_DAYS - 1)


def fetch(
    config: SyncConfig,
    selected: list[MetricQuery],
    catalog: pd.DataFrame,
    last: dict[str, dt.date],
    stored_areas: Callable[[], Iterable[str]],
    *,
    lookback_days: int | None = None,
    end: dt.date | None = None,
    timeout: float | None = None,
) -> dict[str, pd.DataFrame]:
    """Read and validate the ``selected`` metrics' new days, after each one's ``last`` stored day;
    nothing is written. ``stored_areas`` is called once, and only if a result names an area.
    ``timeout`` bounds each source that sets no ``timeout:`` of its own (seconds).

    Raises ``ValidationError`` for the first metric whose rows break a rule (it lists every bad row;
    ``line`` is the row number in the query result).
    """
    end = end or dt.date.today() - dt.timedelta(days=1)
    unknown = [m.metric for m in selected if m.metric not in set(catalog["name"])]
    if unknown:
        msg = f"metric(s) {unknown} in the sync configuration are not in the catalog; import or create them first"
        raise ConfigError(msg)
    out: dict[str, pd.DataFrame] = {}
    # Area names: one spelling each, against the stored ones (read once per sync, and only if a
    # result names an area) and those of the metrics fetched before.
    stored = functools.cache(stored_areas)
    fetched: set[str] = set()
    for source_name in dict.fromkeys(m.source for m in selected):
        source = config.sources[source_name]
        limit = source.timeout if source.timeout is not None else timeout
        engine = source_engine(source.url, source.password, limit)
        try:
            for spec in (m for m in selected if m.source == source_name):
                start = window(spec, last.get(spec.metric), end, lookback_days)
                if start > end:
                    continue
                try:
                    with engine.connect() as conn, conn.begin():
                        _begin_read_only(conn)
                        rows = read_metric(conn, spec, start, end)
                except sa.exc.SQLAlchemyError as exc:
                    reason = _scrub(_reason(exc), source.password, source.url)
                    msg = f"sync of {spec.metric!r} from source {source_name!r} failed: {reason}"
                    raise StoreError(msg) from None
                known = lambda: {*stored(), *fetched}  # noqa: E731
                if isinstance(stored_areas, KnownAreas):  # the area catalog is checked too
                    known = stored_areas.with_stored(known)
                values = _validated(spec, rows, catalog, known)
                fetched.update(values["area"].unique() if "area" in values else ())
                out[spec.metric] = values
        finally:
            engine.dispose()
    return out


def _validated(
    spec: MetricQuery, rows: pd.DataFrame, catalog: pd.DataFrame, known: Callable[[], set[str]]
) -> pd.DataFrame:
    """One metric's rows validated as a values.csv; blank areas read as ``blank_area`` says.

    Unlocated rows are validated apart from the areas (they are no city total to check against
    them) and become each day's citywide row together with the areas: see ``blank_areas``.
    """
    name = f"sync {spec.metric}"
    check_declared(spec.metric, rows, spec.blank_area)
    blank = blank_rows(rows)
    if spec.blank_area != UNLOCATED or blank.all():
        return validate_values(rows, catalog, name, stored_areas=known)
    check_unlocated_allowed(spec.metric, catalog)
    rows = merge_blank_rows(rows)
    blank = blank_rows(rows)
    named = validate_values(rows[~blank].reset_index(drop=True), catalog, name, stored_areas=known)
    unlocated = rows[blank].reset_index(drop=True)
    located = validate_values(unlocated, catalog, name) if len(unlocated) else unlocated.iloc[:0]
    return with_unlocated(named, located)
