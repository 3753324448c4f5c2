"""Each period's window over the grid: its value, target, score and note; the weighted means."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from cityscore.core.vocabulary import LAST_YEAR_DAYS
from cityscore.engine.grid import Grid
from cityscore.engine.layout import Layout
from cityscore.engine.precision import settle
from cityscore.engine.statuses import (
    AREA_NOTES,
    NO_AREA_TARGET,
    NO_LAST_YEAR,
    NO_REPORTING_DAY,
    NO_WEEKDAY_HISTORY,
    NOT_FINITE,
)

NOT_REPORTING = AREA_NOTES.index(NO_REPORTING_DAY)


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
    target = np.where(grid.own_past, base_target[first:], fixed_target[first:])
    no_target = ~grid.own_past & np.isnan(target)
    # (condition, note code), the first that holds wins. A ``last_year`` target is the window's own.
    conditions = [
        (no_target & grid.area_sum, AREA_NOTES.index(NO_AREA_TARGET)),
        (no_target, 3),
        (grid.history & ~base_ok[first:], 4),
        (grid.weekday & ~base_ok[first:], AREA_NOTES.index(NO_WEEKDAY_HISTORY)),
        (target <= 0, 5),
    ]
    note = np.zeros(target.shape, dtype=np.int16)
    for condition, code in reversed(conditions):
        note[condition] = code
    return target, note


def window_values(
    grid: Grid, w: int, first: int, stop: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(value, days with data, denominator total or None) of the ``w``-day windows ending on grid
    rows ``first`` to ``stop - 1``."""
    sums = grid.sums()
    count = window_count(sums.counts[: stop + 1], w, first)
    total = window_sum(sums.primary[:stop], w, first)
    is_sum = grid.agg == "sum"
    den = window_sum(sums.denominator[:stop], w, first) if grid.is_ratio.any() else None
    # One division: sum / 1 (exactly the sum), sum / days with data, or numerators / denominators.
    divisor = np.where(is_sum, 1.0, count)
    if den is not None:
        divisor = np.where(grid.is_ratio, den, divisor)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.divide(total, divisor, out=total)
        median_cols = sums.median_cols
        if len(median_cols) and w > 1:
            rolled = pd.DataFrame(sums.median[first - w + 1 : stop]).rolling(w, min_periods=1)
            value[:, median_cols] = rolled.median().to_numpy()[w - 1 :]
        elif len(median_cols):
            value[:, median_cols] = sums.median[first:stop]
    value[count == 0] = np.nan
    if den is not None:
        value[grid.is_ratio & (den == 0)] = np.nan
    return value, count, den


def score_period(
    grid: Grid, w: int, daily_target: np.ndarray, target_note: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(value, target, score, note code) for one window length, for the output rows."""
    first = grid.lookback
    value, count, den = window_values(grid, w, first, grid.n)
    is_sum = grid.agg == "sum"
    # A sum target is per reporting day: times the reporting days the window holds.
    held = grid.reporting_windows(w) if grid.scheduled else None
    days = float(w) if held is None else held
    target = daily_target * np.where(is_sum, days, 1.0)
    note = target_note.copy()
    if grid.last_year.any():
        _last_year_targets(grid, w, target, note)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = settle(np.where(grid.higher, value / target, target / value))  # float noise off
    # The first reason that holds wins: not a reporting day, no data, a zero denominator, the
    # target's reasons, then a zero value of a trend metric, then of a lower-is-better one.
    zero = (value == 0) & (note == 0)
    if not grid.higher.all():
        note[zero & ~grid.higher] = 7
    if grid.trend.any():
        note[zero & grid.trend] = 6
    if den is not None:
        note[grid.is_ratio & (den == 0)] = 2
    note[count == 0] = 1
    note[(note == 0) & np.isnan(score)] = AREA_NOTES.index(NOT_FINITE)  # (settle: inf is NaN)
    if held is not None:
        note[held == 0] = NOT_REPORTING
    score[note != 0] = np.nan
    return value, target, score, note


def _last_year_targets(grid: Grid, w: int, target: np.ndarray, note: np.ndarray) -> None:
    """A ``last_year`` column's target: the same window's value 52 weeks earlier (in place)."""
    cols = grid.last_year
    first = grid.lookback - LAST_YEAR_DAYS
    before, _, _ = window_values(grid, w, first, grid.n - LAST_YEAR_DAYS)
    target[:, cols] = before[:, cols]
    reason = np.where(np.isnan(before), AREA_NOTES.index(NO_LAST_YEAR), 0)
    reason = np.where(before <= 0, 5, reason)
    note[:, cols] = np.where(note[:, cols] == 0, reason[:, cols], note[:, cols])


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
        city = settle(np.where(total_weight > 0, weighted / total_weight, np.nan))
    return city, scored.sum(axis=1)
