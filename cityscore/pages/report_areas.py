"""The report's "Across neighbourhoods" section: a map or a heat table of the areas, and the widest gaps."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cityscore.core.errors import ConfigError
from cityscore.core.vocabulary import CITYWIDE, PERIODS
from cityscore.engine import summary
from cityscore.engine.rates import metric_rates
from cityscore.pages import areas
from cityscore.pages.charts import area_map
from cityscore.pages.display import Column, table_html
from cityscore.pages.display import escape as _e
from cityscore.pages.render import round_half_even, score_text
from cityscore.pages.report_day import DailyData
from cityscore.pages.report_figures import Figure, data_details

AREAS_TITLE = "Across neighbourhoods"
AREA_PERIOD = "month"  # the areas are compared on their month scores (daily area data is sparse)
TOP_GAPS = 10  # metrics in the widest-gap list and the heat table; the rest are counted in words


def areas_section(
    daily: DailyData, areas_map: str | Path = "", top: int = TOP_GAPS
) -> list[str | Figure]:
    """The "Across neighbourhoods" section as parts to show in order (HTML text or a Figure); no
    parts when the city has no areas.

    A map of each area's CityScore from ``areas_map`` (none given: the caller's choice, e.g. the
    demo's own map in ``apps.report.notebook.show_areas``), else a heat table of areas x (the
    CityScore and the ``top`` metrics with the widest gap); then those metrics with their best and
    worst area. Area names that the map and the data do not share are listed; when none match,
    the heat table is shown instead.
    """
    if daily.areas is None or daily.areas.empty or daily.equity is None:
        return []
    rows = areas.area_rows(daily.areas, CITYWIDE, AREA_PERIOD, daily.as_of)
    gaps = summary.widest_gaps(daily.equity, daily.as_of, AREA_PERIOD)
    names = rows["area"].tolist()
    path = Path(areas_map) if areas_map else None
    geojson, notes = None, []
    if path is not None:
        shapes = areas.load_geojson(path)
        try:  # matched through the area catalog's map keys (areas.csv geometry, else the name)
            geojson, missing, extra = areas.map_for_areas(
                shapes, names, path.name, daily.area_catalog
            )
        except ConfigError as refused:
            notes.append(f"{refused} The table below shows the areas instead of a map.")
            geojson = None
        else:
            if missing:
                notes.append(f"No shape in {path.name} for: {', '.join(missing)} (see the table).")
            if extra:
                notes.append(
                    f"Shapes in {path.name} with no area in the data (grey): {', '.join(extra)}."
                )
    head = (
        f'<h2 id="{_e(AREAS_TITLE.replace(" ", "-"))}">{_e(AREAS_TITLE)}</h2>'
        f"<p>{_e(_areas_intro(daily, daily.equity, len(names)))}</p>"
        + _rates_note(daily)
        + "".join(f'<p class="note">{_e(note)}</p>' for note in notes)
    )
    parts: list[str | Figure] = [head]
    if geojson is not None:
        parts += [
            '<h3 id="areas-map">CityScore by area</h3>',
            _area_map_figure(daily, rows, geojson),
        ]
    else:
        parts.append(_heat_html(daily, gaps, top))
    parts.append(_gaps_html(daily, daily.areas, gaps, top))
    return parts


def _rates_note(daily: DailyData) -> str:
    """Which metrics are rates per resident, so areas of different sizes read fairly ("" if none)."""
    rates = metric_rates(daily.metrics)
    if not rates:
        return ""
    listed = "; ".join(f"{name} ({words})" for name, words in rates.items())
    return (
        f"<p>Rates per resident: {_e(listed)}. Their values are per resident of each area (and of "
        "the city), and one target applies to every area.</p>"
    )


def _with_rates(names: pd.Series, metrics: pd.DataFrame) -> list[str]:
    """Metric names, a rate's followed by how it reads: ``Potholes (per 1,000 residents)``."""
    rates = metric_rates(metrics)
    return [f"{n} ({rates[n]})" if n in rates else str(n) for n in names.astype(str)]


