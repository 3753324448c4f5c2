"""The explorer's *Metric detail* tab: one metric's frames and its two charts.

Its daily values against the target, its score history, the window behind each period's score, the
stored rows with their source and batch, today's percentile; the charts as figures with their
descriptions and data.
"""

from __future__ import annotations

import pandas as pd

from cityscore.apps.explorer.choices import Selection, check_choice
from cityscore.apps.explorer.markup import chart_figure
from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.vocabulary import PERIODS
from cityscore.engine.summary import metric_rows, percentiles
from cityscore.frames.dates import DateLike, as_date
from cityscore.pages import charts
from cityscore.pages.display import format_date
from cityscore.pages.render import round_half_even, score_text

RAW_COLUMNS = ["metric", "date", "value", "numerator", "denominator", "source", "batch_id"]
WINDOW_COLUMNS = [
    "period",
    "window_start",
    "window_end",
    "days",
    "days_with_data",
    "value",
    "target",
    "score",
    "status",
    "note",
]


def daily_values(
    observations: pd.DataFrame, scores: pd.DataFrame, targets: pd.DataFrame, metric: str
) -> pd.DataFrame:
    """A metric's daily values against the target in effect each day (fixed or baseline).

    Columns ``date, value, target, target_change``; a ratio's value is numerator / denominator.
    ``target_change`` is True on a day an effective-dated target change took effect.
    """
    obs = observations[observations["metric"] == metric]
    value = obs["value"].where(obs["value"].notna(), obs["numerator"] / obs["denominator"])
    days = metric_rows(scores)
    days = days[(days["metric"] == metric) & (days["period"] == "day")]
    out = pd.DataFrame({"date": days["as_of"].to_numpy(), "target": days["target"].to_numpy()})
    daily = pd.DataFrame(
        {"date": pd.to_datetime(obs["date"]).to_numpy(), "value": value.to_numpy()}
    )
    out = out.merge(daily, on="date", how="left")
    changes = pd.to_datetime(targets.loc[targets["metric"] == metric, "effective_from"])
    out["target_change"] = out["date"].isin(changes)
    return (
        out[["date", "value", "target", "target_change"]].sort_values("date").reset_index(drop=True)
    )


def score_history(scores: pd.DataFrame, metric: str, period: str) -> pd.DataFrame:
    """One metric's (or the CityScore's) score per as-of date for one period: ``as_of, value, target,
    score, status``; the chart draws the 1.0 line against it.
    """
    rows = scores[(scores["metric"] == metric) & (scores["period"] == period)]
    return rows[["as_of", "value", "target", "score", "status"]].reset_index(drop=True)


def window_view(
    scores: pd.DataFrame, observations: pd.DataFrame, metric: str, as_of: DateLike
) -> pd.DataFrame:
    """The window behind each period's score on ``as_of``: its dates, how many days had data, and the
    value, target and score that came out of it.
    """
    as_of = as_date(as_of)
    obs = observations[observations["metric"] == metric]
    dates = pd.to_datetime(obs["date"])
    today = scores[(scores["as_of"] == as_of) & (scores["metric"] == metric)].set_index("period")
    rows = []
    for period, days in PERIODS.items():
        start = as_of - pd.Timedelta(days=days - 1)
        row = today.loc[period] if period in today.index else None
        rows.append(
            {
                "period": period,
                "window_start": start,
                "window_end": as_of,
                "days": days,
                "days_with_data": int(((dates >= start) & (dates <= as_of)).sum()),
                **{
                    k: (row[k] if row is not None else None)
                    for k in ("value", "target", "score", "status", "note")
                },
            }
        )
    out = pd.DataFrame(rows, columns=WINDOW_COLUMNS)
    return out.astype({"status": object, "note": object})


def raw_observations(
    observations: pd.DataFrame, metric: str, as_of: DateLike, period: str
) -> pd.DataFrame:
    """The stored rows in the window behind ``period``'s score, newest first, with their source and
    import batch so an analyst can trace a surprising number to the file it came from.
    """
    check_choice("period", period, list(PERIODS))
    as_of = as_date(as_of)
    start = as_of - pd.Timedelta(days=PERIODS[period] - 1)
    obs = observations[observations["metric"] == metric]
    dates = pd.to_datetime(obs["date"])
    obs = obs[(dates >= start) & (dates <= as_of)]
    columns = [c for c in RAW_COLUMNS if c in obs.columns]
    return obs[columns].sort_values("date", ascending=False).reset_index(drop=True)


