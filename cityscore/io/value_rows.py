"""Check daily value rows (a values file, a manual entry) into observations."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from cityscore.core.vocabulary import ALLOW_NEGATIVE
from cityscore.io.blank_areas import check_city_totals
from cityscore.io.cells import check_range, to_number
from cityscore.io.checks import (
    StoredAreas,
    check_conflicts,
    check_dates,
    check_metric_names,
    per_metric,
    with_checked_areas,
)
from cityscore.io.problems import Problems


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
    metric = check_metric_names(problems, rows, metrics).astype("category")
    known = metric.notna()
    kind = per_metric(metric, metrics, "kind", "")
    date = check_dates(problems, rows, "date", date_format)
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
    frame, keys = with_checked_areas(problems, rows, frame, ["metric", "date"], stored_areas)
    repeated = check_conflicts(
        problems, frame, rows["line"], keys, ["value", "numerator", "denominator"]
    )
    if len(keys) > 2:  # area rows: a citywide row must cover its areas (see io/blank_areas.py)
        check_city_totals(problems, frame.drop_duplicates(keys), rows["line"], metrics)
    problems.raise_if_any(len(rows))
    if repeated.any():
        frame = frame.drop_duplicates(keys)
    return frame.assign(metric=frame["metric"].astype(object)).reset_index(drop=True)


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
    infinite = check_range(problems, rows, column, number, need)  # 1e309, 1e-400, 20 digits
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
