"""The city's scoring options: closed days from ``[calendar]``, ``[scores] count_stale``, and the
populations rates per resident are scored with."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypedDict

import pandas as pd

from cityscore.core.settings import load_settings
from cityscore.core.vocabulary import BASELINE_DAYS, LAST_YEAR_DAYS, PERIODS
from cityscore.io.calendar import closed_days
from cityscore.kit.rates import rate_populations


class CalendarOptions(TypedDict):
    """The keywords ``score_range`` and ``score_by_area`` take from the city's settings."""

    closed: list[dt.date]
    count_stale: bool


def calendar_options(first: dt.date, last: dt.date, count_stale: bool | None) -> CalendarOptions:
    """The closed days a score of ``first..last`` can reach (its windows and baselines included),
    and whether stale metrics count (``count_stale``, else the city's setting)."""
    settings = load_settings()
    reach = first - dt.timedelta(days=max(BASELINE_DAYS, LAST_YEAR_DAYS + max(PERIODS.values())))
    closed = closed_days(
        settings.calendar_country,
        settings.calendar_subdivision,
        settings.closures,
        range(reach.year, last.year + 1),
    )
    keep = settings.count_stale if count_stale is None else count_stale
    return {"closed": closed, "count_stale": keep}


class ScoringOptions(CalendarOptions):
    """Every keyword ``score_range`` and ``score_by_area`` take from the city (``scoring_options``)."""

    populations: dict[str, float | None] | None


def scoring_options(
    metrics: pd.DataFrame,
    first: dt.date,
    last: dt.date,
    count_stale: bool | None,
    area_catalog: Callable[[], pd.DataFrame],
) -> ScoringOptions:
    """The city's keywords for scoring ``metrics`` from ``first`` to ``last``: ``calendar_options``
    and the populations of ``rate_populations`` (the area catalog read only for rate metrics)."""
    days = calendar_options(first, last, count_stale)
    people = rate_populations(metrics, area_catalog)
    return {"closed": days["closed"], "count_stale": days["count_stale"], "populations": people}
