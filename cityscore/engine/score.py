"""The scoring engine's entry points: pure functions, DataFrame in, DataFrame out, no I/O.

``score_range`` lays the observations on a dense (days x metrics) grid (``grid``, its columns laid
out by ``layout``) and computes every window with array operations (``windows``), so scoring ten
years of two thousand metrics is a matter of seconds. The rules are in ``docs``/README;
``cityscore.engine.reference`` holds a slow, obviously-correct per-date version used by tests.

Observations and targets may carry an ``area`` column (an empty area, or none, is citywide).
``score_range`` scores the city: citywide rows, plus citywide daily values derived from the areas for
ratio and sum metrics on days without a citywide row. ``score_by_area`` adds each area, scored by the
same rules on the grid's extra (metric, area) columns.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.errors import ConfigError
from cityscore.core.vocabulary import AREA, BASELINE_DAYS, CITYWIDE, LAST_YEAR_DAYS, PERIODS
from cityscore.engine.grid import Grid
from cityscore.engine.layout import Layout
from cityscore.engine.rates import apply_rates, note_missing_populations
from cityscore.engine.schedules import closed_days, place_reports
from cityscore.engine.statuses import AREA_NOTES, NOTES, STALE, STATUSES, status_codes
from cityscore.engine.windows import daily_targets, group_means, score_period
from cityscore.frames.catalog import check_metrics, check_targets
from cityscore.frames.dates import DateLike, as_date


def score_date(
    observations: pd.DataFrame,
    metrics: pd.DataFrame,
    targets: pd.DataFrame,
    as_of: DateLike,
    *,
    bands: Bands = DEFAULT_BANDS,
    periods: Mapping[str, int] = PERIODS,
    cap: float | None = None,
    closed: Collection[DateLike] = (),
    stale_metrics: Collection[str] = (),
    count_stale: bool = False,
) -> pd.DataFrame:
    """Scores of every metric and the citywide CityScore for one as-of date."""
    return score_range(
        observations,
        metrics,
        targets,
        as_of,
        as_of,
        bands=bands,
        periods=periods,
        cap=cap,
        closed=closed,
        stale_metrics=stale_metrics,
        count_stale=count_stale,
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
    closed: Collection[DateLike] = (),
    stale_metrics: Collection[str] = (),
    count_stale: bool = False,
    populations: Mapping[str, float | None] | None = None,
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
    closed
        The city's closed days (holidays and closures): not reporting days of a ``business_days``
        metric (see ``cityscore.engine.schedules``).
    stale_metrics
        Metrics to treat as stale whatever their dates (e.g. those of a source that failed).
    count_stale
        Keep stale metrics in the CityScore (by default they are left out).
    populations
        Residents by area (``""``: the city's own figure; else the sum of its areas'), for the
        metrics scored per ``per_residents`` residents (see ``cityscore.engine.rates``).

    Returns
    -------
    DataFrame with ``SCORE_COLUMNS``: per as-of date, the ``CityScore`` rows first, then each metric in
    catalog order, each with one row per period. ``score`` is NaN where there is no score and ``note``
    says why; for citywide rows the note says how many metrics were scored. A stale metric's
    ``status`` is ``"stale"`` in every period; its ``score`` is kept.
    """
    return _score(
        observations,
        metrics,
        targets,
        start,
        end,
        bands,
        periods,
        cap,
        _Freshness(closed, stale_metrics, count_stale),
        by_area=False,
        populations=populations,
    )


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
    closed: Collection[DateLike] = (),
    stale_metrics: Collection[str] = (),
    count_stale: bool = False,
    populations: Mapping[str, float | None] | None = None,
) -> pd.DataFrame:
    """Citywide and per-area scores for every as-of date from ``start`` to ``end`` inclusive.

    The areas are the non-empty ``area`` labels of the observations and targets (of catalog metrics),
    sorted; each area is scored on the metrics that have area data or an area target, by the
    citywide rules with the area's own rows, its own history baseline, and its own target where one is
    in effect, else the city's (never the city's for a ``sum`` metric).

    Returns
    -------
    DataFrame with ``AREA_SCORE_COLUMNS``: per as-of date the citywide block (area ``""``, exactly the
    rows ``score_range`` gives), then each area: its ``CityScore`` rows, then its metrics. Each
    (metric, area) is stale or not by its own dates; ``stale_metrics`` are stale in every area.
    """
    return _score(
        observations,
        metrics,
        targets,
        start,
        end,
        bands,
        periods,
        cap,
        _Freshness(closed, stale_metrics, count_stale),
        by_area=True,
        populations=populations,
    )


