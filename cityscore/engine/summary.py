"""Views derived from a score frame: categories, the share below 1, percentiles, leader lists,
what moved the CityScore, and data freshness. Pure functions, DataFrame in, DataFrame out.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.vocabulary import CITYWIDE, SCHEDULES
from cityscore.engine.precision import settle
from cityscore.engine.schedules import (
    closed_days,
    freshness_axes,
    place_reports,
    reporting_days,
    schedules_of,
    stale_limits,
)
from cityscore.engine.statuses import STATUSES, status_codes
from cityscore.frames.dates import DateLike, as_date

STALE_STATUS = "stale"  # a stale metric's status (``statuses.STALE``): its data stopped coming


def metric_rows(
    scores: pd.DataFrame, period: str | None = None, metrics: list[str] | None = None
) -> pd.DataFrame:
    """The per-metric rows of a score frame (citywide rows dropped), of ``period`` and of
    ``metrics`` when given. Compares the category columns as they are: making text of a year of
    2,000 metrics' scores (2.9 M rows) first took 1.3 s a call."""
    keep = scores["metric"] != CITYWIDE
    if period is not None:
        keep &= scores["period"] == period
    if metrics is not None:
        keep &= scores["metric"].isin(metrics)
    return scores[keep]


def counted(rows: pd.DataFrame, count_stale: bool = False) -> pd.DataFrame:
    """Score rows as the CityScore counts them: a stale metric's score (kept in the frame for
    show) is no score here, as the engine leaves it out of the CityScore (unless ``count_stale``)."""
    if count_stale:
        return rows
    stale = rows["status"].astype(object) == STALE_STATUS
    return rows.assign(score=rows["score"].mask(stale)) if stale.any() else rows


def citywide(scores: pd.DataFrame, *, count_stale: bool = False) -> pd.DataFrame:
    """The citywide rows, with the share of scored metrics below 1 beside each CityScore (stale
    metrics not counted, as in the CityScore, unless ``count_stale``).

    Columns: ``as_of, period, score, status, note, scored, below_one, share_below_one``.
    """
    rows = counted(metric_rows(scores), count_stale)
    scored = rows["score"].notna()
    counts = (
        rows.assign(scored=scored, below_one=scored & (rows["score"] < 1))
        .groupby(["as_of", "period"], observed=True)[["scored", "below_one"]]
        .sum()
        .reset_index()
    )
    city = scores.loc[scores["metric"] == CITYWIDE, ["as_of", "period", "score", "status", "note"]]
    out = city.merge(counts, on=["as_of", "period"], how="left")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_below_one"] = np.where(
            out["scored"] > 0, out["below_one"] / out["scored"], np.nan
        )
    return out.reset_index(drop=True)


def category_scores(
    scores: pd.DataFrame,
    metrics: pd.DataFrame,
    bands: Bands = DEFAULT_BANDS,
    *,
    count_stale: bool = False,
) -> pd.DataFrame:
    """Weighted mean score per category: ``as_of, category, period, score, status, scored, metrics``.

    A stale metric's score (status ``stale``) is left out, as from the CityScore, unless
    ``count_stale``."""
    info = metrics[["name", "category", "weight"]].rename(columns={"name": "metric"})
    rows = metric_rows(scores)[["as_of", "metric", "period", "score", "status"]]
    if not count_stale:
        stale = rows["status"].astype(object) == STALE_STATUS
        rows = rows.assign(score=rows["score"].mask(stale))
    rows = rows.drop(columns="status")
    rows = rows.assign(metric=rows["metric"].astype(str)).merge(info, on="metric")
    rows["scored"] = rows["score"].notna()
    rows["weighted"] = rows["score"].fillna(0) * rows["weight"]
    rows["scored_weight"] = rows["weight"].where(rows["scored"], 0.0)
    grouped = rows.groupby(["as_of", "category", "period"], observed=True)
    out = grouped.agg(
        weighted=("weighted", "sum"),
        scored_weight=("scored_weight", "sum"),
        scored=("scored", "sum"),
        metrics=("metric", "size"),
    ).reset_index()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["score"] = settle(
            np.where(out["scored_weight"] > 0, out["weighted"] / out["scored_weight"], np.nan)
        )
    out["status"] = pd.Categorical.from_codes(
        status_codes(out["score"].to_numpy(), bands), STATUSES
    )
    return out[["as_of", "category", "period", "score", "status", "scored", "metrics"]]


