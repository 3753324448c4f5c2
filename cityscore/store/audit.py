"""The audit trail: every version of a day's value, and undo of a whole import batch."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cityscore.core.errors import CatalogError, StoreError
from cityscore.core.names import closest
from cityscore.store.area_catalog import AREAS_KIND, check_areas_undoable, undo_areas
from cityscore.store.batches import ImportResult, finish_batch, new_batch
from cityscore.store.catalog_writes import keep_definitions
from cityscore.store.keys import metric_ids
from cityscore.store.schema import (
    VALUE_FIELDS,
    batches_table,
    inserted_ids_if_usable,
    inserted_ids_table,
    metrics_table,
    now,
    observations_table,
    superseded_metrics_table,
    superseded_targets_table,
    superseded_values_table,
    targets_table,
)


def history(conn: Connection, metric: str, date: dt.date, area: str = "") -> pd.DataFrame:
    """Every version of one day's value (of ``area``, citywide by default), oldest first:
    superseded ones and the current one."""
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
    metric_id = conn.execute(sa.select(m.c.id).where(m.c.name == metric)).scalar()
    if metric_id is None:
        msg = f"unknown metric {metric!r}" + closest(metric, metric_ids(conn))
        raise CatalogError(msg)
    current = conn.execute(
        sa.select(
            o.c.value, o.c.numerator, o.c.denominator, o.c.source, o.c.batch_id, b.c.created_at
        )
        .join(b, b.c.id == o.c.batch_id, isouter=True)
        .where(o.c.metric_id == metric_id, o.c.area == area, o.c.date == date)
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
        .where(s.c.metric_id == metric_id, s.c.area == area, s.c.date == date)
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


# Batches of these kinds (``catalog_writes``: metrics, targets) never write a value: their undo
# need not look through the observations (a kind not named here is looked for).
WRITE_NO_VALUES = ("metrics", "targets", AREAS_KIND)


def undo(conn: Connection, batch_id: int) -> ImportResult:
    """Revert a whole batch, recorded as a batch of kind ``undo``.

    Values the batch replaced are restored (with their own batch and source); values it inserted
    are removed. What the batch wrote is kept in ``superseded_values``, so nothing is lost.
    """
    batch = undoable_batch(conn, batch_id)
    undo_batch = new_batch(conn, "undo", f"undo of batch {batch_id} ({batch.source})")
    restored, deleted = 0, 0
    if batch.kind not in WRITE_NO_VALUES:
        restored, deleted = undo_rows(conn, "values", batch_id, undo_batch)
    t_restored, t_deleted = undo_rows(conn, "targets", batch_id, undo_batch)
    m_restored, m_deleted = undo_metrics(conn, batch_id, undo_batch)
    restored, deleted = restored + t_restored + m_restored, deleted + t_deleted + m_deleted
    a_restored, a_deleted = undo_areas(conn, batch_id, undo_batch)  # after the rows naming them
    if batch.kind == AREAS_KIND:  # else the areas a write added go with it, uncounted
        restored, deleted = restored + a_restored, deleted + a_deleted
    conn.execute(batches_table.update().where(batches_table.c.id == batch_id), {"undone_at": now()})
    finish_batch(conn, undo_batch, 0, restored, 0)
    return ImportResult("undo", f"undo of batch {batch_id}", 0, restored, 0, undo_batch, deleted)


def undoable_batch(conn: Connection, batch_id: int) -> sa.Row:
    """The batch ``batch_id`` if it can be undone now, else a ``StoreError`` saying why not."""
    batch = conn.execute(sa.select(batches_table).where(batches_table.c.id == batch_id)).first()
    if batch is None:
        msg = f"there is no batch {batch_id}; list the batches with Kit.batches() or `cityscore history`"
        raise StoreError(msg)
    if batch.undone_at is not None:
        msg = f"batch {batch_id} was already undone at {batch.undone_at}"
        raise StoreError(msg)
    if batch.kind == "undo":
        msg = f"batch {batch_id} is an undo, which cannot itself be undone; import the file again instead"
        raise StoreError(msg)
    check_metrics_removable(conn, batch_id)
    check_areas_undoable(conn, batch_id)
    s = superseded_values_table
    later = list(
        conn.execute(
            sa.select(s.c.superseded_by)
            .where(s.c.batch_id == batch_id)
            .distinct()
            .order_by(s.c.superseded_by)
        ).scalars()
    )
    for st in (superseded_targets_table, superseded_metrics_table):
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
    return batch


def undo_rows(conn: Connection, kind: str, batch_id: int, undo_batch: int) -> tuple[int, int]:
    """Undo one batch's rows in ``observations`` (kind "values") or ``targets`` (kind "targets").

    Set-based statements, however big the batch: keep what the batch wrote (superseded by the
    undo), restore the versions it replaced, delete the rows it inserted, drop the restored
    versions from the superseded table. A values batch's rows are found by the ids it inserted
    (``inserted_ids``) and the versions it replaced, when those are known; else by reading every
    row for its ``batch_id``. Returns (restored, deleted).
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
    mine = table.c.batch_id == batch_id
    replaced = old_table.c.superseded_by == batch_id
    same_key = sa.and_(
        old_table.c.metric_id == table.c.metric_id,
        old_table.c.area == table.c.area,
        old_table.c[key] == table.c[key],
    )
    inserted = inserted_ids(conn, batch_id) if kind == "values" else None
    kept = ["metric_id", "area", key, *fields]
    keep = sa.select(
        *[table.c[c] for c in kept],
        sa.literal(batch_id, sa.Integer),
        sa.literal(now(), sa.DateTime),
        sa.literal(undo_batch, sa.Integer),
    )
    # The rows the batch inserted (by their ids, when known) and those it changed (by their keys).
    sources = (
        [keep.where(mine)]
        if inserted is None
        else [
            keep.where(mine, inserted),
            keep.join(old_table, same_key).where(mine, replaced),
        ]
    )
    columns = [*kept, "batch_id", "superseded_at", "superseded_by"]
    written = sum(
        conn.execute(old_table.insert().from_select(columns, rows)).rowcount for rows in sources
    )
    if not written:
        return 0, 0
    restored = conn.execute(
        table.update()
        .values({c: old_table.c[c] for c in [*fields, "batch_id"]})
        .where(mine, replaced, same_key)
    ).rowcount
    left = mine if inserted is None else sa.and_(mine, inserted)  # what is left was inserted
    deleted = conn.execute(table.delete().where(left)).rowcount
    conn.execute(old_table.delete().where(replaced))  # every one was restored just now
    return restored, deleted


