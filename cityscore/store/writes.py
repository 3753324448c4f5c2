"""Writes to the store: metrics, targets and observations, each in the caller's transaction.

Every write records an import batch. A value or target that is overwritten is copied to
``superseded_values`` (or ``superseded_targets``) first, so ``audit`` can show and undo it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cityscore.core.errors import CatalogError, StoreError, printable
from cityscore.core.vocabulary import EARLIEST
from cityscore.io.load import area_case_clashes, spelling_difference
from cityscore.store import columnar
from cityscore.store.schema import (
    METRIC_FIELDS,
    VALUE_FIELDS,
    batches_table,
    inserted_ids_if_usable,
    inserted_ids_table,
    metrics_table,
    now,
    observations_table,
    stored_date,
    superseded_metrics_table,
    superseded_targets_table,
    superseded_values_table,
    targets_table,
)


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


# --- metrics and targets -------------------------------------------------------------------


def write_metrics(
    conn: Connection,
    metrics: pd.DataFrame,
    targets: pd.DataFrame,
    source: str,
    today: dt.date,
) -> ImportResult:
    """Insert new metrics and update changed ones.

    A new metric's target (from metrics.csv) applies from the start of time. If a later metrics.csv
    gives an existing metric another target, the new target applies from ``today`` on, so past
    scores are never rewritten (use targets.csv to choose another date).
    """
    catalog_target = dict(zip(targets["metric"], targets["target"].astype(float), strict=True))
    rows = [
        {"allow_negative": False, **r, "catalog_target": catalog_target.get(r["name"])}
        for r in metrics.to_dict("records")
    ]
    fields = [*METRIC_FIELDS[1:], "catalog_target"]
    existing = frame(conn, sa.select(metrics_table))
    by_name = existing.set_index("name") if len(existing) else None
    new_rows, changed = [], []
    for row in rows:
        if by_name is None or row["name"] not in by_name.index:
            new_rows.append(row)
            continue
        old = by_name.loc[row["name"]]
        if any(differs(old[f], row[f]) for f in fields):
            if old["kind"] != row["kind"] and has_values(conn, int(old["id"])):
                msg = (
                    f"metric {row['name']!r} already has values as a {old['kind']} metric; "
                    f"its kind cannot change to {row['kind']}. Create a new metric instead"
                )
                raise CatalogError(msg)
            changed.append((int(old["id"]), row, old))
    unchanged = len(rows) - len(new_rows) - len(changed)
    if not new_rows and not changed:
        return ImportResult("metrics", source, 0, 0, unchanged, None)
    batch = new_batch(conn, "metrics", source)
    if new_rows:
        conn.execute(metrics_table.insert(), [{**r, "batch_id": batch} for r in new_rows])
    keep_definitions(conn, [metric_id for metric_id, _, _ in changed], batch)
    ids = metric_ids(conn)
    for row in new_rows:
        if row["catalog_target"] is not None:
            put_target(conn, ids[row["name"]], EARLIEST, row["catalog_target"], batch)
    for metric_id, row, old in changed:
        conn.execute(
            metrics_table.update().where(metrics_table.c.id == metric_id),
            {**{f: row[f] for f in fields}, "batch_id": batch},
        )
        if row["catalog_target"] is not None and differs(
            old["catalog_target"], row["catalog_target"]
        ):
            when = today if has_targets(conn, metric_id) else EARLIEST
            put_target(conn, metric_id, when, row["catalog_target"], batch)
    finish_batch(conn, batch, len(new_rows), len(changed), unchanged)
    return ImportResult("metrics", source, len(new_rows), len(changed), unchanged, batch)


def keep_definitions(conn: Connection, metric_ids: list[int], batch: int) -> None:
    """Copy metric definitions to ``superseded_metrics`` before ``batch`` changes or removes them."""
    if not metric_ids:
        return
    m = metrics_table
    kept = [c for c in m.c if c.name != "id"]
    rows = conn.execute(sa.select(m.c.id, *kept).where(m.c.id.in_(metric_ids))).mappings().all()
    stamp = now()
    conn.execute(
        superseded_metrics_table.insert(),
        [
            {**{c.name: r[c.name] for c in kept}, "metric_id": r["id"], "superseded_at": stamp,
             "superseded_by": batch}
            for r in rows
        ],
    )  # fmt: skip


def write_targets(conn: Connection, targets: pd.DataFrame, source: str) -> ImportResult:
    """Insert or update target changes; a replaced target is kept in ``superseded_targets``."""
    ids = metric_ids(conn)
    refuse_new_spellings(conn, targets, ids)
    t = targets_table
    existing = {
        (mid, area, stored_date(when)): value
        for mid, area, when, value in conn.execute(
            sa.select(t.c.metric_id, t.c.area, t.c.effective_from, t.c.target)
        )
    }
    plan = []
    for row in with_area(targets).itertuples(index=False):
        key = (ids[row.metric], row.area, pd.Timestamp(row.effective_from).date())
        if key not in existing:
            plan.append(("insert", key, float(row.target)))
        elif differs(existing[key], row.target):
            plan.append(("update", key, float(row.target)))
    inserted = sum(1 for p in plan if p[0] == "insert")
    updated = len(plan) - inserted
    unchanged = len(targets) - len(plan)
    if not plan:
        return ImportResult("targets", source, 0, 0, unchanged, None)
    batch = new_batch(conn, "targets", source)
    for _, (metric_id, area, when), target in plan:
        put_target(conn, metric_id, when, target, batch, area)
    finish_batch(conn, batch, inserted, updated, unchanged)
    return ImportResult("targets", source, inserted, updated, unchanged, batch)


def put_target(
    conn: Connection, metric_id: int, when: dt.date, target: float, batch: int, area: str = ""
) -> None:
    t = targets_table
    where = (t.c.metric_id == metric_id) & (t.c.area == area) & (t.c.effective_from == when)
    old = conn.execute(sa.select(t.c.target, t.c.batch_id).where(where)).first()
    if old is None:
        conn.execute(
            t.insert(),
            {
                "metric_id": metric_id,
                "area": area,
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
            "area": area,
            "effective_from": when,
            "target": old.target,
            "batch_id": old.batch_id,
            "superseded_at": now(),
            "superseded_by": batch,
        },
    )
    conn.execute(t.update().where(where), {"target": target, "batch_id": batch})


# --- observations --------------------------------------------------------------------------


def write_observations(
    conn: Connection, observations: pd.DataFrame, source: str, kind: str = "values"
) -> ImportResult:
    """Insert new days, update changed ones (keeping the old value), skip identical ones.

    Set-based: new rows go in as one bulk insert in key order (``COPY`` on PostgreSQL); changed
    rows are loaded into a temporary table, their stored versions copied to ``superseded_values``
    and the observations updated from it, one statement each.
    """
    ids = metric_ids(conn)
    refuse_new_spellings(conn, observations, ids)
    merged, is_new, is_changed = compare(conn, observations, ids=ids)
    inserted, updated = int(is_new.sum()), int(is_changed.sum())
    unchanged = len(merged) - inserted - updated
    if not inserted and not updated:
        return ImportResult(kind, source, 0, 0, unchanged, None)
    batch = new_batch(conn, kind, source)
    if updated:
        _replace_changed(conn, merged.loc[is_changed, ["obs_id", *VALUE_FIELDS]], batch, source)
    before = last_observation_id(conn)
    if inserted:
        fresh = in_key_order(merged.loc[is_new, ["metric_id", "area", "date", *VALUE_FIELDS]])
        with _indexes_set_aside(conn, inserted, before):
            bulk_insert(conn, observations_table, fresh, {"batch_id": batch, "source": source})
    keep_inserted_ids(conn, batch, before + 1, last_observation_id(conn))
    finish_batch(conn, batch, inserted, updated, unchanged)
    return ImportResult(kind, source, inserted, updated, unchanged, batch)


KEY = ["metric_id", "area", "date"]


def keep_inserted_ids(conn: Connection, batch: int, first: int, last: int) -> None:
    """Keep the ids ``batch`` inserted for an undo, also when none (an import that only changed
    values). Skipped where the table is missing or this role may not write it (a savepoint keeps
    the import going): the undo then reads every row."""
    span = {"batch_id": batch, "first_id": first, "last_id": last}
    with inserted_ids_if_usable(conn):
        conn.execute(inserted_ids_table.insert(), span)


def last_observation_id(conn: Connection) -> int:
    """The highest observation id (0 for none): one look at the end of the primary key. Rows a
    write inserts after it get higher ids (SQLite's next rowid, PostgreSQL's sequence)."""
    o = observations_table
    return conn.execute(sa.select(sa.func.coalesce(sa.func.max(o.c.id), 0))).scalar_one()


def in_key_order(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` sorted by (metric, area, day), as the table's unique index is: a file in that
    order already (the usual export) is checked in one pass and not sorted again."""
    ids, dates = frame["metric_id"].to_numpy(np.int64), frame["date"].to_numpy()
    area = frame["area"].to_numpy(object)
    if len(frame) < 2 or (area[0] == area).all():  # one area (citywide): metric, then day
        step_id, step_day = np.diff(ids), np.diff(dates)
        zero = np.zeros_like(step_day)
        if ((step_id > 0) | ((step_id == 0) & (step_day > zero))).all():
            return frame
    return frame.sort_values(KEY, kind="stable")


