"""Import batches: the row recording each write, and what a write (or a dry run) reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from cityscore.store.schema import batches_table, inserted_ids_if_usable, inserted_ids_table, now


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
    added_areas: tuple[str, ...] = ()  # areas the write added to the area catalog
    warnings: tuple[str, ...] = ()  # what the import found worth saying (a metric never scored)

    def __str__(self) -> str:
        batch = f" (batch {self.batch_id})" if self.batch_id else " (nothing written)"
        if self.dry_run:
            batch = " (dry run: nothing written)"
        deleted = f", {self.deleted} deleted" if self.deleted else ""
        added = ""
        if self.added_areas:
            would = "would add" if self.dry_run else "added"
            added = f"; {would} {len(self.added_areas)} new area(s) to the area catalog: " + (
                ", ".join(self.added_areas)
            )
        warned = "".join(f"\nwarning: {w}" for w in self.warnings)
        return (
            f"{self.source}: {self.inserted} inserted, {self.updated} updated, "
            f"{self.unchanged} unchanged{deleted}{batch}{added}{warned}"
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


def keep_inserted_ids(conn: Connection, batch: int, first: int, last: int) -> None:
    """Keep the ids ``batch`` inserted for an undo, also when none (an import that only changed
    values). Skipped where the table is missing or this role may not write it (a savepoint keeps
    the import going): the undo then reads every row."""
    span = {"batch_id": batch, "first_id": first, "last_id": last}
    with inserted_ids_if_usable(conn):
        conn.execute(inserted_ids_table.insert(), span)


def new_batch(conn: Connection, kind: str, source: str) -> int:
    result = conn.execute(
        batches_table.insert(), {"kind": kind, "source": source, "created_at": now()}
    )
    key: Any = result.inserted_primary_key  # a row of one id (None only for other statements)
    return int(key[0])


def finish_batch(conn: Connection, batch: int, inserted: int, updated: int, unchanged: int) -> None:
    conn.execute(
        batches_table.update().where(batches_table.c.id == batch),
        {"inserted": inserted, "updated": updated, "unchanged": unchanged},
    )
