"""The values file's fast path: Arrow reads a plain, valid file; any other is left to the full path."""

from __future__ import annotations

import csv
import datetime as dt
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from cityscore.core.vocabulary import ALLOW_NEGATIVE, AREA, EARLIEST, VALUE_COLUMNS
from cityscore.io.blank_areas import inconsistent_totals
from cityscore.io.cells import LARGEST, SMALLEST, parse_dates
from cityscore.io.checks import StoredAreas, canonical_names, check_area_names, per_metric
from cityscore.io.csvtext import first_line, sniff_delimiter
from cityscore.io.problems import Problems

NUMBER_COLUMNS = VALUE_COLUMNS[2:]  # value, numerator, denominator


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
    if names is None or _may_underflow(text):
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
    value, numerator, denominator = (missing if n is None else n for n in numbers.values())
    with np.errstate(invalid="ignore"):
        refused = (
            (is_value & (np.isnan(value) | ((value < 0) & ~allow)))
            | (is_ratio & (np.isnan(numerator) | (numerator < 0)))
            | (is_ratio & (np.isnan(denominator) | ~(denominator > 0)))
        )
    if refused.any():
        return None
    # (names, codes) of the areas when some row names one; None when no row does.
    named = area if area is not None and bool((area[0] != "").any()) else None
    keys = [(metric_codes, len(metric))]
    keys += [(named[1], len(named[0]))] if named is not None else []
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
    if named is not None:
        # Text as the full path leaves it (``astype(str)``: pandas' string dtype).
        frame[AREA] = pd.Series(named[0][named[1]], dtype=object).astype(str).to_numpy()
        if len(inconsistent_totals(frame, metrics)):
            return None  # the full path names the city totals below their areas' sum
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
def _may_underflow(text: str) -> bool:
    """Whether a number such as ``1e-400`` (read as 0) may be in ``text``: a cheap search first."""
    return ("e-" in text or "E-" in text) and re.search(r"\d[eE]-\d{3}", text) is not None


_PLAIN_DECIMAL_COMMA = r"^([+-]?[0-9]+(,[0-9]+)?)?$"


def _decimal_comma_numbers(column):
    """A semicolon file's number cells (text) as float64, empty cells as null; ``None`` if a cell
    is in any other form than ``_PLAIN_DECIMAL_COMMA`` (the full path reads those: ``1.234,5``)."""
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
    check_area_names(problems, pd.DataFrame({AREA: area, "line": 0}), area, stored_areas)
    if problems:
        return None
    names, merged = np.unique(area.to_numpy(dtype=str), return_inverse=True)
    return names.astype(object), merged.reshape(-1)[codes]


def _fast_numbers(column) -> np.ndarray | None:
    """float64 with NaN for empty cells; ``None`` if a cell was NaN, infinite or out of the kept
    range (``io.cells.range_reasons`` words the refusal on the full path)."""
    if pc.any(pc.is_nan(column)).as_py() or pc.any(pc.is_inf(column)).as_py():
        return None
    numbers = column.to_numpy()
    with np.errstate(invalid="ignore"):
        size = np.abs(numbers)
        if ((size > LARGEST) | ((size < SMALLEST) & (size > 0))).any():
            return None
    return numbers


def _repeats(keys: list[tuple[np.ndarray, int]]) -> bool:
    """Whether two rows share every key (each given as codes and how many distinct codes)."""
    packed = np.zeros(len(keys[0][0]), dtype=np.int64)
    for codes, size in keys:
        packed = packed * size + codes
    if len(packed) < 2 or (np.diff(packed) > 0).all():  # a file in key order: no sort
        return False
    packed.sort()
    return bool((packed[1:] == packed[:-1]).any())
