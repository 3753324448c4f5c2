"""Writes of metrics and targets; a changed definition or replaced target is kept first, for undo."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cityscore.core.errors import CatalogError
from cityscore.core.vocabulary import EARLIEST
from cityscore.store.area_catalog import add_named_areas
from cityscore.store.batches import ImportResult, finish_batch, new_batch
from cityscore.store.columnar import query_frame
from cityscore.store.keys import has_values, metric_ids, refuse_new_spellings, with_area
from cityscore.store.schema import (
    METRIC_FIELDS,
    metrics_table,
    now,
    stored_date,
    superseded_metrics_table,
    superseded_targets_table,
    targets_table,
)


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
        {
            "allow_negative": False,
            **r,
            "per_residents": sql_value(r.get("per_residents")),  # NaN or absent: not a rate
            "schedule": r.get("schedule") or "daily",
            "stale_after": _whole_days(r.get("stale_after")),  # NaN or absent: the default
            "catalog_target": catalog_target.get(r["name"]),
        }
        for r in metrics.to_dict("records")
    ]
    fields = [*METRIC_FIELDS[1:], "catalog_target"]
    existing = query_frame(conn, sa.select(metrics_table))
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
    added = add_named_areas(conn, targets, batch)
    for _, (metric_id, area, when), target in plan:
        put_target(conn, metric_id, when, target, batch, area)
    finish_batch(conn, batch, inserted, updated, unchanged)
    return ImportResult("targets", source, inserted, updated, unchanged, batch, added_areas=added)


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


def has_targets(conn: Connection, metric_id: int) -> bool:
    t = targets_table
    query = sa.select(t.c.id).where(t.c.metric_id == metric_id, t.c.area == "").limit(1)
    return conn.execute(query).first() is not None


def sql_value(value: object) -> object:
    """None for NaN/None (SQL NULL); plain Python numbers otherwise."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def differs(old: object, new: object) -> bool:
    """True when two stored values differ (NaN/None equal each other)."""
    old, new = sql_value(old), sql_value(new)
    if old is None or new is None:
        return (old is None) != (new is None)
    if (
        isinstance(old, (int, float))
        and isinstance(new, (int, float))
        and not isinstance(old, bool)
    ):
        return float(old) != float(new)
    return old != new


def _whole_days(value: object) -> int | None:
    """A ``stale_after`` cell as stored: whole days, or None (the schedule's default)."""
    value = sql_value(value)
    return None if value is None or value == "" else int(float(value))  # type: ignore[arg-type]
