"""A workbook's sheet sized before it is read: its declared and real extent, and its zip expansion.

The reader (calamine) holds a sheet as a dense grid of every row and column from the first used
cell to the last, so a 1.5 KB ``.xlsx`` with one cell at A1 and one at XFD1048576 would ask for
17 billion cells, and a small file whose XML inflates to gigabytes would take the machine's memory.
Before reading, the sheet's XML is streamed out of the zip in chunks (memory bounded whatever its
size): the ``<dimension>`` it declares, the last row and column its cells name, and how far it
inflates are checked against the limits below. No XML parser is used (no entity expansion).
OpenDocument (``.ods``) sheets are checked the same way, counting repeated rows and columns
(``number-rows-repeated``) of the rows that hold a value.
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

MAX_ROWS = 1_048_576  # the last row of Excel and LibreOffice
MAX_COLUMNS = 16_384  # Excel's last column, XFD
MAX_CELLS = 8_000_000  # the kit's: rows x columns from A1 to the last used cell (~1 GB read)
MAX_XML_BYTES = 1 << 30  # a sheet's XML, inflated
MAX_RATIO = 100  # inflated bytes per compressed byte, past the first few MB (a zip bomb)
FREE_BYTES = 8 << 20  # inflated bytes always allowed whatever the ratio
CHUNK = 1 << 20

LIMITS = (
    f"the kit reads sheets of at most {MAX_ROWS:,} rows, {MAX_COLUMNS:,} columns and "
    f"{MAX_CELLS:,} cells (rows x columns from A1 to the last cell used)"
)


class SheetTooLarge(ValueError):
    """Raised when a workbook's sheet is larger than the kit reads, or inflates like a zip bomb."""


@dataclass
class Extent:
    """How far a sheet reaches: its last row and column (1-based) and the cells it names."""

    rows: int = 0
    columns: int = 0
    cells: int = 0


def check_workbook(data: bytes | IO[bytes], sheet: str | None = None) -> None:
    """Raise ``SheetTooLarge`` if the first sheet (or the one named ``sheet``) of an ``.xlsx`` or
    ``.ods`` is too large to read or inflates too far; any other zip is left to the reader."""
    try:
        book = zipfile.ZipFile(data if not isinstance(data, bytes) else _bytes_file(data))
    except (zipfile.BadZipFile, OSError):
        return  # the reader says the file is damaged
    with book:
        names = set(book.namelist())
        if "content.xml" in names:
            _check(book, "content.xml", _ods_extent, sheet or "")
            return
        part = _xlsx_sheet_part(book, sheet)
        if part in names:
            _check(book, part, _xlsx_extent, sheet or part)


def _bytes_file(data: bytes) -> IO[bytes]:
    import io

    return io.BytesIO(data)


def _check(book: zipfile.ZipFile, part: str, measure, label: str) -> None:
    extent = measure(_chunks(book, part))
    where = f"sheet '{label}'" if label else "the first sheet"
    if (
        extent.rows > MAX_ROWS
        or extent.columns > MAX_COLUMNS
        or extent.rows * extent.columns > MAX_CELLS
    ):
        msg = (
            f"{where} reaches row {extent.rows:,} and column {_column_name(extent.columns)} "
            f"({extent.rows * extent.columns:,} cells); {LIMITS}. Delete the empty rows and "
            "columns below and right of the data (or cells typed far from it), or save the data "
            "as CSV UTF-8"
        )
        raise SheetTooLarge(msg)


