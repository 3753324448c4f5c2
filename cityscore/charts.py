"""Altair chart specs for the report and the explorer: pure functions, DataFrame in, chart out.

Charts never compute scores; they only reshape score frames for display (rounded labels, "—" with
the reason where there is no score). Data is kept small (a few thousand rows at most) so that a
report page stays light and Altair's row limit is never hit.
"""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

from .catalog import CITYWIDE, PERIODS
from .render import NO_SCORE, round_half_even
from .score import DateLike, as_date

PERIOD_ORDER = list(PERIODS)
STATUS_ORDER = ["meeting", "near", "below", "no score"]
STATUS_COLORS = ["#2e7d32", "#e0a800", "#c62828", "#8a8f8c"]
BOARD_GREEN = "#0f3b2a"  # the manual scoreboard at Fenway Park
BOARD_LINE = "#1f5a43"
# Altair refuses more rows than this by default; long histories are thinned to stay below it.
MAX_ROWS = 4000
# A small multiple is 170 px wide: more points than this per metric only add bytes to the page.
SMALL_POINTS = 90

STATUS_SCALE = alt.Scale(domain=STATUS_ORDER, range=STATUS_COLORS)


def _metric_rows(scores: pd.DataFrame) -> pd.DataFrame:
    rows = scores[scores["metric"].astype(str) != CITYWIDE]
    return rows.assign(metric=rows["metric"].astype(str), period=rows["period"].astype(str))


def _status_label(status: pd.Series) -> pd.Series:
    return status.astype(object).where(status.notna(), "no score").astype(str)


def _iso(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates).dt.strftime("%Y-%m-%d")


def _thin(
    frame: pd.DataFrame, date_column: str, groups: int, max_rows: int = MAX_ROWS
) -> pd.DataFrame:
    """Keep every k-th date so that ``groups`` series stay under ``max_rows`` rows (display only)."""
    dates = pd.Series(pd.to_datetime(frame[date_column]).unique()).sort_values(ascending=False)
    step = max(1, math.ceil(len(dates) * max(groups, 1) / max_rows))
    keep = set(dates.iloc[::step])  # counted back from the newest date, so today is always shown
    return frame[pd.to_datetime(frame[date_column]).isin(keep)]


def scoreboard_chart(
    scores: pd.DataFrame, metrics: pd.DataFrame, as_of: DateLike
) -> alt.FacetChart:
    """The Fenway-style board: one row per metric grouped by category, one colored cell per period.

    A cell without a score shows "—" and its tooltip gives the reason (the score frame's note).
    """
    day = as_date(as_of)
    rows = _metric_rows(scores[pd.to_datetime(scores["as_of"]) == day])
    info = metrics[["name", "category"]].rename(columns={"name": "metric"})
    rows = rows.merge(info, on="metric", how="left")
    board = pd.DataFrame(
        {
            "metric": rows["metric"],
            "category": rows["category"].fillna("Other").astype(str),
            "period": rows["period"],
            "column": rows["period"].str.capitalize(),
            "label": rows["score"].map(round_half_even),
            "status": _status_label(rows["status"]),
            "value": rows["value"].map(lambda v: round_half_even(v, 3)),
            "target": rows["target"].map(lambda v: round_half_even(v, 3)),
            "reason": rows["note"].astype(str).where(rows["score"].isna(), ""),
        }
    )
    base = alt.Chart(board).encode(
        x=alt.X(
            "column:N",
            sort=[p.capitalize() for p in PERIOD_ORDER],
            title=None,
            axis=alt.Axis(orient="top", labelAngle=0, labelFontWeight="bold"),
        ),
        y=alt.Y("metric:N", sort="ascending", title=None, axis=alt.Axis(labelLimit=320)),
        tooltip=[
            alt.Tooltip("metric:N", title="Metric"),
            alt.Tooltip("period:N", title="Period"),
            alt.Tooltip("label:N", title="Score"),
            alt.Tooltip("status:N", title="Status"),
            alt.Tooltip("value:N", title="Value"),
            alt.Tooltip("target:N", title="Target"),
            alt.Tooltip("reason:N", title="Why no score"),
        ],
    )
    cells = base.mark_rect(stroke=BOARD_GREEN, strokeWidth=3, cornerRadius=3).encode(
        color=alt.Color(
            "status:N", scale=STATUS_SCALE, legend=alt.Legend(title="Status", orient="bottom")
        )
    )
    labels = base.mark_text(
        color="white", fontSize=15, fontWeight="bold", font="Menlo, Consolas, monospace"
    ).encode(text="label:N")
    header = alt.Header(
        title=None,
        labelAngle=0,
        labelAlign="left",
        labelAnchor="start",
        labelOrient="top",
        labelFontSize=15,
    )
    return (
        alt.layer(cells, labels)
        .properties(width=alt.Step(84), height=alt.Step(30))
        .facet(row=alt.Row("category:N", header=header, sort="ascending"), spacing=14)
        .resolve_scale(y="independent")
        .configure(background=BOARD_GREEN, padding=16)
        .configure_view(stroke=None)
        .configure_axis(labelColor="white", labelFontSize=13, domain=False, ticks=False)
        .configure_header(labelColor="#f4e9c1", labelFontWeight="bold")
        .configure_legend(labelColor="white", titleColor="white")
    )


