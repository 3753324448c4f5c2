"""The kit's one error tree: every error a user can cause is a ``CityScoreError``."""

from __future__ import annotations

import pandas as pd


class CityScoreError(Exception):
    """Base class: raised for any problem a user can fix (bad input, bad settings)."""


class CatalogError(CityScoreError):
    """Raised when a metric or target definition is invalid or refers to an unknown metric."""


class ConfigError(CityScoreError):
    """Raised when a setting (database URL, status bands, dates) is missing or malformed."""


class StoreError(CityScoreError):
    """Raised when the database cannot be opened or is not initialised."""


PROBLEM_COLUMNS = ["line", "column", "value", "reason"]


class ValidationError(CityScoreError):
    """Raised when an input file has bad rows; ``problems`` lists every one (line, column, value, reason).

    Nothing has been written when this is raised.
    """

    def __init__(self, source: str, problems: pd.DataFrame, total_rows: int | None = None) -> None:
        self.source = source
        self.problems = problems.reset_index(drop=True)
        self.total_rows = total_rows
        super().__init__(self._message())

    def _message(self) -> str:
        n_lines = self.problems["line"].nunique()
        of = f" of {self.total_rows}" if self.total_rows is not None else ""
        head = (
            f"{self.source}: {n_lines}{of} row(s) rejected, nothing was written. "
            "Fix these rows and import the file again:"
        )
        rows = [
            f"  line {r.line}, column {r.column!s}: {r.reason} (got {_show(r.value)})"
            for r in self.problems.itertuples(index=False)
        ]
        return "\n".join([head, *rows])


def _show(value: object) -> str:
    text = "" if value is None else str(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return repr(text)
