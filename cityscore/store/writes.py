"""Writes of observations (values) in the caller's transaction, and the dry run's plan of one.

Every write records an import batch. A value that is overwritten is copied to
``superseded_values`` first, so ``audit`` can show and undo it. (Metrics and targets:
``catalog_writes``.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cityscore.store import columnar
from cityscore.store.area_catalog import add_named_areas
from cityscore.store.batches import ImportResult, finish_batch, keep_inserted_ids, new_batch
from cityscore.store.bulk import bulk_insert
from cityscore.store.keys import metric_ids, refuse_new_spellings, with_area
from cityscore.store.schema import VALUE_FIELDS, now, observations_table, superseded_values_table


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
    merged, is_new, is_changed = match_stored(conn, observations, ids=ids)
    inserted, updated = int(is_new.sum()), int(is_changed.sum())
    unchanged = len(merged) - inserted - updated
    if not inserted and not updated:
        return ImportResult(kind, source, 0, 0, unchanged, None)
    batch = new_batch(conn, kind, source)
    added = add_named_areas(conn, observations, batch) if inserted else ()
    if updated:
        _replace_changed(conn, merged.loc[is_changed, ["obs_id", *VALUE_FIELDS]], batch, source)
    before = last_observation_id(conn)
    if inserted:
        fresh = in_key_order(merged.loc[is_new, ["metric_id", "area", "date", *VALUE_FIELDS]])
        with _indexes_set_aside(conn, inserted, before):
            bulk_insert(conn, observations_table, fresh, {"batch_id": batch, "source": source})
    keep_inserted_ids(conn, batch, before + 1, last_observation_id(conn))
    finish_batch(conn, batch, inserted, updated, unchanged)
    return ImportResult(kind, source, inserted, updated, unchanged, batch, added_areas=added)


KEY = ["metric_id", "area", "date"]


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


def plan_observations(conn: Connection, observations: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """What ``write_observations`` would do, without writing: insert, update and unchanged rows.

    ``update`` rows also show the stored value they would replace (``*_old``, ``source_old``).
    """
    merged, is_new, is_changed = match_stored(conn, observations, detail=True)
    # The area shows only for a file that has one, so plans of citywide files look as before.
    shown = ["metric", "date", *(["area"] if "area" in observations else []), *VALUE_FIELDS]
    old = [f"{f}_old" for f in VALUE_FIELDS] + ["source_old"]
    return {
        "insert": merged.loc[is_new, shown].reset_index(drop=True),
        "update": merged.loc[is_changed, shown + old].reset_index(drop=True),
        "unchanged": merged.loc[~is_new & ~is_changed, shown].reset_index(drop=True),
    }


def match_stored(
    conn: Connection,
    observations: pd.DataFrame,
    *,
    detail: bool = False,
    ids: dict[str, int] | None = None,
    arrow: bool = True,
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Incoming rows with the stored ones beside them; masks of new rows and of changed rows.

    ``merged`` has ``obs_id`` (NaN for a new row) and ``*_old`` values; with ``detail`` also
    ``batch_id_old`` and ``source_old``. Two values are the same when both are missing or both
    are the same number. ``ids``: ``metric_ids(conn)``, when the caller has read them already.
    ``arrow=False`` reads through ``conn`` itself, which sees what the transaction has written.
    """
    ids = metric_ids(conn) if ids is None else ids
    codes, names = pd.factorize(observations["metric"], use_na_sentinel=False)  # a lookup a metric
    incoming = with_area(observations).assign(
        metric_id=np.array([ids[n] for n in names], dtype=np.int64)[codes],
        date=pd.to_datetime(observations["date"]).astype("datetime64[s]"),
    )
    current = existing_observations(conn, incoming, detail=detail, arrow=arrow)
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
    conn: Connection, incoming: pd.DataFrame, *, detail: bool = False, arrow: bool = True
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
    return columnar.read_frame(conn, query, types, arrow=arrow)
