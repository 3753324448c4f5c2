"""The area catalog in the store: its rows, an areas import, the areas a write adds, and undo.

Every area a value or target names is in the catalog: a write adds the ones it names first
(recorded with its batch, so undoing that batch removes them again if nothing else names them).
An areas import (areas.csv) inserts new areas and updates changed ones, keeping the replaced row
in ``superseded_areas`` for undo. Once a city has imported an areas.csv, its catalog is
*declared*: the row checks then refuse an area not in it (``io.area_names``).

A database role that may not use the catalog's tables (granted rights on the kit's tables before
they existed) goes on without them, as it does without ``inserted_observation_ids``: its reads
see an empty, open catalog and its writes and undos leave the catalog as it is.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cityscore.core.errors import StoreError
from cityscore.store.batches import ImportResult, finish_batch, new_batch
from cityscore.store.schema import (
    areas_table,
    batches_table,
    inserted_ids_if_usable,
    now,
    observations_table,
    superseded_areas_table,
    targets_table,
)

AREA_FIELDS = ["name", "code", "population", "geometry", "parent"]
AREAS_KIND = "areas"  # the kind of an areas.csv import batch


def empty_catalog() -> pd.DataFrame:
    """A catalog frame with no rows: ``AREA_FIELDS``, population as float."""
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in AREA_FIELDS})
    return frame.astype({"population": float})


def read_catalog(conn: Connection) -> pd.DataFrame:
    """The catalog, one row per area in name order: ``AREA_FIELDS`` (population NaN if unknown)."""
    a = areas_table
    rows: list = []
    with inserted_ids_if_usable(conn):
        query = sa.select(*[a.c[f] for f in AREA_FIELDS]).order_by(a.c.name)
        rows = [tuple(r) for r in conn.execute(query)]
    if not rows:
        return empty_catalog()
    frame = pd.DataFrame(rows, columns=AREA_FIELDS)
    text = ["name", "code", "geometry", "parent"]
    return frame.astype({"population": float}).assign(
        **{c: frame[c].fillna("").astype(str) for c in text}
    )


def catalog_names(conn: Connection) -> list[str]:
    names: list[str] = []
    with inserted_ids_if_usable(conn):
        query = sa.select(areas_table.c.name).order_by(areas_table.c.name)
        names = list(conn.execute(query).scalars())
    return names


def is_declared(conn: Connection) -> bool:
    """Whether the city has imported an areas.csv (a batch of kind ``areas`` not undone)."""
    b = batches_table
    query = sa.select(b.c.id).where(b.c.kind == AREAS_KIND, b.c.undone_at.is_(None)).limit(1)
    return conn.execute(query).first() is not None


def write_areas(conn: Connection, areas: pd.DataFrame, source: str) -> ImportResult:
    """Insert the new areas of checked ``areas`` rows (``AREA_FIELDS``) and update changed ones;
    an area the file leaves out stays. One batch of kind ``areas``; unchanged rows write nothing
    (an import of nothing new still declares the catalog, so it records a batch)."""
    a = areas_table
    stored = {r.name: r for r in conn.execute(sa.select(a))}
    new, changed = [], []
    for row in areas[AREA_FIELDS].to_dict("records"):
        old = stored.get(row["name"])
        if old is None:
            new.append(row)
        elif any(_differs(getattr(old, f), row[f]) for f in AREA_FIELDS[1:]):
            changed.append((old, row))
    unchanged = len(areas) - len(new) - len(changed)
    batch = new_batch(conn, AREAS_KIND, source)
    if new:
        conn.execute(a.insert(), [{**_sql_row(r), "batch_id": batch} for r in new])
    if changed:
        _keep_rows(conn, [old.id for old, _ in changed], batch)
        for old, row in changed:
            conn.execute(a.update().where(a.c.id == old.id), {**_sql_row(row), "batch_id": batch})
    finish_batch(conn, batch, len(new), len(changed), unchanged)
    return ImportResult(AREAS_KIND, source, len(new), len(changed), unchanged, batch)


def add_named_areas(conn: Connection, rows: pd.DataFrame, batch: int) -> tuple[str, ...]:
    """Add to the catalog the areas ``rows`` (values or targets) name that it lacks, recorded with
    ``batch``; returns their names, sorted. The rows were checked against the catalog before."""
    if "area" not in rows:
        return ()
    named = {str(n) for n in pd.unique(rows["area"].dropna()) if str(n)}
    if not named:
        return ()
    a = areas_table
    have = set(named)  # unknown until read: a role that may not read the catalog adds nothing
    with inserted_ids_if_usable(conn):
        have = set(conn.execute(sa.select(a.c.name).where(a.c.name.in_(sorted(named)))).scalars())
    added = tuple(sorted(named - have))
    if not added:
        return ()
    with inserted_ids_if_usable(conn):
        conn.execute(a.insert(), [{"name": n, "batch_id": batch} for n in added])
        return added
    return ()


# --- undo ------------------------------------------------------------------------------------


def check_areas_undoable(conn: Connection, batch_id: int) -> None:
    """Refuse to undo a batch whose catalog rows a later areas batch changed, or an areas batch
    that added an area other batches have since given values or targets."""
    refusal = None
    with inserted_ids_if_usable(conn):
        refusal = _undo_refusal(conn, batch_id)
    if refusal:
        raise StoreError(refusal)


def _undo_refusal(conn: Connection, batch_id: int) -> str | None:
    s = superseded_areas_table
    later = set(
        conn.execute(sa.select(s.c.superseded_by).where(s.c.batch_id == batch_id)).scalars()
    )
    if later:
        return (
            f"areas from batch {batch_id} have since been changed by batch(es) {sorted(later)}; "
            "undo those first (newest first)"
        )
    kind = conn.execute(sa.select(batches_table.c.kind).where(batches_table.c.id == batch_id))
    if kind.scalar() != AREAS_KIND:
        return None
    used = sorted(set(_added_by(conn, batch_id)) & _named_areas(conn))
    if used:
        return (
            f"batch {batch_id} added area(s) {used} to the catalog, which now have values or "
            "targets from other batches; undo those batches first, newest first"
        )
    return None


def undo_areas(conn: Connection, batch_id: int, undo_batch: int) -> tuple[int, int]:
    """Restore the catalog rows batch ``batch_id`` replaced and remove the areas it added (those
    a values or targets batch added only while nothing else names them). Returns (restored,
    removed); what the batch wrote is kept in ``superseded_areas``."""
    counts = (0, 0)
    with inserted_ids_if_usable(conn):
        counts = _undo_areas(conn, batch_id, undo_batch)
    return counts


def _undo_areas(conn: Connection, batch_id: int, undo_batch: int) -> tuple[int, int]:
    a, s = areas_table, superseded_areas_table
    mine = conn.execute(sa.select(a.c.id).where(a.c.batch_id == batch_id)).scalars().all()
    if not mine:
        return 0, 0
    replaced = {
        r.area_id: r for r in conn.execute(sa.select(s).where(s.c.superseded_by == batch_id))
    }
    _keep_rows(conn, [i for i in mine if i in replaced], undo_batch)
    for area_id in (i for i in mine if i in replaced):
        old = replaced[area_id]
        restore = {f: getattr(old, f) for f in AREA_FIELDS} | {"batch_id": old.batch_id}
        conn.execute(a.update().where(a.c.id == area_id), restore)
        conn.execute(s.delete().where(s.c.id == old.id))
    added = _added_by(conn, batch_id)
    gone = sorted(set(added) - _named_areas(conn))
    if gone:
        conn.execute(a.delete().where(a.c.name.in_(gone), a.c.batch_id == batch_id))
    return len(replaced), len(gone)


def _added_by(conn: Connection, batch_id: int) -> list[str]:
    """The areas batch ``batch_id`` added (its rows with no earlier version)."""
    a, s = areas_table, superseded_areas_table
    replaced = sa.select(s.c.area_id).where(s.c.superseded_by == batch_id)
    query = sa.select(a.c.name).where(a.c.batch_id == batch_id, a.c.id.not_in(replaced))
    return list(conn.execute(query).scalars())


def _named_areas(conn: Connection) -> set[str]:
    """Every area a stored value or target names (their history may name an area removed since)."""
    tables = (observations_table, targets_table)
    query = sa.union(*[sa.select(t.c.area).where(t.c.area != "").distinct() for t in tables])
    return set(conn.execute(query).scalars())


def _keep_rows(conn: Connection, area_ids: list[int], batch: int) -> None:
    """Copy catalog rows to ``superseded_areas`` before ``batch`` changes them."""
    if not area_ids:
        return
    a = areas_table
    rows = conn.execute(sa.select(a).where(a.c.id.in_(area_ids))).mappings().all()
    stamp = now()
    conn.execute(
        superseded_areas_table.insert(),
        [
            {**{f: r[f] for f in AREA_FIELDS}, "area_id": r["id"], "batch_id": r["batch_id"],
             "superseded_at": stamp, "superseded_by": batch}
            for r in rows
        ],
    )  # fmt: skip


def _sql_row(row: dict) -> dict:
    population = row["population"]
    missing = population is None or population != population
    return {**row, "population": None if missing else float(population)}


def _differs(old: object, new: object) -> bool:
    if isinstance(new, float) or new is None:
        old_missing, new_missing = old is None, new is None or new != new
        if old_missing or new_missing:
            return old_missing != new_missing
        return float(old) != float(new)  # type: ignore[arg-type]
    return (old or "") != (new or "")
