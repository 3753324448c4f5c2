"""Each period's window over the grid: its value, target, score and note; the weighted means."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from cityscore.engine.grid import Grid
from cityscore.engine.layout import Layout
from cityscore.engine.statuses import AREA_NOTES, NO_AREA_TARGET


def window_sum(x: np.ndarray, w: int, first: int) -> np.ndarray:
    """Sum of the last ``w`` rows (no data held as 0) for each row from ``first`` on.

    A direct sum per window, not a difference of running totals, so a window of zeros sums to exactly 0
    and a large value long ago cannot leak rounding error into today.
    """
    x = x[first - w + 1 :]
    if w == 1:
        return x.copy()
    return sliding_window_view(x, w, axis=0).sum(axis=-1)


def window_count(counts: np.ndarray, w: int, first: int) -> np.ndarray:
    """How many of the last ``w`` days had data, per row from ``first`` on, from running counts
    (exact integers, with a leading row of zeros)."""
    return counts[first + 1 :] - counts[first + 1 - w : len(counts) - w]


def daily_targets(
    grid: Grid, fixed_target: np.ndarray, base_target: np.ndarray, base_ok: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(daily target, note code of the target's reason for no score) for the output rows.

    Neither depends on the window: a period's target is the daily one times 1 or the window's days.
    """
    first = grid.lookback
    target = np.where(grid.history, base_target[first:], fixed_target[first:])
    no_target = ~grid.history & np.isnan(target)
    # (condition, note code), the first that holds wins.
    conditions = [
        (no_target & grid.area_sum, AREA_NOTES.index(NO_AREA_TARGET)),
        (no_target, 3),
        (grid.history & ~base_ok[first:], 4),
        (target <= 0, 5),
    ]
    note = np.zeros(target.shape, dtype=np.int16)
    for condition, code in reversed(conditions):
        note[condition] = code
    return target, note


def score_period(
    grid: Grid, w: int, daily_target: np.ndarray, target_note: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(value, target, score, note code) for one window length, for the output rows."""
    first = grid.lookback
    sums = grid.sums()
    count = window_count(sums.counts, w, first)
    total = window_sum(sums.primary, w, first)
    is_sum = grid.agg == "sum"
    den = window_sum(sums.denominator, w, first) if grid.is_ratio.any() else None
    # One division: sum / 1 (exactly the sum), sum / days with data, or numerators / denominators.
    divisor = np.where(is_sum, 1.0, count)
    if den is not None:
        divisor = np.where(grid.is_ratio, den, divisor)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.divide(total, divisor, out=total)
        median_cols = sums.median_cols
        if len(median_cols) and w > 1:
            rolled = pd.DataFrame(sums.median[first - w + 1 :]).rolling(w, min_periods=1)
            value[:, median_cols] = rolled.median().to_numpy()[w - 1 :]
        elif len(median_cols):
            value[:, median_cols] = sums.median[first:]
    no_data = count == 0
    value[no_data] = np.nan

    target = daily_target * np.where(is_sum, float(w), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(grid.higher, value / target, target / value)
    # The first reason that holds wins: no data, a zero denominator, the target's reasons, then a
    # zero value of a trend metric, then of a lower-is-better one.
    note = target_note.copy()
    zero = (value == 0) & (note == 0)
    if not grid.higher.all():
        note[zero & ~grid.higher] = 7
    if grid.trend.any():
        note[zero & grid.trend] = 6
    if den is not None:
        ratio_den_zero = grid.is_ratio & (den == 0)
        note[ratio_den_zero] = 2
        value[ratio_den_zero] = np.nan
    note[no_data] = 1
    score[note != 0] = np.nan
    return value, target, score, note


def group_means(scores: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """(weighted mean of the scores that exist, how many exist) for the city, then each area."""
    weights = layout.metrics["weight"].astype(float).to_numpy()
    results = []
    for first, size in zip(layout.group_positions + 1, layout.group_sizes, strict=True):
        cols = layout.column_metric[first : first + size]
        results.append(weighted_means(scores[:, first : first + size], weights[cols]))
    return np.stack([r[0] for r in results], axis=1), np.stack([r[1] for r in results], axis=1)


def weighted_means(scores: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(weighted mean of the scores that exist, how many exist) per row."""
    scored = ~np.isnan(scores)
    total_weight = scored @ weights
    weighted = np.where(scored, scores, 0.0) @ weights
    with np.errstate(divide="ignore", invalid="ignore"):
        city = np.where(total_weight > 0, weighted / total_weight, np.nan)
    return city, scored.sum(axis=1)
