"""Blank areas in area rows: what an empty or NULL area means, and city totals that cover their areas.

A query grouped by area (``GROUP BY day, neighborhood``) returns a group with an empty area for the
records that have none; a ``GROUP BY ROLLUP`` query returns the city's total with the same empty
area. ``sources.yml`` says which one a metric's blank rows are (``blank_area: unlocated`` or
``total``); a result mixing named and blank areas without that setting is refused.

``unlocated`` rows count in the city and in no area: the stored citywide row of each day is the
sum of every row that day (areas plus unlocated), so the engine reads the city's day as it is.
Only sum and ratio metrics can add up so; a mean or median needs the query's own citywide row.

A citywide row of a sum or ratio metric smaller than the sum of its areas on the same day is
refused as inconsistent, in a values file and in a query's result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cityscore.core.errors import ConfigError
from cityscore.core.vocabulary import ALLOW_NEGATIVE, AREA
from cityscore.io.cells import to_number
from cityscore.io.checks import per_metric
from cityscore.io.problems import Problems

UNLOCATED = "unlocated"
TOTAL = "total"
BLANK_AREA_CHOICES = (UNLOCATED, TOTAL)
NUMBERS = ["value", "numerator", "denominator"]
_TOLERANCE = 1e-9  # relative: sums of decimals may differ in their last bits


def blank_rows(rows: pd.DataFrame) -> pd.Series:
    """Rows whose area is empty or NULL (all rows when there is no area column)."""
    if AREA not in rows:
        return pd.Series(True, index=rows.index)
    return rows[AREA].fillna("").astype(str).str.strip() == ""


def check_declared(metric: str, rows: pd.DataFrame, blank_area: str | None) -> None:
    """Refuse a result holding named and blank areas when ``blank_area`` does not say what blank is."""
    blank = blank_rows(rows)
    if blank_area is not None or blank.all() or not blank.any():
        return
    first = rows[blank].iloc[0]
    msg = (
        f"metric {metric!r}: the query returned rows with a named area and rows with an empty or "
        f"NULL area (first: line {first['line']}, date {first['date']}), and sources.yml does not "
        "say what an empty area means. Add `blank_area: unlocated` to the metric if those rows are "
        "records with no known area (they count in the city's total and in no area), or "
        "`blank_area: total` if they are the city's totals (as GROUP BY ROLLUP returns); or name "
        "them in the query, e.g. COALESCE(neighborhood, 'Unknown'). Nothing was written"
    )
    raise ConfigError(msg)


def check_unlocated_allowed(metric: str, catalog: pd.DataFrame) -> None:
    """Unlocated rows can only be added to a sum or a ratio: refuse them for a mean or median."""
    row = catalog[catalog["name"] == metric]
    if row.empty or row["kind"].iloc[0] == "ratio" or row["aggregation"].iloc[0] == "sum":
        return
    how = row["aggregation"].iloc[0]
    msg = (
        f"metric {metric!r} is a {how} of its days: rows with no known area cannot be added into "
        "the city's day without their counts. Return the citywide row from the query (e.g. GROUP "
        "BY ROLLUP, or a UNION with the citywide query) and set `blank_area: total`, or leave the "
        "records with no area out"
    )
    raise ConfigError(msg)


def merge_blank_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Unlocated rows of one day as one row (a NULL and an empty area are two groups in SQL).

    Numbers are added where every cell of the day reads as a number; otherwise the rows are left
    for validation to name the bad cell.
    """
    blank = rows[blank_rows(rows)]
    if not blank["date"].duplicated().any():
        return rows
    merged = []
    for _, day in blank.groupby("date", sort=False):
        if len(day) == 1:
            merged.append(day)
            continue
        numbers = {c: to_number(day[c].fillna("").astype(str)) for c in NUMBERS if c in day}
        filled = {c: day[c].fillna("").astype(str) != "" for c in numbers}
        readable = all((n.notna() | ~filled[c]).all() for c, n in numbers.items())
        if not readable:
            merged.append(day)
            continue
        first = day.iloc[[0]].copy()
        for column, number in numbers.items():
            if filled[column].any():
                first[column] = repr(float(number[filled[column]].sum()))
        merged.append(first)
    named = rows[~blank_rows(rows)]
    return pd.concat([named, *merged]).sort_values("line", kind="stable")


