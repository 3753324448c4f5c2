"""Excel workbooks (``.xlsx``) read as the CSV text every loader already checks.

A city's data often lives in a spreadsheet. Rather than a second set of loaders, the first
worksheet is written out as CSV, row for row, so line N of every error message is row N of the
sheet, and every check, message and fast path of the CSV loaders applies unchanged. Cells become
the text a spreadsheet would show for them in a CSV: numbers exactly (the shortest text that reads
back to the same number), date cells in the import's date format, formulas as the value Excel last
computed for them. Reading uses openpyxl (``read_only``: the sheet is streamed, not held whole).
"""

from __future__ import annotations

import csv
import datetime as dt
import io

ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx is a zip archive
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an old binary .xls (and other Office files)


def is_workbook(data: bytes) -> bool:
    """Whether ``data`` is read as an Excel workbook (``.xlsx``): it is a zip archive, as one is
    (no CSV text starts with those bytes; a damaged one is then said to be unreadable)."""
    return data.startswith(ZIP_MAGIC)


def is_old_excel(data: bytes) -> bool:
    """Whether ``data`` is an old binary Excel file (``.xls``, Excel 97-2003), which is not read."""
    return data.startswith(OLE_MAGIC)


def workbook_text(data: bytes, date_format: str = "%Y-%m-%d") -> tuple[str, str]:
    """(the first worksheet as CSV text, that sheet's name).

    Every row from row 1 is written, empty ones as blank lines (which the loaders skip), so the
    lines keep the sheet's row numbers. Trailing empty cells are dropped.
    Raises ``ValueError`` if openpyxl cannot read the workbook.
    """
    try:
        return _first_sheet(data, date_format)
    except Exception as exc:  # a damaged file raises many kinds (zip, XML, key errors)
        msg = (
            "the file is a zip archive, as an Excel workbook (.xlsx) is, but cannot be read as one "
            f"({type(exc).__name__}: {exc})"
        )
        raise ValueError(msg) from None


def _first_sheet(data: bytes, date_format: str) -> tuple[str, str]:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # some writers store a wrong size, which would cut rows off
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for row in sheet.iter_rows(min_row=1, values_only=True):
            cells = [cell_text(value, date_format) for value in row]
            while cells and cells[-1] == "":
                cells.pop()
            writer.writerow(cells)
        return out.getvalue(), sheet.title
    finally:
        book.close()


def cell_text(value: object, date_format: str = "%Y-%m-%d") -> str:
    """A cell's value as CSV text: empty for no value, numbers exactly, dates in ``date_format``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back to the same number
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime(date_format)
    return str(value)
