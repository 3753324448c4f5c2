"""A slow, obviously-correct scoring reference: one date, one metric, one window at a time.

It exists to check the fast engine (``cityscore.engine.score``) in tests and benchmarks. It reads the rules
straight from their wording and uses plain Python; do not optimise it.

Areas: an observation or target whose ``area`` is not empty belongs to that area; every other one is
citywide.

Rates: a metric with ``per_residents`` has each day's value times ``per_residents`` / the residents
of the city (its own figure, else all its areas') or of the area; its target applies to every area.

Schedules: a day is a reporting day of ``daily`` always, of ``weekdays`` Monday to Friday, of
``business_days`` Monday to Friday unless closed, of ``weekly`` on Sundays and of ``monthly`` on the
month's last day; a weekly or monthly report is moved to that day of its week or month (several
added up, or averaged for mean and median metrics). A sum target counts the window's reporting
days; a window without one has no score. A metric is stale when its latest day with data in the
longest window is more than ``stale_after`` of its reporting days before the as-of date (weekly,
monthly: calendar days after the end of that week or month, where the report lies). Baselines:
``weekday`` is ``history`` over the same weekday of the past 52 weeks (13 needed); ``last_year`` is
the same window's value 364 days earlier.
"""

from __future__ import annotations

import calendar
import datetime as dt
import statistics
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cityscore.core.vocabulary import (
    BASELINE_DAYS,
    BASELINE_MIN_DAYS,
    CITYWIDE,
    LAST_YEAR_DAYS,
    PERIODS,
    STALE_AFTER_DEFAULTS,
    WEEKDAY_BASELINE_MIN_WEEKS,
    WEEKDAY_BASELINE_WEEKS,
)
from cityscore.engine.precision import settle_one
from cityscore.engine.statuses import (
    AREA_NOTES,
    NO_AREA_TARGET,
    NO_CITY_SCORE,
    NO_LAST_YEAR,
    NO_POPULATION,
    NO_REPORTING_DAY,
    NO_WEEKDAY_HISTORY,
    NOT_FINITE,
)


@dataclass(frozen=True)
class _Rules:
    """The options every score in one call shares."""

    periods: Mapping[str, int]
    cap: float | None
    closed: frozenset[dt.date] = frozenset()
    stale_metrics: frozenset[str] = frozenset()
    count_stale: bool = False


def _rules(periods, cap, closed, stale_metrics, count_stale) -> _Rules:
    days = frozenset(pd.Timestamp(d).date() for d in closed)
    return _Rules(periods, cap, days, frozenset(stale_metrics), count_stale)


def reference_scores(
    observations: pd.DataFrame,
    metrics: pd.DataFrame,
    targets: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    periods: Mapping[str, int] = PERIODS,
    cap: float | None = None,
    *,
    closed: Collection[object] = (),
    stale_metrics: Collection[str] = (),
    count_stale: bool = False,
    populations: Mapping[str, float | None] | None = None,
) -> list[dict[str, object]]:
    """Rows of (as_of, metric, period, value, target, score, note, stale) computed by brute force."""
    rules = _rules(periods, cap, closed, stale_metrics, count_stale)
    days = _citywide_days(observations, metrics)
    city_targets = _target_list(targets, "")
    metrics = metrics.assign(population=_residents(populations or {}, ""))
    return _score_block(
        metrics, lambda m: (days.get(m.name, {}), (city_targets, [])), start, end, rules, ""
    )


def _residents(populations: Mapping[str, float | None], area: str) -> float | None:
    """The people living in ``area``; the city's (``""``) own figure, else all its areas' together."""
    own = populations.get(area)
    if own is not None and own > 0:
        return float(own)
    if area:
        return None
    figures = [p for name, p in populations.items() if name]
    if figures and all(p is not None and p > 0 for p in figures):
        return float(sum(p for p in figures if p is not None))
    return None


def _per_resident(metric, days: dict) -> tuple[dict, bool]:
    """A rate's days per ``per_residents`` residents, and whether its population is missing."""
    per = getattr(metric, "per_residents", None)
    if per is None or pd.isna(per):
        return days, False
    people = getattr(metric, "population", None)
    if people is None or pd.isna(people):
        return days, True
    scaled = {d: (v * per / people, n, den) for d, (v, n, den) in days.items()}
    return scaled, False


