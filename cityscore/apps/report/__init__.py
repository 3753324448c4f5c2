"""The daily report: what its notebook calls (``report.daily_data``, ``report.show``, ...), its run, its archive.

``from cityscore.apps import report`` gives the notebook's calls (``apps.report.notebook``), loaded
on first use: ``cityscore report`` imports ``apps.report.publish``, which runs the notebook in a
kernel, and its own process never needs IPython or Altair.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cityscore.apps.report.notebook import (
        DailyData,
        Figure,
        chart_bundle,
        citywide_figure,
        contributions_figure,
        daily_data,
        freshness_html,
        headline_html,
        leaders_html,
        scoreboard_html,
        show,
        show_areas,
        show_html,
        small_multiples_figure,
    )

__all__ = [
    "DailyData",
    "Figure",
    "chart_bundle",
    "citywide_figure",
    "contributions_figure",
    "daily_data",
    "freshness_html",
    "headline_html",
    "leaders_html",
    "scoreboard_html",
    "show",
    "show_areas",
    "show_html",
    "small_multiples_figure",
]


def __getattr__(name: str) -> object:
    if name in __all__:
        value = getattr(importlib.import_module("cityscore.apps.report.notebook"), name)
        globals()[name] = value
        return value
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