@contextmanager
def _indexes_set_aside(conn: Connection, new_rows: int, stored: int) -> Iterator[None]:
    """On SQLite, drop the observations' plain (non-unique) indexes for a bulk insert, build them after.

    Worth it when the insert at least doubles the table (a first import): SQLite then builds each
    index by one sort instead of inserting rows at random places of it. Inside the caller's
    transaction, so a rollback brings the indexes back; readers (WAL) keep their snapshot.
    PostgreSQL is left alone: its ``DROP INDEX`` would lock readers out until the commit.
    """
    indexes = [i for i in observations_table.indexes if not i.unique]
    if conn.dialect.name != "sqlite" or not indexes:
        yield
        return
    if new_rows < stored:  # the highest id so far: about the rows stored
        yield
        return
    for index in indexes:
        conn.execute(sa.schema.DropIndex(index, if_exists=True))
    yield
    for index in indexes:
        index.create(conn)


def _replace_changed(conn: Connection, changed: pd.DataFrame, batch: int, source: str) -> None:
    """Keep the stored versions of ``changed`` rows (``obs_id`` + values) and write the new ones."""
    o, s = observations_table, superseded_values_table
    changes = sa.Table(
        "cityscore_changes",
        sa.MetaData(),
        sa.Column("obs_id", sa.Integer, primary_key=True),
        *[sa.Column(f, sa.Float) for f in VALUE_FIELDS],
        prefixes=["TEMPORARY"],
    )
    changes.create(conn)  # inside the write transaction: a rollback takes it away too
    bulk_insert(conn, changes, changed.astype({"obs_id": "int64"}).sort_values("obs_id"))
    kept = ["metric_id", "area", "date", *VALUE_FIELDS, "batch_id", "source"]
    stamp = sa.literal(now(), sa.DateTime)
    conn.execute(
        s.insert().from_select(
            [*kept, "superseded_at", "superseded_by"],
            sa.select(*[o.c[k] for k in kept], stamp, sa.literal(batch, sa.Integer)).join(
                changes, changes.c.obs_id == o.c.id
            ),
        )
    )
    new_values = {f: changes.c[f] for f in VALUE_FIELDS}
    conn.execute(
        o.update()
        .values(**new_values, batch_id=batch, source=source)
        .where(o.c.id == changes.c.obs_id)
    )
    changes.drop(conn)


