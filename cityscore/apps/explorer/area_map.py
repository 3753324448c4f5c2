"""The explorer's map of the areas: the city's GeoJSON matched to the area catalog, under the ranking.

The map file is the city's ``areas_map`` (``cityscore.toml`` or ``$CITYSCORE_AREAS_MAP``), else the
demo's own map when the areas are the demo's, as the daily report finds it. Each feature is matched
to an area through the catalog's ``geometry`` key, else the area's name (``pages.areas.map_for_areas``);
areas without a shape are listed under the map, and a map whose features match no area is not
drawn: the tab says why instead.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from cityscore.apps.explorer.markup import chart_figure, live_message_html
from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.errors import ConfigError
from cityscore.core.settings import load_settings
from cityscore.frames.dates import DateLike, as_date
from cityscore.io import demo
from cityscore.pages import charts
from cityscore.pages.areas import load_geojson, map_for_areas, shipped_map

if TYPE_CHECKING:
    from cityscore.kit import Kit


@dataclass(frozen=True)
class CityMap:
    """The city's map as the explorer draws it: the GeoJSON (None: no map), its file name, the
    area catalog that keys its shapes, and why there is no map when the file was refused."""

    geojson: dict | None = None
    source: str = ""
    catalog: pd.DataFrame | None = None
    problem: str = ""


def city_map(kit: Kit, areas: list[str]) -> CityMap:
    """The city's map for ``areas`` (none for a city without areas or without a map file)."""
    if not areas:
        return CityMap()
    try:
        path = load_settings().areas_map or shipped_map(areas, demo.AREAS, demo.AREAS_GEOJSON)
        if path is None:
            return CityMap()
        return CityMap(load_geojson(path), path.name, kit.area_catalog())
    except ConfigError as exc:  # a bad settings file or map: said in the tab, the rest works
        return CityMap(problem=str(exc))


def area_map_html(
    ranking: pd.DataFrame,
    name: str,
    period: str,
    as_of: DateLike,
    shown: CityMap,
    bands: Bands = DEFAULT_BANDS,
) -> str:
    """The map of ``ranking`` (``area_ranking``) as a figure, with the areas that have no shape
    listed under it; the reason instead when the map cannot be drawn; nothing without a map."""
    if shown.problem:
        return live_message_html(f"No map of the areas: {shown.problem}")
    if shown.geojson is None or ranking.empty:
        return ""
    try:
        drawn, missing, _ = map_for_areas(
            shown.geojson, ranking["area"].tolist(), shown.source, shown.catalog
        )
    except ConfigError as exc:
        return live_message_html(f"No map of the areas: {exc}")
    title = f"{name} by area, {period} scores on {as_date(as_of).date()}: map"
    chart = charts.area_map(ranking, drawn, title=title, bands=bands)
    description = chart.to_dict().get("description", title)
    figure = chart_figure(chart, title, description, ranking[["area", "score", "status"]], bands)
    if not missing:
        return figure
    names = ", ".join(html.escape(a) for a in missing)
    return figure + f"<p>No shape in {html.escape(shown.source)} for: {names}.</p>"