def percentiles(scores: pd.DataFrame, as_of: DateLike, days: int = 365) -> pd.DataFrame:
    """Where each metric's day score on ``as_of`` falls in its own day scores of the past ``days`` days.

    ``percentile`` = 100 x (scores in the window at or below today's) / (scores in the window); the
    window ends on ``as_of`` and includes it. NaN where there is no score today. ``scores`` must hold
    the day rows for the window (e.g. ``Kit.scores(start=as_of - 364 days, end=as_of)``).
    """
    as_of = as_date(as_of)
    day = metric_rows(scores)
    day = day[
        (day["period"] == "day")
        & (day["as_of"] > as_of - pd.Timedelta(days=days))
        & (day["as_of"] <= as_of)
    ]
    rows = []
    for metric, group in day.groupby("metric", observed=True, sort=False):
        history = group["score"].dropna().to_numpy()
        today = group.loc[group["as_of"] == as_of, "score"]
        score = float(today.iloc[0]) if len(today) else np.nan
        pct = (
            100.0 * np.sum(history <= score) / len(history)
            if len(history) and not np.isnan(score)
            else np.nan
        )
        rows.append(
            {"metric": str(metric), "score": score, "percentile": pct, "days_scored": len(history)}
        )
    return pd.DataFrame(rows, columns=["metric", "score", "percentile", "days_scored"])


# The leader lists split at this score: "Exceeding" holds scores at or above it, "Needs
# follow-up" the scores below it.
LEADER_EDGE = 1.0


