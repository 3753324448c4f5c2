"""CSV cells a spreadsheet will not run: the one defusing of formula text every CSV the kit writes uses.

A cell starting with ``= + - @`` (or their full-width forms), a tab or a carriage return is run as a
formula by spreadsheets (CSV injection); such text gets a leading ``'`` (OWASP's advice). Numbers and
ordinary names are written unchanged. The problems file the kit writes (``--problems FILE``) is
defused here too, and may only replace an earlier problems file, never the file being imported.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cityscore.core.errors import PROBLEM_COLUMNS, ConfigError, printable

# A spreadsheet runs a cell starting with one of these as a formula (full-width forms included).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")

# The first line of every problems file the kit writes.
PROBLEMS_HEADER = ",".join(PROBLEM_COLUMNS)


def spreadsheet_safe(text: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet would read it as a formula, else unchanged."""
    return "'" + text if text.startswith(FORMULA_START) else text


def safe_cell(value: object) -> object:
    """A cell as a CSV writer should get it: text defused (``spreadsheet_safe``), anything else as is."""
    return spreadsheet_safe(value) if isinstance(value, str) else value


def safe_frame(frame: Any, columns: Iterable[str] | None = None) -> Any:
    """A pandas frame with its text cells in ``columns`` (default: every column) defused; the same
    frame when none needs it (so numbers and dates keep their types)."""
    changes = {}
    for column in frame.columns if columns is None else columns:
        cells = frame[column]
        if cells.dtype.kind not in "OSUc" and str(cells.dtype) not in ("string", "category"):
            continue  # numbers, dates, booleans: never a formula
        names = cells.dropna().unique()
        if any(str(name).startswith(FORMULA_START) for name in names):
            changes[column] = cells.astype(object).map(safe_cell)
    return frame.assign(**changes) if changes else frame


def is_problems_file(path: Path) -> bool:
    """Whether ``path`` starts with the header of a problems file the kit writes."""
    try:
        with path.open(encoding="utf-8", errors="replace", newline="") as handle:
            first = handle.readline()
    except OSError:
        return False
    return first.rstrip("\r\n") == PROBLEMS_HEADER


def check_problems_path(path: Path, inputs: Iterable[str | Path] = ()) -> None:
    """Refuse a problems file path that is one of ``inputs`` (the file being imported: by resolved
    path, symbolic or hard link) or an existing file that is not an earlier problems file."""
    for given in inputs:
        source = Path(given)
        same = False
        try:
            same = path.exists() and source.exists() and os.path.samefile(path, source)
        except OSError:
            same = path.resolve() == source.resolve()
        if same:
            msg = (
                f"--problems {printable(path)} is the file being imported; give another file name "
                "(e.g. problems.csv) so the input is not overwritten"
            )
            raise ConfigError(msg)
    if path.is_dir():
        msg = f"--problems {printable(path)} is a folder; give a file name such as {printable(path / 'problems.csv')}"
        raise ConfigError(msg)
    if path.exists() and not is_problems_file(path):
        msg = (
            f"--problems {printable(path)} already exists and is not a problems file the kit wrote "
            f"(its first line is not {PROBLEMS_HEADER!r}); give a new file name, or remove that file "
            "first if it may be replaced"
        )
        raise ConfigError(msg)


def problems_csv(rows: Iterable[Iterable[object]]) -> str:
    """Problem rows (line, column, value, reason) as CSV text under the kit's header, defused."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(PROBLEM_COLUMNS)
    for row in rows:
        writer.writerow([_cell_text(cell) for cell in row])
    return out.getvalue()


def _cell_text(cell: object) -> str:
    """A problem row's cell as text: empty for missing, text defused, numbers as they print."""
    if cell is None or (isinstance(cell, float) and cell != cell):
        return ""
    return str(safe_cell(cell))


def write_problems_file(
    rows: Iterable[Iterable[object]], path: Path, inputs: Iterable[str | Path] = ()
) -> Path:
    """Write the problems to ``path`` after ``check_problems_path``; returns the path.

    (A plain write, as before: the error tree, which every layer imports, stays clear of the
    file-writing module the engine may not reach.)"""
    check_problems_path(path, inputs)
    text = problems_csv(rows)
    try:
        path.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        msg = f"cannot write the problems to {printable(path)} ({exc.strerror}); choose a writable file path"
        raise ConfigError(msg) from None
    return path
