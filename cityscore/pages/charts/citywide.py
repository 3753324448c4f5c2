"""The CityScore over time, with the line at 1.0, beside the share of metrics below 1."""

from __future__ import annotations

import pandas as pd

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.pages.charts.style import (
    BOARD_GREEN,
    PERIOD_ORDER,
    accessible,
    alt,
    iso_days,
    rule_at_one,
)
from cityscore.pages.display import format_date
from cityscore.pages.render import score_text


def citywide_description(city_history: pd.DataFrame, bands: Bands = DEFAULT_BANDS) -> str:
    """E.g. "CityScore over 365 days to 2026-10-31: 0.95 on the last day, lowest 0.91 on …"."""
    day = city_history[city_history["period"].astype(str) == "day"].dropna(subset=["score"])
    if day.empty:
        return "CityScore over time: no day has a CityScore yet."
    day = day.sort_values("as_of")
    last, low, high = day.iloc[-1], day.loc[day["score"].idxmin()], day.loc[day["score"].idxmax()]
    share = last["share_below_one"]
    text = (
        f"CityScore over {day['as_of'].nunique()} days to {format_date(last['as_of'])}: "
        f"{score_text(last['score'], bands)} on the last day, "
        f"lowest {score_text(low['score'], bands)} on {format_date(low['as_of'])}, "
        f"highest {score_text(high['score'], bands)} on {format_date(high['as_of'])}."
    )
    if share == share:
        text += f" Share of scored metrics below 1 on the last day: {share:.0%}."
    return text


def citywide_chart(city_history: pd.DataFrame, bands: Bands = DEFAULT_BANDS) -> alt.HConcatChart:
    """The CityScore over time with the line at 1.0, and beside it the share of metrics below 1.

    ``city_history`` is ``summary.citywide(scores)``; day and week periods are drawn if present.
    Rows: two per day of history (730 for a year), whatever the number of metrics.
    """
    periods = [p for p in ("day", "week") if p in set(city_history["period"].astype(str))]
    rows = city_history[city_history["period"].astype(str).isin(periods)]
    data = pd.DataFrame(
        {
            "as_of": iso_days(rows["as_of"]),
            "period": rows["period"].astype(str),
            "score": rows["score"].round(4),
            "share_below_one": rows["share_below_one"].round(4),
            "scored": rows["scored"],
        }
    )
    # The day score swings with weekends; the week score is the line to read, the day stays lighter
    # (still >= 3:1 against white).
    period_color = alt.Color(
        "period:N",
        sort=PERIOD_ORDER,
        title="Period",
        scale=alt.Scale(domain=["day", "week"], range=["#6b8f80", BOARD_GREEN]),
    )
    width = alt.StrokeWidth(
        "period:N",
        sort=PERIOD_ORDER,
        scale=alt.Scale(domain=["day", "week"], range=[0.8, 2.2]),
        legend=None,
    )
    x = alt.X("as_of:T", title=None)
    score = (
        alt.Chart(data)
        .mark_line()
        .encode(
            x=x,
            y=alt.Y("score:Q", title="CityScore", scale=alt.Scale(zero=False)),
            color=period_color,
            strokeWidth=width,
            tooltip=["as_of:T", "period:N", alt.Tooltip("score:Q", format=".2f"), "scored:Q"],
        )
    )
    share = (
        alt.Chart(data)
        .mark_line()
        .encode(
            x=x,
            strokeWidth=width,
            y=alt.Y(
                "share_below_one:Q", title="Share of metrics below 1", axis=alt.Axis(format="%")
            ),
            color=period_color,
            tooltip=[
                "as_of:T",
                "period:N",
                alt.Tooltip("share_below_one:Q", format=".0%"),
                "scored:Q",
            ],
        )
    )
    chart = alt.hconcat(
        alt.layer(score, rule_at_one()).properties(
            width=460, height=220, title="CityScore (1.0 = on target)"
        ),
        share.properties(width=300, height=220, title="Share of metrics below 1"),
    )
    return accessible(chart, citywide_description(city_history, bands))
