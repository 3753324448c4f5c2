"""An input file's text (CSV, or a workbook's first sheet) read into rows of stripped cells.

Text is UTF-8 or Windows-1252; the delimiter is a comma or (European Excel) a semicolon; every row
keeps its line number as a spreadsheet shows it, for the problems reported about it.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, NoReturn

import numpy as np
import pandas as pd

from cityscore.core.errors import ConfigError, ValidationError, printable
from cityscore.io import workbook
from cityscore.io.problems import Problems
from cityscore.io.sheet_size import SheetTooLarge

Source = str | Path | bytes | IO[str] | IO[bytes]  # a path, the bytes, or an open file


def source_name(source: Source) -> str:
    """A short name for messages: the file name, or ``<upload>`` for in-memory data."""
    if isinstance(source, (str, Path)):
        name = Path(source).name
    else:
        name = getattr(source, "name", None) or "<upload>"
    # Control characters escaped (it is printed and stored); the store keeps it in String(500).
    return printable(name)[:200]


def decode(data: bytes) -> str:
    """Decode file bytes: UTF-8 (with or without BOM), falling back to Windows-1252 as Excel writes."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def wide_encoding(data: bytes) -> str:
    """``"UTF-16"`` or ``"UTF-32"`` when ``data`` is text in one (a byte-order mark, or a NUL
    beside every ASCII letter), else ``""``."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    head = data[:200]
    half = len(head) // 2
    if half >= 4 and max(head[0::2].count(0), head[1::2].count(0)) * 2 >= half:
        return "UTF-16"
    return ""


def read_text(source: Source, date_format: str = "%Y-%m-%d") -> str:
    """The text of a path, bytes or open file; a ``ValidationError`` for bytes in no known encoding.

    A workbook (Excel ``.xlsx``, OpenDocument ``.ods``) gives its first visible worksheet as CSV
    text, date cells written in ``date_format`` (see ``cityscore.io.workbook``).
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            msg = f"file {printable(path)} not found; check the path (or run the command from the folder holding it)"
            raise ConfigError(msg)
        data: bytes | str = path.read_bytes()
    else:
        data = source if isinstance(source, bytes) else source.read()
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    if workbook.is_workbook(data) or workbook.is_old_excel(data):
        return _workbook_text(source, data, date_format)
    wide = wide_encoding(data)
    if wide:
        reason = (
            f'the file is {wide} text (Excel\'s "Unicode Text" and some exports save it so), '
            'not UTF-8; save it as CSV UTF-8 (in Excel: Save As, "CSV UTF-8")'
        )
        problems = Problems(source_name(source))
        problems.add(1, "encoding", f"bytes {data[:4].hex(' ').upper()}", reason)
        problems.refuse()
    try:
        return decode(data)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        reason = "the file is neither UTF-8 nor Windows-1252 text; save it from your spreadsheet as CSV UTF-8"
        _refuse_file(source, line, "encoding", data[exc.start : exc.start + 4], reason)


def _refuse_file(source: Source, line: int, column: str, found: bytes, reason: str) -> NoReturn:
    """Refuse a whole file for one problem, showing the bytes ``found`` there (a ``ValidationError``)."""
    problems = Problems(source_name(source))
    problems.add(line, column, repr(found), reason)
    problems.refuse()


def _workbook_text(source: Source, data: bytes, date_format: str) -> str:
    """An Excel file's first visible worksheet as CSV text (see ``cityscore.io.workbook``), or a
    ``ValidationError`` saying what to do: for a file that cannot be read, and for each text cell
    holding a number with a comma (``1,250``: a thousand and more, or one and a quarter?)."""
    if workbook.is_old_excel(data):
        reason = (
            "this is an old Excel 97-2003 workbook (.xls) or a password-protected one, which is "
            "not read; save it as an Excel Workbook (.xlsx) without a password, or as CSV UTF-8"
        )
        _refuse_file(source, 1, "file", data[:4], reason)  # the first bytes say what it is
    try:
        sheet = workbook.read_sheet(data, date_format)
    except SheetTooLarge as exc:
        _refuse_file(source, 1, "file", data[:4], str(exc))
    except ValueError as exc:
        reason = f"{exc}; open it in your spreadsheet and save it again, or save it as CSV UTF-8"
        _refuse_file(source, 1, "file", data[:4], reason)
    problems = Problems(source_name(source))
    header = next(csv.reader([first_line(sheet.text)]), [])
    for row, column, text in sheet.ambiguous:
        name = header[column].strip().lower() if column < len(header) else ""
        reason = (
            "a number typed as text with a comma, which reads one way in one country and "
            f"another in the next (1,250 or 12,5); in sheet '{printable(sheet.name)}', format "
            "the cell as a Number, or type the number without the comma"
        )
        problems.add(row, name or f"column {column + 1}", text, reason)
    problems.raise_if_any()
    return sheet.text


