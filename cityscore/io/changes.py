"""What a dry-run import would change: the rows it would insert and update, as short text."""

from __future__ import annotations

import pandas as pd

from cityscore.core.errors import printable
from cityscore.io.cells import plain_value

# Rows listed under "would insert" and under "would update"; the rest are counted.
SHOWN_CHANGES = 10


def inserts_and_updates(
    incoming: pd.DataFrame, current: pd.DataFrame, keys: list[str], fields: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows to insert, rows to update) of ``incoming`` against ``current``; updates carry ``*_old``."""
    merged = incoming.merge(
        current[keys + fields], on=keys, how="left", suffixes=("", "_old"), indicator=True
    )
    new = merged["_merge"] == "left_only"
    changed = pd.Series(False, index=merged.index)
    for field in fields:
        old, now = merged[f"{field}_old"], merged[field]
        changed |= ~((old == now) | (old.isna() & now.isna()))
    return (
        merged.loc[new, incoming.columns].reset_index(drop=True),
        merged[~new & changed].drop(columns="_merge").reset_index(drop=True),
    )


def describe_changes(
    insert: pd.DataFrame, update: pd.DataFrame, keys: list[str], fields: list[str]
) -> str:
    """The first rows to insert, and for updates ``field: old -> new``; counts when there are more."""
    lines = []
    if len(insert):
        lines.append(f"would insert {len(insert)}:")
        lines += [f"  {_row_label(r, keys)}: {_row_fields(r, fields)}" for r in _first(insert)]
    if len(update):
        lines.append(f"would update {len(update)} (old -> new):")
        lines += [f"  {_row_label(r, keys)}: {_row_changes(r, fields)}" for r in _first(update)]
    return "\n".join(lines)


def _first(frame: pd.DataFrame) -> list[dict]:
    rows = frame.head(SHOWN_CHANGES).to_dict("records")
    if len(frame) > SHOWN_CHANGES:
        rows.append({"__more__": len(frame) - SHOWN_CHANGES})
    return rows


def _row_label(row: dict, keys: list[str]) -> str:
    if "__more__" in row:
        return f"... and {row['__more__']} more"
    return printable(" ".join(str(plain_value(row[k])) for k in keys))


def _row_fields(row: dict, fields: list[str]) -> str:
    if "__more__" in row:
        return "(the first are shown)"
    shown = [f"{f}={plain_value(row[f])}" for f in fields if plain_value(row[f]) != ""]
    return printable(", ".join(shown))


def _row_changes(row: dict, fields: list[str]) -> str:
    if "__more__" in row:
        return "(the first are shown)"
    changed = []
    for field in fields:
        old, new = plain_value(row[f"{field}_old"]), plain_value(row[field])
        if old != new:
            changed.append(
                f"{field} {old if old != '' else '(empty)'} -> {new if new != '' else '(empty)'}"
            )
    return printable(", ".join(changed))
