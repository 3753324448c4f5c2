"""Altair chart specs for the report and the explorer: pure functions, DataFrame in, chart out.

Charts never compute scores; they only reshape score frames for display (labels and captions through
``render.score_text``, so a shown score never contradicts its status; "—" with the reason where
there is no score). Data is kept small (a few thousand rows at most) so that a
report page stays light and Altair's row limit is never hit: each chart bounds its own rows (the
citywide chart by days, contributions by ``top``, small multiples by the metrics passed in).

Every chart carries a ``description`` that states what it shows and its headline numbers; Vega
makes it the SVG's accessible name. Marks, axes and legends are hidden from assistive technology
(``aria=False``): the description and the data table beside each chart in the report say it all.

One module per chart family (``board``, ``citywide``, ``movers``, ``multiples``, ``metric``,
``area_charts``), what they share in ``style``; the charts are imported from here.
"""

from __future__ import annotations

from cityscore.pages.charts.area_charts import area_comparison_chart, area_map
from cityscore.pages.charts.board import scoreboard_chart
from cityscore.pages.charts.citywide import citywide_chart, citywide_description
from cityscore.pages.charts.metric import metric_detail_chart, score_history_chart
from cityscore.pages.charts.movers import (
    contributions_chart,
    contributions_description,
    top_contributions,
)
from cityscore.pages.charts.multiples import small_multiples_chart, small_multiples_description
from cityscore.pages.charts.style import MAX_ROWS, accessible

__all__ = [
    "MAX_ROWS",
    "accessible",
    "area_comparison_chart",
    "area_map",
    "citywide_chart",
    "citywide_description",
    "contributions_chart",
    "contributions_description",
    "metric_detail_chart",
    "score_history_chart",
    "scoreboard_chart",
    "small_multiples_chart",
    "small_multiples_description",
    "top_contributions",
]
