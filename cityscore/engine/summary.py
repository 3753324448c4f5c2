"""Views derived from a score frame: categories, the share below 1, percentiles, leader lists,
what moved the CityScore, and data freshness. Pure functions, DataFrame in, DataFrame out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.vocabulary import CITYWIDE
from cityscore.engine.statuses import STATUSES, status_codes
from cityscore.frames.dates import DateLike, as_date


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


def citywide(scores: pd.DataFrame) -> pd.DataFrame:
    """The citywide rows, with the share of scored metrics below 1 beside each CityScore.

    Columns: ``as_of, period, score, status, note, scored, below_one, share_below_one``.
    """
    rows = metric_rows(scores)
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
    scores: pd.DataFrame, metrics: pd.DataFrame, bands: Bands = DEFAULT_BANDS
) -> pd.DataFrame:
    """Weighted mean score per category: ``as_of, category, period, score, status, scored, metrics``."""
    info = metrics[["name", "category", "weight"]].rename(columns={"name": "metric"})
    rows = metric_rows(scores)[["as_of", "metric", "period", "score"]]
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
        out["score"] = np.where(
            out["scored_weight"] > 0, out["weighted"] / out["scored_weight"], np.nan
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


def leaders(
    scores: pd.DataFrame, as_of: DateLike, period: str = "week", n: int = 5
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(exceeding, needs follow-up): the top ``n`` and bottom ``n`` metrics by ``period`` score.

    A metric is never in both lists: with fewer than 2n scored metrics, the bottom list takes only
    those not already on top. Ties break by metric name.
    """
    as_of = as_date(as_of)
    rows = metric_rows(scores)
    rows = rows[(rows["as_of"] == as_of) & (rows["period"] == period) & rows["score"].notna()]
    rows = rows.assign(metric=rows["metric"].astype(str))[
        ["metric", "value", "target", "score", "status"]
    ]
    top = rows.sort_values(["score", "metric"], ascending=[False, True]).head(n)
    rest = rows[~rows["metric"].isin(top["metric"])]
    bottom = rest.sort_values(["score", "metric"], ascending=[True, True]).head(n)
    return top.reset_index(drop=True), bottom.reset_index(drop=True)


def contributions(
    scores: pd.DataFrame,
    metrics: pd.DataFrame,
    as_of: DateLike,
    since_days: int = 1,
    period: str = "day",
) -> pd.DataFrame:
    """Each metric's share of the change in the CityScore from ``as_of - since_days`` to ``as_of``.

    A metric contributes ``w * s_now / W_now - w * s_before / W_before`` (a missing score counts 0,
    ``W`` is the total weight of the metrics scored that day), so the contributions add up exactly to
    the change in the citywide score. Columns: ``metric, category, before, now, contribution``,
    largest movement first. Empty if either date has no CityScore.
    """
    now, before = as_date(as_of), as_date(as_of) - pd.Timedelta(days=since_days)
    rows = metric_rows(scores)
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


def freshness(
    observations: pd.DataFrame,
    metrics: pd.DataFrame,
    as_of: DateLike,
    stale_after: int = 7,
    window: int = 90,
) -> pd.DataFrame:
    """Per metric: last date with data, days since, whether stale, and missing days in the last ``window``.

    Columns: ``metric, last_date, days_since, stale, missing_days``.
    """
    as_of = as_date(as_of)
    all_dates = pd.to_datetime(
        observations["date"]
    ).dt.normalize()  # a time of day is still that day
    obs = observations[all_dates <= as_of]
    dates = all_dates[all_dates <= as_of]
    last = dates.groupby(obs["metric"]).max()
    recent = dates > as_of - pd.Timedelta(days=window)
    present = dates[recent].groupby(obs["metric"][recent]).nunique()
    out = pd.DataFrame({"metric": metrics["name"].to_numpy()})
    # reindex, not map: map fails on an empty mapping of dates (a city with metrics but no data yet).
    out["last_date"] = last.reindex(out["metric"]).to_numpy()
    out["days_since"] = (as_of - out["last_date"]).dt.days
    out["stale"] = out["days_since"].isna() | (out["days_since"] > stale_after)
    out["missing_days"] = window - present.reindex(out["metric"]).fillna(0).astype(int).to_numpy()
    return out


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