# Rows per multi-row INSERT on SQLite: one statement per 500 rows binds far fewer times than one
# per row (measured: a third less CPU for 0.7 M rows than ``executemany``).
SQLITE_ROWS_PER_INSERT = 500


def bulk_insert(
    conn: Connection, table: sa.Table, frame: pd.DataFrame, constants: dict | None = None
) -> None:
    """Insert ``frame``'s rows (columns named as ``table``'s) in one go: COPY, else executemany.

    ``constants`` are columns with one value for every row (the batch, the source).
    """
    constants = constants or {}
    if conn.dialect.name == "sqlite":  # SQLAlchemy keeps SQLite dates as ISO text
        _sqlite_insert(conn.connection.driver_connection, table.name, frame, constants)
        return
    frame = frame.assign(**constants)
    columns = list(frame.columns)
    if conn.dialect.name == "postgresql":
        _postgres_copy(conn.connection.driver_connection, table.name, frame)
        return
    rows = zip(*[c.tolist() for c in _columns(frame, iso_dates=False)], strict=True)
    conn.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])


def _sqlite_insert(dbapi, name: str, frame: pd.DataFrame, constants: dict) -> None:
    """Multi-row ``INSERT … SELECT … FROM (VALUES (…), (…))`` on the transaction's own connection.

    The constants are bound once per statement; the statement for a full chunk is compiled once.
    Python objects exist for one block of rows at a time, so memory stays flat at any size.
    """
    same = _constant_columns(frame)  # e.g. the area of a citywide file: bound once a statement
    same.pop(frame.columns[0], None)  # VALUES needs one column a row
    constants = {**constants, **same}
    frame = frame.drop(columns=list(same))
    width = len(frame.columns)
    limit = dbapi.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) - len(constants)
    per = max(1, min(SQLITE_ROWS_PER_INSERT, limit // max(width, 1)))
    names = ", ".join([*frame.columns, *constants])
    picked = ", ".join([f"column{i + 1}" for i in range(width)] + ["?"] * len(constants))
    row = "(" + ", ".join("?" * width) + ")"
    cursor = dbapi.cursor()
    try:
        for first in range(0, len(frame), per * 200):
            block = frame.iloc[first : first + per * 200]
            cells = np.empty((len(block), width), dtype=object)
            for at, column in enumerate(_columns(block, iso_dates=True, nan_as_none=False)):
                cells[:, at] = column  # numbers become Python ints and floats here, in C
            for start in range(0, len(cells), per):
                chunk = cells[start : start + per]
                values = ", ".join([row] * len(chunk))
                sql = f"INSERT INTO {name} ({names}) SELECT {picked} FROM (VALUES {values})"
                cursor.execute(sql, [*constants.values(), *chunk.ravel().tolist()])
    finally:
        cursor.close()


def _constant_columns(frame: pd.DataFrame) -> dict[str, object]:
    """The columns of ``frame`` holding one value in every row (all-missing floats: None)."""
    same: dict[str, object] = {}
    if len(frame) == 0:
        return same
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_float_dtype(column.dtype):
            values = column.to_numpy(dtype=np.float64)
            if np.isnan(values).all():
                same[name] = None
            elif (values.view(np.int64) == values.view(np.int64)[0]).all():  # -0.0 is not 0.0
                same[name] = float(values[0])
        elif pd.api.types.is_integer_dtype(column.dtype):
            values = column.to_numpy()
            if (values == values[0]).all():
                same[name] = int(values[0])
        elif column.dtype == object or isinstance(column.dtype, pd.StringDtype):
            values = column.to_numpy(dtype=object)
            if isinstance(values[0], str) and (values == values[0]).all():
                same[name] = values[0]
    return same


# Rows per block of CSV text handed to PostgreSQL's COPY (a few MB each).
COPY_ROWS = 100_000


def _postgres_copy(dbapi, name: str, frame: pd.DataFrame) -> None:
    """``COPY … FROM STDIN (FORMAT csv)`` of ``frame``, the text written by Arrow's CSV writer.

    Arrow prints floats in the shortest form that reads back to the same double, quotes every
    text (so ``""`` stays an empty text) and leaves NULL (NaN, None) unquoted and empty, which is
    what COPY's CSV format reads as NULL. No Python object per row.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pa.Table.from_pandas(frame, preserve_index=False)  # NaN becomes NULL
    for at, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(at, field.name, table[field.name].cast(pa.date32()))
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    names = ", ".join(table.column_names)
    cursor = dbapi.cursor()
    with cursor, cursor.copy(f"COPY {name} ({names}) FROM STDIN (FORMAT csv)") as copy:
        for start in range(0, table.num_rows, COPY_ROWS):
            block = pa.BufferOutputStream()
            pacsv.write_csv(table.slice(start, COPY_ROWS), block, options)
            copy.write(block.getvalue().to_pybytes())


def _columns(frame: pd.DataFrame, iso_dates: bool, nan_as_none: bool = True) -> list[np.ndarray]:
    """The columns as arrays of what a DB-API driver binds fastest: Python ints, floats, text.

    Missing values are None; with ``nan_as_none=False`` floats stay NaN (sqlite3 binds NaN as
    NULL). Dates are formatted once per distinct day, then repeated.
    """
    columns = []
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_dtype(column.dtype):
            codes, days = pd.factorize(column.to_numpy().astype("datetime64[D]"))
            days = np.asarray(days, dtype="datetime64[D]")
            shown = np.datetime_as_string(days) if iso_dates else days.astype(object)
            columns.append(np.append(shown.astype(object), None)[codes])  # NaT (-1): None
        elif pd.api.types.is_float_dtype(column.dtype):
            values = column.to_numpy(dtype=float)
            missing = np.isnan(values)
            columns.append(
                np.where(missing, None, values.astype(object)) if nan_as_none else values
            )
        elif pd.api.types.is_integer_dtype(column.dtype):
            columns.append(column.to_numpy())
        else:
            columns.append(column.astype(object).where(column.notna(), None).to_numpy())
    return columns


def plan_observations(conn: Connection, observations: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """What ``write_observations`` would do, without writing: insert, update and unchanged rows.

    ``update`` rows also show the stored value they would replace (``*_old``, ``source_old``).
    """
    merged, is_new, is_changed = compare(conn, observations, detail=True)
    # The area shows only for a file that has one, so plans of citywide files look as before.
    shown = ["metric", "date", *(["area"] if "area" in observations else []), *VALUE_FIELDS]
    old = [f"{f}_old" for f in VALUE_FIELDS] + ["source_old"]
    return {
        "insert": merged.loc[is_new, shown].reset_index(drop=True),
        "update": merged.loc[is_changed, shown + old].reset_index(drop=True),
        "unchanged": merged.loc[~is_new & ~is_changed, shown].reset_index(drop=True),
    }


def compare(
    conn: Connection,
    observations: pd.DataFrame,
    *,
    detail: bool = False,
    ids: dict[str, int] | None = None,
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Incoming rows with the stored ones beside them; masks of new rows and of changed rows.

    ``merged`` has ``obs_id`` (NaN for a new row) and ``*_old`` values; with ``detail`` also
    ``batch_id_old`` and ``source_old``. Two values are the same when both are missing or both
    are the same number. ``ids``: ``metric_ids(conn)``, when the caller has read them already.
    """
    ids = metric_ids(conn) if ids is None else ids
    codes, names = pd.factorize(observations["metric"], use_na_sentinel=False)  # a lookup a metric
    incoming = with_area(observations).assign(
        metric_id=np.array([ids[n] for n in names], dtype=np.int64)[codes],
        date=pd.to_datetime(observations["date"]).astype("datetime64[s]"),
    )
    current = existing_observations(conn, incoming, detail=detail)
    at = stored_positions(incoming, current)
    found = at >= 0
    pick = np.where(found, at, 0)
    merged = incoming.reset_index(drop=True)
    for name in current.columns.drop(["metric_id", "area", "date"], errors="ignore"):
        column = current[name].to_numpy()
        if len(column) == 0:
            merged[name] = np.nan if name != "source_old" else None
        elif column.dtype.kind in "if":
            merged[name] = np.where(found, column[pick].astype(float), np.nan)
        else:
            merged[name] = np.where(found, column[pick], None)
    is_new = pd.Series(~found, index=merged.index)
    same = np.ones(len(merged), dtype=bool)
    for field in VALUE_FIELDS:
        new = merged[field].to_numpy(dtype=float)
        old = merged[f"{field}_old"].to_numpy(dtype=float)
        same &= (new == old) | (np.isnan(new) & np.isnan(old))
    return merged, is_new, ~is_new & ~same


def stored_positions(incoming: pd.DataFrame, current: pd.DataFrame) -> np.ndarray:
    """For each incoming row, the position in ``current`` of the row with its (metric, area, day),
    or -1. Both sides' keys are packed into one int64 each and matched by a sorted search."""
    if current.empty or incoming.empty:
        return np.full(len(incoming), -1, dtype=np.int64)
    if "area" in current:
        area_codes, areas = pd.factorize(
            np.concatenate([incoming["area"].to_numpy(object), current["area"].to_numpy(object)])
        )
    else:  # citywide rows on both sides (see ``existing_observations``)
        area_codes, areas = np.zeros(len(incoming) + len(current), dtype=np.int64), [""]
    days = [
        f["date"].to_numpy().astype("datetime64[D]").astype(np.int64) for f in (incoming, current)
    ]
    first = min(d.min() for d in days)
    span = max(d.max() for d in days) - first + 1
    keys = []
    for frame, day, codes in zip(
        (incoming, current), days, np.split(area_codes, [len(incoming)]), strict=True
    ):
        group = frame["metric_id"].to_numpy(np.int64) * len(areas) + codes
        keys.append(group * span + (day - first))
    order = np.argsort(keys[1], kind="stable")
    stored = keys[1][order]
    where = np.minimum(np.searchsorted(stored, keys[0]), len(stored) - 1)
    return np.where(stored[where] == keys[0], order[where], -1)


def existing_observations(
    conn: Connection, incoming: pd.DataFrame, *, detail: bool = False
) -> pd.DataFrame:
    """The stored rows an import of ``incoming`` could touch (its metrics, within its dates).

    Read as columns (see ``columnar``): what is committed, which inside a write transaction that
    has written nothing yet is what that transaction sees. ``detail`` adds the batch and source
    (for dry runs); an import needs only the id and the values.
    """
    o = observations_table
    fields = [*VALUE_FIELDS, "batch_id", "source"] if detail else VALUE_FIELDS
    old = {f"{f}_old": o.c[f] for f in fields}
    citywide = not (incoming["area"] != "").any()  # then only citywide rows, without the area
    query = sa.select(
        o.c.id.label("obs_id"),
        o.c.metric_id,
        *([] if citywide else [o.c.area]),
        o.c.date,
        *[column.label(name) for name, column in old.items()],
    )
    if len(incoming):
        query = query.where(
            o.c.metric_id.in_(np.unique(incoming["metric_id"]).tolist()),
            o.c.date >= incoming["date"].min().date(),
            o.c.date <= incoming["date"].max().date(),
            *([o.c.area == ""] if citywide else []),
        )
    else:
        query = query.where(sa.false())
    types = {"obs_id": "int", "metric_id": "int", "date": "date"}
    if not citywide:
        types["area"] = "str"
    types |= {f"{f}_old": "float" for f in VALUE_FIELDS}
    if detail:
        types |= {"batch_id_old": "int", "source_old": "str"}
    return columnar.read_frame(conn, query, types)


# --- helpers -------------------------------------------------------------------------------


def refuse_new_spellings(conn: Connection, rows: pd.DataFrame, ids: dict[str, int]) -> None:
    """Refuse, inside the write transaction, an area name that another import has stored in
    another spelling since ``rows`` were checked (``load.area_case_clashes``): two imports at one
    moment could otherwise each add a spelling of one new area.

    A name already stored for the first metric that names it costs one seek; only a name new
    there reads the stored areas. Raises ``StoreError``; the caller's transaction writes nothing.
    """
    if "area" not in rows:
        return
    named = rows.drop_duplicates("area")  # the first row naming each area
    new = [
        area
        for metric, area in zip(named["metric"], named["area"].fillna(""), strict=True)
        if area and not has_values(conn, ids[metric], area)
    ]
    if not new:
        return
    stored = columnar.stored_areas(conn)
    for name, others in area_case_clashes(new, stored).items():
        other, how = printable(others[0]), spelling_difference(name, others)
        if others[0] in stored:
            msg = (
                f'the area "{printable(name)}" differs only {how} from "{other}", which another '
                "import stored while this one was being checked; nothing was written: write it "
                f'"{other}" and import again (area names are matched exactly)'
            )
        else:  # rows that were never checked (``Store`` called directly)
            msg = (
                f'the rows name one area twice, as "{printable(name)}" and "{other}" (they differ '
                f"only {how}); nothing was written: write every area name the same way"
            )
        raise StoreError(msg)


def with_area(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with an ``area`` column of text, ``""`` (citywide) where it has none."""
    if "area" not in frame:
        return frame.assign(area="")
    return frame.assign(area=frame["area"].fillna("").astype(str))


def metric_ids(conn: Connection) -> dict[str, int]:
    return dict(conn.execute(sa.select(metrics_table.c.name, metrics_table.c.id)).all())


def has_targets(conn: Connection, metric_id: int) -> bool:
    t = targets_table
    query = sa.select(t.c.id).where(t.c.metric_id == metric_id, t.c.area == "").limit(1)
    return conn.execute(query).first() is not None


def has_values(conn: Connection, metric_id: int, area: str | None = None) -> bool:
    """Whether any value of ``metric_id`` is stored (in ``area``, if given): one seek of the key."""
    o = observations_table
    query = sa.select(o.c.id).where(o.c.metric_id == metric_id)
    if area is not None:
        query = query.where(o.c.area == area)
    return conn.execute(query.limit(1)).first() is not None


def new_batch(conn: Connection, kind: str, source: str) -> int:
    result = conn.execute(
        batches_table.insert(), {"kind": kind, "source": source, "created_at": now()}
    )
    return int(result.inserted_primary_key[0])


def finish_batch(conn: Connection, batch: int, inserted: int, updated: int, unchanged: int) -> None:
    conn.execute(
        batches_table.update().where(batches_table.c.id == batch),
        {"inserted": inserted, "updated": updated, "unchanged": unchanged},
    )


def frame(conn: Connection, query: sa.Select, columns: list[str] | None = None) -> pd.DataFrame:
    """The rows of ``query`` as a frame; columns named as the query's, unless ``columns``."""
    return result_frame(conn.execute(query), columns)


def result_frame(result: sa.CursorResult, columns: list[str] | None = None) -> pd.DataFrame:
    """A result's rows as a frame, built from plain tuples: pandas asks each SQLAlchemy row for
    attributes it lacks, one caught exception each (20 ms for a catalog of 2,000 metrics)."""
    return pd.DataFrame([tuple(row) for row in result], columns=columns or list(result.keys()))


def none(value: object) -> object:
    """None for NaN/None (SQL NULL); plain Python numbers otherwise."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def differs(old: object, new: object) -> bool:
    """True when two stored values differ (NaN/None equal each other)."""
    old, new = none(old), none(new)
    if old is None or new is None:
        return (old is None) != (new is None)
    if (
        isinstance(old, (int, float))
        and isinstance(new, (int, float))
        and not isinstance(old, bool)
    ):
        return float(old) != float(new)
    return old != new