def reference_area_scores(
    observations: pd.DataFrame,
    metrics: pd.DataFrame,
    targets: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    periods: Mapping[str, int] = PERIODS,
    cap: float | None = None,
    *,
    closed: Collection[object] = (),
    stale_metrics: Collection[str] = (),
    count_stale: bool = False,
    populations: Mapping[str, float | None] | None = None,
) -> list[dict[str, object]]:
    """The citywide rows (area "") and each area's rows, with an ``area`` key, by brute force."""
    rules = _rules(periods, cap, closed, stale_metrics, count_stale)
    out = [
        {"area": "", **row}
        for row in reference_scores(
            observations, metrics, targets, start, end, periods, cap, closed=closed,
            stale_metrics=stale_metrics, count_stale=count_stale, populations=populations,
        )
    ]  # fmt: skip
    names = set(metrics["name"])
    area_rows = [
        r for r in _placed(_rows(observations), metrics) if r["area"] and r["metric"] in names
    ]
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

        people = _residents(populations or {}, area)
        rows = _score_block(area_metrics.assign(population=people), inputs, start, end, rules, area)
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


def _schedule(metric) -> str:
    schedule = getattr(metric, "schedule", None)
    return schedule if isinstance(schedule, str) and schedule else "daily"


def _last_day(schedule: str, day: dt.date) -> dt.date:
    """The day a weekly or monthly report lands on: its week's Sunday, its month's last day."""
    if schedule == "weekly":
        return day + dt.timedelta(days=6 - day.weekday())
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _placed(rows: list[dict], metrics: pd.DataFrame) -> list[dict]:
    """The rows with each weekly or monthly report moved to its landing day, one per landing day."""
    by_name = {m.name: m for m in metrics.itertuples(index=False)}
    kinds = {name: m.kind for name, m in by_name.items()}
    out: list[dict] = []
    groups: dict[tuple[str, str, dt.date], list[tuple]] = {}
    for row in rows:
        metric = by_name.get(row["metric"])
        if metric is None or _schedule(metric) not in ("weekly", "monthly"):
            out.append(row)
            continue
        numbers = _numbers(row, kinds)
        if numbers is None:
            continue
        day = _last_day(_schedule(metric), pd.Timestamp(row["date"]).date())
        groups.setdefault((row["metric"], row["area"], day), []).append(numbers)
    for (name, area, day), reports in groups.items():
        metric = by_name[name]
        if metric.kind == "ratio":
            numbers = (float("nan"), sum(r[1] for r in reports), sum(r[2] for r in reports))
        elif metric.aggregation == "sum":
            numbers = (sum(r[0] for r in reports), float("nan"), float("nan"))
        else:
            numbers = (statistics.fmean(r[0] for r in reports), float("nan"), float("nan"))
        value, numerator, denominator = numbers
        out.append(
            {"metric": name, "area": area, "date": day, "value": value,
             "numerator": numerator, "denominator": denominator}
        )  # fmt: skip
    return out


def _reporting(schedule: str, day: dt.date, closed: frozenset[dt.date]) -> bool:
    if schedule == "weekly":
        return day.weekday() == 6
    if schedule == "monthly":
        return (day + dt.timedelta(days=1)).day == 1
    if schedule == "weekdays":
        return day.weekday() < 5
    if schedule == "business_days":
        return day.weekday() < 5 and day not in closed
    return True


def _stale(metric, days: dict, as_of: dt.date, rules: _Rules) -> bool:
    """Named stale, or its latest day with data in the longest window is too old."""
    if metric.name in rules.stale_metrics:
        return True
    longest = max(rules.periods.values())
    recent = [d for d in days if as_of - dt.timedelta(days=longest - 1) <= d <= as_of]
    if not recent:
        return False
    last, schedule = max(recent), _schedule(metric)
    limit = getattr(metric, "stale_after", None)
    if limit is None or pd.isna(limit):
        limit = STALE_AFTER_DEFAULTS[schedule]
    if schedule in ("weekly", "monthly"):  # ``last`` is the end of the week or month reported
        age = (as_of - last).days
    else:
        age = sum(
            _reporting(schedule, last + dt.timedelta(days=k), rules.closed)
            for k in range(1, (as_of - last).days + 1)
        )
    return age > float(limit)


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
    rows = _placed(_rows(observations), metrics)
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
    rules: _Rules,
    area: str,
) -> list[dict[str, object]]:
    """Each as-of date and period: the weighted mean of the metrics' scores, then every metric.

    ``inputs(metric)`` gives the metric's days and its (own, city) target lists. Stale metrics
    count in the mean only with ``rules.count_stale``.
    """
    out = []
    day = start
    cap = rules.cap
    while day <= end:
        for period, length in rules.periods.items():
            scored, rows = [], []
            for metric in metrics.itertuples(index=False):
                days, targets = inputs(metric)
                row = _score_one(metric, days, targets, day, length, area, rules.closed)
                if cap is not None and row["score"] is not None and row["score"] > cap:
                    row["score"] = cap
                row["stale"] = _stale(metric, days, day, rules)
                rows.append({"as_of": day, "metric": metric.name, "period": period, **row})
                if row["score"] is not None and (rules.count_stale or not row["stale"]):
                    scored.append((row["score"], float(metric.weight)))
            city = {"as_of": day, "metric": CITYWIDE, "period": period, "stale": False}
            out += [{**city, **_city(scored, len(metrics))}, *rows]
        day += dt.timedelta(days=1)
    return out


