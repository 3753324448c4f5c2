"""Problems in an input file, collected as (line, column, value, reason) rows and raised at once."""

from __future__ import annotations

from typing import NoReturn

import pandas as pd

from cityscore.core.errors import PROBLEM_COLUMNS, ValidationError


class Problems:
    """Collects (line, column, value, reason) rows; ``raise_if_any`` raises them all at once."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.rows: list[tuple[int, str, object, str]] = []
        self.chunks: list[pd.DataFrame] = []

    def add(self, line: int, column: str, value: object, reason: str) -> None:
        self.rows.append((int(line), column, value, reason))

    def add_where(
        self, rows: pd.DataFrame, mask: pd.Series, column: str, reason: str | pd.Series
    ) -> None:
        """Record ``reason`` (one text, or one per row) for every row where ``mask`` is true."""
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        values = rows.loc[mask, column] if column in rows else ""
        reasons = reason[mask] if isinstance(reason, pd.Series) else reason
        chunk = pd.DataFrame(
            {"line": rows.loc[mask, "line"].astype(int), "column": column, "reason": reasons}
        )
        self.chunks.append(chunk.assign(value=values)[PROBLEM_COLUMNS])

    def __bool__(self) -> bool:
        return bool(self.rows or self.chunks)

    def raise_if_any(self, total_rows: int | None = None) -> None:
        if self:
            self.refuse(total_rows)

    def refuse(self, total_rows: int | None = None) -> NoReturn:
        """Raise the problems recorded (at least one: the caller has just added it)."""
        single = pd.DataFrame(self.rows, columns=PROBLEM_COLUMNS)
        frames = [c.astype(object) for c in [single, *self.chunks] if len(c)]
        frame = pd.concat(frames, ignore_index=True)
        frame = frame.sort_values(["line", "column"], kind="stable")
        raise ValidationError(self.source, frame, total_rows)
