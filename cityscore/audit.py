"""The audit trail: every version of a day's value, and undo of a whole import batch."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .errors import CatalogError, StoreError
from .load import closest
from .schema import (
    VALUE_FIELDS,
    as_date,
    batches_table,
    metrics_table,
    now,
    observations_table,
    superseded_targets_table,
    superseded_values_table,
    targets_table,
)
from .writes import ImportResult, finish_batch, metric_ids, new_batch


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


def undo(conn: Connection, batch_id: int) -> ImportResult:
    """Revert a whole batch, recorded as a batch of kind ``undo``.

    Values the batch replaced are restored (with their own batch and source); values it inserted
    are removed. What the batch wrote is kept in ``superseded_values``, so nothing is lost.
    """
    batch = conn.execute(sa.select(batches_table).where(batches_table.c.id == batch_id)).first()
    check_undoable(conn, batch, batch_id)
    undo_batch = new_batch(conn, "undo", f"undo of batch {batch_id} ({batch.source})")
    restored, deleted = undo_rows(conn, "values", batch_id, undo_batch)
    t_restored, t_deleted = undo_rows(conn, "targets", batch_id, undo_batch)
    conn.execute(batches_table.update().where(batches_table.c.id == batch_id), {"undone_at": now()})
    finish_batch(conn, undo_batch, 0, restored + t_restored, 0)
    return ImportResult(
        "undo",
        f"undo of batch {batch_id}",
        0,
        restored + t_restored,
        0,
        undo_batch,
        deleted + t_deleted,
    )


def check_undoable(conn: Connection, batch: sa.Row | None, batch_id: int) -> None:
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


def undo_rows(conn: Connection, kind: str, batch_id: int, undo_batch: int) -> tuple[int, int]:
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
            {"metric_id": r.metric_id, "area": r.area, key: getattr(r, key),
             **{f: getattr(r, f) for f in fields},
             "batch_id": batch_id, "superseded_at": stamp, "superseded_by": undo_batch}
            for r in mine
        ],
    )  # fmt: skip
    replaced = {
        (r.metric_id, r.area, as_date(getattr(r, key))): r
        for r in conn.execute(sa.select(old_table).where(old_table.c.superseded_by == batch_id))
    }
    restored = 0
    for r in mine:
        old = replaced.get((r.metric_id, r.area, as_date(getattr(r, key))))
        if old is None:
            conn.execute(table.delete().where(table.c.id == r.id))
            continue
        restore = {f: getattr(old, f) for f in [*fields, "batch_id"]}
        conn.execute(table.update().where(table.c.id == r.id), restore)
        conn.execute(old_table.delete().where(old_table.c.id == old.id))
        restored += 1
    return restored, len(mine) - restored