def _areas_intro(daily: DailyData, eq: pd.DataFrame, n_areas: int) -> str:
    def _r(score: float) -> str:
        return score_text(score, daily.bands)

    city = eq[
        (eq["as_of"] == daily.as_of)
        & (eq["metric"].astype(str) == CITYWIDE)
        & (eq["period"].astype(str) == AREA_PERIOD)
    ]
    text = (
        f"Each of the city's {n_areas} areas is scored by the same rules as the city; they are "
        f"compared here on their {AREA_PERIOD} scores (the {PERIODS[AREA_PERIOD]} days to "
        f"{daily.as_of.date()})."
    )
    if len(city) and city.iloc[0]["scored"] > 0:
        c = city.iloc[0]
        text += (
            f" Area CityScores run from {_r(c['worst_score'])} in {c['worst_area']} to "
            f"{_r(c['best_score'])} in {c['best_area']} (gap {round_half_even(c['gap'], 2)}, "
            "worst ÷ best); "
            f"{int(c['below_one'])} of {int(c['scored'])} areas are below 1."
        )
    return text


def _area_map_figure(daily: DailyData, rows: pd.DataFrame, geojson: dict) -> Figure:
    title = f"{AREA_PERIOD.capitalize()} CityScore by area, {daily.as_of.date()}"
    columns = [
        Column("area", "Area"),
        Column("score", "CityScore", "number"),
        Column("status", "Status", "status"),
        Column("note", "Note"),
    ]
    table = table_html(rows, columns, caption=title, bands=daily.bands)
    return Figure(area_map(rows, geojson, title=title, bands=daily.bands), data_details(table))


def _heat_html(daily: DailyData, gaps: pd.DataFrame, top: int) -> str:
    shown = gaps["metric"].head(top).tolist()
    frames = areas.heat_frames(daily.areas, [CITYWIDE, *shown], AREA_PERIOD, daily.as_of)
    caption = (
        f"{AREA_PERIOD.capitalize()} scores by area: the CityScore and the {len(shown)} "
        f"metric{'s' if len(shown) != 1 else ''} with the widest gap"
    )
    rest = len(gaps) - len(shown)
    more = (
        f'<p class="more">{rest} more metric{"s" if rest != 1 else ""} with a gap between areas '
        "not shown in this table.</p>"
        if rest > 0
        else ""
    )
    return (
        '<h3 id="areas-table">Scores by area</h3>'
        + areas.heat_html(*frames, caption=caption, bands=daily.bands)
        + more
        + f"<p>Each cell: the area's {_e(AREA_PERIOD)} score with its status (✓ meeting, "
        "≈ near, ✗ below); — where the area has no score (the reason is read out with it).</p>"
    )


def _gaps_html(daily: DailyData, area_scores: pd.DataFrame, gaps: pd.DataFrame, top: int) -> str:
    status = area_scores[area_scores["period"].astype(str) == AREA_PERIOD]
    status = status[status["as_of"] == daily.as_of]
    worst = dict(
        zip(
            zip(status["metric"].astype(str), status["area"].astype(str), strict=True),
            status["status"].astype(object),
            strict=True,
        )
    )
    table = gaps.assign(
        worst_status=[worst.get(k) for k in zip(gaps["metric"], gaps["worst_area"], strict=True)],
        below=[f"{b} of {n}" for b, n in zip(gaps["below_one"], gaps["scored"], strict=True)],
        metric=_with_rates(gaps["metric"], daily.metrics),
    )
    columns = [
        Column("metric", "Metric"),
        Column("worst_area", "Worst area"),
        Column("worst_score", "Worst score", "number"),
        Column("worst_status", "Worst area's status", "status"),
        Column("best_area", "Best area"),
        Column("best_score", "Best score", "number"),
        Column("gap", "Gap (worst ÷ best)", "decimal"),  # not a score: no band-edge decimals
        Column("below", "Areas below 1"),
    ]
    return '<h3 id="areas-gaps">Widest gaps</h3>' + table_html(
        table,
        columns,
        caption=f"Metrics with the widest gap between areas ({AREA_PERIOD} scores), widest first",
        empty="no metric is scored in two or more areas",
        max_rows=top,
        more="{n} more metrics scored in two or more areas not shown; their gaps are narrower.",
        bands=daily.bands,
    )
