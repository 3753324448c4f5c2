"""Altair chart specs for the report and the explorer: pure functions, DataFrame in, chart out.

Charts never compute scores; they only reshape score frames for display (labels and captions through
``render.score_text``, so a shown score never contradicts its status; "—" with the reason where
there is no score). Data is kept small (a few thousand rows at most) so that a
report page stays light and Altair's row limit is never hit: each chart bounds its own rows (the
citywide chart by days, contributions by ``top``, small multiples by the metrics passed in).

Every chart carries a ``description`` that states what it shows and its headline numbers; Vega
makes it the SVG's accessible name. Marks, axes and legends are hidden from assistive technology
(``aria=False``): the description and the data table beside each chart in the report say it all.
"""

from __future__ import annotations

import math

import pandas as pd

from cityscore.core.runtime import skipped_imports

with skipped_imports():  # 1.6-2 s of an unused grammar, in every kernel that draws a chart
    import altair as alt

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.vocabulary import PERIODS
from cityscore.engine.summary import metric_rows
from cityscore.frames.dates import DateLike, as_date
from cityscore.pages.display import STATUS_SYMBOLS, format_date, status_word
from cityscore.pages.render import (
    NO_SCORE,
    round_half_even,
    round_half_evens,
    score_text,
    score_texts,
)

PERIOD_ORDER = list(PERIODS)
STATUS_ORDER = ["meeting", "near", "below", "no score"]
# Okabe-Ito bluish green, yellow and vermillion: told apart with any colour-vision deficiency, each
# >= 3:1 against the board's green and >= 4.5:1 under dark text (INK). Status is also a symbol.
STATUS_COLORS = ["#009e73", "#f0e442", "#d55e00", "#a3a8a5"]
INK = "#111111"
UP, DOWN = "#0072b2", "#d55e00"  # Okabe-Ito blue and vermillion
BOARD_GREEN = "#0f3b2a"  # the manual scoreboard at Fenway Park
BOARD_LINE = "#1f5a43"
# Altair refuses more rows than this by default; long histories are thinned to stay below it.
MAX_ROWS = 4000
# A small multiple is 170 px wide: more points than this per metric only add bytes to the page.
SMALL_POINTS = 90

