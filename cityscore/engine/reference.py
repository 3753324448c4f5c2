"""A slow, obviously-correct scoring reference: one date, one metric, one window at a time.

It exists to check the fast engine (``cityscore.engine.score``) in tests and benchmarks. It reads the rules
straight from their wording and uses plain Python; do not optimise it.

Areas: an observation or target whose ``area`` is not empty belongs to that area; every other one is
citywide.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from cityscore.core.vocabulary import BASELINE_DAYS, BASELINE_MIN_DAYS, CITYWIDE, PERIODS
from cityscore.engine.statuses import AREA_NOTES, NO_AREA_TARGET, NO_CITY_SCORE


def reference_scores(
    observations: pd.DataFrame,
    metrics: pd.DataFrame,
    targets: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    periods: Mapping[str, int] = PERIODS,
    cap: float | None = None,
) -> list[dict[str, object]]:
    """Rows of (as_of, metric, period, value, target, score, note) computed by brute force."""
    days = _citywide_days(observations, metrics)
    city_targets = _target_list(targets, "")
    return _score_block(
        metrics, lambda m: (days.get(m.name, {}), (city_targets, [])), start, end, periods, cap, ""
    )


def reference_area_scores(
    observations: pd.DataFrame,
    metrics: pd.DataFrame,
    targets: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    periods: Mapping[str, int] = PERIODS,
    cap: float | None = None,
) -> list[dict[str, object]]:
    """The citywide rows (area "") and each area's rows, with an ``area`` key, by brute force."""
    out = [
        {"area": "", **row}
        for row in reference_scores(observations, metrics, targets, start, end, periods, cap)
    ]
    names = set(metrics["name"])
    area_rows = [r for r in _rows(observations) if r["area"] and r["metric"] in names]
    area_targets = [r for r in _rows(targets) if r["area"] and r["metric"] in names]
    areas = sorted({r["area"] for r in area_rows + area_targets})
    broken_down = {r["metric"] for r in area_rows + area_targets}
    area_metrics = metrics[metrics["name"].isin(broken_down)]
    city_targets = _target_list(targets, "")
    for area in areas:
        days = _days([r for r in area_rows if r["area"] == area], metrics)
        own = _target_list(targets, area)

        def inputs(metric, days=days, own=own):
            return days.get(metric.name, {}), (own, city_targets)

        rows = _score_block(area_metrics, inputs, start, end, periods, cap, area)
        out += [{"area": area, **row} for row in rows]
    out.sort(key=lambda r: (r["as_of"], r["area"] != "", r["area"]))  # stable: the engine's order
    return out


def _rows(frame: pd.DataFrame) -> list[dict]:
    """The frame's rows as dicts, with ``area`` "" where it is missing or empty."""
    rows = frame.to_dict("records")
    for row in rows:
        area = row.get("area")
        row["area"] = "" if area is None or pd.isna(area) else str(area)
    return rows


def _numbers(row: dict, kinds: dict[str, str]) -> tuple | None:
    """(value, numerator, denominator) of a row that has the numbers its metric needs, else None."""
    needed = ("numerator", "denominator") if kinds.get(row["metric"]) == "ratio" else ("value",)
    if any(pd.isna(row[k]) for k in needed):
        return None  # a row without its numbers is no data
    return (row["value"], row["numerator"], row["denominator"])


def _days(rows: list[dict], metrics: pd.DataFrame) -> dict[str, dict[dt.date, tuple]]:
    """metric -> {date: (value, numerator, denominator)} for the rows that have their numbers."""
    kinds = dict(zip(metrics["name"], metrics["kind"], strict=True))
    days: dict[str, dict[dt.date, tuple]] = {}
    for row in rows:
        numbers = _numbers(row, kinds)
        if numbers is not None:
            days.setdefault(row["metric"], {})[pd.Timestamp(row["date"]).date()] = numbers
    return days


def _citywide_days(
    observations: pd.DataFrame, metrics: pd.DataFrame
) -> dict[str, dict[dt.date, tuple]]:
    """Citywide days; a ratio or sum metric's day without a citywide row is the total of its areas."""
    rows = _rows(observations)
    days = _days([r for r in rows if not r["area"]], metrics)
    kinds = dict(zip(metrics["name"], metrics["kind"], strict=True))
    derivable = {
        m.name
        for m in metrics.itertuples(index=False)
        if m.kind == "ratio" or m.aggregation == "sum"
    }
    totals: dict[tuple[str, dt.date], list[float]] = {}
    for row in rows:
        numbers = _numbers(row, kinds)
        if not row["area"] or row["metric"] not in derivable or numbers is None:
            continue
        date = pd.Timestamp(row["date"]).date()
        if date in days.get(row["metric"], {}):
            continue  # a citywide row wins
        total = totals.setdefault((row["metric"], date), [0.0, 0.0, 0.0])
        if kinds[row["metric"]] == "ratio":
            total[1] += numbers[1]
            total[2] += numbers[2]
        else:
            total[0] += numbers[0]
    for (metric, date), (value, numerator, denominator) in totals.items():
        days.setdefault(metric, {})[date] = (value, numerator, denominator)
    return days