def _one_line(y: float = 1.0) -> alt.Chart:
    return (
        alt.Chart(pd.DataFrame({"y": [y]}))
        .mark_rule(color="#555", strokeDash=[5, 4])
        .encode(y="y:Q")
    )


def citywide_chart(city_history: pd.DataFrame) -> alt.HConcatChart:
    """The CityScore over time with the line at 1.0, and beside it the share of metrics below 1.

    ``city_history`` is ``summary.citywide(scores)``; day and week periods are drawn if present.
    """
    periods = [p for p in ("day", "week") if p in set(city_history["period"].astype(str))]
    rows = city_history[city_history["period"].astype(str).isin(periods)]
    data = pd.DataFrame(
        {
            "as_of": _iso(rows["as_of"]),
            "period": rows["period"].astype(str),
            "score": rows["score"].round(4),
            "share_below_one": rows["share_below_one"].round(4),
            "scored": rows["scored"],
        }
    )
    # The day score swings with weekends; the week score is the line to read, the day stays faint.
    period_color = alt.Color(
        "period:N",
        sort=PERIOD_ORDER,
        title="Period",
        scale=alt.Scale(domain=["day", "week"], range=["#9fb8ad", "#0f3b2a"]),
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
    return alt.hconcat(
        alt.layer(score, _one_line()).properties(
            width=460, height=220, title="CityScore (1.0 = on target)"
        ),
        share.properties(width=300, height=220, title="Share of metrics below 1"),
    )


def contributions_chart(contrib: pd.DataFrame) -> alt.Chart | alt.FacetChart:
    """Why the CityScore moved: each metric's contribution to the change (bars add up to it).

    ``contrib`` is ``summary.contributions(...)``, optionally with a ``since`` column (e.g. "since
    yesterday", "since last week") to show several comparisons side by side.
    """
    data = pd.DataFrame(
        {
            "metric": contrib["metric"].astype(str),
            "category": contrib["category"].astype(str),
            "before": contrib["before"].round(4),
            "now": contrib["now"].round(4),
            "contribution": contrib["contribution"].round(5),
            "since": contrib["since"].astype(str) if "since" in contrib else "change",
        }
    )
    data["direction"] = data["contribution"].map(lambda c: "up" if c >= 0 else "down")
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("contribution:Q", title="Contribution to the change in CityScore"),
            y=alt.Y("metric:N", sort="ascending", title=None, axis=alt.Axis(labelLimit=300)),
            color=alt.Color(
                "direction:N",
                scale=alt.Scale(domain=["up", "down"], range=["#2e7d32", "#c62828"]),
                legend=None,
            ),
            tooltip=[
                "metric:N",
                "category:N",
                alt.Tooltip("before:Q", format=".2f", title="Score before"),
                alt.Tooltip("now:Q", format=".2f", title="Score now"),
                alt.Tooltip("contribution:Q", format="+.3f"),
            ],
        )
        .properties(width=300, height=alt.Step(16))
    )
    if data["since"].nunique() > 1:
        return chart.facet(
            column=alt.Column("since:N", title=None, sort=list(pd.unique(data["since"])))
        )
    return chart


