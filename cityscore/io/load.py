"""Read and validate input files (metrics.csv, targets.csv, values.csv).

Every loader reads the whole file, checks every row, and either returns clean frames or raises one
``ValidationError`` that lists every bad row as (line, column, value, reason). Line numbers count the
header as line 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import json
import math
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, NoReturn

import numpy as np
import pandas as pd

from cityscore.core.errors import PROBLEM_COLUMNS, ConfigError, ValidationError, printable
from cityscore.core.vocabulary import (
    AGGREGATIONS,
    ALLOW_NEGATIVE,
    BASELINES,
    DEFAULT_CATEGORY,
    DIRECTIONS,
    EARLIEST,
    FORMULA_STARTS,
    KINDS,
    METRIC_COLUMNS,
    TARGET_COLUMNS,
    TEXT_LIMITS,
)
from cityscore.io import workbook

Source = str | Path | bytes | IO[str] | IO[bytes]
# The area names already stored (e.g. ``Store.areas``); asked only when a file names an area.
StoredAreas = Callable[[], Iterable[str]] | None
VALUE_COLUMNS = ["metric", "date", "value", "numerator", "denominator"]
TRUE_WORDS = {"true", "yes", "y", "1", "t"}
FALSE_WORDS = {"false", "no", "n", "0", "f", ""}


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
            single = pd.DataFrame(self.rows, columns=PROBLEM_COLUMNS)
            frames = [c.astype(object) for c in [single, *self.chunks] if len(c)]
            frame = pd.concat(frames, ignore_index=True)
            frame = frame.sort_values(["line", "column"], kind="stable")
            raise ValidationError(self.source, frame, total_rows)


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
    problems.raise_if_any()
    raise AssertionError  # raise_if_any raised: a problem was added


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
    cells = _parse_csv(text, delimiter, len(names), problems)
    if isinstance(text, workbook.SheetText) and text.rows is not None:  # lines back to sheet rows
        cells["line"] = [text.sheet_row(line) for line in cells["line"]]
    if header is None:
        cells = cells.iloc[1:]  # the header is the first record (line 1)
    required, optional = list(required), list(optional)
    _check_header(problems, names, required, optional)
    problems.raise_if_any()
    blank = _blank_rows(cells)
    if blank.any():
        cells = cells[~blank]
    rows = pd.DataFrame({"line": cells["line"].to_numpy()}, index=range(len(cells)))
    for column in dict.fromkeys(required + optional):
        at = names.index(column) if column in names else None
        text = np.full(len(cells), "", dtype=object) if at is None else cells[at].to_numpy()
        rows[column] = pd.Series(text, index=rows.index, dtype=object)
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
        problems.add(text.count("\n", 0, nul) + 1, "file", "\\x00", reason)
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
_ASCII_SPACE, _EDGES = np.zeros(256, dtype=bool), np.zeros(256, dtype=bool)
_ASCII_SPACE[[ord(c) for c in _SPACE if c.isascii()]] = True
_EDGES[[ord(c) for c in ',;"\r\n']] = True


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
        return pd.DataFrame({**{i: pd.Series(dtype=object) for i in range(width + 1)}, "line": []})
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
    missing = [c for c in required if c not in names]
    if missing:
        expected = ",".join(required + [f"[{c}]" for c in optional])
        problems.add(
            1, "header", ",".join(names), f"missing column(s) {missing}; expected {expected}"
        )
    named = [n for n in names if n]
    for twice in sorted({n for n in named if named.count(n) > 1}):
        reason = f"column {twice!r} appears more than once in the header; keep one and remove or rename the others"
        problems.add(1, "header", ",".join(names), reason)


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


# Number forms spreadsheets write. A comma is read one way per file: in comma files it only groups
# thousands (1,234.5); in semicolon files it is always the decimal mark (12,5 and 1.234,5), so
# ``1,234.5`` there is no number at all.
_US_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_EU_NUMBER = re.compile(r"^[+-]?((\d{1,3}(\.\d{3})+)(,\d*)?|\d+,\d*)$")
_DIGIT_GROUPS = re.compile(r"(?<=\d)[ \u00a0\u202f'](?=\d{3})")


def _clean_text(text: pd.Series, decimal_comma: bool, percent: bool) -> tuple[pd.Series, pd.Series]:
    """Number text without group separators, as ``float`` reads it, and a scale (0.01 for ``93%``)."""
    text = text.astype(object).str.strip().str.replace(_DIGIT_GROUPS, "", regex=True)
    scale = pd.Series(1.0, index=text.index)
    if percent:
        pct = text.str.endswith("%")
        text = text.where(~pct, text.str[:-1].str.strip())
        scale = scale.where(~pct, 0.01)
    if decimal_comma:
        eu = text.str.match(_EU_NUMBER)
        plain = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        text = text.where(~eu, plain)
    else:
        us = text.str.match(_US_THOUSANDS)
        text = text.where(~us, text.str.replace(",", "", regex=False))
    return text, scale


def clean_number(text: str, decimal_comma: bool = False, percent: bool = False) -> str:
    """Spreadsheet number text -> plain ``1234.5`` text that ``float`` reads; unknown forms pass through.

    Thousands separators (``1,234.5``; ``1 234``; in semicolon files ``1.234,5`` and ``12,5``) are
    removed; with ``percent``, ``93%`` becomes ``0.93``. A comma is a decimal mark in every cell of a
    semicolon file and a thousands separator in every cell of a comma file, never both; in semicolon
    files a dot groups thousands only in groups of three (``1.200`` is 1200, ``0.93`` stays 0.93).
    """
    cleaned, scale = _clean_text(pd.Series([text]), decimal_comma, percent)
    if scale.iloc[0] == 1.0:
        return str(cleaned.iloc[0])
    try:
        return repr(float(cleaned.iloc[0]) * float(scale.iloc[0]))
    except ValueError:
        return str(cleaned.iloc[0]) + "%"


def to_number(text: pd.Series, decimal_comma: bool = False, percent: bool = False) -> pd.Series:
    """Parse numbers (see ``clean_number``); anything unparseable or empty becomes NaN.

    Plain numbers are parsed in one vectorized pass; only the other cells (thousands separators,
    decimal commas, percentages, text) go through the cleaning string operations.
    """
    try:  # every cell a plain number: one C loop
        number = pd.Series(text.to_numpy(dtype=object).astype(float), index=text.index)
    except (ValueError, TypeError):
        number = pd.to_numeric(text, errors="coerce").astype(float)
    again = number.isna()
    again[again] = text[again] != ""
    if decimal_comma:
        again |= text.str.contains(".", regex=False)
    if again.any():
        cleaned, scale = _clean_text(text[again], decimal_comma, percent)
        number[again] = pd.to_numeric(cleaned, errors="coerce").astype(float) * scale
    return number


def parse_dates(text: pd.Series, date_format: str = "%Y-%m-%d") -> pd.Series:
    """Parse dates in ``date_format`` to days; unparseable or impossible dates (Feb 30) become NaT.

    A time of day in the format (``%Y-%m-%d %H:%M``) is dropped: a value belongs to its day.
    """
    try:
        when = pd.to_datetime(text, format=date_format, errors="coerce")
    except ValueError as exc:
        msg = f"date format {date_format!r} is not valid ({exc}); use strftime codes such as %Y-%m-%d or %d/%m/%Y"
        raise ConfigError(msg) from None
    return when.dt.normalize()


def closest(name: str, choices: Iterable[str]) -> str:
    """A hint naming the closest known name, or an empty string."""
    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f"; did you mean {match[0]!r}?" if match else ""


def name_key(names: pd.Series) -> pd.Series:
    """How metric names are compared: ``" EMS response "`` and ``"EMS Response"`` are one metric
    (and so are two ways of encoding one accented letter: ``fold_name``)."""
    return names.astype(object).map(lambda n: fold_name(str(n).strip()))


def canonical_names(names: pd.Series, catalog: Iterable[str]) -> pd.Series:
    """Each name as the catalog spells it (ignoring case, surrounding spaces and how accents are
    encoded); NaN if unknown, or if two catalog names are that one name (a catalog from before
    accents were compared so): only their exact spellings are then known."""
    catalog = list(catalog)
    exact = names.isin(set(catalog))
    result = names.where(exact)
    if not exact.all():
        spelled = pd.Series(catalog, dtype=object)
        keys = name_key(spelled)
        unique = ~keys.duplicated(keep=False)
        by_key = dict(zip(keys[unique], spelled[unique], strict=True))
        result[~exact] = name_key(names[~exact]).map(by_key)
    return result


# --- text that names things ------------------------------------------------------------------

_CONTROL = r"[\x00-\x1f\x7f-\x9f]"
_CONTROL_IN_TEXT = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"  # tabs and line breaks allowed


def _check_text(
    problems: Problems,
    rows: pd.DataFrame,
    column: str,
    limit: int | None = None,
    *,
    multiline: bool = False,
    formula: bool = False,
) -> None:
    """Control characters, text longer than the store keeps, and (names) spreadsheet formulas."""
    text = rows[column].astype(str)
    control = text.str.contains(_CONTROL_IN_TEXT if multiline else _CONTROL, regex=True)
    problems.add_where(
        rows, control, column,
        "holds a control character (a NUL byte, an escape or a line break); remove it",
    )  # fmt: skip
    if limit is not None:
        problems.add_where(
            rows, text.str.len() > limit, column,
            f"longer than {limit} characters, the most the database keeps; shorten it",
        )  # fmt: skip
    if formula:
        problems.add_where(
            rows, text.str.startswith(FORMULA_STARTS), column,
            f"starts with one of {' '.join(FORMULA_STARTS)}, which a spreadsheet would run as a formula "
            "when the kit's CSV exports are opened; start it with a letter or digit",
        )  # fmt: skip


# --- metrics.csv -----------------------------------------------------------------------------

METRIC_FILE_COLUMNS = [*METRIC_COLUMNS, ALLOW_NEGATIVE]


def load_metrics(
    source: Source,
    fmt: str = "auto",
    existing: pd.DataFrame | None = None,
    catalog_targets: dict[str, float | None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and validate a metrics file; return (metrics frame, targets frame of the fixed targets).

    ``fmt``: ``kit`` (metrics.csv), ``boston`` (the Boston toolkit's metric CSV,
    ``name,definition,direction,historic,target,trend`` with booleans), ``json`` (its fixtures) or
    ``auto`` (decide from the content). ``existing`` (the stored catalog) and ``catalog_targets``
    let a file restate only some columns of a metric: the others keep their stored values.
    """
    text = read_text(source)
    with noting_workbook_cells(text):  # a sheet's empty cells may show errors
        fmt = _check_format(fmt) if fmt != "auto" else _detect_metrics_format(text)
        if fmt == "json":
            rows = boston_metric_rows(_json_records(source, text, "metric", _json_metric_fields))
        elif fmt == "boston":
            first = _first_cells(text)
            header = None if first[:1] == ["name"] else BOSTON_METRIC_COLUMNS
            rows = read_rows(
                source, BOSTON_METRIC_COLUMNS[:1], BOSTON_METRIC_COLUMNS, text=text, header=header
            )
            rows = boston_metric_rows(rows)
        else:
            rows = read_rows(source, required=["name"], optional=METRIC_FILE_COLUMNS, text=text)
        return validate_metrics(rows, source_name(source), existing, catalog_targets)