# Said after the problems of a workbook with empty cells: python-calamine reads both as empty.
WORKBOOK_EMPTY_NOTE = (
    "In a workbook, a cell that shows an error (#DIV/0!, #N/A, #VALUE!) or holds a formula that was "
    "never calculated reads as empty: fix the formula or type the value, then save the file again."
)


@contextmanager
def noting_workbook_cells(text: str) -> Iterator[None]:
    """Re-raise a ``ValidationError`` about ``text``, a worksheet's, with ``WORKBOOK_EMPTY_NOTE``
    when a problem is an empty cell: the sheet may show something there that is not a value."""
    try:
        yield
    except ValidationError as exc:
        values = exc.problems["value"]
        empty = values.isna() | (values.astype(str).str.strip() == "")
        if not isinstance(text, workbook.SheetText) or exc.note or not empty.any():
            raise
        raise ValidationError(
            exc.source, exc.problems, exc.total_rows, note=WORKBOOK_EMPTY_NOTE
        ) from None


def first_line(text: str) -> str:
    """The text up to its first line break (``\\n``, ``\\r\\n`` or a lone ``\\r``)."""
    ends = [i for i in (text.find("\r"), text.find("\n")) if i >= 0]
    return text[: min(ends)] if ends else text


def sniff_delimiter(text: str) -> str:
    """``;`` if the header line has more semicolons than commas (European Excel), else ``,``."""
    header = first_line(text)
    return ";" if header.count(";") > header.count(",") else ","


TOO_MANY_FIELDS = (
    "this row has more fields than the header has column names, so a value would be cut off; "
    "an unquoted thousands separator (1,234) splits a number in two: write 1234, or quote the "
    'cell ("1,234"), or save the file again from your spreadsheet'
)


def read_rows(
    source: Source,
    required: Iterable[str],
    optional: Iterable[str] = (),
    *,
    text: str | None = None,
    header: list[str] | None = None,
) -> pd.DataFrame:
    """Read a CSV into a frame of stripped strings plus a ``line`` column; blank lines are skipped.

    ``header`` names the columns of a headerless file (its first line is then data, line 1).
    ``rows.attrs["decimal_comma"]`` is true for semicolon files, where Excel writes ``12,5``;
    ``rows.attrs["given"]`` is the set of the wanted columns the file has.
    Raises ``ValidationError`` for a missing required column, a column named twice, or a row with
    more fields than the header.
    """
    name = source_name(source)
    text = read_text(source) if text is None else text
    problems = Problems(name)
    delimiter = sniff_delimiter(text)
    if header is None:
        first = next(csv.reader([first_line(text)], delimiter=delimiter), [])
        names = [h.strip().lower() for h in first]
    else:
        names = list(header)
    required, optional = list(required), list(optional)
    _check_header(problems, names, required, optional)  # before reading rows as wide as it
    problems.raise_if_any()
    cells = _parse_csv(text, delimiter, len(names), problems)
    if isinstance(text, workbook.SheetText) and text.rows is not None:  # lines back to sheet rows
        cells["line"] = [text.sheet_row(line) for line in cells["line"]]
    if header is None:
        cells = cells.iloc[1:]  # the header is the first record (line 1)
    blank = _blank_rows(cells)
    if blank.any():
        cells = cells[~blank]
    rows = pd.DataFrame({"line": cells["line"].to_numpy()}, index=range(len(cells)))
    for column in dict.fromkeys(required + optional):
        at = names.index(column) if column in names else None
        texts = np.full(len(cells), "", dtype=object) if at is None else cells[at].to_numpy()
        rows[column] = pd.Series(texts, index=rows.index, dtype=object)
    _check_extra_fields(problems, cells, names)
    problems.raise_if_any(len(rows))
    rows = rows[[*dict.fromkeys(required + optional), "line"]]
    rows.attrs["decimal_comma"] = delimiter == ";"
    rows.attrs["given"] = {c for c in required + optional if c in names}
    return rows


def _blank_rows(cells: pd.DataFrame) -> pd.Series:
    """Rows whose every cell is empty (the first column is looked at in full, the rest only there)."""
    blank = cells[0] == ""
    for column in cells.columns[1:]:
        if column != "line" and blank.any():
            blank[blank] = cells.loc[blank, column] == ""
    return blank


def _parse_csv(text: str, delimiter: str, width: int, problems: Problems) -> pd.DataFrame:
    """Every record as stripped text in columns 0, 1, ... (at least ``width + 1``), and its ``line``.

    pandas' C reader does the common case; files it cannot map to lines one to one (a cell holding a
    line break, a row with two or more extra fields) are read again with the csv module.
    """
    nul = text.find("\x00")
    if nul >= 0:
        reason = "the file holds a NUL byte, so it is not CSV text; save it from your spreadsheet as CSV UTF-8"
        problems.add(text.count("\n", 0, nul) + 1, "file", "\x00", reason)  # shown as '\x00'
        problems.raise_if_any()
    cells = _parse_fast(text, delimiter, width, problems)
    if cells is None:
        cells = _parse_slow(text, delimiter, width, problems)
    if _has_padding(text):  # a look at the text's bytes spares a strip of every cell
        for column in cells.columns:
            if column != "line":
                cells[column] = cells[column].str.strip()
    return cells


