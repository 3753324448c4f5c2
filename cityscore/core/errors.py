"""The kit's one error tree: every error a user can cause is a ``CityScoreError``."""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI's help and its error paths need not load pandas
    import pandas as pd


class CityScoreError(Exception):
    """Base class: raised for any problem a user can fix (bad input, bad settings)."""

    def _render_traceback_(self) -> list[str]:
        """How IPython and Jupyter show this error in a cell: its name and message, which say what
        to fix, as the command line does, and the user's own line that led to it, marked as
        IPython marks it (``----> 4 code``); no frames from inside the kit (``%debug`` still
        reaches them). IPython asks any exception for this method; others keep their traceback."""
        where = _callers_line(self.__traceback__)
        return [f"{type(self).__name__}: {self}", *([f"----> {where}"] if where else [])]


_KIT_FOLDER = os.path.join(Path(__file__).parent.parent, "")  # the package folder, ending in "/"


def _callers_line(tb: TracebackType | None) -> str:
    """``"<line number> <code>"`` of the last frame outside the kit before the kit's own frames
    (in a notebook, the cell's line); ``""`` when no source line is known."""
    import linecache

    found = ""
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith(_KIT_FOLDER):
        code = linecache.getline(tb.tb_frame.f_code.co_filename, tb.tb_lineno).strip()
        found = f"{tb.tb_lineno} {code}" if code else found
        tb = tb.tb_next
    return found


class CatalogError(CityScoreError):
    """Raised when a metric or target definition is invalid or refers to an unknown metric."""


class ConfigError(CityScoreError):
    """Raised when a setting (database URL, status bands, dates) is missing or malformed."""


class StoreError(CityScoreError):
    """Raised when the database cannot be opened or is not initialised."""


class DeliveryError(CityScoreError):
    """Raised when a mail or a webhook call could not be delivered (server, network, login, recipients)."""


PROBLEM_COLUMNS = ["line", "column", "value", "reason"]
# How many problem rows a ValidationError's message shows; ``problems`` always holds every one.
SHOWN_PROBLEMS = 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: object) -> str:
    """``text`` with control characters escaped (``\\x1b``, ``\\n``), safe to print on a terminal."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text))


class ValidationError(CityScoreError):
    """Raised when an input file has bad rows; ``problems`` lists every one (line, column, value, reason).

    Nothing has been written when this is raised. The message shows the first rows and, for a long
    list, how many problems of each kind there are; ``write_problems(path)`` saves the whole list.
    """

    def __init__(
        self, source: str, problems: pd.DataFrame, total_rows: int | None = None, note: str = ""
    ) -> None:
        self.source = source
        self.problems = problems.reset_index(drop=True)
        self.total_rows = total_rows
        self.note = note  # a line after the problems: what may explain them
        super().__init__(self._message())

    def write_problems(self, path: str | Path, inputs: tuple[str | Path, ...] = ()) -> Path:
        """Write every problem as CSV (``line,column,value,reason``, formula text defused); returns
        the path. It never replaces one of ``inputs`` (default: the source, when it names a file)
        nor a file that is not an earlier problems file."""
        from cityscore.core.csvsafe import write_problems_file  # it builds on this module

        rows = self.problems[PROBLEM_COLUMNS].itertuples(index=False, name=None)
        return write_problems_file(rows, Path(path), inputs or (self.source,))

    def _message(self) -> str:
        n_lines = self.problems["line"].nunique()
        of = f" of {self.total_rows}" if self.total_rows is not None else ""
        head = (
            f"{printable(self.source)}: {n_lines}{of} row(s) rejected, nothing was written. "
            "Fix these rows and import the file again:"
        )
        shown = self.problems.head(SHOWN_PROBLEMS)
        rows = [
            f"  line {r.line}, column {printable(r.column)}: {printable(r.reason)} (got {_show(r.value)})"
            for r in shown.itertuples(index=False)
        ]
        if len(self.problems) > len(shown):
            rows += self._counts()
        if self.note:
            rows.append(f"  {self.note}")
        return "\n".join([head, *rows])

    def _counts(self) -> list[str]:
        """For a long list: the number of problems of each kind, and how to get all of them."""
        kind = self.problems["column"].astype(str) + ": " + self.problems["reason"].map(_kind)
        counts = kind.value_counts(sort=True)
        return [
            f"  ... and {len(self.problems) - SHOWN_PROBLEMS} more problem(s); "
            f"{len(self.problems)} in all, by kind:",
            *[f"    {n:>8}  {printable(k)}" for k, n in counts.items()],
            "  The full list: `--problems FILE` on the command line, or "
            "ValidationError.write_problems(path) in Python.",
        ]


def _kind(reason: object) -> str:
    """A reason without its row-specific hint (``unknown metric; did you mean 'X'?`` -> ``unknown metric``)."""
    return str(reason).split("; did you mean", 1)[0]


def _show(value: object) -> str:
    text = "" if value is None else str(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return repr(text)
