"""The report's charts, each with the data behind it as a table: CityScore history, contributions, small multiples."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from cityscore.engine.summary import metric_rows
from cityscore.pages.charts import (
    citywide_chart,
    contributions_chart,
    small_multiples_chart,
    top_contributions,
)
from cityscore.pages.display import Column, table_html
from cityscore.pages.report_day import DailyData

if TYPE_CHECKING:
    import altair as alt  # imported by pages.charts, without its unused grammar

MAX_PANELS = 24  # small multiples: at most this many metrics (follow-up first, then movers)
TOP_CONTRIBUTIONS = 12  # bars per comparison in "Why it moved"; the rest are one "All other" bar


@dataclass(frozen=True)
class Figure:
    """A chart with its text alternative: the chart's description and the data as an HTML table."""

    chart: alt.TopLevelMixin
    table: str = ""  # ready-escaped HTML (display.table_html), shown in a <details> below the chart


def data_details(table: str) -> str:
    """``table`` under a closed "Data behind this chart" disclosure, scrolling when wide."""
    return (
        '<details class="data"><summary>Data behind this chart</summary>'
        f'<div class="table-wrap">{table}</div></details>'
    )


def citywide_figure(daily: DailyData) -> Figure:
    """The CityScore over the history window; the table gives every day's numbers."""
    city = daily.citywide
    wide = city.pivot_table(
        index="as_of", columns=city["period"].astype(str), values="score", observed=True
    )
    share = city[city["period"].astype(str) == "day"].set_index("as_of")["share_below_one"]
    table = wide.reindex(columns=[p for p in ("day", "week") if p in wide.columns])
    table = table.assign(share=share).sort_index(ascending=False).reset_index()
    columns = [Column("as_of", "Date", "date")]
    columns += [
        Column(p, f"{p.capitalize()} CityScore", "number") for p in ("day", "week") if p in table
    ]
    columns.append(Column("share", "Share of metrics below 1 (day)", "percent", 0))
    return Figure(
        citywide_chart(city, daily.bands),
        data_details(
            table_html(table, columns, caption="CityScore by day, newest first", bands=daily.bands)
        ),
    )


def contributions_figure(daily: DailyData, top: int = TOP_CONTRIBUTIONS) -> Figure:
    """What moved the CityScore: the ``top`` largest contributions per comparison, the rest summed."""
    shown = top_contributions(daily.contributions, top)
    columns = [
        Column("metric", "Metric"),
        Column("since", "Comparison"),
        Column("before", "Score before", "number"),
        Column("now", "Score now", "number"),
        Column("contribution", "Contribution", "number", 3),
    ]
    return Figure(
        contributions_chart(daily.contributions, top=top),
        data_details(
            table_html(
                shown,
                columns,
                caption="Contributions to the change in CityScore",
                bands=daily.bands,
            )
        ),
    )


def panel_metrics(daily: DailyData, n: int = MAX_PANELS, period: str = "week") -> list[str]:
    """The metrics worth a small multiple: those needing follow-up, then the biggest movers.

    Follow-up: the lowest ``period`` scores below 1 (up to half the panels). Movers: the largest
    change of the ``period`` score over the last 30 days. All metrics when there are at most ``n``.
    """
    rows = metric_rows(daily.history, period)
    rows = rows.assign(metric=rows["metric"].astype(str))
    names = sorted(rows["metric"].unique())
    if len(names) <= n:
        return names
    score = rows.pivot_table(index="as_of", columns="metric", values="score")
    now = score.loc[daily.as_of] if daily.as_of in score.index else score.iloc[-1]
    before_day = daily.as_of - pd.Timedelta(days=30)
    before = score.loc[before_day] if before_day in score.index else score.iloc[0]
    low = now[now < 1].sort_values(kind="stable").index[: n // 2].tolist()
    moves = (now - before).abs().drop(low, errors="ignore").dropna()
    movers = moves.sort_values(ascending=False, kind="stable").index[: n - len(low)].tolist()
    return low + movers


def small_multiples_figure(daily: DailyData, n: int = MAX_PANELS, period: str = "week") -> Figure:
    """Small multiples of the chosen metrics' ``period`` scores, with a table of their numbers."""
    chosen = panel_metrics(daily, n, period)
    rows = metric_rows(daily.history, period, chosen)
    rows = rows.assign(metric=rows["metric"].astype(str))
    stats = []
    for metric in chosen:
        mine = rows[rows["metric"] == metric].dropna(subset=["score"]).sort_values("as_of")
        today = mine[mine["as_of"] == daily.as_of]["score"]
        low = mine.loc[mine["score"].idxmin()] if len(mine) else None
        stats.append(
            {
                "metric": metric,
                "now": today.iloc[0] if len(today) else float("nan"),
                "low": low["score"] if low is not None else float("nan"),
                "low_on": low["as_of"] if low is not None else pd.NaT,
                "high": mine["score"].max() if len(mine) else float("nan"),
            }
        )
    columns = [
        Column("metric", "Metric"),
        Column("now", f"{period.capitalize()} score today", "number"),
        Column("low", "Lowest", "number"),
        Column("low_on", "Lowest on", "date"),
        Column("high", "Highest", "number"),
    ]
    caption = f"{period.capitalize()} scores of the {len(chosen)} metrics shown"
    return Figure(
        small_multiples_chart(
            daily.history, daily.targets, period, metrics=chosen, bands=daily.bands
        ),
        data_details(
            table_html(
                pd.DataFrame(stats, columns=[c.field for c in columns]),
                columns,
                caption=caption,
                bands=daily.bands,
            )
        ),
    )
