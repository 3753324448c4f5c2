"""Exports as CSV a spreadsheet or another kit reads back exactly: values.csv, and scores.

Values export as values.csv (re-importing the file changes nothing). No cell is ever one a spreadsheet
would run as a formula: text starting with ``= + - @``, a tab or a carriage return gets a leading ``'``
(OWASP's advice for CSV injection; ``core.csvsafe``, shared by every CSV the kit writes); numbers
and ordinary names are written unchanged. Scores export in the kit's own columns or in the column
layout of Boston's open-data CityScore table (``layout="boston"``), so a city can publish its scores
the way Boston does on Analyze Boston.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from pathlib import Path
from typing import SupportsFloat

import pandas as pd

from cityscore.core.csvsafe import FORMULA_START as FORMULA_START  # its home before core.csvsafe
from cityscore.core.csvsafe import safe_frame, spreadsheet_safe
from cityscore.core.errors import ConfigError
from cityscore.core.files import write_atomically
from cityscore.core.vocabulary import PERIODS
from cityscore.io.score_files import (
    columns_of,
    csv_chunks,
    csv_label,
    frame_csv_chunks,
    write_chunks,
)

VALUES_EXPORT_COLUMNS = ["metric", "date", "value", "numerator", "denominator", "source"]
LAYOUTS = ("kit", "boston")

# Boston's published CityScore table (Analyze Boston, "CityScore"), as read by its public consumers:
# one row per metric and calculation, day/week/month/quarter scores side by side.
BOSTON_COLUMNS = [
    "metric_name",
    "score_calculated_ts",
    "target",
    "metric_logic",
    "day_score",
    "day_numerator",
    "day_denominator",
    "week_score",
    "week_numerator",
    "week_denominator",
    "month_score",
    "month_numerator",
    "month_denominator",
    "quarter_score",
    "quarter_numerator",
    "quarter_denominator",
    "latest_score_flag",
]


def safe_text_columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` with its text ``columns`` made spreadsheet-safe; the same frame if none needs it."""
    return safe_frame(frame, columns)


def number_text(value: object) -> str:
    """A number as the shortest text that reads back to the same float; empty for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if not isinstance(value, float | SupportsFloat | str):  # float first: the common case, fast
        msg = f"expected a number, got {value!r}"  # as float() refuses it, with a TypeError
        raise TypeError(msg)
    number = float(value)
    return str(int(number)) if number.is_integer() and abs(number) < 2**53 else repr(number)


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")  # quotes names with commas, quotes or newlines
    # ... but not a lone carriage return, which a reader takes for the end of the row.
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    for row in rows:
        (quoted if any("\r" in cell for cell in row) else writer).writerow(row)
    return out.getvalue()


def values_csv(observations: pd.DataFrame) -> str:
    """values.csv text for stored observations (``metric, date, value, numerator, denominator,
    source``, and ``area`` when some rows belong to an area)."""
    return b"".join(values_chunks(observations)).decode("utf-8")


def values_chunks(observations: pd.DataFrame) -> Iterator[bytes | memoryview]:
    """values.csv as UTF-8 bytes, chunk by chunk: each name formatted once, numbers in bulk.

    Names holding a carriage return (their rows are quoted whole) go the row-by-row way.
    """
    with_area = "area" in observations and bool((observations["area"] != "").any())
    columns = VALUES_EXPORT_COLUMNS + (["area"] if with_area else [])
    texts = [c for c in ("metric", "source", "area") if c in columns]
    if any(observations[c].astype("str").str.contains("\r", regex=False).any() for c in texts):
        yield _values_rows_csv(observations, columns).encode("utf-8")
        return
    yield from frame_csv_chunks(observations, columns, _value_cell, whole="", whole_below=2**53)


def _value_cell(value: object) -> str:
    """One values.csv cell: a number as ``number_text``, a text spreadsheet-safe and quoted."""
    if isinstance(value, float):
        return number_text(value)
    if not isinstance(value, str):  # values are floats, names texts
        msg = f"values.csv cell {value!r} is neither a float nor a text"
        raise TypeError(msg)
    return csv_label(spreadsheet_safe(value))


def _values_rows_csv(observations: pd.DataFrame, columns: list[str]) -> str:
    rows = [
        [
            spreadsheet_safe(r.metric),
            r.date.strftime("%Y-%m-%d"),
            number_text(r.value),
            number_text(r.numerator),
            number_text(r.denominator),
            spreadsheet_safe(getattr(r, "source", "") or ""),
            *([spreadsheet_safe(r.area)] if "area" in columns else []),
        ]
        for r in observations.itertuples(index=False)
    ]
    return _csv(columns, rows)


def write_values(observations: pd.DataFrame, out: str | Path) -> int:
    """Write values.csv to ``out`` (whole or not at all), streamed; the number of rows written."""
    write_atomically(
        out, lambda partial: write_chunks(values_chunks(observations), partial), "values.csv"
    )
    return len(observations)


def scores_csv(
    scores: pd.DataFrame,
    metrics: pd.DataFrame | None = None,
    layout: str = "kit",
    observations: pd.DataFrame | None = None,
) -> str:
    """Score rows as CSV in the kit's layout or in Boston's open-data layout."""
    if layout not in LAYOUTS:
        msg = f"unknown scores layout {layout!r}; use one of {list(LAYOUTS)}"
        raise ConfigError(msg)
    if layout == "kit":
        text_columns = ["metric", "status", "note", *(["area"] if "area" in scores else [])]
        safe = safe_text_columns(scores, text_columns)
        if not any("\r" in str(name) for name in safe["metric"].unique()):
            return b"".join(csv_chunks(safe)).decode("utf-8")
        # A name holding a carriage return: quote every field, or readers split its row in two.
        out = safe[columns_of(safe)].assign(
            as_of=pd.to_datetime(safe["as_of"]).dt.strftime("%Y-%m-%d")
        )
        return out.to_csv(index=False, lineterminator="\n", quoting=csv.QUOTE_ALL)
    return boston_csv(scores, metrics, observations)


def ratio_sums(observations: pd.DataFrame, metrics: pd.DataFrame, as_ofs: list) -> dict:
    """``(as_of, metric, period) -> (numerator sum, denominator sum)`` for ratio metrics' windows."""
    ratio = set(metrics.loc[metrics["kind"] == "ratio", "name"])
    obs = observations[observations["metric"].isin(ratio)]
    if obs.empty or not as_ofs:
        return {}
    days = pd.date_range(min(as_ofs) - pd.Timedelta(days=max(PERIODS.values())), max(as_ofs))
    out: dict[tuple[pd.Timestamp, str, str], dict[str, float]] = {}
    for field in ("numerator", "denominator"):
        daily = obs.pivot_table(
            index="date", columns="metric", values=field, aggfunc="sum"
        ).reindex(days)
        for period, width in PERIODS.items():
            rolled = daily.rolling(width, min_periods=1).sum().loc[list(as_ofs)]
            for as_of, row in rolled.iterrows():
                for metric, total in row.items():
                    out.setdefault((as_of, metric, period), {})[field] = total
    return {k: (v["numerator"], v["denominator"]) for k, v in out.items()}


