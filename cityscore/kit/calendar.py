"""The city's calendar as scoring options: closed days from ``[calendar]`` and ``[scores] count_stale``."""

from __future__ import annotations

import datetime as dt
from typing import TypedDict

from cityscore.core.settings import load_settings
from cityscore.core.vocabulary import BASELINE_DAYS, LAST_YEAR_DAYS, PERIODS
from cityscore.io.calendar import closed_days


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
