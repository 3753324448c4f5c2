"""Small multiples: one small chart per metric of its score over time, target changes marked."""

from __future__ import annotations

import pandas as pd

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.pages.charts.style import (
    BOARD_GREEN,
    DOWN,
    accessible,
    alt,
    iso_days,
    text_metric_rows,
    thin_dates,
)
from cityscore.pages.display import format_date
from cityscore.pages.render import score_text

# A small multiple is 170 px wide: more points than this per metric only add bytes to the page.
SMALL_POINTS = 90


def small_multiples_description(
    score_history: pd.DataFrame, period: str, metrics: list[str], bands: Bands = DEFAULT_BANDS
) -> str:
    """How many panels, and the metrics lowest and highest on the last day."""
    rows = text_metric_rows(score_history, period, metrics)
    last = rows[rows["as_of"] == rows["as_of"].max()].dropna(subset=["score"])
    text = f"{period.capitalize()} score over time for {len(metrics)} metrics, one panel each"
    if last.empty:
        return text + "."
    low, high = last.loc[last["score"].idxmin()], last.loc[last["score"].idxmax()]
    return (
        text + f"; on {format_date(low['as_of'])} the lowest is {low['metric']} "
        f"({score_text(low['score'], bands)}) and the highest {high['metric']} "
        f"({score_text(high['score'], bands)})."
    )


def small_multiples_chart(
    score_history: pd.DataFrame,
    targets: pd.DataFrame,
    period: str = "week",
    metrics: list[str] | None = None,
    bands: Bands = DEFAULT_BANDS,
) -> alt.FacetChart:
    """One small chart per metric: its ``period`` score over time, the 1.0 line, target changes marked.

    ``metrics`` chooses the panels (in that order; default every metric, by name). Each panel is
    thinned to about SMALL_POINTS dates, so the chart holds about SMALL_POINTS rows per panel.
    """
    chosen = None if metrics is None else list(metrics)  # any iterable, read once
    rows = text_metric_rows(score_history, period, chosen)
    if chosen is None:
        chosen = sorted(rows["metric"].unique())
    rows = thin_dates(rows, "as_of", len(chosen), max_rows=SMALL_POINTS * max(len(chosen), 1))
    lines = pd.DataFrame(
        {
            "metric": rows["metric"],
            "as_of": iso_days(rows["as_of"]),
            "score": rows["score"].round(3),
            "mark": "score",
        }
    )
    first, last = (
        pd.to_datetime(score_history["as_of"]).min(),
        pd.to_datetime(score_history["as_of"]).max(),
    )
    when = pd.to_datetime(targets["effective_from"])
    changes = targets[(when > first) & (when <= last) & targets["metric"].isin(chosen)]
    marks = pd.DataFrame(
        {
            "metric": changes["metric"].astype(str),
            "as_of": iso_days(changes["effective_from"]),
            "score": float("nan"),
            "target": changes["target"],
            "mark": "target change",
        }
    )
    data = pd.concat([lines, marks], ignore_index=True)
    base = alt.Chart().encode(
        x=alt.X("as_of:T", title=None, axis=alt.Axis(format="%b", tickCount=4))
    )
    score = (
        base.transform_filter(alt.datum.mark == "score")
        .mark_line(color=BOARD_GREEN, strokeWidth=1.2)
        .encode(
            y=alt.Y("score:Q", title=None, scale=alt.Scale(zero=False)),
            tooltip=["metric:N", "as_of:T", alt.Tooltip("score:Q", format=".2f")],
        )
    )
    # One rule per panel (not one per data row): aggregate the panel's rows away first.
    one = (
        alt.Chart()
        .transform_aggregate(rows="count()")
        .mark_rule(color="#767676", strokeDash=[4, 3])
        .encode(y=alt.datum(1.0))
    )
    change = (
        base.transform_filter(alt.datum.mark == "target change")
        .mark_rule(color=DOWN, strokeWidth=2)
        .encode(tooltip=["metric:N", alt.Tooltip("as_of:T", title="Target changed"), "target:Q"])
    )
    chart = (
        alt.layer(score, one, change, data=data)
        .properties(width=170, height=90)
        .facet(
            facet=alt.Facet("metric:N", title=None, header=alt.Header(labelLimit=170), sort=chosen),
            columns=4,
        )
        .resolve_scale(y="independent")
        .properties(
            title=f"{period.capitalize()} score by metric (orange-red line: target changed)"
        )
    )
    return accessible(chart, small_multiples_description(score_history, period, chosen, bands))
