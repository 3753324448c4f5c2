"""Spreadsheet workbooks (Excel ``.xlsx``, OpenDocument ``.ods``) read as the CSV text loaders check.

A city's data often lives in a spreadsheet. Rather than a second set of loaders, the first
visible worksheet is written out as CSV, row for row, so every check, message and fast path of the
CSV loaders applies unchanged, and line N of every message is row N of the sheet. Cells become the
text a spreadsheet would show for them in a CSV: numbers exactly (the shortest text that reads
back to the same number), date cells in the import's date format, formulas as the value the
spreadsheet last computed for them. Reading uses python-calamine (Rust's calamine; pandas'
``calamine`` engine): 300,000 rows in about 1 s, against about 22 s through openpyxl
(``benchmarks/README.md``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field

from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from cityscore.io.sheet_size import check_workbook

ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx and an .ods are zip archives
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an old .xls, or a password-protected .xlsx

# Text (not a number cell) that reads as a number only once a comma is taken as a thousands
# separator (1,250) or as a decimal mark (12,5): which one depends on the typist's country.
AMBIGUOUS_NUMBER = re.compile(r"^\s*[+-]?(\d{1,3}(,\d{3})+(\.\d*)?|\d+,\d+)\s*$")


class SheetText(str):
    """A worksheet's CSV text: a text that says it came from a workbook. ``rows`` holds the sheet
    row of each of its lines (1-based) when a cell holds a line break, which makes one row take
    several lines of text; None when line N is row N."""

    rows: list[int] | None = None

    def sheet_row(self, line: int) -> int:
        if self.rows is None:
            return line
        return self.rows[line - 1] if 0 < line <= len(self.rows) else line


@dataclass
class Sheet:
    """The first visible worksheet of a workbook, as CSV text."""

    name: str
    text: str
    # (sheet row, column index from 0, text) of each text cell that is an ambiguous number
    ambiguous: list[tuple[int, int, str]] = field(default_factory=list)


def is_workbook(data: bytes) -> bool:
    """Whether ``data`` is read as a workbook (``.xlsx``, ``.ods``): it is a zip archive, as they
    are (no CSV text starts with those bytes; a damaged one is then said to be unreadable)."""
    return data.startswith(ZIP_MAGIC)


def is_old_excel(data: bytes) -> bool:
    """Whether ``data`` is an old binary Excel file (``.xls``) or a password-protected workbook
    (the same container), neither of which is read."""
    return data.startswith(OLE_MAGIC)


def read_sheet(data: bytes, date_format: str = "%Y-%m-%d") -> Sheet:
    """The first visible worksheet (hidden sheets and chart sheets are passed over) as CSV text.

    Every row from row 1 and every column from A is written, empty ones included (the loaders
    skip blank lines), so line N is row N unless a cell holds a line break: the text is then a
    ``SheetText``. Trailing empty cells are dropped. Raises ``ValueError`` if the workbook cannot
    be read or has no visible worksheet, and ``SheetTooLarge`` (a ``ValueError``) if the sheet
    is larger than the kit reads (see ``cityscore.io.sheet_size``).
    """
    try:
        return _first_sheet(data, date_format)
    except ValueError:
        raise
    except Exception as exc:  # a damaged file raises many kinds (zip, XML, calamine errors)
        msg = (
            "the file is a zip archive, as an Excel workbook (.xlsx) or an OpenDocument spreadsheet "
            "(.ods) is, but cannot be read as one "
            f"({type(exc).__name__}: {exc})"
        )
        raise ValueError(msg) from None


def _first_sheet(data: bytes, date_format: str) -> Sheet:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    visible = [
        s.name
        for s in book.sheets_metadata
        if s.typ == SheetTypeEnum.WorkSheet and s.visible == SheetVisibleEnum.Visible
    ]
    if not visible:
        msg = "the workbook has no visible worksheet; put the data on a visible sheet"
        raise ValueError(msg)
    check_workbook(data, visible[0])  # before calamine makes a grid of the sheet's whole extent
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    rows: list[int] = []
    ambiguous: list[tuple[int, int, str]] = []
    grid = book.get_sheet_by_name(visible[0]).to_python(skip_empty_area=False)
    for number, row in enumerate(grid, 1):
        cells = [cell_text(value, date_format) for value in row]
        while cells and cells[-1] == "":
            cells.pop()
        ambiguous += [
            (number, column, value)
            for column, (value, raw) in enumerate(zip(cells, row, strict=False))
            if isinstance(raw, str) and AMBIGUOUS_NUMBER.match(value)
        ]
        writer.writerow(cells)
        rows += [number] * (1 + sum(c.count("\n") for c in cells))
    text = SheetText(out.getvalue())
    if rows and rows[-1] != len(rows):  # a cell held a line break: lines are no longer rows
        text.rows = rows
    return Sheet(visible[0], text, ambiguous)


def cell_text(value: object, date_format: str = "%Y-%m-%d") -> str:
    """A cell's value as CSV text: empty for no value, numbers exactly, dates in ``date_format``,
    line breaks within a cell as ``\\n``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back to the same number
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime(date_format)
    return str(value).replace("\r\n", "\n").replace("\r", "\n")