def leaders(
    scores: pd.DataFrame, as_of: DateLike, period: str = "week", n: int = 5
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(exceeding, needs follow-up): up to ``n`` metrics each by ``period`` score.

    Exceeding: the highest scores at or above ``LEADER_EDGE`` (1); needs follow-up: the lowest
    scores below it. So a list may be short or empty, and a metric is never in both. A stale
    metric (status ``stale``) is in neither: its score is old news. Ties break by metric name.
    """
    as_of = as_date(as_of)
    rows = metric_rows(scores)
    rows = rows[(rows["as_of"] == as_of) & (rows["period"] == period) & rows["score"].notna()]
    rows = rows[rows["status"].astype(object) != STALE_STATUS]
    rows = rows.assign(metric=rows["metric"].astype(str))[
        ["metric", "value", "target", "score", "status"]
    ]
    high = rows[rows["score"] >= LEADER_EDGE]
    low = rows[rows["score"] < LEADER_EDGE]
    top = high.sort_values(["score", "metric"], ascending=[False, True]).head(n)
    bottom = low.sort_values(["score", "metric"], ascending=[True, True]).head(n)
    return top.reset_index(drop=True), bottom.reset_index(drop=True)


# One metric moving the CityScore by more than this (in a day) is named in the report's headline.
OUTSIZED_MOVE = 0.05


def outsized_moves(contrib: pd.DataFrame, threshold: float = OUTSIZED_MOVE) -> pd.DataFrame:
    """The rows of a ``contributions`` frame whose contribution is larger than ``threshold``
    either way, the largest first (the frame's own order)."""
    if "contribution" not in contrib:  # no comparison was possible
        return contrib
    return contrib[contrib["contribution"].abs() > threshold].reset_index(drop=True)


def contributions(
    scores: pd.DataFrame,
    metrics: pd.DataFrame,
    as_of: DateLike,
    since_days: int = 1,
    period: str = "day",
    *,
    count_stale: bool = False,
) -> pd.DataFrame:
    """Each metric's share of the change in the CityScore from ``as_of - since_days`` to ``as_of``
    (a stale metric counts as unscored, as in the CityScore, unless ``count_stale``).

    A metric contributes ``w * s_now / W_now - w * s_before / W_before`` (a missing score counts 0,
    ``W`` is the total weight of the metrics scored that day), so the contributions add up exactly to
    the change in the citywide score. Columns: ``metric, category, before, now, contribution``,
    largest movement first. Empty if either date has no CityScore.
    """
    now, before = as_date(as_of), as_date(as_of) - pd.Timedelta(days=since_days)
    rows = counted(metric_rows(scores), count_stale)
    rows = rows[rows["period"] == period]
    info = metrics.set_index("name")
    table = pd.DataFrame({"metric": info.index, "category": info["category"].to_numpy()})
    weights = info["weight"].astype(float).to_numpy()
    for label, day in (("before", before), ("now", now)):
        at = rows[rows["as_of"] == day].set_index(
            rows.loc[rows["as_of"] == day, "metric"].astype(str)
        )
        table[label] = at["score"].reindex(info.index).to_numpy()
    total = {}
    for label in ("before", "now"):
        scored = ~np.isnan(table[label].to_numpy(dtype=float))
        total[label] = weights[scored].sum()
    if total["before"] == 0 or total["now"] == 0:
        return table.iloc[0:0].assign(contribution=pd.Series(dtype=float))
    share_now = np.nan_to_num(table["now"].to_numpy(dtype=float)) * weights / total["now"]
    share_before = np.nan_to_num(table["before"].to_numpy(dtype=float)) * weights / total["before"]
    table["contribution"] = share_now - share_before
    order = table["contribution"].abs().sort_values(ascending=False, kind="stable").index
    return table.loc[order].reset_index(drop=True)


FRESHNESS_COLUMNS = [
    "metric",
    "schedule",
    "last_date",
    "days_since",
    "stale_after",
    "stale",
    "missing_days",
]


def freshness(
    observations: pd.DataFrame,
    metrics: pd.DataFrame,
    as_of: DateLike,
    stale_after: int | None = None,
    window: int = 90,
    *,
    closed: Collection[DateLike] = (),
    stale_metrics: Collection[str] = (),
) -> pd.DataFrame:
    """Per metric: latest data, how old it is, whether stale, and missing reports in the last ``window``
    days, all counted in the metric's own reporting schedule, by the engine's stale rule.

    ``days_since`` counts the schedule's reporting days after the latest value up to ``as_of``
    (``weekdays``: weekdays; ``business_days``: weekdays that are not ``closed``), or for ``weekly``
    and ``monthly`` metrics the calendar days after the end of the latest week or month reported,
    whose last day is ``last_date``. ``stale``: ``days_since`` above the metric's ``stale_after``
    (its schedule's default where none is given; ``stale_after`` given here applies to every
    metric), no data at all, or named in ``stale_metrics``. ``missing_days``: the schedule's
    reporting days in the window without data (weekly: weeks, monthly: months, that ended in the
    window without a report).

    Columns: ``FRESHNESS_COLUMNS``.
    """
    as_of = as_date(as_of)
    closed_at = closed_days(closed)
    obs = observations.assign(date=pd.to_datetime(observations["date"]).dt.normalize())
    obs = obs[obs["date"] <= as_of]  # a time of day is still that day
    for column in ("value", "numerator", "denominator"):  # a weekly report combines these
        if column not in obs:
            obs = obs.assign(**{column: np.nan})
    obs = place_reports(obs, metrics) if len(obs) else obs
    obs = obs[obs["date"] <= as_of]  # a week or month still running has no report yet
    out = pd.DataFrame({"metric": metrics["name"].astype(str).to_numpy()})
    out["schedule"] = schedules_of(metrics).astype(str).to_numpy()
    # reindex, not map: map fails on an empty mapping of dates (a city with metrics but no data yet).
    last = obs.groupby(obs["metric"].astype(str))["date"].max()
    out["last_date"] = pd.to_datetime(last.reindex(out["metric"]).to_numpy())
    out["days_since"] = _ages(out, as_of, closed_at)
    limits = stale_limits(metrics) if stale_after is None else np.full(len(out), stale_after)
    out["stale_after"] = limits
    out["stale"] = (
        out["days_since"].isna()
        | (out["days_since"] > out["stale_after"])
        | out["metric"].isin(list(stale_metrics))
    )
    out["missing_days"] = _missing(out, obs, as_of, window, closed_at)
    return out[FRESHNESS_COLUMNS]


def _ages(fresh: pd.DataFrame, as_of: pd.Timestamp, closed: np.ndarray) -> pd.Series:
    """Each metric's latest data's age on ``as_of`` in its schedule's days (``freshness_axes``, as
    the engine counts it); NaN without data."""
    ages = pd.Series(np.nan, index=fresh.index)
    known = fresh["last_date"].notna()
    if not known.any():
        return ages
    first = fresh.loc[known, "last_date"].min()
    dates = pd.date_range(first, as_of, freq="D")
    running = freshness_axes(dates, closed)
    rows = np.array([SCHEDULES.index(s) for s in fresh.loc[known, "schedule"]], dtype=int)
    at = ((fresh.loc[known, "last_date"] - first).dt.days).to_numpy(dtype=int)
    ages[known] = running[rows, len(dates) - 1] - running[rows, at]
    return ages


def _missing(
    fresh: pd.DataFrame, obs: pd.DataFrame, as_of: pd.Timestamp, window: int, closed: np.ndarray
) -> np.ndarray:
    """Each metric's reporting days in the ``window`` days ending on ``as_of`` without data."""
    days = pd.date_range(as_of - pd.Timedelta(days=window - 1), as_of, freq="D")
    open_days = np.stack([reporting_days(s, days, closed) for s in SCHEDULES])  # schedules x days
    schedule = np.array([SCHEDULES.index(s) for s in fresh["schedule"]], dtype=int)
    recent = obs.loc[obs["date"] >= days[0], ["metric", "date"]]
    recent = recent.assign(metric=recent["metric"].astype(str)).drop_duplicates()
    row = pd.Series(schedule, index=fresh["metric"]).reindex(recent["metric"]).to_numpy()
    known = ~np.isnan(row.astype(float))  # rows of metrics not in the catalog are left out
    recent, row = recent[known], row[known].astype(int)
    reported = open_days[row, (recent["date"] - days[0]).dt.days.to_numpy(dtype=int)]
    present = recent[reported].groupby("metric").size().reindex(fresh["metric"]).fillna(0)
    return open_days.sum(axis=1)[schedule] - present.to_numpy(dtype=int)


EQUITY_COLUMNS = [
    "as_of",
    "metric",
    "period",
    "areas",
    "scored",
    "best_area",
    "best_score",
    "worst_area",
    "worst_score",
    "gap",
    "below_one",
    "share_below_one",
]


def equity(area_scores: pd.DataFrame) -> pd.DataFrame:
    """How far apart the areas are, per as-of date, metric (the areas' CityScore too) and period.

    ``area_scores`` is a ``score_by_area`` frame. ``best``/``worst`` are the highest and lowest area
    scores (ties go to the first area by name); ``gap`` = worst ÷ best (1 = no gap, 0.5 = the worst
    area scores half the best's); ``share_below_one`` = scored areas below 1 ÷ scored areas. Areas
    without a score are counted in ``areas`` only. Columns: ``EQUITY_COLUMNS``.

    Vectorized (one grouping, then NumPy reductions by group id; no sort of the rows).
    """
    keys = ["as_of", "metric", "period"]
    rows = area_scores.loc[area_scores["area"] != "", [*keys, "area", "score"]]
    grouped = rows.groupby(keys, observed=True, sort=True)
    group = grouped.ngroup().to_numpy()
    out = grouped.size().rename("areas").to_frame()
    n = len(out)
    score = rows["score"].to_numpy(dtype=float)
    scored = ~np.isnan(score)
    out["scored"] = np.bincount(group, weights=scored, minlength=n).astype(np.int64)
    out["below_one"] = np.bincount(group, weights=scored & (score < 1), minlength=n).astype(
        np.int64
    )
    # Areas ranked by name, so that a tie goes to the first area by name.
    codes, labels = pd.factorize(rows["area"])
    names = np.array([str(label) for label in labels] or [""], dtype=object)
    by_name = np.argsort(names.astype(str), kind="stable")
    rank = np.empty(len(names), dtype=np.int64)
    rank[by_name] = np.arange(len(names))
    area_rank = rank[codes]
    for label, pick in (("best", np.fmax), ("worst", np.fmin)):
        extreme = np.full(n, np.nan)
        pick.at(extreme, group, score)  # fmax / fmin skip NaN: NaN only where none is scored
        at_extreme = scored & (score == extreme[group])
        first = np.full(n, len(names))
        np.minimum.at(first, group[at_extreme], area_rank[at_extreme])
        found = first < len(names)
        area = names[by_name[np.where(found, first, 0)]]  # a new array (fancy indexing)
        area[~found] = None
        out[f"{label}_area"] = area
        out[f"{label}_score"] = extreme
    with np.errstate(invalid="ignore", divide="ignore"):
        out["gap"] = np.where(out["best_score"] > 0, out["worst_score"] / out["best_score"], np.nan)
        out["share_below_one"] = np.where(
            out["scored"] > 0, out["below_one"] / out["scored"], np.nan
        )
    return out.reset_index()[EQUITY_COLUMNS]


def widest_gaps(equity_rows: pd.DataFrame, as_of: DateLike, period: str = "month") -> pd.DataFrame:
    """The metrics (not the CityScore) of an ``equity`` frame on ``as_of`` in ``period``, the widest
    gap first: lowest worst ÷ best, ties by metric name. Only metrics scored in at least two areas
    with a best score above 0 have a gap. Columns: ``EQUITY_COLUMNS``, ``metric`` as text."""
    rows = equity_rows[
        (equity_rows["as_of"] == as_date(as_of))
        & (equity_rows["period"].astype(str) == period)
        & (equity_rows["metric"].astype(str) != CITYWIDE)
        & (equity_rows["scored"] >= 2)
        & equity_rows["gap"].notna()
    ]
    rows = rows.assign(metric=rows["metric"].astype(str))
    return rows.sort_values(["gap", "metric"], kind="stable").reset_index(drop=True)