def _target_list(targets: pd.DataFrame, area: str) -> list[tuple[dt.date, str, float]]:
    return sorted(
        (pd.Timestamp(t["effective_from"]).date(), t["metric"], float(t["target"]))
        for t in _rows(targets)
        if t["area"] == area
    )


def _score_block(
    metrics: pd.DataFrame,
    inputs: Callable[[Any], tuple[dict, tuple[list, list]]],
    start: dt.date,
    end: dt.date,
    periods: Mapping[str, int],
    cap: float | None,
    area: str,
) -> list[dict[str, object]]:
    """Each as-of date and period: the weighted mean of the metrics' scores, then every metric.

    ``inputs(metric)`` gives the metric's days and its (own, city) target lists.
    """
    out = []
    day = start
    while day <= end:
        for period, length in periods.items():
            scored, rows = [], []
            for metric in metrics.itertuples(index=False):
                days, targets = inputs(metric)
                row = _score_one(metric, days, targets, day, length, area)
                if cap is not None and row["score"] is not None and row["score"] > cap:
                    row["score"] = cap
                rows.append({"as_of": day, "metric": metric.name, "period": period, **row})
                if row["score"] is not None:
                    scored.append((row["score"], float(metric.weight)))
            city = {"as_of": day, "metric": CITYWIDE, "period": period}
            out += [{**city, **_city(scored, len(metrics))}, *rows]
        day += dt.timedelta(days=1)
    return out


def _city(scored: list[tuple[float, float]], total: int) -> dict[str, object]:
    if not scored:
        return {"value": None, "target": None, "score": None, "note": NO_CITY_SCORE}
    score = sum(s * w for s, w in scored) / sum(w for _, w in scored)
    return {
        "value": None,
        "target": None,
        "score": score,
        "note": f"{len(scored)} of {total} metrics scored",
    }


def _daily_value(metric, obs: tuple) -> float | None:
    value, numerator, denominator = obs
    if metric.kind == "ratio":
        return numerator / denominator if denominator > 0 else None
    return value


def _score_one(
    metric, days: dict, targets: tuple[list, list], as_of: dt.date, length: int, area: str
) -> dict[str, Any]:
    # The target in effect is reported whenever it is known, even on a day that cannot be scored.
    target, target_note = _target(metric, days, targets, as_of, area)
    if target is not None and metric.kind == "value" and metric.aggregation == "sum":
        target = target * length
    value, value_note = _value(metric, days, as_of, length)
    note = value_note or target_note
    if note or value is None or target is None:  # (both are known when there is no note)
        return {"value": value, "target": target, "score": None, "note": AREA_NOTES[note]}
    if target <= 0:
        note = 5
    elif metric.trend and value == 0:
        note = 6
    elif metric.direction == "lower" and value == 0:
        note = 7
    if note:
        return {"value": value, "target": target, "score": None, "note": AREA_NOTES[note]}
    score = value / target if metric.direction == "higher" else target / value
    return {"value": value, "target": target, "score": score, "note": ""}


def _value(metric, days: dict, as_of: dt.date, length: int) -> tuple[float | None, int]:
    """(period value, note index or 0): no data -> 1, a ratio's denominators summing to 0 -> 2."""
    window = [as_of - dt.timedelta(days=k) for k in range(length)]
    present = [days[d] for d in window if d in days]
    if not present:
        return None, 1
    if metric.kind == "ratio":
        numerators = sum(p[1] for p in present)
        denominators = sum(p[2] for p in present)
        if denominators == 0:
            return None, 2
        return numerators / denominators, 0
    if metric.aggregation == "median":
        return statistics.median(p[0] for p in present), 0
    if metric.aggregation == "sum":
        return sum(p[0] for p in present), 0
    return sum(p[0] for p in present) / len(present), 0


def _target(
    metric, days: dict, targets: tuple[list, list], as_of: dt.date, area: str
) -> tuple[float | None, int]:
    """(daily target in effect on ``as_of``, note index or 0): none yet -> 3, short history -> 4.

    ``targets`` = (the area's own target list, the city's); an area without a target of its own in
    effect takes the city's, except for a sum metric (note 8).
    """
    if metric.baseline == "history":
        past = [as_of - dt.timedelta(days=k) for k in range(1, BASELINE_DAYS + 1)]
        values = [_daily_value(metric, days[d]) for d in past if d in days]
        history = [h for h in values if h is not None]
        if len(history) < BASELINE_MIN_DAYS:
            return None, 4
        mean, std = statistics.fmean(history), statistics.pstdev(history)
        return (mean - std if metric.direction == "higher" else mean + std), 0
    own, city = targets
    in_effect = [t for when, name, t in own if name == metric.name and when <= as_of]
    if in_effect:
        return in_effect[-1], 0
    if area and metric.kind == "value" and metric.aggregation == "sum":
        return None, AREA_NOTES.index(NO_AREA_TARGET)
    in_effect = (
        [t for when, name, t in city if name == metric.name and when <= as_of] if area else []
    )
    if not in_effect:
        return None, 3
    return in_effect[-1], 0