STATUS_SCALE = alt.Scale(domain=STATUS_ORDER, range=STATUS_COLORS)
# The board's metric names are cut (with "…") at this width, as measured when the SVG is drawn.
# A browser may draw them in a wider font than the one measured: name a wide font first (measured
# where it is installed, and no narrower elsewhere), and keep a margin on the left so a wider
# drawing still fits inside the picture instead of losing its first letters.
BOARD_LABEL_LIMIT = 280
LABEL_FONT = "DejaVu Sans, Verdana, sans-serif"
BOARD_PADDING = {"left": 16 + BOARD_LABEL_LIMIT // 7, "top": 16, "right": 16, "bottom": 16}


def accessible(chart: alt.TopLevelMixin, description: str) -> alt.TopLevelMixin:
    """``chart`` with ``description`` (its accessible name) and its marks, axes, legends and titles
    hidden from assistive technology; other configuration is kept."""
    chart = chart.copy(deep=["config"]).properties(description=description)
    if chart.config is alt.Undefined:
        chart.config = alt.Config()
    for key, kind in (
        ("mark", alt.MarkConfig),
        ("axis", alt.AxisConfig),
        ("legend", alt.LegendConfig),
        ("title", alt.TitleConfig),
    ):
        current = chart.config._get(key)
        chart.config[key] = (current if current is not alt.Undefined else kind()).copy()
        chart.config[key]["aria"] = False
    return chart


def _metric_rows(
    scores: pd.DataFrame, period: str | None = None, metrics: list[str] | None = None
) -> pd.DataFrame:
    """``summary.metric_rows`` with ``metric`` and ``period`` as text (made of the rows kept only)."""
    rows = metric_rows(scores, period, metrics)
    return rows.assign(metric=rows["metric"].astype(str), period=rows["period"].astype(str))


def _status_label(status: pd.Series) -> pd.Series:
    return status.astype(object).where(status.notna(), "no score").astype(str)


def _labels(scores: pd.Series, bands: Bands) -> pd.Series:
    """Each score as ``score_text`` writes it (in bulk: ``score_texts``), on the scores' index."""
    return pd.Series(score_texts(scores, bands), index=scores.index)


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
    scores: pd.DataFrame, metrics: pd.DataFrame, as_of: DateLike, bands: Bands = DEFAULT_BANDS
) -> alt.FacetChart:
    """The Fenway-style board: one row per metric grouped by category, one colored cell per period.

    A cell without a score shows "—" and its tooltip gives the reason (the score frame's note).
    """
    day = as_date(as_of)
    rows = _metric_rows(scores[pd.to_datetime(scores["as_of"]) == day])
    info = metrics[["name", "category"]].rename(columns={"name": "metric"})
    rows = rows.merge(info, on="metric", how="left")
    labels = _labels(rows["score"], bands)
    board = pd.DataFrame(
        {
            "metric": rows["metric"],
            "category": rows["category"].fillna("Other").astype(str),
            "period": rows["period"],
            "column": rows["period"].str.capitalize(),
            "label": labels,
            "cell": [
                f"{STATUS_SYMBOLS[status_word(st)]} {label}"
                for st, label in zip(rows["status"], labels, strict=True)
            ],
            "status": _status_label(rows["status"]),
            "value": pd.Series(round_half_evens(rows["value"], 3), index=rows.index),
            "target": pd.Series(round_half_evens(rows["target"], 3), index=rows.index),
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
        y=alt.Y(
            "metric:N",
            sort="ascending",
            title=None,
            axis=alt.Axis(labelLimit=BOARD_LABEL_LIMIT, labelFont=LABEL_FONT),
        ),
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
        color=INK, fontSize=15, fontWeight="bold", font="Menlo, Consolas, monospace"
    ).encode(text="cell:N")
    header = alt.Header(
        title=None,
        labelAngle=0,
        labelAlign="left",
        labelAnchor="start",
        labelOrient="top",
        labelFontSize=15,
    )
    counts = board["status"].value_counts()
    description = (
        f"Scoreboard for {day.date()}: {board['metric'].nunique()} metrics, "
        + ", ".join(f"{int(counts.get(s, 0))} cells {s}" for s in STATUS_ORDER)
        + "."
    )
    chart = (
        alt.layer(cells, labels)
        .properties(width=alt.Step(84), height=alt.Step(30))
        .facet(row=alt.Row("category:N", header=header, sort="ascending"), spacing=14)
        .resolve_scale(y="independent")
        # Each category gets its own Day/Week/... labels, drawn under its heading: one shared axis
        # on top sat where the first heading goes, and the two overlapped.
        .resolve_axis(x="independent")
        .configure(background=BOARD_GREEN, padding=BOARD_PADDING)
        .configure_view(stroke=None)
        .configure_axis(labelColor="white", labelFontSize=13, domain=False, ticks=False)
        .configure_header(labelColor="#f4e9c1", labelFontWeight="bold")
        .configure_legend(labelColor="white", titleColor="white")
    )
    return accessible(chart, description)


def _one_line(y: float = 1.0) -> alt.Chart:
    return (
        alt.Chart(pd.DataFrame({"y": [y]}))
        .mark_rule(color="#555", strokeDash=[5, 4])
        .encode(y="y:Q")
    )


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
            "as_of": _iso(rows["as_of"]),
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
        alt.layer(score, _one_line()).properties(
            width=460, height=220, title="CityScore (1.0 = on target)"
        ),
        share.properties(width=300, height=220, title="Share of metrics below 1"),
    )
    return accessible(chart, citywide_description(city_history, bands))


OTHERS = "All other metrics"


