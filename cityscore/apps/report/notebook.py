"""What ``notebooks/daily_report.ipynb`` calls: the day's data, its sections, and ``show`` to display them for publishing.

The notebook stays thin: ``from cityscore.apps.report import notebook as report``, then one ``report.show...(report.<section>(daily))`` per cell. Each ``show`` puts what
the publisher needs (``apps.report.outputs``) into the output's metadata.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from IPython.display import HTML, display

from cityscore.apps.report.daily import daily_data
from cityscore.apps.report.outputs import CHART_KEY, SECTION_KEY, SUMMARY_KEY, VEGALITE_MIME
from cityscore.io import demo
from cityscore.pages.areas import shipped_map
from cityscore.pages.report_alerts import alerts_html
from cityscore.pages.report_areas import AREAS_TITLE, areas_section
from cityscore.pages.report_day import DailyData
from cityscore.pages.report_figures import (
    Figure,
    citywide_figure,
    contributions_figure,
    small_multiples_figure,
)
from cityscore.pages.report_sections import (
    freshness_html,
    headline_html,
    leaders_html,
    scoreboard_html,
)

if TYPE_CHECKING:
    import altair as alt

    from cityscore.kit import Kit

__all__ = [
    "DailyData",
    "Figure",
    "alerts_html",
    "chart_bundle",
    "citywide_figure",
    "contributions_figure",
    "daily_data",
    "freshness_html",
    "headline_html",
    "leaders_html",
    "open_alerts_html",
    "scoreboard_html",
    "show",
    "show_areas",
    "show_html",
    "small_multiples_figure",
]


def open_alerts_html(kit: Kit) -> str:
    """The "Open alerts" table: the alerts the morning run (``cityscore daily``) recorded as open."""
    return alerts_html(kit.open_alerts())


def chart_bundle(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """A chart as a Vega-Lite mimebundle; the report template turns it into an inline, escaped spec."""
    spec = chart.to_dict()
    spec.pop("$schema", None)  # a URL the page never needs: Vega-Embed assumes Vega-Lite
    return {VEGALITE_MIME: spec, "text/plain": f"<{type(chart).__name__}>"}


def show(figure: alt.TopLevelMixin | Figure) -> None:
    """Display a chart (or a Figure) so that the report template can embed it offline.

    The chart's description and the Figure's table ride along in the output metadata; the template
    shows them as the figure's caption and a "Data behind this chart" table.
    """
    if not isinstance(figure, Figure):
        figure = Figure(figure)
    bundle = chart_bundle(figure.chart)
    description = bundle[VEGALITE_MIME].get("description", "")
    meta = {CHART_KEY: {"description": description, "table": figure.table}}
    display(bundle, raw=True, metadata=meta)


def show_html(text: str, summary: dict[str, Any] | None = None) -> None:
    """Display ready-escaped HTML; ``summary`` rides along in the output metadata for the command."""
    display(HTML(text), metadata={SUMMARY_KEY: summary} if summary else None)


def show_areas(daily: DailyData, areas_map: str = "") -> None:
    """Display the "Across neighbourhoods" section (nothing for a city without areas).

    Without ``areas_map``: the demo city's own map when the areas are the demo's, else a table.
    """
    if not areas_map and daily.areas is not None:
        shipped = shipped_map(daily.areas["area"], demo.AREAS, demo.AREAS_GEOJSON)
        areas_map = str(shipped) if shipped is not None else ""
    for i, part in enumerate(areas_section(daily, areas_map)):
        if isinstance(part, Figure):
            show(part)
        else:
            display(HTML(part), metadata={SECTION_KEY: AREAS_TITLE} if i == 0 else None)