@dataclass(frozen=True)
class _Freshness:
    """The scoring options about days: closed days, metrics named stale, whether stale ones count."""

    closed: Collection[DateLike]
    stale_metrics: Collection[str]
    count_stale: bool


# Inputs near the float limits overflow quietly: such a score is no score (``precision.settle``).
@np.errstate(over="ignore", divide="ignore", invalid="ignore")
def _score(
    observations: pd.DataFrame,
    metrics: pd.DataFrame,
    targets: pd.DataFrame,
    start: DateLike,
    end: DateLike,
    bands: Bands,
    periods: Mapping[str, int],
    cap: float | None,
    freshness: _Freshness,
    *,
    by_area: bool,
    populations: Mapping[str, float | None] | None = None,
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
    observations = place_reports(observations, metrics)
    layout = Layout.build(observations, metrics, targets, by_area)
    # The grid reaches back far enough for the baseline year and for the longest window (a year
    # before it too, for a ``last_year`` baseline).
    longest = max(periods.values())
    lookback = max(BASELINE_DAYS, longest - 1)
    if (metrics["baseline"] == "last_year").any():
        lookback = max(lookback, LAST_YEAR_DAYS + longest - 1)
    grid = Grid(layout, start, end, lookback, closed_days(freshness.closed))
    grid.fill(observations)
    unpopulated = apply_rates(grid, populations)  # rates per resident (``engine.rates``)
    named = np.append(metrics["name"].isin(list(freshness.stale_metrics)).to_numpy(), False)
    stale = grid.stale(longest, named[layout.column_metric])
    counted = None if freshness.count_stale or not stale.any() else ~stale
    fixed_target = grid.fixed_targets(targets)
    base_target, base_ok = grid.baselines()
    daily_target, target_note = daily_targets(grid, fixed_target, base_target, base_ok)
    target_note = note_missing_populations(target_note, unpopulated)
    del fixed_target, base_target, base_ok
    period_names = list(periods)
    shape = (grid.n_out, layout.width, len(period_names))
    values, target_out, scores = np.empty(shape), np.empty(shape), np.empty(shape)
    notes = np.zeros(shape, dtype=np.int16)
    note_texts = AREA_NOTES if by_area else NOTES
    group_offsets = layout.group_note_offsets(len(note_texts))
    for p, name in enumerate(period_names):
        v, t, s, note = score_period(grid, periods[name], daily_target, target_note)
        if cap is not None:
            s = np.minimum(s, cap)  # NaN (no score) stays NaN
        group_scores, n_scored = group_means(
            s if counted is None else np.where(counted, s, np.nan), layout
        )
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
        stale,
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


def _assemble(
    grid: Grid,
    period_names: list[str],
    values: np.ndarray,
    targets: np.ndarray,
    scores: np.ndarray,
    notes: np.ndarray,
    note_texts: list[str],
    bands: Bands,
    by_area: bool,
    stale: np.ndarray,
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
        "status": pd.Categorical.from_codes(
            _statuses(flat_scores, bands, stale), categories=STATUSES
        ),
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


def _statuses(scores: np.ndarray, bands: Bands, stale: np.ndarray) -> np.ndarray:
    """Each row's status code: by band, or stale (every period of a stale column)."""
    codes = status_codes(scores, bands)
    if stale.any():
        n_periods = len(scores) // stale.size
        codes[np.repeat(stale.ravel(), n_periods)] = STATUSES.index(STALE)
    return codes
