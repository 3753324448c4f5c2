"""The scoring engine: pure functions, DataFrame in, DataFrame out, no I/O.

``score_range`` lays the observations on a dense (days x metrics) grid and computes every window with
array operations, so scoring ten years of two thousand metrics is a matter of seconds. The rules are in
``docs``/README; ``cityscore.engine.reference`` holds a slow, obviously-correct per-date version used by tests.

Observations and targets may carry an ``area`` column (an empty area, or none, is citywide).
``score_range`` scores the city: citywide rows, plus citywide daily values derived from the areas for
ratio and sum metrics on days without a citywide row. ``score_by_area`` adds each area, scored by the
same rules on the grid's extra (metric, area) columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.errors import ConfigError
from cityscore.core.vocabulary import BASELINE_DAYS, BASELINE_MIN_DAYS, CITYWIDE, PERIODS
from cityscore.frames.catalog import check_metrics, check_targets
from cityscore.frames.dates import DateLike, as_date

SCORE_COLUMNS = ["as_of", "metric", "period", "value", "target", "score", "status", "note"]
AREA_SCORE_COLUMNS = ["as_of", "area", *SCORE_COLUMNS[1:]]
STATUSES = ["meeting", "near", "below"]
AREA = "area"

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
# Only an area's rows can carry this one: a sum metric's citywide count target is not an area's.
NO_AREA_TARGET = (
    "no area target in effect (a sum metric's citywide target does not apply to an area)"
)
AREA_NOTES = [*NOTES, NO_AREA_TARGET]
NO_CITY_SCORE = "no metric has a score"


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
        other two), optionally ``area`` (empty = citywide). Rows for metrics not in ``metrics`` are
        ignored; area rows only count where a ratio or sum metric has no citywide row that day.
    metrics
        The catalog frame (see ``cityscore.frames.catalog``).
    targets
        ``metric, effective_from, target`` (optionally ``area``: area targets are ignored here): each
        target applies from its date until the next one.
    cap
        No cap by default; a number caps each metric's score (so one metric far above its target
        cannot carry the CityScore).

    Returns
    -------
    DataFrame with ``SCORE_COLUMNS``: per as-of date, the ``CityScore`` rows first, then each metric in
    catalog order, each with one row per period. ``score`` is NaN where there is no score and ``note``
    says why; for citywide rows the note says how many metrics were scored.
    """
    return _score(observations, metrics, targets, start, end, bands, periods, cap, by_area=False)


