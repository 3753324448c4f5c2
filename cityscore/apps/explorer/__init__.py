"""Interactive exploration for analysts: "how are we doing, and why?" in a few clicks.

``Explorer(kit).widget`` is what ``notebooks/02_explore.ipynb`` (and ``cityscore serve``) shows.
The views are pure functions (DataFrame in, DataFrame out) over a score frame and the
observations, one module per tab: ``board`` (scoreboard, exceeding / follow-up), ``metric`` (metric
detail), ``change``, ``areas`` (the area picker and *Compare areas*). Charts come from
``cityscore.pages.charts`` and are drawn as inline SVG (``markup``), so they show the same in
JupyterLab, in a Voilà page with no internet, and in a test that reads the widget's value. Each
chart is a figure with a text alternative: a caption with its headline numbers and, under "Data
behind the chart", a table.

At real sizes (hundreds to thousands of metrics) a search box narrows the metric picker and the
scoreboard, and the board and change charts draw a bounded number of rows (the lowest, highest or
largest); the tables and the CSV download (``downloads``) keep every row. ``cache.ScoreCache``
reads and scores only what is shown.

Scores follow the city's status bands and cap (``cityscore.toml``'s ``[scores]``, as ``cityscore
score`` and the daily report do; read in ``scoring``) unless ``Explorer(kit, bands=..., cap=...)``
names others.

The names below are the ones notebooks and docs use (``cityscore.explore`` is this package).
"""

from __future__ import annotations

from cityscore.apps.explorer.areas import area_equity, area_ranking, area_slice
from cityscore.apps.explorer.board import scoreboard_view
from cityscore.apps.explorer.change import change_view
from cityscore.apps.explorer.key_scores import key_numbers
from cityscore.apps.explorer.widget import Explorer, explore

__all__ = [
    "Explorer",
    "area_equity",
    "area_ranking",
    "area_slice",
    "change_view",
    "explore",
    "key_numbers",
    "scoreboard_view",
]