def _chunks(book: zipfile.ZipFile, part: str) -> Iterator[bytes]:
    """The part's inflated bytes in chunks, each ending after a ``>`` (a tag is never split)."""
    info = book.getinfo(part)
    allowed = min(MAX_XML_BYTES, FREE_BYTES + MAX_RATIO * max(info.compress_size, 1))
    seen, carry = 0, b""
    with book.open(info) as stream:
        while chunk := stream.read(CHUNK):
            seen += len(chunk)
            if seen > allowed:
                msg = (
                    f"the workbook's {part} inflates to more than {allowed:,} bytes from "
                    f"{info.compress_size:,} (a zip bomb, or a sheet far larger than the kit reads: "
                    f"{LIMITS}); save the data as CSV UTF-8"
                )
                raise SheetTooLarge(msg)
            data = carry + chunk
            cut = data.rfind(b">") + 1
            carry = data[cut:]
            if cut:
                yield data[:cut]
    if carry:
        yield carry


# --- .xlsx -----------------------------------------------------------------------------------------

_SHEET = re.compile(rb"<(?:\w+:)?sheet\s([^>]*)>")
_RELATION = re.compile(rb"<(?:\w+:)?Relationship\s([^>]*)>")
_ATTRIBUTE = re.compile(rb'([\w:]+)\s*=\s*"([^"]*)"')
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s[^>]*?ref="([^"]*)"')
_REFERENCE = re.compile(rb'<(?:\w+:)?(c|row)\s[^>]*?\br="([A-Z]{0,3})([0-9]{1,9})"')
_FAST_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,9})"')  # as Excel and openpyxl write them
_FAST_ROW = re.compile(rb'<row r="([0-9]{1,9})"')
_TAG = re.compile(rb"<(?:\w+:)?(c|row)[\s/>]")
_CELL_NAME = re.compile(r"^\$?([A-Z]{1,3})\$?([0-9]{1,9})$")


def _attributes(text: bytes) -> dict[str, str]:
    return {
        k.decode().rpartition(":")[2]: html.unescape(v.decode())
        for k, v in _ATTRIBUTE.findall(text)
    }


def _xlsx_sheet_part(book: zipfile.ZipFile, sheet: str | None) -> str:
    """The zip part holding the worksheet named ``sheet`` (else the first one listed)."""
    try:
        workbook = book.read("xl/workbook.xml")[: 4 * CHUNK]
        relations = book.read("xl/_rels/workbook.xml.rels")[: 4 * CHUNK]
    except KeyError:
        return "xl/worksheets/sheet1.xml"
    sheets = [_attributes(m) for m in _SHEET.findall(workbook)]
    chosen = next((s for s in sheets if s.get("name") == sheet), sheets[0] if sheets else {})
    targets = {
        a.get("Id"): a.get("Target", "") for a in map(_attributes, _RELATION.findall(relations))
    }
    target = targets.get(chosen.get("id"), "worksheets/sheet1.xml")
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def _xlsx_extent(chunks: Iterator[bytes]) -> Extent:
    """The last row and column a worksheet's XML names (declared or used) and its cells."""
    extent = Extent()
    rows = 0
    head = True  # the <dimension> comes before the cells (<sheetData>)
    for chunk in chunks:
        if head:
            for found in _DIMENSION.findall(chunk):
                for name in found.decode().upper().split(":"):
                    _reach(extent, *_cell_position(name))
            head = b"sheetData" not in chunk
        cells = chunk.count(b"<c ") + chunk.count(b"<c>") + chunk.count(b"<c/>")
        starts = chunk.count(b"<row ") + chunk.count(b"<row>") + chunk.count(b"<row/>")
        named_cells = _FAST_CELL.findall(chunk)
        named_rows = _FAST_ROW.findall(chunk)
        if b":c " in chunk or b":row " in chunk or len(named_cells) != cells:
            # Attributes in another order, prefixed tags, cells without a name: the slow way.
            found_tags = _TAG.findall(chunk)
            cells = found_tags.count(b"c")
            starts = len(found_tags) - cells
            named = _REFERENCE.findall(chunk)
            named_cells = [(c, r) for tag, c, r in named if tag == b"c"]
            named_rows = [r for tag, _, r in named if tag == b"row"]
        extent.cells += cells
        rows += starts
        if named_rows:
            _reach(extent, max(map(int, named_rows)), 0)
        if named_cells:
            letters, numbers = zip(*named_cells, strict=True)
            _reach(extent, max(map(int, numbers)), max(map(_column_number, set(letters))))
    extent.rows = max(extent.rows, rows)  # rows without a number follow each other
    return extent