def inserted_ids(conn: Connection, batch_id: int) -> sa.ColumnElement[bool] | None:
    """``observations.id`` within the ids a values batch inserted (an empty range if none), or None
    when they are not known (a batch from before they were kept, or a database without them).

    Checked before use: the rows of the batch in that range must be as many as it inserted (none
    of them can have changed since: ``undoable_batch`` refuses that first). Otherwise None, and
    the undo reads every row, as it always did.
    """
    o, r = observations_table, inserted_ids_table
    query = (
        sa.select(r.c.first_id, r.c.last_id, batches_table.c.inserted)
        .join(batches_table, batches_table.c.id == r.c.batch_id)
        .where(r.c.batch_id == batch_id)
    )
    span = None
    with inserted_ids_if_usable(conn):
        span = conn.execute(query).first()
    if span is None:
        return None
    within = o.c.id.between(span.first_id, span.last_id)
    found = conn.execute(
        sa.select(sa.func.count()).where(within, o.c.batch_id == batch_id)
    ).scalar_one()
    return within if found == span.inserted else None


# --- metric definitions --------------------------------------------------------------------


def added_metrics(conn: Connection, batch_id: int) -> dict[int, str]:
    """The metrics a metrics batch created (and no later batch changed): id -> name."""
    m, sm = metrics_table, superseded_metrics_table
    changed = sa.select(sm.c.metric_id).where(sm.c.superseded_by == batch_id)
    query = sa.select(m.c.id, m.c.name).where(m.c.batch_id == batch_id, m.c.id.not_in(changed))
    return dict(conn.execute(query).all())


def check_metrics_removable(conn: Connection, batch_id: int) -> None:
    """Refuse to undo the creation of a metric that other batches have given values or targets."""
    added = added_metrics(conn, batch_id)
    if not added:
        return
    used: set[int] = set()
    for table in (
        observations_table,
        superseded_values_table,
        targets_table,
        superseded_targets_table,
    ):
        query = sa.select(table.c.metric_id).where(table.c.metric_id.in_(list(added)))
        if table is targets_table:
            query = query.where(table.c.batch_id != batch_id)
        used |= set(conn.execute(query.distinct()).scalars())
    if used:
        names = sorted(added[i] for i in used)
        msg = (
            f"batch {batch_id} created metric(s) {names}, which now have values or targets (or a "
            "history of them) from other batches; undo those batches first, newest first"
        )
        raise StoreError(msg)


def undo_metrics(conn: Connection, batch_id: int, undo_batch: int) -> tuple[int, int]:
    """Restore the definitions a metrics batch replaced and remove the metrics it created.

    What the batch wrote is kept in ``superseded_metrics``. Returns (restored, removed).
    """
    m, sm = metrics_table, superseded_metrics_table
    mine = conn.execute(sa.select(m.c.id).where(m.c.batch_id == batch_id)).scalars().all()
    if not mine:
        return 0, 0
    keep_definitions(conn, list(mine), undo_batch)
    replaced = {
        r.metric_id: r for r in conn.execute(sa.select(sm).where(sm.c.superseded_by == batch_id))
    }
    restored = 0
    for metric_id in mine:
        old = replaced.get(metric_id)
        if old is None:
            # The target history this undo just recorded would keep a removed metric alive.
            st = superseded_targets_table
            gone = (st.c.metric_id == metric_id) & (st.c.superseded_by == undo_batch)
            conn.execute(st.delete().where(gone))
            conn.execute(m.delete().where(m.c.id == metric_id))
            continue
        restore = {c.name: getattr(old, c.name) for c in m.c if c.name != "id"}
        conn.execute(m.update().where(m.c.id == metric_id), restore)
        conn.execute(sm.delete().where(sm.c.id == old.id))
        restored += 1
    return restored, len(mine) - restored
