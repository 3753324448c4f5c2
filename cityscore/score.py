"""The scoring engine: pure functions, DataFrame in, DataFrame out, no I/O.

``score_range`` lays the observations on a dense (days x metrics) grid and computes every window with
array operations, so scoring ten years of two thousand metrics is a matter of seconds. The rules are in
``docs``/README; ``cityscore.reference`` holds a slow, obviously-correct per-date version used by tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from .catalog import (
    BASELINE_DAYS,
    BASELINE_MIN_DAYS,
    CITYWIDE,
    PERIODS,
    check_metrics,
    check_targets,
)
from .config import DEFAULT_BANDS, Bands
from .errors import ConfigError

SCORE_COLUMNS = ["as_of", "metric", "period", "value", "target", "score", "status", "note"]
STATUSES = ["meeting", "near", "below"]

# Why a metric has no score; the first that applies wins (index 0 means "scored").
NOTES = [
    "",
    "no data in the window",
    "denominator total is 0 in the window",
    "no target in effect on this date",
    f"not enough history for a baseline (needs {BASELINE_MIN_DAYS} days in the {BASELINE_DAYS} before)",
    "baseline target is not above 0",
    "value is 0 for a trend metric",
    "value is 0 for a lower-is-better metric",
]
NO_CITY_SCORE = "no metric has a score"

DateLike = dt.date | str | pd.Timestamp


def as_date(value: DateLike) -> pd.Timestamp:
    """A midnight Timestamp from a date, ISO string or Timestamp; a clear error otherwise."""
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        msg = f"not a date: {value!r}; use YYYY-MM-DD"
        raise ConfigError(msg) from None
    if pd.isna(stamp):
        msg = f"not a date: {value!r}; use YYYY-MM-DD"
        raise ConfigError(msg)
    return stamp.normalize()


def score_date(
    observations: pd.DataFrame,
    metrics: pd.DataFrame,
    targets: pd.DataFrame,
    as_of: DateLike,
    *,
    bands: Bands = DEFAULT_BANDS,
    periods: Mapping[str, int] = PERIODS,
    cap: float | None = None,
) -> pd.DataFrame:
    """Scores of every metric and the citywide CityScore for one as-of date."""
    return score_range(
        observations, metrics, targets, as_of, as_of, bands=bands, periods=periods, cap=cap
    )


def score_range(
    observations: pd.DataFrame,
    metrics: pd.DataFrame,
    targets: pd.DataFrame,
    start: DateLike,
    end: DateLike,
    *,
    bands: Bands = DEFAULT_BANDS,
    periods: Mapping[str, int] = PERIODS,
    cap: float | None = None,
) -> pd.DataFrame:
    """Scores for every as-of date from ``start`` to ``end`` inclusive.

    Parameters
    ----------
    observations
        ``metric, date, value, numerator, denominator`` (value metrics fill ``value``, ratio metrics the
        other two). Rows for metrics not in ``metrics`` are ignored.
    metrics
        The catalog frame (see ``cityscore.catalog``).
    targets
        ``metric, effective_from, target``: each target applies from its date until the next one.
    cap
        No cap by default; a number caps each metric's score (so one metric far above its target
        cannot carry the CityScore).

    Returns
    -------
    DataFrame with ``SCORE_COLUMNS``: per as-of date, the ``CityScore`` rows first, then each metric in
    catalog order, each with one row per period. ``score`` is NaN where there is no score and ``note``
    says why; for citywide rows the note says how many metrics were scored.
    """
    start, end = as_date(start), as_date(end)
    if end < start:
        msg = f"the range ends ({end.date()}) before it starts ({start.date()})"
        raise ConfigError(msg)
    check_metrics(metrics)
    check_targets(targets)
    _check_periods(periods)
    if cap is not None and not cap > 0:
        msg = f"a score cap must be a number above 0 (e.g. 1.5), or None for no cap; got {cap!r}"
        raise ConfigError(msg)
    # The grid reaches back far enough for the baseline year and for the longest window.
    lookback = max(BASELINE_DAYS, max(periods.values()) - 1)
    grid = _Grid(observations, metrics, start, end, lookback)
    fixed_target = grid.fixed_targets(targets)
    base_target, base_ok = grid.baselines()
    period_names = list(periods)
    shape = (grid.n_out, grid.m + 1, len(period_names))
    values, target_out, scores = (
        np.full(shape, np.nan),
        np.full(shape, np.nan),
        np.full(shape, np.nan),
    )
    notes = np.zeros(shape, dtype=np.int16)
    for p, name in enumerate(period_names):
        v, t, s, note = _score_period(grid, periods[name], fixed_target, base_target, base_ok)
        if cap is not None:
            s = np.minimum(s, cap)  # NaN (no score) stays NaN
        values[:, 1:, p], target_out[:, 1:, p], scores[:, 1:, p], notes[:, 1:, p] = v, t, s, note
        city, n_scored = _citywide(s, grid.weights)
        scores[:, 0, p] = city
        notes[:, 0, p] = len(NOTES) + n_scored
    city_notes = [NO_CITY_SCORE] + [f"{k} of {grid.m} metrics scored" for k in range(1, grid.m + 1)]
    return _assemble(
        grid, period_names, values, target_out, scores, notes, NOTES + city_notes, bands
    )


def _check_periods(periods: Mapping[str, int]) -> None:
    bad = {
        name: days
        for name, days in periods.items()
        if not isinstance(days, (int, np.integer)) or days < 1
    }
    if not periods or bad:
        msg = f"periods map a name to a window of 1 or more whole days, e.g. {PERIODS}; got {dict(periods)}"
        raise ConfigError(msg)


class _Grid:
    """Observations on a dense grid: rows are days from ``start - lookback`` to ``end``, columns metrics."""

    def __init__(
        self,
        observations: pd.DataFrame,
        metrics: pd.DataFrame,
        start: pd.Timestamp,
        end: pd.Timestamp,
        lookback: int = BASELINE_DAYS,
    ) -> None:
        self.metrics = metrics.reset_index(drop=True)
        self.names = self.metrics["name"].tolist()
        self.m = len(self.names)
        self.lookback = lookback
        self.origin = start - pd.Timedelta(days=self.lookback)
        self.n = (end - self.origin).days + 1
        self.n_out = (end - start).days + 1
        self.out_dates = pd.date_range(start, end, freq="D")
        self.is_ratio = (self.metrics["kind"] == "ratio").to_numpy()
        self.higher = (self.metrics["direction"] == "higher").to_numpy()
        self.trend = self.metrics["trend"].astype(bool).to_numpy()
        self.history = (self.metrics["baseline"] == "history").to_numpy()
        # Ratio metrics are always sum(numerators) / sum(denominators): their aggregation is ignored.
        self.agg = np.where(self.is_ratio, "", self.metrics["aggregation"].fillna("").astype(str))
        self.weights = self.metrics["weight"].astype(float).to_numpy()
        self._fill(observations, end)

    def _fill(self, observations: pd.DataFrame, end: pd.Timestamp) -> None:
        obs = observations
        dates = pd.to_datetime(obs["date"])
        # Before the day after ``end``, so a reading with a time of day on ``end`` still counts.
        keep = (dates >= self.origin) & (dates < end + pd.Timedelta(days=1))
        codes = pd.Index(self.names).get_indexer(obs["metric"][keep])
        rows = (dates[keep] - self.origin).dt.days.to_numpy()
        ok = codes >= 0
        rows, cols = rows[ok], codes[ok]
        self.primary = np.full((self.n, self.m), np.nan)  # value, or numerator for ratio metrics
        self.denominator = np.full((self.n, self.m), np.nan)
        value = obs["value"][keep].to_numpy(dtype=float)[ok]
        numerator = obs["numerator"][keep].to_numpy(dtype=float)[ok]
        denominator = obs["denominator"][keep].to_numpy(dtype=float)[ok]
        ratio_cell = self.is_ratio[cols]
        self.primary[rows, cols] = np.where(ratio_cell, numerator, value)
        self.denominator[rows, cols] = np.where(ratio_cell, denominator, np.nan)
        present = ~np.isnan(self.primary)
        present[:, self.is_ratio] &= ~np.isnan(self.denominator[:, self.is_ratio])
        self.present = present

    def daily(self) -> np.ndarray:
        """Each day's own value: the value, or numerator/denominator for ratio metrics."""
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(self.denominator > 0, self.primary / self.denominator, np.nan)
        out = np.where(self.is_ratio, ratio, self.primary)
        out[~self.present] = np.nan
        return out

    def fixed_targets(self, targets: pd.DataFrame) -> np.ndarray:
        """The fixed target in effect on each grid day (NaN before a metric's first target)."""
        wide = np.full((self.n, self.m), np.nan)
        if len(targets):
            t = targets.assign(effective_from=pd.to_datetime(targets["effective_from"]))
            t = t.sort_values("effective_from", kind="stable")
            t = t[t["effective_from"] < self.origin + pd.Timedelta(days=self.n)]
            cols = pd.Index(self.names).get_indexer(t["metric"])
            rows = np.maximum((t["effective_from"] - self.origin).dt.days.to_numpy(), 0)
            ok = cols >= 0
            # Sorted by date, so where several targets clip to row 0 the latest one wins.
            wide[rows[ok], cols[ok]] = t["target"].to_numpy(dtype=float)[ok]
            wide = pd.DataFrame(wide).ffill().to_numpy(copy=True)
        wide[:, self.history] = np.nan
        return wide

    def baselines(self) -> tuple[np.ndarray, np.ndarray]:
        """(daily baseline target, enough history) from the 365 days before each day.

        Target = mean - std (higher is better) or mean + std (lower is better), population std.
        """
        target = np.full((self.n, self.m), np.nan)
        enough = np.zeros((self.n, self.m), dtype=bool)
        cols = np.flatnonzero(self.history)
        if len(cols):
            series = pd.DataFrame(self.daily()[:, cols])
            rolling = series.rolling(BASELINE_DAYS, min_periods=BASELINE_MIN_DAYS)
            mean = rolling.mean().shift(1).to_numpy()
            std = rolling.std(ddof=0).shift(1).to_numpy()
            sign = np.where(self.higher[cols], -1.0, 1.0)
            target[:, cols] = mean + sign * std
            enough[:, cols] = ~np.isnan(mean)
        return target, enough


