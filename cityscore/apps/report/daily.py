"""The report day's data, assembled from the Kit: scores, history and the views derived from them."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

import pandas as pd

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.errors import ConfigError
from cityscore.core.vocabulary import PERIODS
from cityscore.engine import summary
from cityscore.frames.dates import as_date
from cityscore.kit import no_values_error
from cityscore.kit.calendar import calendar_options
from cityscore.pages.render import score_text
from cityscore.pages.report_day import DailyData

if TYPE_CHECKING:
    from cityscore.kit import Kit


def daily_data(
    kit: Kit,
    report_date: str = "",
    *,
    history_days: int = 365,
    stale_after: int = 0,
    periods: list[str] | None = None,
    leaders_period: str = "week",
    bands: str = "1.0,0.9",
    cap: float | None = None,
    stale_metrics: Collection[str] = (),
) -> DailyData:
    """Scores, history and the derived views for the report date (empty: ``Kit.default_as_of()``,
    the latest date most metrics have data for, as ``cityscore report`` picks it).

    When the city has areas with values in the report date's windows, ``areas`` and ``equity`` hold
    the areas' scores on the report date and how far apart they are (scored for that one date only).
    ``stale_metrics`` are scored as stale whatever their dates (the morning run passes the metrics
    of a source it could not read). The freshness table counts each metric's days in its reporting
    schedule and flags it stale by its own ``stale_after``, as the scores do; a ``stale_after``
    above 0 applies that many days to every metric instead.
    """
    first, last = kit.date_range()
    if first is None or last is None:
        raise no_values_error()
    # The date and why it is the one shown: the default's reason when the date is the default
    # (``cityscore report`` passes the default date it picked), else "the date asked for".
    choice = kit.as_of_choice()
    if report_date and as_date(report_date).date() != choice.as_of:
        choice = kit.as_of_choice(report_date)
    as_of = pd.Timestamp(choice.as_of)
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
    history = kit.scores(
        start=start, end=as_of, bands=status_bands, cap=cap or None, stale_metrics=stale_metrics
    )
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
    # Area rows too: a metric reported only by area has data, and its latest area date is its own.
    observations = kit.observations(start, as_of, areas=area_scores is not None)
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
        freshness=summary.freshness(
            observations,
            metrics,
            as_of,
            stale_after=stale_after or None,
            closed=calendar_options(start.date(), as_of.date(), None)["closed"],
            stale_metrics=stale_metrics,
        ),
        areas=area_scores,
        equity=equity,
        area_catalog=kit.area_catalog() if area_scores is not None else None,
        bands=status_bands,
        why=choice.why(),
        cap=cap or None,
    )


def _since_label(
    city: pd.DataFrame, as_of: pd.Timestamp, days: int, label: str, bands: Bands = DEFAULT_BANDS
) -> str:
    """E.g. "since yesterday: 0.99 → 1.03", the day CityScores the contributions explain."""
    day = city[city["period"].astype(str) == "day"].set_index("as_of")["score"]
    before = day.get(as_of - pd.Timedelta(days=days))
    return f"{label}: {score_text(before, bands)} → {score_text(day.get(as_of), bands)}"
