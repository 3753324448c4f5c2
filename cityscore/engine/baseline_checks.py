"""Baseline metrics that can never be scored, found in a score frame, with the reason in words."""

from __future__ import annotations

import pandas as pd

from cityscore.core.vocabulary import HISTORY_BASELINES
from cityscore.engine.statuses import NOTES

BASELINE_NOT_POSITIVE = NOTES[5]

# What each baseline is, as a reader needs it to see why it is never above 0.
_RULES = {
    "history": "the mean {sign} one standard deviation of the past year's daily values",
    "weekday": "the mean {sign} one standard deviation of the same weekday's values",
    "last_year": "the same window's value a year earlier",
}


def never_scored(scores: pd.DataFrame, metrics: pd.DataFrame) -> dict[str, str]:
    """metric -> a sentence saying why, for each metric with a baseline from its own past that has
    no score in any row of ``scores`` while some row says its baseline target is not above 0."""
    rows = scores.assign(metric=scores["metric"].astype(str), note=scores["note"].astype(str))
    out = {}
    for metric in metrics.itertuples(index=False):
        if metric.baseline not in HISTORY_BASELINES:
            continue
        mine = rows[rows["metric"] == metric.name]
        if mine.empty or mine["score"].notna().any():
            continue
        if not (mine["note"] == BASELINE_NOT_POSITIVE).any():
            continue
        sign = "minus" if metric.direction == "higher" else "plus"
        rule = _RULES[metric.baseline].format(sign=sign)
        out[metric.name] = (
            f"{metric.name!r} can never be scored: its {metric.baseline} baseline ({rule}) is not "
            "above 0 on any recent day with enough history, as its values are often 0 or below "
            "(a net change). Give it a fixed target, or a baseline that fits "
            "(docs/methodology.md, section 13)"
        )
    return out