def top_contributions(contrib: pd.DataFrame, top: int) -> pd.DataFrame:
    """The ``top`` largest contributions per ``since`` label, the rest summed into one row.

    The rows of each label still add up to the change in the CityScore.
    """
    frame = contrib if "since" in contrib else contrib.assign(since="change")
    parts = []
    for since, group in frame.groupby("since", sort=False):
        order = group["contribution"].abs().sort_values(ascending=False, kind="stable").index
        ranked = group.loc[order]
        shown, rest = ranked.head(top), ranked.iloc[top:]
        parts.append(shown)
        if len(rest):
            parts.append(
                pd.DataFrame(
                    {
                        "metric": [f"{OTHERS} ({len(rest)})"],
                        "category": ["(several)"],
                        "before": [float("nan")],
                        "now": [float("nan")],
                        "contribution": [rest["contribution"].sum()],
                        "since": [since],
                    }
                )
            )
    if not parts:
        return frame.iloc[0:0]
    return pd.concat(parts, ignore_index=True)


def contributions_description(contrib: pd.DataFrame) -> str:
    """The biggest lift and drag of each comparison, in words."""
    frame = contrib if "since" in contrib else contrib.assign(since="change")
    frame = frame[~frame["metric"].astype(str).str.startswith(OTHERS)]
    if frame.empty:
        return "What moved the CityScore: no comparison is possible (a day has no CityScore)."
    parts = []
    for since, group in frame.groupby("since", sort=False):
        words = [f"{since}"]
        lift, drag = (
            group.loc[group["contribution"].idxmax()],
            group.loc[group["contribution"].idxmin()],
        )
        if lift["contribution"] > 0:
            words.append(
                f"biggest lift {lift['metric']} ({round_half_even(lift['contribution'], 3)})"
            )
        if drag["contribution"] < 0:
            words.append(
                f"biggest drag {drag['metric']} ({round_half_even(drag['contribution'], 3)})"
            )
        parts.append(", ".join(words))
    return "What moved the CityScore, metric by metric: " + "; ".join(parts) + "."