def boston_csv(
    scores: pd.DataFrame, metrics: pd.DataFrame, observations: pd.DataFrame | None = None
) -> str:
    """Boston's layout: one row per metric and as-of date.

    ``score_calculated_ts`` is the morning after the as-of date (Boston scores a day once it is
    over, and its readers take ``day = score_calculated_ts - 1 day``). ``latest_score_flag`` is 1 on
    the latest as-of date. For ratio metrics the numerator and denominator columns hold the sums over
    each period's window (given ``observations``); value metrics have none, so they stay empty.
    """
    direction = dict(zip(metrics["name"], metrics["direction"], strict=True))
    wide = scores.pivot_table(
        index=["as_of", "metric"],
        columns="period",
        values="score",
        aggfunc="first",
        dropna=False,
        sort=False,
    )
    day_target = scores[scores["period"] == "day"].set_index(["as_of", "metric"])["target"]
    as_ofs = sorted(pd.to_datetime(scores["as_of"]).unique())
    sums = ratio_sums(observations, metrics, as_ofs) if observations is not None else {}
    latest = as_ofs[-1] if as_ofs else None
    rows = []
    for (as_of, metric), periods in wide.iterrows():
        as_of = pd.Timestamp(as_of)
        row = {
            "metric_name": spreadsheet_safe(metric),
            "score_calculated_ts": (as_of + pd.Timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S"),
            "target": number_text(day_target.get((as_of, metric))),
            "metric_logic": _logic(direction.get(metric)),
            "latest_score_flag": "1" if as_of == latest else "0",
        }
        for period in ("day", "week", "month", "quarter"):
            row[f"{period}_score"] = number_text(periods.get(period))
            numerator, denominator = sums.get((as_of, metric, period), (None, None))
            row[f"{period}_numerator"] = number_text(numerator)
            row[f"{period}_denominator"] = number_text(denominator)
        rows.append([row.get(c, "") for c in BOSTON_COLUMNS])
    return _csv(BOSTON_COLUMNS, rows)


def _logic(direction: str | None) -> str:
    if direction == "higher":
        return "higher is better: score = value / target"
    if direction == "lower":
        return "lower is better: score = target / value"
    return "weighted mean of the metric scores"


def write(text: str, out: str | Path | None) -> str:
    """Write ``text`` to ``out`` (if given, creating folders) and return it.

    The file appears whole or not at all (written beside it, then renamed); a folder or a path that
    cannot be written is a ``ConfigError`` naming it.
    """
    if out is None:
        return text
    write_atomically(out, text, "scores.csv")
    return text