# Whitespace as ``str.strip`` sees it: ASCII bytes, and the other characters.
_SPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c not in "\r\n")
_ASCII_SPACE = np.isin(np.arange(256), [ord(c) for c in _SPACE if c.isascii()])  # by byte
_EDGES = np.isin(np.arange(256), [ord(c) for c in ',;"\r\n'])  # bytes around a cell


def _has_padding(text: str) -> bool:
    """Whether some cell may start or end with whitespace (vectorized over the text's bytes)."""
    if not text.isascii() and any(c in text for c in _SPACE if not c.isascii()):
        return True
    data = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    at = np.flatnonzero(_ASCII_SPACE[data])  # where the ASCII whitespace is
    if len(at) == 0:
        return False
    if at[0] == 0 or at[-1] == len(data) - 1:
        return True
    return bool(_EDGES[data[at - 1]].any() or _EDGES[data[at + 1]].any())


def _parse_fast(text: str, delimiter: str, width: int, problems: Problems) -> pd.DataFrame | None:
    try:
        with warnings.catch_warnings():  # a first row longer than the names would be cut: no
            warnings.simplefilter("error", pd.errors.ParserWarning)
            cells = pd.read_csv(
                io.StringIO(text), sep=delimiter, header=None, names=range(width + 1), dtype=object,
                na_filter=False, skip_blank_lines=False, index_col=False, engine="c",
            )  # fmt: skip
    except pd.errors.EmptyDataError:
        empty: dict[int | str, object] = {i: pd.Series(dtype=object) for i in range(width + 1)}
        return pd.DataFrame({**empty, "line": []})
    except pd.errors.ParserWarning:
        return None
    except pd.errors.ParserError as exc:
        unclosed = re.search(r"EOF inside string starting at row (\d+)", str(exc))
        if unclosed:
            reason = 'a quote (") opened here is never closed, so the rest of the file would be one cell; close it or remove it'
            problems.add(int(unclosed.group(1)) + 1, "file", "", reason)
            problems.raise_if_any()
        return None
    if '"' in text:
        broken = [cells[c].str.contains("[\r\n]", regex=True) for c in cells.columns]
        if np.logical_or.reduce(broken).any():
            return None
    cells["line"] = np.arange(1, len(cells) + 1)
    return cells


def _parse_slow(text: str, delimiter: str, width: int, problems: Problems) -> pd.DataFrame:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    records, lines, start = [], [], 1
    try:
        for record in reader:
            records.append(record)
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        problems.add(start, "file", "", f"this line cannot be read as CSV ({exc}); fix its quotes")
        problems.raise_if_any()
    columns = max([width + 1, *map(len, records)])
    cells = pd.DataFrame(
        [r + [""] * (columns - len(r)) for r in records], columns=range(columns), dtype=object
    )
    cells["line"] = np.array(lines, dtype=int)
    return cells


def _check_header(
    problems: Problems, names: list[str], required: list[str], optional: list[str]
) -> None:
    shown = _shown_header(names)
    if len(names) > MAX_COLUMNS:
        reason = (
            f"the header has {len(names):,} columns; the kit reads files of at most "
            f"{MAX_COLUMNS:,}: check that this is the right file, and keep only its columns "
            f"({','.join(required + optional)})"
        )
        problems.add(1, "header", shown, reason)
    known = set(names)
    missing = [c for c in required if c not in known]
    if missing:
        expected = ",".join(required + [f"[{c}]" for c in optional])
        problems.add(1, "header", shown, f"missing column(s) {missing}; expected {expected}")
    counts = Counter(n for n in names if n)  # one pass: a header may have 100,000 names
    for twice in sorted(n for n, count in counts.items() if count > 1):
        reason = f"column {twice!r} appears more than once in the header; keep one and remove or rename the others"
        problems.add(1, "header", shown, reason)


SHOWN_HEADER = 200  # characters of a header a message shows
MAX_COLUMNS = 1_000  # columns of an input file (a kit file has a dozen at most)


def _shown_header(names: list[str]) -> str:
    text = ",".join(names)
    return (
        text if len(text) <= SHOWN_HEADER else f"{text[:SHOWN_HEADER]}... ({len(names):,} columns)"
    )


def _check_extra_fields(problems: Problems, cells: pd.DataFrame, names: list[str]) -> None:
    """Rows with a value beyond the last named column (or under a column with no name)."""
    beyond = [c for c in cells.columns if c != "line" and (c >= len(names) or not names[c])]
    if not beyond:
        return
    has_extra = (cells[beyond] != "").any(axis=1)
    if has_extra.any():
        shown = cells[has_extra]
        extra = shown[beyond].agg(lambda r: ",".join(c for c in r if c), axis=1)
        problems.add_where(
            shown.assign(extra=extra), has_extra[has_extra], "extra", TOO_MANY_FIELDS
        )
