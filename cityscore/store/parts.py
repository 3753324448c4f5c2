"""Writes of a values file read in parts: one batch in one transaction, repeats across parts found.

Each part is written as ``writes.write_observations`` writes a whole file (new days inserted,
changed ones updated with the old value kept), all under one import batch, in the caller's
transaction: a problem in a later part (raised by the parts' iterator) rolls every part back. A
day an earlier part of the same file gave is a repeat: with the same value it is left as it is;
with another value it is a conflict, raised as a ``ValidationError`` after the last part. Days an
earlier part wrote carry this import's batch; days it left as stored are kept in a temporary
table (on disk, not in memory), so a later part that changes one is found too.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cityscore.core.errors import ValidationError
from cityscore.store.area_catalog import add_named_areas
from cityscore.store.batches import ImportResult, finish_batch, keep_inserted_ids, new_batch
from cityscore.store.bulk import bulk_insert
from cityscore.store.keys import metric_ids, refuse_new_spellings
from cityscore.store.schema import VALUE_FIELDS, observations_table
from cityscore.store.writes import (
    _indexes_set_aside,
    _replace_changed,
    in_key_order,
    last_observation_id,
    match_stored,
)

MAX_CONFLICTS = 1_000  # conflicting repeats listed; the rest are counted


def write_observation_parts(
    conn: Connection,
    parts: Iterable[pd.DataFrame],
    source: str,
    kind: str = "values",
    expected_rows: int = 0,
) -> ImportResult:
    """Write each part of one file (see the module's docstring); one batch for all.

    ``expected_rows``: about how many rows the file has; when they at least double the table,
    SQLite's plain indexes are built once at the end (see ``writes._indexes_set_aside``).
    """
    ids = metric_ids(conn)
    batch = new_batch(conn, kind, source)
    before = last_observation_id(conn)
    with _indexes_set_aside(conn, expected_rows, before):
        result = _write_parts(conn, parts, source, kind, ids, batch)
    keep_inserted_ids(conn, batch, before + 1, last_observation_id(conn))
    finish_batch(conn, batch, result.inserted, result.updated, result.unchanged)
    return result


def _write_parts(
    conn: Connection,
    parts: Iterable[pd.DataFrame],
    source: str,
    kind: str,
    ids: dict[str, int],
    batch: int,
) -> ImportResult:
    inserted = updated = unchanged = 0
    added: set[str] = set()
    # PostgreSQL's Arrow reads use a connection of their own, which would not see earlier parts.
    arrow = conn.dialect.name != "postgresql"
    conflicts: list[pd.DataFrame] = []
    seen = _key_table("cityscore_seen")  # days earlier parts gave with the stored value
    seen_made = False
    for observations in parts:
        refuse_new_spellings(conn, observations, ids)
        merged, is_new, is_changed = match_stored(
            conn, observations, detail=True, ids=ids, arrow=arrow
        )
        earlier = pd.Series(merged["batch_id_old"].to_numpy() == batch, index=merged.index)
        clash = earlier & is_changed  # an earlier part wrote another value
        if seen_made and (is_changed & ~earlier).any():  # an earlier part kept the stored value
            probe = merged.loc[is_changed & ~earlier, KEY_COLUMNS]
            clash |= _in_seen(conn, seen, probe, merged.index)
        if clash.any():
            if sum(map(len, conflicts)) < MAX_CONFLICTS:
                conflicts.append(merged.loc[clash, ["metric", "area", "date", "value"]])
            is_changed = is_changed & ~clash
        kept = ~is_new & ~is_changed & ~earlier & ~clash
        if kept.any():
            if not seen_made:
                seen.create(conn)  # inside the transaction: gone with it
                seen_made = True
            bulk_insert(conn, seen, merged.loc[kept, KEY_COLUMNS])
        is_changed = is_changed & ~earlier
        new, changed = int(is_new.sum()), int(is_changed.sum())
        inserted, updated = inserted + new, updated + changed
        unchanged += len(merged) - new - changed
        if new:
            added.update(add_named_areas(conn, observations, batch))
        if changed:
            rows = merged.loc[is_changed, ["obs_id", *VALUE_FIELDS]]
            _replace_changed(conn, rows, batch, source)
        if new:
            fresh = in_key_order(merged.loc[is_new, ["metric_id", "area", "date", *VALUE_FIELDS]])
            bulk_insert(conn, observations_table, fresh, {"batch_id": batch, "source": source})
    if conflicts:
        _refuse_conflicts(source, pd.concat(conflicts, ignore_index=True))
    if seen_made:
        seen.drop(conn)
    return ImportResult(
        kind, source, inserted, updated, unchanged, batch, added_areas=tuple(sorted(added))
    )


KEY_COLUMNS = ["metric_id", "area", "date"]


def _key_table(name: str) -> sa.Table:
    """A temporary table of observation keys (a metric's day, in an area or citywide)."""
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("metric_id", sa.Integer),
        sa.Column("area", sa.String(200)),
        sa.Column("date", sa.Date),
        sa.Index(f"{name}_key", "metric_id", "area", "date"),
        prefixes=["TEMPORARY"],
    )


def _in_seen(conn: Connection, seen: sa.Table, keys: pd.DataFrame, index: pd.Index) -> pd.Series:
    """A mask over ``index`` (a part's rows): true for the rows of ``keys`` found in ``seen``."""
    probe = _key_table("cityscore_probe")
    probe.create(conn)
    bulk_insert(conn, probe, keys)
    match = sa.and_(*[probe.c[k] == seen.c[k] for k in KEY_COLUMNS])
    query = sa.select(probe.c.metric_id, probe.c.area, probe.c.date).distinct()
    found = pd.DataFrame(conn.execute(query.join(seen, match)).all(), columns=KEY_COLUMNS)
    probe.drop(conn)
    mask = pd.Series(False, index=index)
    if len(found):
        found["date"] = pd.to_datetime(found["date"]).astype(keys["date"].dtype)
        hits = keys.reset_index().merge(found.assign(hit=True), on=KEY_COLUMNS, how="inner")
        mask[hits["index"].to_numpy()] = True
    return mask


def _refuse_conflicts(source: str, rows: pd.DataFrame) -> None:
    """A ``ValidationError`` for days given twice in the file with different values."""
    where = np.where(rows["area"].astype(str) != "", " in " + rows["area"].astype(str), "")
    shown = rows["metric"].astype(str) + " on " + rows["date"].astype(str).str[:10] + where
    problems = pd.DataFrame(
        {
            "line": 0,
            "column": "date",
            "value": shown,
            "reason": "this metric's day is given twice in the file with different values "
            "(in parts far apart); keep one",
        }
    )
    raise ValidationError(source, problems)