def _window_sum(x: np.ndarray, w: int, first: int) -> np.ndarray:
    """Sum of the last ``w`` rows (NaN counted as 0) for each row from ``first`` on.

    A direct sum per window, not a difference of running totals, so a window of zeros sums to exactly 0
    and a large value long ago cannot leak rounding error into today.
    """
    x = np.nan_to_num(x[first - w + 1 :], nan=0.0)
    if w == 1:
        return x
    return sliding_window_view(x, w, axis=0).sum(axis=-1)


def _window_count(present: np.ndarray, w: int, first: int) -> np.ndarray:
    """How many of the last ``w`` days had data, per row from ``first`` on (exact integer running sums)."""
    counts = np.concatenate([np.zeros((1, present.shape[1]), np.int64), present.cumsum(axis=0)])
    return counts[first + 1 :] - counts[first + 1 - w : len(counts) - w]


def _score_period(
    grid: _Grid, w: int, fixed_target: np.ndarray, base_target: np.ndarray, base_ok: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(value, target, score, note code) for one window length, for the output rows."""
    first = grid.lookback
    count = _window_count(grid.present, w, first)
    primary = np.where(grid.present, grid.primary, np.nan)
    total = _window_sum(primary, w, first)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(grid.agg == "sum", total, total / count)
        if grid.is_ratio.any():
            den = _window_sum(np.where(grid.present, grid.denominator, np.nan), w, first)
            value = np.where(grid.is_ratio, total / den, value)
        else:
            den = np.ones_like(total)
        median_cols = np.flatnonzero(grid.agg == "median")
        if len(median_cols) and w > 1:
            rolled = pd.DataFrame(primary[first - w + 1 :, median_cols]).rolling(w, min_periods=1)
            value[:, median_cols] = rolled.median().to_numpy()[w - 1 :]
        elif len(median_cols):
            value[:, median_cols] = primary[first:, median_cols]
    value[count == 0] = np.nan

    scale = np.where(grid.agg == "sum", float(w), 1.0)
    target = np.where(grid.history, base_target[first:], fixed_target[first:]) * scale
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(grid.higher, value / target, target / value)
    ratio_den_zero = grid.is_ratio & (den == 0)
    conditions = [
        count == 0,
        ratio_den_zero,
        ~grid.history & np.isnan(target),
        grid.history & ~base_ok[first:],
        target <= 0,
        grid.trend & (value == 0),
        ~grid.higher & (value == 0),
    ]
    note = np.select(conditions, np.arange(1, len(conditions) + 1), 0).astype(np.int16)
    score[note != 0] = np.nan
    value[ratio_den_zero] = np.nan
    return value, target, score, note


def _citywide(scores: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(weighted mean of the scores that exist, how many exist) per row."""
    scored = ~np.isnan(scores)
    total_weight = scored @ weights
    weighted = np.where(scored, scores, 0.0) @ weights
    with np.errstate(divide="ignore", invalid="ignore"):
        city = np.where(total_weight > 0, weighted / total_weight, np.nan)
    return city, scored.sum(axis=1)


def status_codes(scores: np.ndarray, bands: Bands) -> np.ndarray:
    """Index into ``STATUSES`` per score (-1 where there is no score)."""
    # Band by band in int8: np.select would build an int64 array and three full-size masks at once.
    codes = np.full(scores.shape, -1, dtype=np.int8)
    codes[scores < bands.near] = 2
    codes[scores >= bands.near] = 1
    codes[scores >= bands.meeting] = 0
    return codes


def _assemble(
    grid: _Grid,
    period_names: list[str],
    values: np.ndarray,
    targets: np.ndarray,
    scores: np.ndarray,
    notes: np.ndarray,
    note_texts: list[str],
    bands: Bands,
) -> pd.DataFrame:
    n_out, width, n_periods = scores.shape
    per_date = width * n_periods
    # Small code dtypes, and no copy of the value arrays: at 2,000 metrics x 10 years the frame has
    # 29 M rows, and int64 codes plus copied columns added 1.3 GB to the peak.
    metric_codes = np.tile(np.repeat(np.arange(width, dtype=np.int32), n_periods), n_out)
    period_codes = np.tile(np.arange(n_periods, dtype=np.int8), n_out * width)
    flat_scores = scores.ravel()
    return pd.DataFrame(
        {
            "as_of": np.repeat(grid.out_dates.values, per_date),
            "metric": pd.Categorical.from_codes(metric_codes, categories=[CITYWIDE, *grid.names]),
            "period": pd.Categorical.from_codes(
                period_codes, categories=period_names, ordered=True
            ),
            "value": values.ravel(),
            "target": targets.ravel(),
            "score": flat_scores,
            "status": pd.Categorical.from_codes(
                status_codes(flat_scores, bands), categories=STATUSES
            ),
            "note": pd.Categorical.from_codes(notes.ravel(), categories=note_texts),
        },
        copy=False,
    )