def score_by_area(
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
    """Citywide and per-area scores for every as-of date from ``start`` to ``end`` inclusive.

    The areas are the non-empty ``area`` labels of the observations and targets (of catalog metrics),
    sorted; each area is scored on the metrics that have area data or an area target, by the
    citywide rules with the area's own rows, its own history baseline, and its own target where one is
    in effect, else the city's (never the city's for a ``sum`` metric).

    Returns
    -------
    DataFrame with ``AREA_SCORE_COLUMNS``: per as-of date the citywide block (area ``""``, exactly the
    rows ``score_range`` gives), then each area: its ``CityScore`` rows, then its metrics.
    """
    return _score(observations, metrics, targets, start, end, bands, periods, cap, by_area=True)


def _score(
    observations: pd.DataFrame,
    metrics: pd.DataFrame,
    targets: pd.DataFrame,
    start: DateLike,
    end: DateLike,
    bands: Bands,
    periods: Mapping[str, int],
    cap: float | None,
    *,
    by_area: bool,
) -> pd.DataFrame:
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
    metrics = metrics.reset_index(drop=True)
    layout = _Layout.build(observations, metrics, targets, by_area)
    # The grid reaches back far enough for the baseline year and for the longest window.
    lookback = max(BASELINE_DAYS, max(periods.values()) - 1)
    grid = _Grid(layout, start, end, lookback)
    grid.fill(observations)
    fixed_target = grid.fixed_targets(targets)
    base_target, base_ok = grid.baselines()
    daily_target, target_note = _daily_targets(grid, fixed_target, base_target, base_ok)
    del fixed_target, base_target, base_ok
    period_names = list(periods)
    shape = (grid.n_out, layout.width, len(period_names))
    values, target_out, scores = np.empty(shape), np.empty(shape), np.empty(shape)
    notes = np.zeros(shape, dtype=np.int16)
    note_texts = AREA_NOTES if by_area else NOTES
    group_offsets = layout.group_note_offsets(len(note_texts))
    for p, name in enumerate(period_names):
        v, t, s, note = _score_period(grid, periods[name], daily_target, target_note)
        if cap is not None:
            s = np.minimum(s, cap)  # NaN (no score) stays NaN
        group_scores, n_scored = _group_means(s, layout)
        groups = layout.group_positions
        v[:, groups], t[:, groups], s[:, groups] = np.nan, np.nan, group_scores
        note[:, groups] = group_offsets + n_scored
        values[:, :, p], target_out[:, :, p], scores[:, :, p], notes[:, :, p] = v, t, s, note
    return _assemble(
        grid,
        period_names,
        values,
        target_out,
        scores,
        notes,
        note_texts + layout.group_note_texts(),
        bands,
        by_area,
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


def _area_labels(frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """(code per row, labels): label ``""`` for citywide rows (no ``area`` column, empty or missing)."""
    if AREA not in frame.columns:
        return np.zeros(len(frame), dtype=np.intp), [""]
    codes, uniques = pd.factorize(frame[AREA], use_na_sentinel=True)
    labels = ["" if pd.isna(u) else str(u) for u in uniques]
    codes = np.where(codes < 0, len(labels), codes)  # missing -> an extra "" label
    return codes, [*labels, ""]


def _positions(labels: pd.Series, names: list[str] | pd.Index) -> np.ndarray:
    """Index of each label in ``names`` (-1 where absent), each distinct label looked up once.

    ``Index.get_indexer`` on millions of text labels hashes each row; factorising first is several
    times faster and gives the same positions.
    """
    if isinstance(labels.dtype, pd.CategoricalDtype):
        codes, uniques = labels.cat.codes.to_numpy(), labels.cat.categories
    else:
        codes, uniques = pd.factorize(labels)  # a missing label gets code -1
    lookup = np.append(pd.Index(names).get_indexer(uniques), -1)
    return lookup[codes]


def _area_codes(frame: pd.DataFrame, areas: pd.Index) -> np.ndarray:
    """Per row: the index of its area in ``areas`` (``len(areas)`` if not there), -1 if citywide."""
    codes, labels = _area_labels(frame)
    index = {label: i for i, label in enumerate(areas)}
    lookup = np.array([index.get(x, len(areas)) if x else -1 for x in labels], dtype=np.intp)
    return lookup[codes]


@dataclass(frozen=True)
class _Layout:
    """The grid's columns, which are the result's columns, in order: the citywide CityScore, each
    catalog metric citywide, then per area its CityScore and its ``area_metrics`` (catalog indices).

    A CityScore column holds no data; the weighted mean of its block is written into it.
    """

    metrics: pd.DataFrame
    areas: pd.Index
    area_metrics: np.ndarray

    @classmethod
    def build(
        cls, observations: pd.DataFrame, metrics: pd.DataFrame, targets: pd.DataFrame, by_area: bool
    ) -> _Layout:
        none = cls(metrics, pd.Index([], dtype=object), np.zeros(0, dtype=np.intp))
        if not by_area:
            return none
        names = pd.Index(metrics["name"])
        used = np.zeros(len(names), dtype=bool)
        labels: set[str] = set()
        for frame in (observations, targets):
            codes, frame_labels = _area_labels(frame)
            is_area = np.array([bool(x) for x in frame_labels])[codes]
            known = _positions(frame["metric"][is_area], names)
            used[known[known >= 0]] = True
            labels |= {frame_labels[c] for c in np.unique(codes[is_area][known >= 0])}
        return cls(metrics, pd.Index(sorted(labels), dtype=object), np.flatnonzero(used))

    @property
    def m(self) -> int:
        return len(self.metrics)

    @property
    def n_areas(self) -> int:
        return len(self.areas)

    @property
    def per_area(self) -> int:
        return len(self.area_metrics)

    @property
    def width(self) -> int:
        return 1 + self.m + self.n_areas * (1 + self.per_area)

    @property
    def group_positions(self) -> np.ndarray:
        """The CityScore columns: citywide, then each area's."""
        return np.concatenate([[0], 1 + self.m + np.arange(self.n_areas) * (1 + self.per_area)])

    @property
    def group_sizes(self) -> np.ndarray:
        return np.array([self.m] + [self.per_area] * self.n_areas)

    @property
    def column_metric(self) -> np.ndarray:
        """Catalog index of each column (-1 for a CityScore column)."""
        block = np.concatenate([[-1], self.area_metrics])
        return np.concatenate([[-1], np.arange(self.m), np.tile(block, self.n_areas)])

    @property
    def column_area(self) -> np.ndarray:
        """Area index of each column (-1 citywide)."""
        area = np.repeat(np.arange(self.n_areas), 1 + self.per_area)
        return np.concatenate([np.full(1 + self.m, -1), area])

    def group_note_offsets(self, first: int) -> np.ndarray:
        """Per CityScore, the note code of "no metric has a score" (k scored adds k)."""
        return np.array([first] + [first + self.m + 1] * self.n_areas)

    def group_note_texts(self) -> list[str]:
        texts = [NO_CITY_SCORE] + [f"{k} of {self.m} metrics scored" for k in range(1, self.m + 1)]
        if self.n_areas:
            texts += [NO_CITY_SCORE] + [
                f"{k} of {self.per_area} metrics scored" for k in range(1, self.per_area + 1)
            ]
        return texts

    def pair_columns(self, metric: np.ndarray, area: np.ndarray) -> np.ndarray:
        """Column of each (catalog index, area index) pair; -1 where there is none."""
        # Rows: catalog metrics, then a pad row for unknown metrics (-1). Columns: the areas, a pad
        # for areas not in the layout, then the city (-1).
        lookup = np.full((self.m + 1, self.n_areas + 2), -1, dtype=np.intp)
        lookup[: self.m, -1] = 1 + np.arange(self.m)
        if self.n_areas:
            first = self.group_positions[1:, None] + 1
            lookup[self.area_metrics[None, :], np.arange(self.n_areas)[:, None]] = (
                first + np.arange(self.per_area)
            )
        return lookup[metric, area]


@dataclass(frozen=True)
class _Sums:
    """The grid's numbers as the windows read them: no data as 0 (NaN for medians), running counts."""

    primary: np.ndarray
    denominator: np.ndarray
    counts: np.ndarray
    median_cols: np.ndarray
    median: np.ndarray


class _Grid:
    """Observations on a dense grid: rows are days from ``start - lookback`` to ``end``, columns are
    the layout's (metric, area) pairs, citywide first."""

    def __init__(
        self,
        layout: _Layout,
        start: pd.Timestamp,
        end: pd.Timestamp,
        lookback: int = BASELINE_DAYS,
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
        self.history = np.append((self.metrics["baseline"] == "history").to_numpy(), False)[col]
        # A city's target for a count is no area's target: area sum columns need one of their own.
        self.area_sum = (layout.column_area >= 0) & (self.agg == "sum")
        self.city = slice(1, 1 + self.m)  # the catalog metrics' citywide columns
        self._sums: _Sums | None = None
        # Citywide values an area total can stand in for: ratios and sums.
        self.derivable = is_ratio | (agg == "sum")

    def fill(self, observations: pd.DataFrame) -> None:
        obs = observations
        dates = pd.to_datetime(obs["date"])
        # Before the day after ``end``, so a reading with a time of day on ``end`` still counts.
        keep = ((dates >= self.origin) & (dates < self.end + pd.Timedelta(days=1))).to_numpy()
        metric = _positions(obs["metric"][keep], self.names)
        area = _area_codes(obs[keep], self.layout.areas)
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

    def sums(self) -> _Sums:
        """What every window needs, computed once for all periods."""
        if self._sums is None:
            median_cols = np.flatnonzero(self.agg == "median")
            self._sums = _Sums(
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
        area = _area_codes(targets, layout.areas)
        cols = layout.pair_columns(metric, area)
        wide = self._effective(targets, cols)
        pairs = np.flatnonzero((layout.column_area >= 0) & (self.col_metric >= 0))
        if len(pairs):
            own = wide[:, pairs]
            borrow = np.isnan(own) & ~self.area_sum[pairs]
            own[borrow] = wide[:, 1 + self.col_metric[pairs]][borrow]
            wide[:, pairs] = own
        wide[:, self.history] = np.nan
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
        return target, enough


def _window_sum(x: np.ndarray, w: int, first: int) -> np.ndarray:
    """Sum of the last ``w`` rows (no data held as 0) for each row from ``first`` on.

    A direct sum per window, not a difference of running totals, so a window of zeros sums to exactly 0
    and a large value long ago cannot leak rounding error into today.
    """
    x = x[first - w + 1 :]
    if w == 1:
        return x.copy()
    return sliding_window_view(x, w, axis=0).sum(axis=-1)


def _window_count(counts: np.ndarray, w: int, first: int) -> np.ndarray:
    """How many of the last ``w`` days had data, per row from ``first`` on, from running counts
    (exact integers, with a leading row of zeros)."""
    return counts[first + 1 :] - counts[first + 1 - w : len(counts) - w]


def _daily_targets(
    grid: _Grid, fixed_target: np.ndarray, base_target: np.ndarray, base_ok: np.ndarray
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


def _score_period(
    grid: _Grid, w: int, daily_target: np.ndarray, target_note: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(value, target, score, note code) for one window length, for the output rows."""
    first = grid.lookback
    sums = grid.sums()
    count = _window_count(sums.counts, w, first)
    total = _window_sum(sums.primary, w, first)
    is_sum = grid.agg == "sum"
    den = _window_sum(sums.denominator, w, first) if grid.is_ratio.any() else None
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


def _group_means(scores: np.ndarray, layout: _Layout) -> tuple[np.ndarray, np.ndarray]:
    """(weighted mean of the scores that exist, how many exist) for the city, then each area."""
    weights = layout.metrics["weight"].astype(float).to_numpy()
    results = []
    for first, size in zip(layout.group_positions + 1, layout.group_sizes, strict=True):
        cols = layout.column_metric[first : first + size]
        results.append(_citywide(scores[:, first : first + size], weights[cols]))
    return np.stack([r[0] for r in results], axis=1), np.stack([r[1] for r in results], axis=1)


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
    by_area: bool,
) -> pd.DataFrame:
    layout = grid.layout
    n_out, width, n_periods = scores.shape
    per_date = width * n_periods
    # The catalog index (+1, 0 = CityScore) and the area (+1, 0 = citywide) of each result column.
    column_metric = (layout.column_metric + 1).astype(np.int32)
    # Small code dtypes, and no copy of the value arrays: at 2,000 metrics x 10 years the frame has
    # 29 M rows, and int64 codes plus copied columns added 1.3 GB to the peak.
    metric_codes = np.tile(np.repeat(column_metric, n_periods), n_out)
    period_codes = np.tile(np.arange(n_periods, dtype=np.int8), n_out * width)
    flat_scores = scores.ravel()
    # Equal note texts (an area's "3 of 3 metrics scored" and the city's) must share one category.
    code_of, unique_texts = pd.factorize(pd.Series(note_texts, dtype=object))
    note_codes = notes.ravel()
    if len(unique_texts) < len(note_texts):
        note_codes = code_of.astype(np.int16)[note_codes]
    columns = {
        "as_of": np.repeat(grid.out_dates.values, per_date),
        "metric": pd.Categorical.from_codes(metric_codes, categories=[CITYWIDE, *grid.names]),
        "period": pd.Categorical.from_codes(period_codes, categories=period_names, ordered=True),
        "value": values.ravel(),
        "target": targets.ravel(),
        "score": flat_scores,
        "status": pd.Categorical.from_codes(status_codes(flat_scores, bands), categories=STATUSES),
        "note": pd.Categorical.from_codes(note_codes, categories=list(unique_texts)),
    }
    if by_area:
        column_area = (layout.column_area + 1).astype(np.int32)
        area_codes = np.tile(np.repeat(column_area, n_periods), n_out)
        columns = {
            "as_of": columns.pop("as_of"),
            AREA: pd.Categorical.from_codes(area_codes, categories=["", *layout.areas]),
            **columns,
        }
    return pd.DataFrame(columns, copy=False)