def restate(
    rows: pd.DataFrame,
    existing: pd.DataFrame | None,
    catalog_targets: dict[str, float | None] | None = None,
) -> pd.DataFrame:
    """Fill the columns a file does not give (``rows.attrs["given"]``) from the stored metric.

    A file of ``name,direction,target`` changes only those columns of the metrics it names; new
    metrics get the defaults. Returns a copy with every metrics.csv column.
    """
    rows = rows.copy()
    given = rows.attrs.get("given", set(METRIC_FILE_COLUMNS))
    for column in METRIC_FILE_COLUMNS:
        if column not in rows:
            rows[column] = ""
    missing = [c for c in METRIC_FILE_COLUMNS if c not in given]
    if existing is None or existing.empty or not missing:
        return rows
    stored = _metrics_as_text(existing, catalog_targets or {})
    known = rows["name"].isin(stored.index)
    for column in missing:
        rows[column] = rows[column].where(~known, rows["name"].map(stored[column]))
    if "target" in missing and "baseline" not in missing:  # a switch to history drops the target
        rows["target"] = rows["target"].where(rows["baseline"].str.lower() != "history", "")
    return rows


def _metrics_as_text(
    metrics: pd.DataFrame, catalog_targets: dict[str, float | None]
) -> pd.DataFrame:
    """The stored catalog as the metrics.csv cells that would restate it unchanged."""
    text = metrics.set_index("name").astype(object)
    text["trend"] = np.where(metrics["trend"].astype(bool), "true", "false")
    if ALLOW_NEGATIVE in metrics:
        text[ALLOW_NEGATIVE] = np.where(metrics[ALLOW_NEGATIVE].astype(bool), "true", "false")
    else:
        text[ALLOW_NEGATIVE] = "false"
    text["weight"] = [repr(float(w)) for w in metrics["weight"]]
    text["baseline"] = metrics["baseline"].to_numpy()
    targets = [catalog_targets.get(n) for n in text.index]
    text["target"] = ["" if t is None or t != t else repr(float(t)) for t in targets]
    return text.fillna("").astype(str)