def _reach(extent: Extent, row: int, column: int) -> None:
    extent.rows, extent.columns = max(extent.rows, row), max(extent.columns, column)


def _cell_position(name: str) -> tuple[int, int]:
    found = _CELL_NAME.match(name.strip())
    if not found:
        return 0, 0
    return int(found.group(2)), _column_number(found.group(1))


def _column_number(letters: str | bytes) -> int:
    number = 0
    for letter in letters.decode() if isinstance(letters, bytes) else letters:
        number = number * 26 + ord(letter) - 64
    return number


def _column_name(number: int) -> str:
    name = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        name = chr(65 + rest) + name
    return name or "A"


# --- .ods ------------------------------------------------------------------------------------------

_ODS_TABLE_END = re.compile(rb"</table:table>")
_ODS_ROW = re.compile(rb"<table:table-row(\s[^>]*)?(/?)>")
_ODS_ROW_END = b"</table:table-row>"
_ODS_CELL = re.compile(rb"<table:(?:covered-)?table-cell(\s[^>]*)?(/?)>")
_ODS_ROWS_REPEATED = re.compile(rb'table:number-rows-repeated="([0-9]+)"')
_ODS_COLUMNS_REPEATED = re.compile(rb'table:number-columns-repeated="([0-9]+)"')


def _ods_extent(chunks: Iterator[bytes]) -> Extent:
    """The first table's reach: rows and columns counted with their repeats, up to the last row and
    the last column holding a value (LibreOffice repeats empty rows to the sheet's end)."""
    extent = Extent()
    buffer = b""
    row_number = 0
    for chunk in chunks:
        buffer += chunk
        while True:
            end = _ODS_TABLE_END.search(buffer)
            start = _ODS_ROW.search(buffer)
            if end and (not start or end.start() < start.start()):
                return extent  # the first table ends
            if not start:
                buffer = b""
                break
            if start.group(2):  # <table:table-row .../>: an empty row
                row_number += _repeats(_ODS_ROWS_REPEATED, start.group(1))
                buffer = buffer[start.end() :]
                continue
            close = buffer.find(_ODS_ROW_END, start.end())
            if close < 0:
                buffer = buffer[start.start() :]
                if len(buffer) > 64 * CHUNK:
                    msg = f"a row of the sheet is longer than {64 * CHUNK:,} bytes; {LIMITS}"
                    raise SheetTooLarge(msg)
                break
            repeated = _repeats(_ODS_ROWS_REPEATED, start.group(1))
            last_column = _ods_last_column(buffer[start.end() : close])
            row_number += repeated
            if last_column:
                extent.rows = row_number
                extent.columns = max(extent.columns, last_column)
                extent.cells += repeated * last_column
            buffer = buffer[close + len(_ODS_ROW_END) :]
    return extent


def _repeats(pattern: re.Pattern[bytes], attributes: bytes | None) -> int:
    found = pattern.search(attributes or b"")
    return int(found.group(1)) if found else 1


def _ods_last_column(row: bytes) -> int:
    """The last column of a row's XML holding a value or text (0: an empty row)."""
    column, last = 0, 0
    cells = list(_ODS_CELL.finditer(row))
    for i, cell in enumerate(cells):
        attributes = cell.group(1) or b""
        column += _repeats(_ODS_COLUMNS_REPEATED, attributes)
        body = (
            b""
            if cell.group(2)
            else row[cell.end() : cells[i + 1].start() if i + 1 < len(cells) else len(row)]
        )
        if b"office:value-type" in attributes or b"<text:" in body:
            last = column
    return last