def with_unlocated(named: pd.DataFrame, unlocated: pd.DataFrame) -> pd.DataFrame:
    """Area observations plus each day's citywide row: its areas plus its unlocated records.

    Every day of the result gets a citywide row (the areas' sum on a day with no unlocated row),
    so a re-read day whose unlocated records went away replaces the stored total too.
    """
    parts = [f.assign(area=f.get(AREA, "")) for f in (named, unlocated) if len(f)]
    every = pd.concat(parts, ignore_index=True)
    present = every[NUMBERS].notna()
    city = (
        every[NUMBERS]
        .where(present, 0.0)
        .groupby([every["metric"], every["date"]], sort=True)
        .sum()
    )
    used = present.groupby([every["metric"], every["date"]], sort=True).any()
    city = city.where(used).reset_index().assign(area="")
    areas = every[every[AREA] != ""]
    return pd.concat([areas, city[areas.columns]], ignore_index=True)


def inconsistent_totals(frame: pd.DataFrame, metrics: pd.DataFrame) -> pd.DataFrame:
    """Citywide rows smaller than the sum of their areas (same metric, day and number).

    Only sum and ratio metrics (their city is their areas' total) that refuse negatives (a net
    change's areas may cancel out). Returns ``index`` (the citywide row's), ``metric, date, column,
    total, areas``.
    """
    columns = ["index", "metric", "date", "column", "total", "areas"]
    if AREA not in frame or frame.empty:
        return pd.DataFrame(columns=columns)
    kind = per_metric(frame["metric"], metrics, "kind", "")
    aggregation = per_metric(frame["metric"], metrics, "aggregation", "")
    negative = per_metric(frame["metric"], metrics, ALLOW_NEGATIVE, False).astype(bool)
    additive = ((kind == "ratio") | ((kind == "value") & (aggregation == "sum"))) & ~negative
    area = frame[AREA].fillna("").astype(str)
    use = frame[additive & frame["metric"].notna() & frame["date"].notna()]
    is_city = area[use.index] == ""
    if not is_city.any() or is_city.all():
        return pd.DataFrame(columns=columns)
    found = []
    for column in NUMBERS:
        sums = use[~is_city].groupby(["metric", "date"], observed=True)[column].sum(min_count=1)
        city = use[is_city].reset_index().set_index(["metric", "date"])
        joined = city.join(sums.rename("areas"), how="inner")
        total, areas = joined[column].to_numpy(float), joined["areas"].to_numpy(float)
        with np.errstate(invalid="ignore"):
            bad = total < areas - _TOLERANCE * np.maximum(np.abs(areas), 1.0)
        if bad.any():
            hit = joined[bad].reset_index()
            found.append(
                pd.DataFrame(
                    {
                        "index": hit["index"],
                        "metric": hit["metric"],
                        "date": hit["date"],
                        "column": column,
                        "total": hit[column],
                        "areas": hit["areas"],
                    }
                )
            )
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=columns)


def check_city_totals(
    problems: Problems, frame: pd.DataFrame, lines: pd.Series, metrics: pd.DataFrame
) -> None:
    """Record each citywide row smaller than its areas' sum, on the citywide row's line."""
    bad = inconsistent_totals(frame, metrics)
    for row in bad.itertuples(index=False):
        day = pd.Timestamp(row.date).date().isoformat()
        problems.add(
            int(lines.loc[row.index]),
            str(row.column),
            _number(row.total),
            f"the city's total for {row.metric!r} on {day} ({_number(row.total)}) is smaller than "
            f"the sum of its areas that day ({_number(row.areas)}); a citywide row counts every "
            "area (and any records with no area): fix the total, or leave the citywide row out "
            "and the kit adds up the areas",
        )


def _number(value: object) -> str:
    number = float(value)  # type: ignore[arg-type]
    return f"{number:g}" if number == float(f"{number:g}") else repr(number)
