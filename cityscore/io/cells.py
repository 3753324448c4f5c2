"""Spreadsheet cell text as numbers, dates and true/false; values back as the text messages show.

Numbers may have thousands separators, decimal commas (semicolon files) and percent signs.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from cityscore.core.errors import ConfigError

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
    """
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
