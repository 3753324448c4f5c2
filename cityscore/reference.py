"""A slow, obviously-correct scoring reference: one date, one metric, one window at a time.

It exists to check the fast engine (``cityscore.score``) in tests and benchmarks. It reads the rules
straight from their wording and uses plain Python; do not optimise it.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping

import pandas as pd

from .catalog import BASELINE_DAYS, BASELINE_MIN_DAYS, CITYWIDE, PERIODS
from .score import NO_CITY_SCORE, NOTES


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
    kinds = dict(zip(metrics["name"], metrics["kind"], strict=True))
    days: dict[str, dict[dt.date, tuple]] = {}
    for row in observations.itertuples(index=False):
        numbers = (
            (row.numerator, row.denominator) if kinds.get(row.metric) == "ratio" else (row.value,)
        )
        if any(pd.isna(n) for n in numbers):
            continue  # a row without its numbers is no data
        date = pd.Timestamp(row.date).date()
        days.setdefault(row.metric, {})[date] = (row.value, row.numerator, row.denominator)
    target_list = sorted(
        (pd.Timestamp(t.effective_from).date(), t.metric, float(t.target))
        for t in targets.itertuples(index=False)
    )
    out = []
    day = start
    while day <= end:
        for period, length in periods.items():
            scored = []
            for metric in metrics.itertuples(index=False):
                row = _score_one(metric, days.get(metric.name, {}), target_list, day, length)
                if cap is not None and row["score"] is not None and row["score"] > cap:
                    row["score"] = cap
                out.append({"as_of": day, "metric": metric.name, "period": period, **row})
                if row["score"] is not None:
                    scored.append((row["score"], float(metric.weight)))
            out.append(
                {"as_of": day, "metric": CITYWIDE, "period": period, **_city(scored, len(metrics))}
            )
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
    metric, days: dict, target_list: list, as_of: dt.date, length: int
) -> dict[str, object]:
    # The target in effect is reported whenever it is known, even on a day that cannot be scored.
    target, target_note = _target(metric, days, target_list, as_of)
    if target is not None and metric.kind == "value" and metric.aggregation == "sum":
        target = target * length
    value, value_note = _value(metric, days, as_of, length)
    note = value_note or target_note
    if not note and target <= 0:
        note = 5
    if not note and metric.trend and value == 0:
        note = 6
    if not note and metric.direction == "lower" and value == 0:
        note = 7
    if note:
        return {"value": value, "target": target, "score": None, "note": NOTES[note]}
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


def _target(metric, days: dict, target_list: list, as_of: dt.date) -> tuple[float | None, int]:
    """(daily target in effect on ``as_of``, note index or 0): none yet -> 3, short history -> 4."""
    if metric.baseline == "history":
        past = [as_of - dt.timedelta(days=k) for k in range(1, BASELINE_DAYS + 1)]
        history = [_daily_value(metric, days[d]) for d in past if d in days]
        history = [h for h in history if h is not None]
        if len(history) < BASELINE_MIN_DAYS:
            return None, 4
        mean, std = statistics.fmean(history), statistics.pstdev(history)
        return (mean - std if metric.direction == "higher" else mean + std), 0
    in_effect = [t for when, name, t in target_list if name == metric.name and when <= as_of]
    if not in_effect:
        return None, 3
    return in_effect[-1], 0
