"""What the explorer's controls choose: the ``Selection``, the choices offered, their check.

A chosen value (a category, a period, a metric) that is not allowed is a ``ConfigError`` that lists
the allowed ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cityscore.core.errors import ConfigError
from cityscore.core.vocabulary import CITYWIDE

ALL = "All categories"
CITYWIDE_AREA = ""  # the area picker's "Citywide" (as in Kit.scores(by="area"))
COMPARE_CHOICES = [
    ("the day before", 1),
    ("a week before", 7),
    ("30 days before", 30),
    ("a year before", 364),
]
BOARD_ORDERS = {"lowest": "lowest scores first", "highest": "highest scores first"}


def check_choice(label: str, value: str, allowed: list[str]) -> None:
    """A clear error for a value that is not one of the allowed choices."""
    if value not in allowed:
        shown = ", ".join(allowed[:10]) + (" ..." if len(allowed) > 10 else "")
        msg = f"unknown {label} {value!r}; choose one of: {shown}"
        raise ConfigError(msg)


def category_metrics(metrics: pd.DataFrame, category: str = ALL) -> list[str]:
    """Names of the metrics in ``category`` (all metrics for ``ALL``), in catalog order."""
    if category == ALL:
        return metrics["name"].astype(str).tolist()
    check_choice("category", category, sorted(metrics["category"].unique()))
    return metrics.loc[metrics["category"] == category, "name"].astype(str).tolist()


def matching_metrics(metrics: pd.DataFrame, category: str = ALL, search: str = "") -> list[str]:
    """Metrics in ``category`` whose name contains ``search`` (any case), in catalog order."""
    names = category_metrics(metrics, category)
    text = search.strip().casefold()
    return [n for n in names if text in n.casefold()] if text else names


@dataclass
class Selection:
    """What the controls say now."""

    as_of: pd.Timestamp
    period: str
    category: str
    metric: str
    since_days: int
    search: str = ""
    board: str = "lowest"
    area: str = CITYWIDE_AREA  # "" = citywide
    compare: str = CITYWIDE  # what the areas are compared on: the CityScore, or the metric

    @property
    def compared(self) -> str:
        """The metric the area comparison shows (``CITYWIDE`` or the chosen metric)."""
        return CITYWIDE if self.compare == CITYWIDE else self.metric