def metric_percentile(scores: pd.DataFrame, metric: str, as_of: DateLike) -> pd.DataFrame:
    """Where today's day score sits in the metric's own past year: ``metric, score, percentile, days_scored``."""
    return percentiles(scores[scores["metric"] == metric], as_of)  # one metric, not all of them


def detail_description(daily: pd.DataFrame, metric: str) -> str:
    """The metric's daily values in numbers: the latest, the lowest, the highest, target changes."""
    days = daily.dropna(subset=["value"])
    if days.empty:
        return f"{metric}: no daily values in this year."
    last = days.iloc[-1]
    low, high = days.loc[days["value"].idxmin()], days.loc[days["value"].idxmax()]
    target = (
        f" against a target of {round_half_even(last['target'], 3)}"
        if pd.notna(last["target"])
        else ""
    )
    changes = daily.loc[daily["target_change"], "date"]
    changed = (
        f" The target changed on {', '.join(format_date(d) for d in changes)}."
        if len(changes)
        else ""
    )
    return (
        f"{metric}, daily values from {format_date(days['date'].iloc[0])} to {format_date(last['date'])}: "
        f"latest {round_half_even(last['value'], 3)} on {format_date(last['date'])}{target}; "
        f"lowest {round_half_even(low['value'], 3)} on {format_date(low['date'])}, "
        f"highest {round_half_even(high['value'], 3)} on {format_date(high['date'])}.{changed}"
    )


def history_table(scores: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One metric's score per as-of date, one column per period (the history chart's data)."""
    rows = scores[scores["metric"] == metric]
    wide = rows.pivot_table(
        index="as_of",
        columns="period",
        values="score",
        aggfunc="first",
        dropna=False,
        observed=True,
    )
    wide.columns = [str(c) for c in wide.columns]
    out = wide.reindex(columns=list(PERIODS)).reset_index()
    return out.sort_values("as_of", ascending=False).reset_index(drop=True)


def history_description(
    history: pd.DataFrame, metric: str, period: str, bands: Bands = DEFAULT_BANDS
) -> str:
    """The metric's ``period`` score over the year: today, the lowest, the highest, days at 1.0+."""
    rows = history.dropna(subset=["score"]).sort_values("as_of")
    if rows.empty:
        return f"{metric}: no {period} score in this year."
    last = rows.iloc[-1]
    low, high = rows.loc[rows["score"].idxmin()], rows.loc[rows["score"].idxmax()]
    on_target = int((rows["score"] >= 1.0).sum())
    return (
        f"{metric}, score history (every period; 1.0 = on target). {period.capitalize()} score: "
        f"{score_text(last['score'], bands)} on {format_date(last['as_of'])}; lowest "
        f"{score_text(low['score'], bands)} on {format_date(low['as_of'])}, highest "
        f"{score_text(high['score'], bands)} on {format_date(high['as_of'])}; "
        f"at or above 1.0 on {on_target} of {len(rows)} days."
    )


def detail_figure(
    daily: pd.DataFrame,
    observations: pd.DataFrame,
    targets: pd.DataFrame,
    s: Selection,
    bands: Bands = DEFAULT_BANDS,
) -> str:
    """The chart of ``s.metric``'s daily values (``observations`` of the shown year) against its
    ``targets``, as a figure with the description and ``daily`` (``daily_values``) as its data."""
    where = f" — {s.area}" if s.area else ""
    return chart_figure(
        charts.metric_detail_chart(observations, targets, s.metric),
        f"{s.metric}{where}: daily values vs target",
        detail_description(daily, s.metric),
        daily.sort_values("date", ascending=False),
        bands,
    )


def history_figure(
    history: pd.DataFrame, scores: pd.DataFrame, s: Selection, bands: Bands = DEFAULT_BANDS
) -> str:
    """The chart of ``s.metric``'s score history in ``scores``, every period, as a figure with the
    description of its ``s.period`` ``history`` (``score_history``) and the data behind it."""
    where = f" — {s.area}" if s.area else ""
    return chart_figure(
        charts.score_history_chart(scores, s.metric, bands),
        f"{s.metric}{where}: score history",
        history_description(history, s.metric, s.period, bands),
        history_table(scores, s.metric),
        bands,
    )
