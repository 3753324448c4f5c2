"""The explorer's areas: the area picker's slices and the *Compare areas* tab.

The picker shows one area's rows in every view (``area_slice``, ``area_targets``); the tab ranks
every area on the CityScore or on the chosen metric (``area_ranking``), with the equity row
(``area_equity``), a description in words and the ranking chart as an accessible figure.
"""

from __future__ import annotations

import html

import pandas as pd

from cityscore.apps.explorer.choices import CITYWIDE_AREA, check_choice
from cityscore.apps.explorer.markup import (
    SCORED,
    chart_figure,
    live_message_html,
    view_table_html,
)
from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.vocabulary import PERIODS
from cityscore.engine.summary import EQUITY_COLUMNS, equity
from cityscore.frames.dates import DateLike, as_date
from cityscore.pages import charts
from cityscore.pages.areas import area_rows
from cityscore.pages.render import round_half_even, score_text

AREA_VIEW = "compare areas"  # a fifth tab, shown when the city has areas
AREA_RANK_COLUMNS = ["rank", "area", "score", "status", "value", "target", "note"]
# The equity row as the comparison tab shows it (the date, metric and period are in the caption).
EQUITY_SHOWN = [c for c in EQUITY_COLUMNS if c not in ("as_of", "metric", "period")]
AREAS_INTRO = (
    "<p>This city has scores by area: <i>Area</i> switches the scoreboard, metric detail, change"
    " and lists to one area's scores, and the <i>Compare areas</i> tab ranks every area on the"
    " CityScore or on the chosen metric.</p>"
)


def area_slice(frame: pd.DataFrame, area: str = CITYWIDE_AREA) -> pd.DataFrame:
    """The rows of one area (``""`` = citywide) without the ``area`` column: the shape every view
    takes. A frame without an ``area`` column is citywide already."""
    if "area" not in frame:
        return frame
    return frame[frame["area"] == area].drop(columns="area")


def area_targets(targets: pd.DataFrame, metric: str, area: str = CITYWIDE_AREA) -> pd.DataFrame:
    """The targets that apply to ``metric`` in ``area``: the area's own if it has any, else the city's
    (``targets`` from ``Kit.targets(areas=True)``; a frame without ``area`` is the city's)."""
    if "area" not in targets:
        return targets[targets["metric"] == metric]
    own = targets[(targets["metric"] == metric) & (targets["area"] == area)]
    if own.empty:
        own = targets[(targets["metric"] == metric) & (targets["area"] == CITYWIDE_AREA)]
    return own.drop(columns="area")


def area_ranking(
    area_scores: pd.DataFrame, metric: str, period: str, as_of: DateLike
) -> pd.DataFrame:
    """Every area's ``period`` score on ``metric`` (or ``CITYWIDE``, the areas' CityScore) on
    ``as_of``, best first; areas without a score last; ties share a rank and go by area name.

    ``area_scores`` is a ``Kit.scores(by="area")`` frame. Columns: ``AREA_RANK_COLUMNS``.
    """
    check_choice("period", period, list(PERIODS))
    rows = area_rows(area_scores, metric, period, as_of)
    rows = rows.sort_values(
        ["score", "area"], ascending=[False, True], na_position="last", kind="stable"
    )
    rank = rows["score"].rank(method="min", ascending=False).astype("Int64")
    return rows.assign(rank=rank)[AREA_RANK_COLUMNS].reset_index(drop=True)


def area_equity(
    area_scores: pd.DataFrame, metric: str, period: str, as_of: DateLike
) -> pd.DataFrame:
    """The equity summary (``summary.equity``) of one metric and period on ``as_of``: best and worst
    area, gap (worst / best), share of areas below 1. One row, or none for no area rows."""
    day = area_scores[
        (area_scores["as_of"] == as_date(as_of))
        & (area_scores["metric"] == metric)
        & (area_scores["period"] == period)
    ]
    return equity(day).reset_index(drop=True)


def compute_area_views(
    area_scores: pd.DataFrame, compared: str, period: str, as_of: DateLike
) -> dict[str, pd.DataFrame]:
    """The comparison tab's DataFrames: every area ranked on ``compared`` (``CITYWIDE`` or a
    metric), and its equity row."""
    return {
        "areas": area_ranking(area_scores, compared, period, as_of),
        "equity": area_equity(area_scores, compared, period, as_of),
    }


def area_description(
    ranking: pd.DataFrame,
    summary: pd.DataFrame,
    name: str,
    period: str,
    as_of: DateLike,
    bands: Bands = DEFAULT_BANDS,
) -> str:
    """The comparison in words: best and worst area, the gap, how many areas are below 1 (scores
    written against ``bands``)."""
    head = f"{name} across {len(ranking)} areas, {period} scores on {as_date(as_of).date()}"
    if summary.empty or not int(summary.iloc[0]["scored"]):
        return f"{head}: no area has a score."
    eq = summary.iloc[0]
    counts = ranking["status"].value_counts()
    statuses = ", ".join(f"{int(counts.get(k, 0))} {k}" for k in SCORED)
    return (
        f"{head}: best {eq['best_area']} {score_text(eq['best_score'], bands)}, worst "
        f"{eq['worst_area']} {score_text(eq['worst_score'], bands)}, gap (worst ÷ best) {round_half_even(eq['gap'])}; "
        f"{int(eq['below_one'])} of {int(eq['scored'])} scored areas below 1. "
        f"Status: {statuses}, {int(ranking['score'].isna().sum())} without a score. "
        "The chart ranks the areas from the best score down, with the line at 1.0."
    )


def area_tables_html(
    frames: dict[str, pd.DataFrame],
    name: str,
    period: str,
    as_of: DateLike,
    bands: Bands = DEFAULT_BANDS,
    rate: str = "",
) -> str:
    """The tab's tables: the equity row of ``name`` (what is compared), then every area ranked.
    ``rate``: how the metric's rate per resident reads (``per 1,000 residents``), if it is one."""
    day = as_date(as_of).date()
    note = (
        f"<p>{html.escape(name)} is a rate: its values are {html.escape(rate)} of each area (and of "
        "the city), and one target applies to every area.</p>"
        if rate
        else ""
    )
    return (
        note
        + f"<h3>{html.escape(name)}: best and worst area</h3>"
        + view_table_html(
            frames["equity"][EQUITY_SHOWN],
            caption=f"{name}, {period} scores on {day}: equity across the areas",
            max_rows=1,
            bands=bands,
        )
        + f"<h3>{html.escape(name)}: every area, ranked</h3>"
        + view_table_html(
            frames["areas"],
            caption=f"{name} by area, {period} scores on {day}",
            max_rows=len(frames["areas"]),
            bands=bands,
        )
    )


def area_figure(
    frames: dict[str, pd.DataFrame],
    name: str,
    period: str,
    as_of: DateLike,
    bands: Bands = DEFAULT_BANDS,
) -> str:
    """The ranking chart of ``name`` across the areas as a figure with its description and data."""
    ranking = frames["areas"]
    if ranking.empty:
        return live_message_html(f"No area has a row for {name} on {as_date(as_of).date()}.")
    description = area_description(ranking, frames["equity"], name, period, as_of, bands)
    return chart_figure(
        charts.area_comparison_chart(ranking, name, period, description, bands),
        f"{name} across the areas, {period}",
        description,
        ranking,
        bands,
    )
