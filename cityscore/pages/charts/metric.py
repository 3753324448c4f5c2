"""One metric's charts: its daily values against the target, and its scores over time."""

from __future__ import annotations

import pandas as pd

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.pages.charts.style import (
    PERIOD_ORDER,
    accessible,
    alt,
    iso_days,
    rule_at_one,
    score_labels,
    thin_dates,
)
from cityscore.pages.render import round_half_even


def _targets_by_day(days: pd.Series, targets: pd.DataFrame, metric: str) -> pd.Series:
    """The target in effect on each day (NaN where none, e.g. a baseline metric)."""
    mine = targets[targets["metric"].astype(str) == metric].copy()
    if mine.empty:
        return pd.Series(float("nan"), index=days.index)
    mine["effective_from"] = pd.to_datetime(mine["effective_from"])
    left = pd.DataFrame(
        {"date": pd.to_datetime(days).to_numpy(), "order": range(len(days))}
    ).sort_values("date")
    merged = pd.merge_asof(
        left, mine.sort_values("effective_from"), left_on="date", right_on="effective_from"
    )
    return pd.Series(merged.sort_values("order")["target"].to_numpy(), index=days.index)


def metric_detail_chart(
    observations: pd.DataFrame, targets: pd.DataFrame, metric: str
) -> alt.LayerChart | alt.FacetChart:
    """One metric's daily values (ratios as numerator/denominator) against the target in effect."""
    obs = observations[observations["metric"].astype(str) == metric].sort_values("date")
    obs = thin_dates(obs, "date", 1)
    value = obs["value"] if "value" in obs else pd.Series(float("nan"), index=obs.index)
    if "numerator" in obs:
        ratio = obs["numerator"] / obs["denominator"].where(obs["denominator"] != 0)
        value = value.where(value.notna(), ratio)
    data = pd.DataFrame(
        {
            "date": iso_days(obs["date"]),
            "value": value.round(4),
            "target": _targets_by_day(obs["date"], targets, metric),
        }
    )
    x = alt.X("date:T", title=None)
    values = (
        alt.Chart(data)
        .mark_line(color="#0f3b2a", strokeWidth=1, point=alt.OverlayMarkDef(size=8))
        .encode(
            x=x,
            y=alt.Y("value:Q", title=metric, scale=alt.Scale(zero=False)),
            tooltip=["date:T", "value:Q"],
        )
    )
    target = (
        alt.Chart(data)
        .mark_line(color="#c62828", interpolate="step-after", strokeDash=[6, 3])
        .encode(x=x, y="target:Q", tooltip=["date:T", "target:Q"])
    )
    chart = alt.layer(values, target).properties(
        width=640, height=240, title=f"{metric}: daily values vs target"
    )
    known = data.dropna(subset=["value"])
    description = f"{metric}: daily values against the target in effect"
    if len(known):
        last = known.iloc[-1]
        description += (
            f", {len(known)} days from {known['date'].iloc[0]} to {last['date']}; "
            f"last value {round_half_even(last['value'], 3)}, "
            f"target then {round_half_even(last['target'], 3)}"
        )
    return accessible(chart, description + ".")


def score_history_chart(
    score_history: pd.DataFrame, metric: str, bands: Bands = DEFAULT_BANDS
) -> alt.LayerChart | alt.FacetChart:
    """One metric's scores over time for each period, with the line at 1.0."""
    rows = score_history[score_history["metric"].astype(str) == metric]
    rows = thin_dates(rows, "as_of", rows["period"].nunique())
    data = pd.DataFrame(
        {
            "as_of": iso_days(rows["as_of"]),
            "period": rows["period"].astype(str),
            "score": rows["score"].round(4),
            "label": score_labels(rows["score"], bands),
        }
    )
    lines = (
        alt.Chart(data)
        .mark_line(strokeWidth=1.3)
        .encode(
            x=alt.X("as_of:T", title=None),
            y=alt.Y("score:Q", title="Score", scale=alt.Scale(zero=False)),
            color=alt.Color("period:N", sort=PERIOD_ORDER, title="Period"),
            tooltip=["as_of:T", "period:N", alt.Tooltip("label:N", title="score")],
        )
    )
    chart = alt.layer(lines, rule_at_one()).properties(
        width=640, height=240, title=f"{metric}: score (1.0 = on target)"
    )
    last = data.dropna(subset=["score"])
    last = last[last["as_of"] == last["as_of"].max()] if len(last) else last
    latest = ", ".join(f"{p} {t}" for p, t in zip(last["period"], last["label"], strict=True))
    description = f"{metric}: score over time for each period" + (
        f"; on {last['as_of'].iloc[0]}: {latest}." if len(last) else "."
    )
    return accessible(chart, description)