def contributions_chart(
    contrib: pd.DataFrame, top: int | None = None
) -> alt.Chart | alt.FacetChart:
    """Why the CityScore moved: each metric's contribution to the change (bars add up to it).

    ``contrib`` is ``summary.contributions(...)``, optionally with a ``since`` column (e.g. "since
    yesterday", "since last week") to show several comparisons side by side. With ``top``, only
    the ``top`` largest bars per comparison are drawn and the rest become one "All other" bar, so
    the chart stays readable (and small) at any number of metrics.
    """
    shown = top_contributions(contrib, top) if top is not None else contrib
    data = pd.DataFrame(
        {
            "metric": shown["metric"].astype(str),
            "category": shown["category"].astype(str),
            "before": shown["before"].round(4),
            "now": shown["now"].round(4),
            "contribution": shown["contribution"].round(5),
            "since": shown["since"].astype(str) if "since" in shown else "change",
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
                scale=alt.Scale(domain=["up", "down"], range=[UP, DOWN]),
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
        chart = chart.facet(
            column=alt.Column("since:N", title=None, sort=list(pd.unique(data["since"])))
        ).resolve_scale(y="independent")
    return accessible(chart, contributions_description(shown))


def small_multiples_description(
    score_history: pd.DataFrame, period: str, metrics: list[str], bands: Bands = DEFAULT_BANDS
) -> str:
    """How many panels, and the metrics lowest and highest on the last day."""
    rows = _metric_rows(score_history, period, metrics)
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
    rows = _metric_rows(score_history, period, chosen)
    if chosen is None:
        chosen = sorted(rows["metric"].unique())
    rows = _thin(rows, "as_of", len(chosen), max_rows=SMALL_POINTS * max(len(chosen), 1))
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
    changes = targets[(when > first) & (when <= last) & targets["metric"].isin(chosen)]
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
) -> alt.LayerChart:
    """One metric's scores over time for each period, with the line at 1.0."""
    rows = score_history[score_history["metric"].astype(str) == metric]
    rows = _thin(rows, "as_of", rows["period"].nunique())
    data = pd.DataFrame(
        {
            "as_of": _iso(rows["as_of"]),
            "period": rows["period"].astype(str),
            "score": rows["score"].round(4),
            "label": _labels(rows["score"], bands),
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
    chart = alt.layer(lines, _one_line()).properties(
        width=640, height=240, title=f"{metric}: score (1.0 = on target)"
    )
    last = data.dropna(subset=["score"])
    last = last[last["as_of"] == last["as_of"].max()] if len(last) else last
    latest = ", ".join(f"{p} {t}" for p, t in zip(last["period"], last["label"], strict=True))
    description = f"{metric}: score over time for each period" + (
        f"; on {last['as_of'].iloc[0]}: {latest}." if len(last) else "."
    )
    return accessible(chart, description)


# The area comparison: room for an area's name beside its bar, and for the label after the bar.
AREA_LABEL_LIMIT = 220
AREA_STEP = 22


def area_comparison_chart(
    rows: pd.DataFrame, name: str, period: str, description: str, bands: Bands = DEFAULT_BANDS
) -> alt.LayerChart:
    """One metric (or the CityScore) across the areas: a bar per area, ranked best first, the line
    at 1.0, and after each bar its status as symbol and word with the score (never colour alone).

    ``rows`` holds ``area, score, status`` in the order to draw (e.g. ``explore.area_ranking``).
    Rows: one per area, so 25 areas draw 25 bars whatever the number of metrics.
    """
    scores = rows["score"].astype(float)
    labels = _labels(scores, bands)
    data = pd.DataFrame(
        {
            "area": rows["area"].astype(str),
            "score": scores.round(4),
            "label": labels,
            "status": _status_label(rows["status"]),
            "cell": [
                f"{STATUS_SYMBOLS[status_word(st)]} {status_word(st)} {label}"
                if sc == sc
                else f"{STATUS_SYMBOLS['no score']} no score"
                for st, sc, label in zip(rows["status"], scores, labels, strict=True)
            ],
        }
    )
    top = max([1.2, *scores.dropna().tolist()]) * 1.05
    x_scale = alt.Scale(domain=[0, math.ceil(top * 10) / 10], nice=False)
    y = alt.Y(
        "area:N",
        sort=data["area"].tolist(),
        title=None,
        axis=alt.Axis(labelLimit=AREA_LABEL_LIMIT, labelFont=LABEL_FONT),
    )
    base = alt.Chart(data).encode(y=y)
    bars = base.mark_bar(stroke=INK, strokeWidth=0.6).encode(
        x=alt.X("score:Q", title=f"{period.capitalize()} score (1.0 = on target)", scale=x_scale),
        color=alt.Color("status:N", scale=STATUS_SCALE, legend=None),
        tooltip=[
            alt.Tooltip("area:N", title="Area"),
            alt.Tooltip("label:N", title="Score"),
            alt.Tooltip("status:N", title="Status"),
        ],
    )
    # The labels in a column right of the plot, clear of the bars and of the 1.0 line.
    labels = base.mark_text(align="left", x=alt.expr("width + 8"), color=INK, fontSize=12).encode(
        text="cell:N"
    )
    line = (
        alt.Chart(pd.DataFrame({"x": [1.0]}))
        .mark_rule(color="#555", strokeDash=[5, 4])
        .encode(x=alt.X("x:Q", scale=x_scale))
    )
    chart = alt.layer(bars, line, labels).properties(
        width=360,
        height=alt.Step(AREA_STEP),
        title=f"{name} across the areas ({period})",
        padding={"left": 12 + AREA_LABEL_LIMIT // 7, "top": 8, "right": 130, "bottom": 8},
    )
    return accessible(chart, description)


__all__ = [
    "NO_SCORE",
    "area_comparison_chart",
    "citywide_chart",
    "contributions_chart",
    "metric_detail_chart",
    "score_history_chart",
    "scoreboard_chart",
    "small_multiples_chart",
]
