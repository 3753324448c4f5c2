"""The report day's data, assembled from the Kit: scores, history and the views derived from them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.errors import ConfigError
from cityscore.core.vocabulary import PERIODS
from cityscore.engine import summary
from cityscore.frames.dates import as_date
from cityscore.kit import no_values_error
from cityscore.pages.render import score_text
from cityscore.pages.report_day import DailyData

if TYPE_CHECKING:
    from cityscore.kit import Kit


def daily_data(
    kit: Kit,
    report_date: str = "",
    *,
    history_days: int = 365,
    stale_after: int = 7,
    periods: list[str] | None = None,
    leaders_period: str = "week",
    bands: str = "1.0,0.9",
    cap: float | None = None,
) -> DailyData:
    """Scores, history and the derived views for the report date (empty: ``Kit.default_as_of()``,
    the latest date most metrics have data for, as ``cityscore report`` picks it).

    When the city has areas with values in the report date's windows, ``areas`` and ``equity`` hold
    the areas' scores on the report date and how far apart they are (scored for that one date only).
    """
    first, last = kit.date_range()
    if first is None or last is None:
        raise no_values_error()
    as_of = as_date(report_date) if report_date else pd.Timestamp(kit.default_as_of())
    if not (pd.Timestamp(first) <= as_of <= pd.Timestamp(last)):
        msg = (
            f"no data for report date {as_of.date()}: the database holds {first} to {last}; "
            "pick a date in that range or leave the date empty for the latest"
        )
        raise ConfigError(msg)
    periods = periods or list(PERIODS)
    unknown = sorted(set(periods) - set(PERIODS))
    if unknown:
        msg = f"unknown period(s) {unknown}; choose from {list(PERIODS)}"
        raise ConfigError(msg)
    start = as_of - pd.Timedelta(days=history_days - 1)
    status_bands = Bands.parse(bands)
    history = kit.scores(start=start, end=as_of, bands=status_bands, cap=cap or None)
    metrics = kit.metrics()
    city = summary.citywide(history)
    contrib = pd.concat(
        [
            summary.contributions(history, metrics, as_of, since_days=days).assign(
                since=_since_label(city, as_of, days, label, status_bands)
            )
            for days, label in ((1, "since yesterday"), (7, "since last week"))
        ],
        ignore_index=True,
    )
    exceeding, follow_up = summary.leaders(history, as_of, period=leaders_period)
    area_scores = equity = None
    if kit.areas():  # an index walk, not a read of every area row
        scored = kit.scores(as_of, bands=status_bands, cap=cap or None, by="area")
        area_scores = scored[scored["area"] != ""].reset_index(drop=True)
        if area_scores["value"].notna().any():  # area values, not only area targets
            equity = summary.equity(area_scores)
        else:
            area_scores = None
    observations = kit.observations(start, as_of)
    return DailyData(
        as_of=as_of,
        scores=history[
            (history["as_of"] == as_of) & history["period"].isin(periods)  # on the categories
        ].reset_index(drop=True),
        history=history,
        metrics=metrics,
        targets=kit.targets(),
        citywide=city,
        contributions=contrib,
        exceeding=exceeding,
        follow_up=follow_up,
        freshness=summary.freshness(observations, metrics, as_of, stale_after=stale_after),
        areas=area_scores,
        equity=equity,
        bands=status_bands,
    )


def _since_label(
    city: pd.DataFrame, as_of: pd.Timestamp, days: int, label: str, bands: Bands = DEFAULT_BANDS
) -> str:
    """E.g. "since yesterday: 0.99 → 1.03", the day CityScores the contributions explain."""
    day = city[city["period"].astype(str) == "day"].set_index("as_of")["score"]
    before = day.get(as_of - pd.Timedelta(days=days))
    return f"{label}: {score_text(before, bands)} → {score_text(day.get(as_of), bands)}"
