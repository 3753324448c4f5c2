"""Spreadsheet cell text as numbers, dates and true/false; values back as the text messages show.

Numbers may have thousands separators, decimal commas (semicolon files) and percent signs.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from cityscore.core.errors import ConfigError
from cityscore.io.problems import Problems
from cityscore.io.timestamps import parse_offset_dates

TRUE_WORDS = {"true", "yes", "y", "1", "t"}
FALSE_WORDS = {"false", "no", "n", "0", "f", ""}

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
    With an offset (``%z``: ``2025-03-09T02:30:00-05:00``) the day is the city's local day
    (see ``cityscore.io.timestamps``).
    """
    if "%z" in date_format:
        return parse_offset_dates(text, date_format)
    try:
        when = pd.to_datetime(text, format=date_format, errors="coerce")
    except ValueError as exc:
        msg = f"date format {date_format!r} is not valid ({exc}); use strftime codes such as %Y-%m-%d or %d/%m/%Y"
        raise ConfigError(msg) from None
    return when.dt.normalize()


def reads_as_number(text: str) -> bool:
    """Whether ``float`` reads ``text``."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def plain_value(value: object) -> object:
    """A value as messages show it: a day as ISO text, NaN as empty, a float in its shortest form."""
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


# The numbers the kit keeps (documented in docs/data-entry.md). Beyond them a score or a window's
# sum could stop being a finite number (1e308 summed over a week, a target of 1e-320), and a
# number of more than 15 digits would be rounded without a word (a float keeps 15 exactly).
LARGEST = 1e15  # values, numerators, denominators and targets: at most this (15 digits)
SMALLEST = 1e-12  # and at least this, unless they are 0
LARGEST_WEIGHT = 1e6  # a metric's weight in the CityScore
# A number's digits before its exponent, when one of them is not 0 ("1e-400", "0.5E-330").
_NONZERO_MANTISSA = r"^\s*[-+]?(?:\d*[1-9]\d*\.?\d*|\d*\.\d*[1-9]\d*)[eE]"


def range_reasons(
    text: pd.Series, number: np.ndarray | pd.Series, largest: float = LARGEST
) -> pd.Series:
    """Why each number (read from ``text``) is outside the numbers the kit keeps; ``""`` if it
    is inside (or missing: other checks name those). Vectorized: a file has millions of rows."""
    number = np.asarray(number, dtype=float)
    size = np.abs(number)
    with np.errstate(invalid="ignore"):
        too_large = size > largest  # infinity too: "1e309" reads as inf
        too_small = (size < SMALLEST) & (size > 0)
    zero = np.flatnonzero(number == 0)
    if len(zero):
        cells = text.iloc[zero].astype(str)
        suspect = cells.str.contains("[eE]", regex=True).to_numpy(dtype=bool)
        if suspect.any():
            rounded = cells[suspect].str.match(_NONZERO_MANTISSA).to_numpy(dtype=bool)
            too_small[zero[suspect][rounded]] = True  # "1e-400" reads as 0
    reasons = np.full(len(number), "", dtype=object)
    if too_large.any():
        reasons[too_large] = (
            f"too large: the kit keeps numbers up to {largest:g}, beyond which they are rounded or "
            "cannot be scored; check the number, or count in a larger unit (thousands)"
        )
    if too_small.any():
        reasons[too_small] = (
            f"too small: the kit keeps numbers from {SMALLEST:g} up (or 0), below which a score "
            "cannot be computed; write 0 if it is zero, or count in a smaller unit"
        )
    return pd.Series(reasons, index=text.index)


def check_range(
    problems: Problems,
    rows: pd.DataFrame,
    column: str,
    number: object,
    needed: object = True,
    largest: float = LARGEST,
) -> np.ndarray:
    """Record each number of ``rows[column]`` outside the kept range (``range_reasons``) where
    ``needed``; returns the mask of the rows refused so."""
    reasons = range_reasons(rows[column], np.asarray(number, dtype=float), largest)
    bad = (reasons != "").to_numpy(dtype=bool) & np.asarray(needed, dtype=bool)
    if bad.any():
        problems.add_where(rows, pd.Series(bad, index=rows.index), column, reasons)
    return bad