def small_multiples_chart(
    score_history: pd.DataFrame, targets: pd.DataFrame, period: str = "week"
) -> alt.FacetChart:
    """One small chart per metric: its ``period`` score over time, the 1.0 line, target changes marked."""
    rows = _metric_rows(score_history)
    rows = rows[rows["period"] == period]
    metrics = sorted(rows["metric"].unique())
    rows = _thin(rows, "as_of", len(metrics), max_rows=SMALL_POINTS * max(len(metrics), 1))
    lines = pd.DataFrame(
        {
            "metric": rows["metric"],
            "as_of": _iso(rows["as_of"]),
            "score": rows["score"].round(3),
            "mark": "score",
        }
    )
    first, last = (
        pd.to_datetime(score_history["as_of"]).min(),
        pd.to_datetime(score_history["as_of"]).max(),
    )
    when = pd.to_datetime(targets["effective_from"])
    changes = targets[(when > first) & (when <= last) & targets["metric"].isin(metrics)]
    marks = pd.DataFrame(
        {
            "metric": changes["metric"].astype(str),
            "as_of": _iso(changes["effective_from"]),
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
        .mark_line(color="#0f3b2a", strokeWidth=1.2)
        .encode(
            y=alt.Y("score:Q", title=None, scale=alt.Scale(zero=False)),
            tooltip=["metric:N", "as_of:T", alt.Tooltip("score:Q", format=".2f")],
        )
    )
    # One rule per panel (not one per data row): aggregate the panel's rows away first.
    one = (
        alt.Chart()
        .transform_aggregate(rows="count()")
        .mark_rule(color="#999", strokeDash=[4, 3])
        .encode(y=alt.datum(1.0))
    )
    change = (
        base.transform_filter(alt.datum.mark == "target change")
        .mark_rule(color="#c62828", strokeWidth=2)
        .encode(tooltip=["metric:N", alt.Tooltip("as_of:T", title="Target changed"), "target:Q"])
    )
    return (
        alt.layer(score, one, change, data=data)
        .properties(width=170, height=90)
        .facet(
            facet=alt.Facet("metric:N", title=None, header=alt.Header(labelLimit=170)), columns=4
        )
        .resolve_scale(y="independent")
        .properties(title=f"{period.capitalize()} score by metric (red line: target changed)")
    )


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
) -> alt.LayerChart:
    """One metric's daily values (ratios as numerator/denominator) against the target in effect."""
    obs = observations[observations["metric"].astype(str) == metric].sort_values("date")
    obs = _thin(obs, "date", 1)
    value = obs["value"] if "value" in obs else pd.Series(float("nan"), index=obs.index)
    if "numerator" in obs:
        ratio = obs["numerator"] / obs["denominator"].where(obs["denominator"] != 0)
        value = value.where(value.notna(), ratio)
    data = pd.DataFrame(
        {
            "date": _iso(obs["date"]),
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
    return alt.layer(values, target).properties(
        width=640, height=240, title=f"{metric}: daily values vs target"
    )


def score_history_chart(score_history: pd.DataFrame, metric: str) -> alt.LayerChart:
    """One metric's scores over time for each period, with the line at 1.0."""
    rows = score_history[score_history["metric"].astype(str) == metric]
    rows = _thin(rows, "as_of", rows["period"].nunique())
    data = pd.DataFrame(
        {
            "as_of": _iso(rows["as_of"]),
            "period": rows["period"].astype(str),
            "score": rows["score"].round(4),
        }
    )
    lines = (
        alt.Chart(data)
        .mark_line(strokeWidth=1.3)
        .encode(
            x=alt.X("as_of:T", title=None),
            y=alt.Y("score:Q", title="Score", scale=alt.Scale(zero=False)),
            color=alt.Color("period:N", sort=PERIOD_ORDER, title="Period"),
            tooltip=["as_of:T", "period:N", alt.Tooltip("score:Q", format=".2f")],
        )
    )
    return alt.layer(lines, _one_line()).properties(
        width=640, height=240, title=f"{metric}: score (1.0 = on target)"
    )


__all__ = [
    "NO_SCORE",
    "citywide_chart",
    "contributions_chart",
    "metric_detail_chart",
    "score_history_chart",
    "scoreboard_chart",
    "small_multiples_chart",
]
