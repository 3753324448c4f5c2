"""Observations on a dense days x columns grid: citywide totals from areas, targets, baselines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cityscore.core.vocabulary import (
    BASELINE_DAYS,
    BASELINE_MIN_DAYS,
    HISTORY_BASELINES,
    SCHEDULES,
    WEEKDAY_BASELINE_MIN_WEEKS,
    WEEKDAY_BASELINE_WEEKS,
)
from cityscore.engine.layout import Layout, area_positions, label_positions
from cityscore.engine.schedules import (
    DAILY,
    freshness_axes,
    reporting_days,
    schedules_of,
    stale_limits,
)


@dataclass(frozen=True)
class GridSums:
    """The grid's numbers as the windows read them: no data as 0 (NaN for medians), running counts."""

    primary: np.ndarray
    denominator: np.ndarray
    counts: np.ndarray
    median_cols: np.ndarray
    median: np.ndarray


class Grid:
    """Observations on a dense grid: rows are days from ``start - lookback`` to ``end``, columns are
    the layout's (metric, area) pairs, citywide first."""

    def __init__(
        self,
        layout: Layout,
        start: pd.Timestamp,
        end: pd.Timestamp,
        lookback: int = BASELINE_DAYS,
        closed: np.ndarray | None = None,
    ) -> None:
        self.layout = layout
        self.metrics = layout.metrics
        self.names = self.metrics["name"].tolist()
        self.m = len(self.names)
        self.lookback = lookback
        self.end = end
        self.origin = start - pd.Timedelta(days=self.lookback)
        self.n = (end - self.origin).days + 1
        self.n_out = (end - start).days + 1
        self.out_dates = pd.date_range(start, end, freq="D")
        self.dates = pd.date_range(self.origin, end, freq="D")
        self.closed = closed if closed is not None else np.array([], dtype="datetime64[D]")
        # Per column; a CityScore column (-1) reads the pad: a mean metric with no data.
        col = layout.column_metric
        self.col_metric = col
        is_ratio = (self.metrics["kind"] == "ratio").to_numpy()
        # Ratio metrics are always sum(numerators) / sum(denominators): their aggregation is ignored.
        agg = np.where(is_ratio, "", self.metrics["aggregation"].fillna("").astype(str))
        self.is_ratio = np.append(is_ratio, False)[col]
        self.agg = np.append(agg, "mean")[col]
        self.higher = np.append((self.metrics["direction"] == "higher").to_numpy(), True)[col]
        self.trend = np.append(self.metrics["trend"].astype(bool).to_numpy(), False)[col]
        baseline = self.metrics["baseline"]
        self.history = np.append((baseline == "history").to_numpy(), False)[col]
        self.weekday = np.append((baseline == "weekday").to_numpy(), False)[col]
        self.last_year = np.append((baseline == "last_year").to_numpy(), False)[col]
        # Scored against its own past, not a fixed target.
        self.own_past = np.append(baseline.isin(HISTORY_BASELINES).to_numpy(), False)[col]
        codes = schedules_of(self.metrics).map(SCHEDULES.index).to_numpy(dtype=np.intp)
        self.schedule = np.append(codes, DAILY)[col]
        self.scheduled = bool((self.schedule != DAILY).any())
        self.stale_after = np.append(stale_limits(self.metrics), np.inf)[col]
        # A city's target for a count is no area's target: area sum columns need one of their own.
        self.area_sum = (layout.column_area >= 0) & (self.agg == "sum")
        self.city = slice(1, 1 + self.m)  # the catalog metrics' citywide columns
        self._sums: GridSums | None = None
        # Citywide values an area total can stand in for: ratios and sums.
        self.derivable = is_ratio | (agg == "sum")

    def fill(self, observations: pd.DataFrame) -> None:
        obs = observations
        dates = pd.to_datetime(obs["date"])
        # Before the day after ``end``, so a reading with a time of day on ``end`` still counts.
        keep = ((dates >= self.origin) & (dates < self.end + pd.Timedelta(days=1))).to_numpy()
        metric = label_positions(obs["metric"][keep], self.names)
        area = area_positions(obs[keep], self.layout.areas)
        rows = (dates[keep] - self.origin).dt.days.to_numpy()
        ok = metric >= 0
        rows, metric, area = rows[ok], metric[ok], area[ok]
        value = obs["value"][keep].to_numpy(dtype=float)[ok]
        numerator = obs["numerator"][keep].to_numpy(dtype=float)[ok]
        denominator = obs["denominator"][keep].to_numpy(dtype=float)[ok]
        ratio_row = (self.metrics["kind"] == "ratio").to_numpy()[metric]
        primary = np.where(ratio_row, numerator, value)
        denominator = np.where(ratio_row, denominator, np.nan)
        row_present = ~np.isnan(primary) & (~ratio_row | ~np.isnan(denominator))

        cols = self.layout.pair_columns(metric, area)
        placed = cols >= 0
        k = self.layout.width
        self.primary = np.full((self.n, k), np.nan)  # value, or numerator for ratio metrics
        self.denominator = np.full((self.n, k), np.nan)
        self.primary[rows[placed], cols[placed]] = primary[placed]
        self.denominator[rows[placed], cols[placed]] = denominator[placed]
        # Elementwise over every column (no gather of the ratio columns): a ratio needs both numbers.
        self.present = ~np.isnan(self.primary) & (~self.is_ratio | ~np.isnan(self.denominator))
        self._derive_citywide(rows, metric, area, primary, denominator, row_present)

    def _derive_citywide(
        self,
        rows: np.ndarray,
        metric: np.ndarray,
        area: np.ndarray,
        primary: np.ndarray,
        denominator: np.ndarray,
        row_present: np.ndarray,
    ) -> None:
        """A ratio or sum metric's citywide day without a citywide row: the total of its area rows."""
        use = (area >= 0) & row_present & self.derivable[metric]
        if not use.any():
            return
        flat = rows[use] * self.m + metric[use]
        size = self.n * self.m
        count = np.bincount(flat, minlength=size).reshape(self.n, self.m)
        total = np.bincount(flat, weights=primary[use], minlength=size).reshape(self.n, self.m)
        den = np.nan_to_num(denominator[use])
        den_total = np.bincount(flat, weights=den, minlength=size).reshape(self.n, self.m)
        city = self.city
        derive = (count > 0) & ~self.present[:, city]
        self.primary[:, city][derive] = total[derive]
        ratio = derive & self.is_ratio[city]
        self.denominator[:, city][ratio] = den_total[ratio]
        self.present[:, city] |= derive

    def sums(self) -> GridSums:
        """What every window needs, computed once for all periods."""
        if self._sums is None:
            median_cols = np.flatnonzero(self.agg == "median")
            self._sums = GridSums(
                primary=np.where(self.present, self.primary, 0.0),
                denominator=np.where(self.present & self.is_ratio, self.denominator, 0.0),
                counts=np.concatenate(
                    [
                        np.zeros((1, self.present.shape[1]), np.int32),
                        self.present.cumsum(axis=0, dtype=np.int32),
                    ]
                ),
                median_cols=median_cols,
                median=np.where(self.present[:, median_cols], self.primary[:, median_cols], np.nan),
            )
        return self._sums

    def daily(self) -> np.ndarray:
        """Each day's own value: the value, or numerator/denominator for ratio metrics."""
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(self.denominator > 0, self.primary / self.denominator, np.nan)
        out = np.where(self.is_ratio, ratio, self.primary)
        out[~self.present] = np.nan
        return out

    def fixed_targets(self, targets: pd.DataFrame) -> np.ndarray:
        """The fixed target in effect on each grid day (NaN before a column's first target).

        An area column takes its area's own target where one is in effect, else the city's (a sum
        column never takes the city's).
        """
        layout = self.layout
        metric = pd.Index(self.names).get_indexer(targets["metric"])
        area = area_positions(targets, layout.areas)
        cols = layout.pair_columns(metric, area)
        wide = self._effective(targets, cols)
        pairs = np.flatnonzero((layout.column_area >= 0) & (self.col_metric >= 0))
        if len(pairs):
            own = wide[:, pairs]
            borrow = np.isnan(own) & ~self.area_sum[pairs]
            own[borrow] = wide[:, 1 + self.col_metric[pairs]][borrow]
            wide[:, pairs] = own
        wide[:, self.own_past] = np.nan
        return wide

    def _effective(self, targets: pd.DataFrame, cols: np.ndarray) -> np.ndarray:
        wide = np.full((self.n, self.layout.width), np.nan)
        ok = cols >= 0
        if ok.any():
            t = targets[ok].assign(effective_from=pd.to_datetime(targets["effective_from"][ok]))
            t = t.assign(_col=cols[ok]).sort_values("effective_from", kind="stable")
            t = t[t["effective_from"] < self.origin + pd.Timedelta(days=self.n)]
            rows = np.maximum((t["effective_from"] - self.origin).dt.days.to_numpy(), 0)
            # Sorted by date, so where several targets clip to row 0 the latest one wins.
            wide[rows, t["_col"].to_numpy()] = t["target"].to_numpy(dtype=float)
            wide = pd.DataFrame(wide).ffill().to_numpy(copy=True)
        return wide

    def baselines(self) -> tuple[np.ndarray, np.ndarray]:
        """(daily baseline target, enough history) from the 365 days before each day.

        Target = mean - std (higher is better) or mean + std (lower is better), population std.
        """
        target = np.full((self.n, self.layout.width), np.nan)
        enough = np.zeros((self.n, self.layout.width), dtype=bool)
        cols = np.flatnonzero(self.history)
        if len(cols):
            series = pd.DataFrame(self.daily()[:, cols])
            rolling = series.rolling(BASELINE_DAYS, min_periods=BASELINE_MIN_DAYS)
            mean = rolling.mean().shift(1).to_numpy()
            std = rolling.std(ddof=0).shift(1).to_numpy()
            sign = np.where(self.higher[cols], -1.0, 1.0)
            target[:, cols] = mean + sign * std
            enough[:, cols] = ~np.isnan(mean)
        cols = np.flatnonzero(self.weekday)
        if len(cols):
            target[:, cols], enough[:, cols] = self._weekday_baselines(cols)
        return target, enough

    def _weekday_baselines(self, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(target, enough) of ``weekday`` columns: mean -/+ std of the same weekday's values in the
        52 weeks before, from at least 13 of them."""
        daily = self.daily()[:, cols]
        target = np.full(daily.shape, np.nan)
        sign = np.where(self.higher[cols], -1.0, 1.0)
        for weekday in range(7):
            rows = np.arange(weekday, self.n, 7)  # every 7th row: one weekday
            series = pd.DataFrame(daily[rows])
            rolling = series.rolling(WEEKDAY_BASELINE_WEEKS, min_periods=WEEKDAY_BASELINE_MIN_WEEKS)
            mean = rolling.mean().shift(1).to_numpy()
            std = rolling.std(ddof=0).shift(1).to_numpy()
            target[rows] = mean + sign * std
        return target, ~np.isnan(target)

    def reporting_windows(self, w: int) -> np.ndarray:
        """Per output row and column: how many of the column's reporting days the window of ``w``
        days ending on the row holds."""
        opens = np.stack([reporting_days(s, self.dates, self.closed) for s in SCHEDULES])
        running = np.concatenate([np.zeros((len(SCHEDULES), 1)), opens.cumsum(axis=1)], axis=1)
        first = self.lookback
        held = running[:, first + 1 :] - running[:, first + 1 - w : self.n + 1 - w]
        return held[self.schedule].T

    def stale(self, longest: int, forced: np.ndarray) -> np.ndarray:
        """Per output row and column: stale, i.e. the latest value in the longest window (of
        ``longest`` days) is more than ``stale_after`` of the schedule's days old; ``forced``
        columns always."""
        first = self.lookback
        index = np.arange(self.n, dtype=np.int32)[:, None]
        last = np.maximum.accumulate(np.where(self.present, index, -1), axis=0)[first:]
        rows = index[first:]
        seen = (last >= 0) & (rows - last < longest)
        safe = np.maximum(last, 0)
        if self.scheduled:
            a = freshness_axes(self.dates, self.closed)
            age = a[self.schedule[None, :], rows] - a[self.schedule[None, :], safe]
        else:
            age = rows - safe
        return (seen & (age > self.stale_after)) | forced[None, :]
