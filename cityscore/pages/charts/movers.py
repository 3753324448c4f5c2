"""What moved the CityScore: each metric's contribution to the change, the largest ones drawn."""

from __future__ import annotations

import pandas as pd

from cityscore.pages.charts.style import DOWN, UP, accessible, alt
from cityscore.pages.render import round_half_even

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


def bar_order(data: pd.DataFrame) -> pd.Series:
    """Each bar's place in its panel: the largest lift first down to the largest drag, then the
    "All other metrics" bar last."""
    others = data["metric"].astype(str).str.startswith(OTHERS)
    key = data["contribution"].where(~others, float("-inf"))
    return key.groupby(data["since"], sort=False).rank(method="first", ascending=False).astype(int)


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
    data["rank"] = bar_order(data)
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("contribution:Q", title="Contribution to the change in CityScore"),
            y=alt.Y(
                "metric:N",
                sort=alt.EncodingSortField("rank", op="min", order="ascending"),
                title=None,
                axis=alt.Axis(labelLimit=300),
            ),
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