def _city(scored: list[tuple[float, float]], total: int) -> dict[str, object]:
    if not scored:
        return {"value": None, "target": None, "score": None, "note": NO_CITY_SCORE}
    score = settle_one(sum(s * w for s, w in scored) / sum(w for _, w in scored))
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
    metric,
    days: dict,
    targets: tuple[list, list],
    as_of: dt.date,
    length: int,
    area: str,
    closed: frozenset[dt.date] = frozenset(),
) -> dict[str, Any]:
    # The target in effect is reported whenever it is known, even on a day that cannot be scored.
    days, unpopulated = _per_resident(metric, days)
    window = [as_of - dt.timedelta(days=k) for k in range(length)]
    reporting = [d for d in window if _reporting(_schedule(metric), d, closed)]
    if metric.baseline == "last_year":
        target, target_note = _last_year(metric, days, as_of, length)
    else:
        target, target_note = _target(metric, days, targets, as_of, area)
        if target is not None and metric.kind == "value" and metric.aggregation == "sum":
            target = target * len(reporting)  # a sum target is per reporting day
    value, value_note = _value(metric, days, as_of, length)
    if unpopulated:  # a rate with no one to divide by: no value, no score, no past of its own
        note = 1 if value is None else AREA_NOTES.index(NO_POPULATION)
        target = target if metric.baseline == "target" else None
        return {"value": None, "target": target, "score": None, "note": AREA_NOTES[note]}
    if not reporting:
        note = AREA_NOTES.index(NO_REPORTING_DAY)
        return {"value": value, "target": target, "score": None, "note": AREA_NOTES[note]}
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
    score = settle_one(value / target if metric.direction == "higher" else target / value)
    return {
        "value": value,
        "target": target,
        "score": score,
        "note": "" if score is not None else NOT_FINITE,
    }


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
    if metric.baseline in ("history", "weekday"):
        if metric.baseline == "history":
            past = [as_of - dt.timedelta(days=k) for k in range(1, BASELINE_DAYS + 1)]
            needed, short = BASELINE_MIN_DAYS, 4
        else:  # the same weekday in the weeks before
            past = [as_of - dt.timedelta(weeks=k) for k in range(1, WEEKDAY_BASELINE_WEEKS + 1)]
            needed, short = WEEKDAY_BASELINE_MIN_WEEKS, AREA_NOTES.index(NO_WEEKDAY_HISTORY)
        values = [_daily_value(metric, days[d]) for d in past if d in days]
        history = [h for h in values if h is not None]
        if len(history) < needed:
            return None, short
        mean, std = statistics.fmean(history), statistics.pstdev(history)
        return (mean - std if metric.direction == "higher" else mean + std), 0
    own, city = targets
    in_effect = [t for when, name, t in own if name == metric.name and when <= as_of]
    if in_effect:
        return in_effect[-1], 0
    rate = not pd.isna(getattr(metric, "per_residents", None))  # a rate's target is every area's
    if area and metric.kind == "value" and metric.aggregation == "sum" and not rate:
        return None, AREA_NOTES.index(NO_AREA_TARGET)
    in_effect = (
        [t for when, name, t in city if name == metric.name and when <= as_of] if area else []
    )
    if not in_effect:
        return None, 3
    return in_effect[-1], 0


def _last_year(metric, days: dict, as_of: dt.date, length: int) -> tuple[float | None, int]:
    """(the same window's value 52 weeks earlier as the target, note index or 0)."""
    before, _ = _value(metric, days, as_of - dt.timedelta(days=LAST_YEAR_DAYS), length)
    if before is None:
        return None, AREA_NOTES.index(NO_LAST_YEAR)
    return before, 0