def validate_metrics(
    rows: pd.DataFrame,
    name: str = "metrics.csv",
    existing: pd.DataFrame | None = None,
    catalog_targets: dict[str, float | None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check metric rows; return (metrics, targets) or raise listing every bad row.

    With ``existing`` (the stored catalog), columns the file does not give keep their stored values,
    and a name that differs from a stored one only by case, spaces or accent encoding is refused
    (never a second metric).
    """
    problems = Problems(name)
    rows = restate(rows, existing, catalog_targets)
    for column, default in [("category", DEFAULT_CATEGORY), ("kind", "value"), ("baseline", "")]:
        rows[column] = rows[column].where(rows[column] != "", default)
    for column in ["direction", "kind", "aggregation", "baseline"]:
        rows[column] = rows[column].str.lower()
    _check_metric_identity(problems, rows, existing)
    _check_text(problems, rows, "name", TEXT_LIMITS["name"], formula=True)
    _check_text(problems, rows, "category", TEXT_LIMITS["category"], formula=True)
    _check_text(problems, rows, "unit", TEXT_LIMITS["unit"])
    _check_text(problems, rows, "definition", multiline=True)
    new = ~rows["name"].isin(set(existing["name"]) if existing is not None else set())
    problems.add_where(
        rows, new & (rows["direction"] == ""), "direction",
        "a new metric needs a direction: higher or lower (is better)",
    )  # fmt: skip
    _check_choice(problems, rows[rows["direction"] != ""], "direction", DIRECTIONS)
    _check_choice(problems, rows, "kind", KINDS)
    _check_choice(problems, rows, "baseline", ("", *BASELINES))
    aggregation_ok = rows["aggregation"].isin(("", *AGGREGATIONS))
    problems.add_where(
        rows, ~aggregation_ok, "aggregation", f"must be one of {list(AGGREGATIONS)} or empty"
    )
    ratio_agg = (rows["kind"] == "ratio") & ~rows["aggregation"].isin(("",))
    problems.add_where(
        rows,
        ratio_agg & aggregation_ok,
        "aggregation",
        "ratio metrics are always sum(numerators)/sum(denominators); leave aggregation empty",
    )
    decimal_comma = rows.attrs.get("decimal_comma", False)
    target = to_number(rows["target"], decimal_comma)
    history = rows["baseline"] == "history"
    has_target = rows["target"] != ""
    problems.add_where(rows, has_target & target.isna(), "target", "target is not a number")
    problems.add_where(
        rows,
        has_target & (target <= 0),
        "target",
        "target must be greater than 0; use baseline=history to score against the metric's own past",
    )
    problems.add_where(
        rows,
        has_target & ~np.isfinite(target.fillna(0)),
        "target",
        "target must be a finite number",
    )
    problems.add_where(
        rows,
        history & has_target,
        "target",
        "a metric with baseline=history has no fixed target; leave target empty",
    )
    problems.add_where(
        rows,
        ~history & ~has_target,
        "target",
        "give a target greater than 0, or set baseline=history",
    )
    trend = _check_flag(problems, rows, "trend")
    negative = _check_flag(problems, rows, ALLOW_NEGATIVE)
    problems.add_where(
        rows,
        negative & ((rows["kind"] != "value") | (rows["direction"] != "higher")),
        ALLOW_NEGATIVE,
        "only higher-is-better value metrics may allow negative values (a ratio counts cases; a "
        "lower-is-better score target/value has no meaning below 0); set allow_negative=false",
    )
    weight = to_number(rows["weight"], decimal_comma).where(rows["weight"] != "", 1.0)
    bad_weight = weight.isna() | ~(weight > 0) | ~np.isfinite(weight.fillna(1))
    problems.add_where(
        rows, bad_weight, "weight", "weight must be a number greater than 0 (default 1)"
    )
    problems.raise_if_any(len(rows))

    metrics = pd.DataFrame(
        {
            "name": rows["name"],
            "definition": rows["definition"],
            "category": rows["category"],
            "unit": rows["unit"],
            "direction": rows["direction"],
            "kind": rows["kind"],
            "aggregation": rows["aggregation"].where(
                (rows["kind"] == "value") & (rows["aggregation"] != ""),
                np.where(rows["kind"] == "value", "mean", ""),
            ),
            "baseline": np.where(history, "history", "target"),
            "trend": trend,
            "weight": weight.astype(float),
            ALLOW_NEGATIVE: negative,
        }
    ).reset_index(drop=True)
    targets = pd.DataFrame(
        {
            "metric": rows.loc[~history, "name"],
            "effective_from": pd.Timestamp(EARLIEST),
            "target": target[~history],
        }
    ).reset_index(drop=True)
    return metrics, targets


def _check_metric_identity(
    problems: Problems, rows: pd.DataFrame, existing: pd.DataFrame | None
) -> None:
    """Names are compared ignoring case, surrounding spaces and accent encoding (``name_key``): one
    file, one row per metric; a name that differs from a stored metric only so is refused rather
    than made a second metric."""
    problems.add_where(rows, rows["name"] == "", "name", "metric name is empty")
    key = name_key(rows["name"])
    dupes = key.duplicated(keep=False) & (rows["name"] != "")
    problems.add_where(
        rows, dupes, "name",
        "metric name appears more than once in the file (names are compared ignoring case); keep one row",
    )  # fmt: skip
    if existing is None or existing.empty:
        return
    stored = canonical_names(rows["name"], existing["name"])
    for index in rows.index[stored.notna() & (stored != rows["name"])]:
        problems.add(
            rows.at[index, "line"], "name", rows.at[index, "name"],
            f"differs from the existing metric {stored[index]!r} only by case, spaces or accents; write "
            f"{stored[index]!r} exactly (a file cannot rename a metric or add a second one like it)",
        )  # fmt: skip


def _check_flag(problems: Problems, rows: pd.DataFrame, column: str) -> pd.Series:
    """A true/false column (empty = false); records anything else and returns the booleans."""
    flag = rows[column].astype(str).str.lower()
    problems.add_where(
        rows, ~flag.isin(TRUE_WORDS | FALSE_WORDS), column, f"{column} must be true or false"
    )
    return flag.isin(TRUE_WORDS)


def _check_choice(
    problems: Problems, rows: pd.DataFrame, column: str, allowed: tuple[str, ...]
) -> None:
    shown = [a for a in allowed if a]
    problems.add_where(rows, ~rows[column].isin(allowed), column, f"must be one of {shown}")


# --- targets.csv -----------------------------------------------------------------------------


def load_targets(
    source: Source,
    metrics: pd.DataFrame,
    date_format: str = "%Y-%m-%d",
    *,
    stored_areas: StoredAreas = None,
) -> pd.DataFrame:
    """Read and validate a targets.csv against the catalog ``metrics`` (and the stored areas)."""
    text = read_text(source, date_format)  # a workbook's date cells in that format
    with noting_workbook_cells(text):  # a sheet's empty cells may show errors
        rows = read_rows(source, required=TARGET_COLUMNS, optional=[AREA], text=text)
        name = source_name(source)
        return validate_targets(
            rows, metrics, name, date_format=date_format, stored_areas=stored_areas
        )


def validate_targets(
    rows: pd.DataFrame,
    metrics: pd.DataFrame,
    name: str = "targets.csv",
    date_format: str = "%Y-%m-%d",
    *,
    stored_areas: StoredAreas = None,
) -> pd.DataFrame:
    """Check target-change rows; return ``metric, effective_from, target`` or raise.

    ``stored_areas`` (e.g. ``Store.areas``) gives the area names already stored: a name that
    differs from one of them (or from another name in the file) only in capitals is refused.
    """
    problems = Problems(name)
    metric = _check_metric_names(problems, rows, metrics)
    history = set(metrics.loc[metrics["baseline"] == "history", "name"])
    problems.add_where(
        rows,
        metric.isin(history),
        "metric",
        "this metric is scored against its own history (baseline=history); it takes no target",
    )
    when = _check_dates(problems, rows, "effective_from", date_format)
    target = to_number(rows["target"], rows.attrs.get("decimal_comma", False))
    problems.add_where(rows, target.isna(), "target", "target is not a number")
    problems.add_where(
        rows, ~(target > 0) & target.notna(), "target", "target must be greater than 0"
    )
    problems.add_where(rows, np.isinf(target), "target", "target must be a finite number")
    frame = pd.DataFrame({"metric": metric, "effective_from": when, "target": target})
    frame, keys = _with_area(problems, rows, frame, ["metric", "effective_from"], stored_areas)
    _check_conflicts(problems, frame, rows["line"], keys, ["target"])
    problems.raise_if_any(len(rows))
    return frame.drop_duplicates().reset_index(drop=True)


# --- values.csv ------------------------------------------------------------------------------


def load_values(
    source: Source,
    metrics: pd.DataFrame,
    today: dt.date | None = None,
    date_format: str = "%Y-%m-%d",
    fmt: str = "auto",
    *,
    stored_areas: StoredAreas = None,
) -> pd.DataFrame:
    """Read and validate a values file; return observations or raise listing every bad row.

    A plain comma file whose every row is valid is read by ``fast_values``; any other file, and
    any file with a bad row, by ``read_value_rows`` and ``validate_values``, which name each problem.
    ``stored_areas``: see ``validate_values``.
    """
    text = read_text(source, date_format)
    with noting_workbook_cells(text):  # a sheet's empty cells may show errors
        fmt = _check_format(fmt) if fmt != "auto" else _detect_values_format(text)
        today = today or dt.date.today()
        if fmt == "kit":
            fast = fast_values(text, metrics, today, date_format, stored_areas=stored_areas)
            if fast is not None:
                return fast
        rows = read_value_rows(source, fmt, text=text)
        name = source_name(source)
        return validate_values(
            rows, metrics, name, today=today, date_format=date_format, stored_areas=stored_areas
        )


def read_value_rows(source: Source, fmt: str = "auto", *, text: str | None = None) -> pd.DataFrame:
    """Rows of ``metric, date, value, numerator, denominator`` text from any accepted values format.

    ``kit``: values.csv with a header (``metric,date,value`` or ``metric,date,numerator,denominator``);
    ``boston``: the Boston toolkit's headerless ``value,date,metric`` CSV; ``json``: its fixtures
    (``cityscore.value`` records, metric given by name or by the id of a ``cityscore.metric`` record).
    ``text`` is the source's text when the caller has read it already.
    """
    text = read_text(source) if text is None else text
    fmt = _check_format(fmt) if fmt != "auto" else _detect_values_format(text)
    if fmt == "json":
        return _json_records(source, text, "value", _json_value_fields)
    if fmt == "boston":
        return read_rows(
            source, BOSTON_VALUE_COLUMNS, VALUE_COLUMNS, text=text, header=BOSTON_VALUE_COLUMNS
        )
    return read_rows(source, ["metric", "date"], [*VALUE_COLUMNS[2:], AREA], text=text)


# --- values.csv, the fast path ----------------------------------------------------------------

NUMBER_COLUMNS = VALUE_COLUMNS[2:]


def fast_values(
    text: str,
    metrics: pd.DataFrame,
    today: dt.date,
    date_format: str = "%Y-%m-%d",
    *,
    stored_areas: StoredAreas = None,
) -> pd.DataFrame | None:
    """``validate_values(read_rows(text))`` for a plain, valid file; ``None`` for any other.

    Arrow reads the file into typed columns (numbers as float64; metric, date and area names
    dictionary-encoded), so each distinct name or date is checked once, as the full path checks
    it. Anything the full path would refuse or read in a special way (a line break inside quotes,
    blank lines, padding Arrow does not read as the full path does, number forms such as
    ``1,234`` or ``93%``, a repeated day, any bad row) returns ``None``: the full path then reads
    the file and names every problem, so every message comes from one place. Windows line ends
    (``\r\n``, as Excel writes them) are read as the full path reads them: as ``\n``. A semicolon
    file (European Excel) is read here when its numbers are plain digits with at most a decimal
    comma (``12``, ``-3,25``); other forms (``1.234,5``, ``93 %``) are left to the full path.
    """
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")  # a lone "\r" is still left to the full path
    names = _plain_header(text)
    if names is None:
        return None
    table = _arrow_table(text, names, sniff_delimiter(text))
    if table is None:
        return None
    metric, metric_codes = _fast_names(table["metric"], metrics)
    when = _fast_dates(table["date"], today, date_format)
    area = _fast_areas(table[AREA], stored_areas) if AREA in names else None
    numbers = {c: _fast_numbers(table[c]) if c in names else None for c in NUMBER_COLUMNS}
    if metric is None or when is None or (AREA in names and area is None):
        return None
    if any(n is None and c in names for c, n in numbers.items()):
        return None
    dates, date_codes = when
    rows = len(metric_codes)
    each = pd.Series(metric, dtype=object)  # one row per distinct metric, then a take per row
    kind = per_metric(each, metrics, "kind", "").to_numpy()
    is_value, is_ratio = (kind == "value")[metric_codes], (kind == "ratio")[metric_codes]
    allow = per_metric(each, metrics, ALLOW_NEGATIVE, False).to_numpy(dtype=bool)[metric_codes]
    missing = np.full(rows, np.nan)
    value, numerator, denominator = (
        missing if numbers[c] is None else numbers[c] for c in NUMBER_COLUMNS
    )
    with np.errstate(invalid="ignore"):
        refused = (
            (is_value & (np.isnan(value) | ((value < 0) & ~allow)))
            | (is_ratio & (np.isnan(numerator) | (numerator < 0)))
            | (is_ratio & (np.isnan(denominator) | ~(denominator > 0)))
        )
    if refused.any():
        return None
    with_area = area is not None and bool((area[0] != "").any())
    keys = [(metric_codes, len(metric))]
    keys += [(area[1], len(area[0]))] if with_area else []
    if _repeats([*keys, (date_codes, len(dates))]):
        return None  # the full path drops repeated days or names the conflicting ones
    frame = pd.DataFrame(
        {
            "metric": pd.Series(np.asarray(metric, dtype=object)[metric_codes], dtype=object),
            "date": dates.take(date_codes).reset_index(drop=True),
            "value": np.where(is_value, value, np.nan),
            "numerator": np.where(is_ratio, numerator, np.nan),
            "denominator": np.where(is_ratio, denominator, np.nan),
        }
    )
    if with_area:
        # Text as the full path leaves it (``astype(str)``: pandas' string dtype).
        frame[AREA] = pd.Series(area[0][area[1]], dtype=object).astype(str).to_numpy()
    return frame


def _plain_header(text: str) -> list[str] | None:
    """The column names of a values file Arrow can read as the full path does, else ``None``.

    No carriage returns, NUL bytes or blank lines; a header (comma or semicolon separated) naming
    only known columns, each once, including metric and date. Quoted cells (``"Repairs, on
    time"``, or every text quoted, as R's ``write.csv`` writes them) are read as pandas' reader
    reads them.
    """
    if not text or any(c in text for c in "\r\x00") or "\n\n" in text or text[0] == "\n":
        return None
    header = next(csv.reader([first_line(text)], delimiter=sniff_delimiter(text)), [])
    names = [h.strip().lower() for h in header]
    known = [*VALUE_COLUMNS, AREA]
    if len(set(names)) < len(names) or not set(names) <= set(known):
        return None
    return names if {"metric", "date"} <= set(names) else None


def _arrow_table(text: str, names: list[str], delimiter: str = ","):
    """The rows below the header as an Arrow table, or ``None`` if Arrow cannot read them all
    (in a semicolon file, also if a number is in another form than ``_decimal_comma_numbers``')."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names_type = pa.dictionary(pa.int32(), pa.string())
    number_type = pa.float64() if delimiter == "," else pa.string()
    types = {c: number_type if c in NUMBER_COLUMNS else names_type for c in names}
    try:
        data = text.encode("utf-8")
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 23),
            parse_options=pacsv.ParseOptions(  # a line break inside quotes: an error, not a cell
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=types, null_values=[""], strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, UnicodeEncodeError):
        return None  # a row of another width, a cell that is no plain number, ...
    if delimiter != ",":
        for column in set(names) & set(NUMBER_COLUMNS):
            numbers = _decimal_comma_numbers(table[column])
            if numbers is None:
                return None
            table = table.set_column(names.index(column), column, numbers)
    return table if table.num_rows else None


# The number cells of a semicolon file read on the fast path: digits with at most a decimal comma.
_PLAIN_DECIMAL_COMMA = r"^([+-]?[0-9]+(,[0-9]+)?)?$"


def _decimal_comma_numbers(column):
    """A semicolon file's number cells (text) as float64, empty cells as null; ``None`` if a cell
    is in any other form than ``_PLAIN_DECIMAL_COMMA`` (the full path reads those: ``1.234,5``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pc.all(pc.match_substring_regex(column, _PLAIN_DECIMAL_COMMA)).as_py():
        return None
    dotted = pc.replace_substring(column, ",", ".", max_replacements=1)
    return pc.cast(
        pc.if_else(pc.equal(dotted, ""), pa.scalar(None, pa.string()), dotted), pa.float64()
    )


def _dictionary(column) -> tuple[list[str], np.ndarray]:
    """(distinct texts, each row's position among them) of a dictionary-encoded Arrow column."""
    combined = column.unify_dictionaries().combine_chunks()
    return combined.dictionary.to_pylist(), combined.indices.to_numpy(zero_copy_only=False)


def _fast_names(column, metrics: pd.DataFrame) -> tuple[list[str] | None, np.ndarray]:
    """(the catalog's spelling of each distinct metric, each row's code), ``None`` if one is unknown."""
    texts, codes = _dictionary(column)
    known = canonical_names(pd.Series(texts, dtype=object), metrics["name"])
    if known.isna().any():
        return None, codes
    # Two spellings of one metric (" EMS" and "ems") become one code, as the full path reads them.
    merged, spelled = pd.factorize(known.to_numpy(dtype=object))
    return list(spelled), merged[codes]


def _fast_dates(column, today: dt.date, date_format: str) -> tuple[pd.Series, np.ndarray] | None:
    """(each distinct day, each row's code), ``None`` if a date is invalid, too early or to come."""
    texts, codes = _dictionary(column)
    when = parse_dates(pd.Series(texts, dtype=object).str.strip(), date_format)
    if when.isna().any() or (when < pd.Timestamp(EARLIEST)).any():
        return None
    if (when > pd.Timestamp(today)).any():
        return None
    days, merged = np.unique(when.to_numpy(), return_inverse=True)  # 10:00 and 12:00 are one day
    return pd.Series(days, dtype=when.dtype), merged.reshape(-1)[codes]


def _fast_areas(column, stored_areas: StoredAreas) -> tuple[np.ndarray, np.ndarray] | None:
    """(each distinct area name, stripped; each row's code), ``None`` if one would be refused."""
    texts, codes = _dictionary(column)
    area = pd.Series(texts, dtype=object).str.strip()
    problems = Problems("")
    _check_area_names(problems, pd.DataFrame({AREA: area, "line": 0}), area, stored_areas)
    if problems:
        return None
    names, merged = np.unique(area.to_numpy(dtype=str), return_inverse=True)
    return names.astype(object), merged.reshape(-1)[codes]


def _fast_numbers(column) -> np.ndarray | None:
    """float64 with NaN for empty cells; ``None`` if a cell was NaN or infinite text."""
    import pyarrow.compute as pc

    if pc.any(pc.is_nan(column)).as_py() or pc.any(pc.is_inf(column)).as_py():
        return None
    return column.to_numpy()


def _repeats(keys: list[tuple[np.ndarray, int]]) -> bool:
    """Whether two rows share every key (each given as codes and how many distinct codes)."""
    packed = np.zeros(len(keys[0][0]), dtype=np.int64)
    for codes, size in keys:
        packed = packed * size + codes
    if len(packed) < 2 or (np.diff(packed) > 0).all():  # a file in key order: no sort
        return False
    packed.sort()
    return bool((packed[1:] == packed[:-1]).any())


# --- the Boston toolkit's formats --------------------------------------------------------------

FORMATS = ("auto", "kit", "boston", "json")
BOSTON_VALUE_COLUMNS = ["value", "date", "metric"]
BOSTON_METRIC_COLUMNS = ["name", "definition", "direction", "historic", "target", "trend"]


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        msg = f"unknown file format {fmt!r}; use one of {list(FORMATS)}"
        raise ConfigError(msg)
    return fmt


def _first_cells(text: str) -> list[str]:
    first = next(csv.reader([first_line(text)], delimiter=sniff_delimiter(text)), [])
    return [c.strip().lower() for c in first]


def _detect_values_format(text: str) -> str:
    if text.lstrip()[:1] in ("[", "{"):
        return "json"
    cells = _first_cells(text)
    # Boston's value CSV has no header: its first cell is a number. Anything else is read as a
    # kit file, whose header is then checked (use fmt="boston" to force the Boston reading).
    first_is_number = bool(cells) and _is_number(
        clean_number(cells[0], sniff_delimiter(text) == ";", True)
    )
    return "boston" if len(cells) == 3 and first_is_number else "kit"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _detect_metrics_format(text: str) -> str:
    if text.lstrip()[:1] in ("[", "{"):
        return "json"
    cells = _first_cells(text)
    if "historic" in cells or (cells[:1] != ["name"] and len(cells) == len(BOSTON_METRIC_COLUMNS)):
        return "boston"
    return "kit"


def boston_metric_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Translate Boston toolkit metric rows (boolean direction/historic) into metrics.csv rows.

    ``direction`` true means higher is better (Boston's "do you want this value to go up?");
    ``historic`` true means baseline=history, and then Boston's target field is ignored.
    """
    given = set(rows.attrs.get("given", BOSTON_METRIC_COLUMNS))
    out = rows.copy()
    for column in BOSTON_METRIC_COLUMNS:
        if column not in out:
            out[column] = ""
    direction = out["direction"].str.lower()
    yes, no = direction.isin(TRUE_WORDS - {""}), direction.isin(FALSE_WORDS - {""})
    out["direction"] = np.select([yes, no], ["higher", "lower"], direction).astype(object)
    historic = out["historic"].str.lower()
    is_history = historic.isin(TRUE_WORDS - {""})
    out["baseline"] = np.select(
        [is_history, historic.isin(FALSE_WORDS)], ["history", ""], out["historic"]
    ).astype(object)
    out["target"] = out["target"].where(~is_history, "")
    for column in METRIC_FILE_COLUMNS:
        if column not in out:
            out[column] = ""
    out.attrs["given"] = {("baseline" if c == "historic" else c) for c in given}
    return out


def _json_value_fields(fields: dict, metric_names: dict[str, str]) -> dict[str, object]:
    metric = fields.get("metric")
    return {
        "metric": metric_names.get(str(metric), metric),
        "date": fields.get("entry_date", fields.get("date")),
        "value": fields.get("val", fields.get("value")),
        "numerator": fields.get("numerator"),
        "denominator": fields.get("denominator"),
    }


def _json_metric_fields(fields: dict, _names: dict[str, str]) -> dict[str, object]:
    return {c: fields.get(c) for c in BOSTON_METRIC_COLUMNS}


JSON_SHAPE = (
    'a list of records such as [{"model": "cityscore.value", "fields": {"metric": "Library Users", '
    '"entry_date": "2026-10-01", "val": 1234}}]'
)


def _json_records(source: Source, text: str, model: str, convert) -> pd.DataFrame:
    """Rows (as text) from the ``cityscore.<model>`` records of a Boston toolkit JSON fixture.

    The ``line`` of a row is the record's position in the list (1 = first record). A file that is
    not a list of records, or holds no ``cityscore.<model>`` record, is refused.
    """
    problems = Problems(source_name(source))
    records = _json_parse(text, problems)
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list):
        problems.add(1, "json", type(records).__name__, f"expected {JSON_SHAPE}")
        problems.raise_if_any()
    metric_names = {
        str(r.get("pk", r.get("id"))): str(r["fields"].get("name"))
        for r in records
        if isinstance(r, dict) and _is_model(r, "metric") and isinstance(r.get("fields"), dict)
    }
    out, lines = [], []
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict) or not _is_model(record, model):
            continue
        fields = record.get("fields") or {}
        if not isinstance(fields, dict):
            problems.add(
                number,
                "fields",
                _json_text(fields),
                'the record\'s "fields" must be an object {...}',
            )
            continue
        row = convert(fields, metric_names)
        out.append({k: _json_text(v) for k, v in row.items()})
        lines.append(number)
    if not out and not problems:
        problems.add(
            1, "json", f"{len(records)} record(s)",
            f'no "cityscore.{model}" record in the file; expected {JSON_SHAPE.replace("value", model, 1)}',
        )  # fmt: skip
    problems.raise_if_any(len(records))
    rows = pd.DataFrame(out, columns=list(convert({}, {})), dtype=object)
    rows["line"] = lines
    return rows


def _json_parse(text: str, problems: Problems) -> object:
    """``json.loads`` that refuses repeated keys in one object and reports every failure as a problem."""

    def no_repeats(pairs: list[tuple[str, object]]) -> dict:
        keys = [k for k, _ in pairs]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            msg = f"key(s) {repeated} appear more than once in one object; keep one of each"
            raise ValueError(msg)
        return dict(pairs)

    try:
        return json.loads(text, object_pairs_hook=no_repeats)
    except json.JSONDecodeError as exc:
        lines = text.splitlines()  # the error may point past the last line ("[\n")
        shown = lines[exc.lineno - 1][:60] if 0 < exc.lineno <= len(lines) else ""
        problems.add(exc.lineno, "json", shown, f"not valid JSON: {exc.msg}")
    except ValueError as exc:
        problems.add(1, "json", "", str(exc))
    except RecursionError:
        problems.add(1, "json", "", "the JSON is nested too deeply; expected " + JSON_SHAPE)
    problems.raise_if_any()
    raise AssertionError  # unreachable: a problem was recorded


def _is_model(record: dict, model: str) -> bool:
    """``cityscore.value`` in fixtures, ``Value`` in the toolkit's data input template."""
    return str(record.get("model", "")).lower().rpartition(".")[2] == model


def _json_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def validate_values(
    rows: pd.DataFrame,
    metrics: pd.DataFrame,
    name: str = "values.csv",
    today: dt.date | None = None,
    date_format: str = "%Y-%m-%d",
    *,
    stored_areas: StoredAreas = None,
) -> pd.DataFrame:
    """Check daily value rows against the catalog; return observations or raise listing every bad row.

    Metric names are matched ignoring case and surrounding spaces and stored as the catalog spells
    them; a time of day in the dates is dropped, so two rows of one metric on one day are one value
    (if equal) or a conflict. Area names are matched exactly: ``stored_areas`` (e.g. ``Store.areas``,
    asked only when a row names an area) gives the stored ones, and a name that differs from one
    of them (or from another name in the file) only in capitals is refused.
    """
    problems = Problems(name)
    today = today or dt.date.today()
    # Categorical inside: the per-metric lookups and the duplicate check work on its codes.
    metric = _check_metric_names(problems, rows, metrics).astype("category")
    known = metric.notna()
    kind = per_metric(metric, metrics, "kind", "")
    date = _check_dates(problems, rows, "date", date_format)
    problems.add_where(rows, date > pd.Timestamp(today), "date", "date is in the future")
    is_value, is_ratio = known & (kind == "value"), known & (kind == "ratio")
    allow = per_metric(metric, metrics, ALLOW_NEGATIVE, False).astype(bool)
    value = _check_number(problems, rows, "value", is_value, "a value metric needs a value", allow)
    numerator = _check_number(
        problems, rows, "numerator", is_ratio, "a ratio metric needs a numerator"
    )
    denominator = _check_number(
        problems, rows, "denominator", is_ratio, "a ratio metric needs a denominator"
    )
    problems.add_where(
        rows,
        is_ratio & (denominator == 0),
        "denominator",
        "denominator must be greater than 0; leave out days with no cases",
    )
    frame = pd.DataFrame(
        {
            "metric": metric,
            "date": date,
            "value": value.where(is_value),
            "numerator": numerator.where(is_ratio),
            "denominator": denominator.where(is_ratio),
        }
    )
    frame, keys = _with_area(problems, rows, frame, ["metric", "date"], stored_areas)
    repeated = _check_conflicts(
        problems, frame, rows["line"], keys, ["value", "numerator", "denominator"]
    )
    problems.raise_if_any(len(rows))
    if repeated.any():
        frame = frame.drop_duplicates(keys)
    return frame.assign(metric=frame["metric"].astype(object)).reset_index(drop=True)


def per_metric(metric: pd.Series, metrics: pd.DataFrame, column: str, default: object) -> pd.Series:
    """Each row's ``metrics[column]`` for its metric (``default`` where unknown or absent).

    One lookup per distinct metric, then a take: a file has millions of rows but few metrics.
    """
    codes, uniques = pd.factorize(metric)
    table = dict(zip(metrics["name"], metrics[column], strict=True)) if column in metrics else {}
    values = np.array([table.get(u, default) for u in uniques] + [default], dtype=object)
    return pd.Series(values[codes], index=metric.index)  # code -1 (unknown) takes the default


AREA = "area"  # optional column: the area (neighbourhood) a row belongs to; empty = citywide
AREA_MAX_LENGTH = 200


def _with_area(
    problems: Problems,
    rows: pd.DataFrame,
    frame: pd.DataFrame,
    keys: list[str],
    stored_areas: StoredAreas = None,
) -> tuple[pd.DataFrame, list[str]]:
    """(frame, its key columns) with an ``area`` column when any row names an area."""
    if AREA not in rows or not (rows[AREA].fillna("").to_numpy(dtype=object) != "").any():
        return frame, keys  # no area named (the common, citywide file): no text work per row
    area = rows[AREA].fillna("").astype(str).str.strip()
    if not (area != "").any():
        return frame, keys
    _check_area_names(problems, rows, area, stored_areas)
    return frame.assign(area=area.to_numpy()), [keys[0], AREA, *keys[1:]]


def _check_area_names(
    problems: Problems, rows: pd.DataFrame, area: pd.Series, stored_areas: StoredAreas = None
) -> None:
    """Area names (stripped, one per row of ``rows``): at most ``AREA_MAX_LENGTH`` characters,
    the checks metric names get (control characters, formula starts), and no second spelling of
    one area (see ``area_case_clashes``), checked once per distinct name."""
    too_long = area.str.len() > AREA_MAX_LENGTH
    problems.add_where(rows, too_long, AREA, f"area names are at most {AREA_MAX_LENGTH} characters")
    _check_text(problems, rows.assign(area=area), AREA, formula=True)
    names = [n for n in area.unique() if n]
    if not names:
        return
    stored = set(stored_areas()) if stored_areas is not None else set()
    clashes = area_case_clashes(names, stored)
    if not clashes:
        return
    clashing = area.isin(list(clashes))
    first_line = rows.loc[clashing, "line"].groupby(area[clashing].to_numpy()).min()
    reasons = {n: _case_reason(n, others, stored, first_line) for n, others in clashes.items()}
    problems.add_where(rows.assign(area=area), clashing, AREA, area.map(reasons))


def area_case_clashes(names: Iterable[str], stored: Iterable[str] = ()) -> dict[str, list[str]]:
    """Each of ``names`` that equals another area name ignoring case and how accents are encoded
    (``fold_name``) but is spelled differently, with those other spellings: the stored ones if
    any, else the others in ``names``. A name stored exactly as written is never refused: the
    stored spelling wins.

    Area names are matched exactly everywhere (scores, the report, the explorer), so "dorchester"
    beside "Dorchester", or "Café" with its "é" as one character beside "Café" with "e" and a
    combining accent (as some Mac and web exports write it), would silently become a second area
    holding part of the data.
    """
    names, stored = list(dict.fromkeys(names)), set(stored)
    spellings: dict[str, set[str]] = {}
    for name in {*names, *stored} - {""}:
        spellings.setdefault(fold_name(name), set()).add(name)
    clashes = {}
    for name in names:
        group = spellings[fold_name(name)] if name else set()
        if name in stored or len(group) < 2:
            continue
        kept = sorted(group & stored) or sorted(group - {name})
        clashes[name] = kept
    return clashes


def fold_name(name: str) -> str:
    """``name`` for caseless matching: Unicode's canonical caseless form (NFD, casefold, NFD),
    so "STRASSE" matches "Straße" and a precomposed "é" matches "e" plus a combining accent."""
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", name).casefold())


def spelling_difference(name: str, others: list[str]) -> str:
    """How ``name`` differs from ``others`` (all equal to it under ``fold_name``)."""
    if all(name.casefold() == other.casefold() for other in others):
        return "in capitals"
    nfc = unicodedata.normalize("NFC", name)
    if all(nfc == unicodedata.normalize("NFC", other) for other in others):
        return "in how its accents are encoded (the same letters, typed another way)"
    return "in capitals or in how its accents are encoded"


def _case_reason(name: str, others: list[str], stored: set[str], first_line: pd.Series) -> str:
    """Why ``name`` is refused: it differs only in capitals or accent encoding from ``others``
    (stored, or written in this file, first on ``first_line[other]``)."""
    how = spelling_difference(name, others)
    if others[0] in stored:
        shown = ", ".join(f'"{printable(o)}"' for o in others)
        area = "area" if len(others) == 1 else "areas"
        return (
            f'"{printable(name)}" differs only {how} from the stored {area} {shown}; write it the '
            "same way (area names are matched exactly)"
        )
    shown = ", ".join(f'"{printable(o)}" (line {first_line[o]})' for o in others)
    return (
        f'"{printable(name)}" differs only {how} from {shown} in this file; write every area '
        "name the same way (area names are matched exactly)"
    )


def _format_hint(date_format: str) -> str:
    return date_format.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD")


def _check_dates(
    problems: Problems, rows: pd.DataFrame, column: str, date_format: str
) -> pd.Series:
    when = parse_dates(rows[column], date_format)
    problems.add_where(
        rows, when.isna(), column, f"not a valid date in {_format_hint(date_format)} form"
    )
    early = when < pd.Timestamp(EARLIEST)
    problems.add_where(rows, early, column, f"dates before {EARLIEST} are not kept; check the year")
    return when.where(~early)


def _check_metric_names(problems: Problems, rows: pd.DataFrame, metrics: pd.DataFrame) -> pd.Series:
    """Each row's metric as the catalog spells it (NaN where unknown, which is recorded)."""
    metric = canonical_names(rows["metric"], metrics["name"])
    unknown = metric.isna()
    names = rows.loc[unknown, "metric"].astype(str)
    hints = {n: "unknown metric" + closest(n, metrics["name"]) for n in names.unique() if n}
    reasons = names.map(lambda n: hints.get(n, "metric name is empty"))
    problems.add_where(rows, unknown, "metric", reasons.reindex(rows.index))
    return metric


def _check_number(
    problems: Problems,
    rows: pd.DataFrame,
    column: str,
    needed: pd.Series,
    missing_reason: str,
    allow_negative: pd.Series | None = None,
) -> pd.Series:
    """Parse ``column`` where ``needed``; record empty, non-numeric, NaN/infinite and negative cells."""
    if not needed.any():  # e.g. the numerators of a file of value metrics only
        return pd.Series(np.nan, index=rows.index)
    text = rows[column]
    decimal_comma = rows.attrs.get("decimal_comma", False)
    need = needed.to_numpy(dtype=bool)  # masks as NumPy arrays: cheaper than Series at millions
    blank = text.to_numpy(dtype=object) == ""
    filled = need & ~blank
    # Only a value may be written as a percentage (a rate such as 93%); counts may not.
    percent = column == "value"
    number = np.full(len(rows), np.nan)
    if filled.all():
        number = to_number(text, decimal_comma, percent).to_numpy(dtype=float)
    elif filled.any():
        number[filled] = to_number(text[filled], decimal_comma, percent).to_numpy(dtype=float)

    def where(mask: np.ndarray, reason: str) -> None:
        problems.add_where(rows, pd.Series(mask, index=rows.index), column, reason)

    where(need & blank, missing_reason)
    odd = filled & np.isnan(number)
    if odd.any():
        nan_text = np.zeros(len(rows), dtype=bool)
        nan_text[odd] = text[odd].str.lower().isin(["nan", "-nan", "+nan"]).to_numpy(dtype=bool)
        # "9 permits": a number with a unit or word after it
        worded = np.zeros(len(rows), dtype=bool)
        worded[odd] = text[odd].str.match(r"\s*[-+]?\d[\d.,\s]*[^\W\d_]").to_numpy(dtype=bool)
        where(odd & ~nan_text & ~worded, _not_a_number(decimal_comma))
        where(worded, "not a number: type the number only, without a unit")
        where(nan_text, "NaN is not a value; leave the day out instead")
    infinite = need & np.isinf(number)
    where(infinite, "infinity is not a value")
    negative = need & (number < 0) & ~infinite
    if allow_negative is None:
        where(negative, f"{column}s count cases and cannot be negative; check the sign")
    else:
        where(negative & ~allow_negative.to_numpy(dtype=bool), NEGATIVE_REFUSED)
    return pd.Series(number, index=rows.index)


NEGATIVE_REFUSED = (
    "negative values are refused for this metric (allow_negative is false: counts and times are "
    ">= 0); if it can truly go below 0 (a net change, a balance), set allow_negative=true for it in "
    "metrics.csv (higher-is-better value metrics only)"
)


def _not_a_number(decimal_comma: bool) -> str:
    if decimal_comma:
        return (
            "not a number; in a semicolon file the comma is the decimal mark in every cell "
            "(12,5 or 1.234,5; 1,234.5 is refused)"
        )
    return 'not a number; in a comma file write decimals with a dot (12.5), thousands as 1234 or "1,234"'


def _check_conflicts(
    problems: Problems, frame: pd.DataFrame, lines: pd.Series, keys: list[str], values: list[str]
) -> pd.Series:
    """Flag rows that share ``keys`` with another row of the file but differ in ``values``.

    Returns the mask of rows whose keys repeat (valid ones only).
    """
    valid = frame[keys].notna().all(axis=1)
    repeated = frame.duplicated(keys, keep=False) & valid
    subset = frame[repeated].assign(line=lines[repeated])
    if subset.empty:
        return repeated
    distinct = subset.drop_duplicates(keys + values).groupby(keys, dropna=False).size()
    clashing = distinct[distinct > 1].index
    if len(clashing) == 0:
        return repeated
    key_index = (
        pd.MultiIndex.from_frame(subset[keys]) if len(keys) > 1 else pd.Index(subset[keys[0]])
    )
    clash = subset[key_index.isin(clashing)]
    for key, group in clash.groupby(keys, dropna=False):
        others = group["line"].tolist()
        for line in others:
            rest = ", ".join(str(o) for o in others if o != line)
            label = " and ".join(
                str(_plain(k)) for k in (key if isinstance(key, tuple) else (key,))
            )
            problems.add(
                line,
                keys[-1],
                label,
                f"lines {rest} give a different value for the same {' and '.join(keys)} "
                "(a time of day does not count: one value per metric and day); keep one",
            )
    return repeated


def _plain(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        return (
            f"{float(value):g}"
            if float(value) == float(f"{float(value):g}")
            else repr(float(value))
        )
    if isinstance(value, np.generic):
        return value.item()
    return value


# --- what an import would change (dry runs) ---------------------------------------------------

SHOWN_CHANGES = 10


def compare(
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
    return printable(" ".join(str(_plain(row[k])) for k in keys))


def _row_fields(row: dict, fields: list[str]) -> str:
    if "__more__" in row:
        return "(the first are shown)"
    shown = [f"{f}={_plain(row[f])}" for f in fields if _plain(row[f]) != ""]
    return printable(", ".join(shown))


def _row_changes(row: dict, fields: list[str]) -> str:
    if "__more__" in row:
        return "(the first are shown)"
    changed = []
    for field in fields:
        old, new = _plain(row[f"{field}_old"]), _plain(row[field])
        if old != new:
            changed.append(
                f"{field} {old if old != '' else '(empty)'} -> {new if new != '' else '(empty)'}"
            )
    return printable(", ".join(changed))
