"""Which day a board shows: the latest date most active metrics reach, and what it leaves out."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import pandas as pd

from cityscore.core.vocabulary import BASELINE_DAYS, PERIODS, SCHEDULE
from cityscore.engine.schedules import PERIODIC, report_day, schedules_of
from cityscore.engine.summary import freshness
from cityscore.frames.dates import DateLike

# Days of data before the first as-of date that a score can depend on: the baseline's year (which
# also covers the longest window, a quarter).
LOOKBACK_DAYS = max(BASELINE_DAYS, max(PERIODS.values()) - 1)

# The default as-of date: the latest date that at least this share of the active metrics reach, an
# active metric being one with a value in the longest window (a quarter) before the city's latest data.
DEFAULT_AS_OF_SHARE = 0.5
ACTIVE_DAYS = max(PERIODS.values())
SHOW_NAMES = 5  # names listed per group in a "left out" note; the rest are counted


@dataclass(frozen=True)
class AsOfChoice:
    """An as-of date and the metrics a board for it leaves out: later values, and stale ones."""

    as_of: dt.date
    later: dict[str, dt.date] = field(
        default_factory=dict
    )  # metric -> its latest date (after as_of)
    stale: dict[str, dt.date] = field(
        default_factory=dict
    )  # metric -> its latest date (stale: older than its schedule's ``stale_after``)
    never: list[str] = field(default_factory=list)  # metrics with no values at all
    reason: str = ""  # why this date, in words (``reason_text``); empty for a hand-made choice

    def why(self) -> str:
        """The date as a reader says it and why it is the one shown, e.g. "Friday 4 December 2026:
        the latest day most metrics reach; 18 metrics have data for later days"."""
        return f"{day_text(self.as_of)}: {self.reason}" if self.reason else day_text(self.as_of)

    def note(self) -> str:
        """A few lines for the foot of a scoreboard; empty when nothing is left out."""
        lines = []
        if self.later:
            lines.append(
                f"Not shown: values after {self.as_of} of {names_text(self.later)}"
                " (give --date to score a later day)."
            )
        if self.stale:
            lines.append(
                f"Stale on {self.as_of} (no value for longer than its schedule allows):"
                f" {names_text(self.stale)}."
            )
        if self.never:
            lines.append(f"No values yet: {names_text(dict.fromkeys(self.never))}.")
        return "\n".join(lines)


def names_text(metrics: Mapping[str, dt.date | None]) -> str:
    shown = [
        f"{name} ({last})" if last else name for name, last in list(metrics.items())[:SHOW_NAMES]
    ]
    more = len(metrics) - SHOW_NAMES
    count = f"{len(metrics)} metric{'s' if len(metrics) != 1 else ''}: "
    return count + ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def day_text(day: dt.date) -> str:
    """A date as a reader says it: "Friday 4 December 2026"."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def reason_text(day: dt.date, last: Mapping[str, dt.date], asked: bool) -> str:
    """Why ``day`` is the board's date: asked for, or the latest day most metrics reach (and how
    many metrics have data after it)."""
    later = sum(1 for d in last.values() if d > day)
    if asked:
        why = "the date asked for"
    elif later:
        why = "the latest day most metrics reach"
    else:
        why = "the latest day with data"
    if later:
        why += f"; {later} metric{'s' if later != 1 else ''} {'have' if later != 1 else 'has'} data for later days"
    return why


def default_as_of(last: dict[str, dt.date]) -> dt.date:
    newest = max(last.values())
    active = sorted(
        (d for d in last.values() if d > newest - dt.timedelta(days=ACTIVE_DAYS)), reverse=True
    )
    # The k-th latest date is reached by k of the active metrics: take the smallest k that is "most".
    needed = max(1, math.ceil(len(active) * DEFAULT_AS_OF_SHARE))
    return active[needed - 1]


def choose_as_of(
    last: dict[str, dt.date],
    metric_names: list[str],
    as_of: dt.date | None = None,
    *,
    metrics: pd.DataFrame | None = None,
    closed: Collection[DateLike] = (),
) -> AsOfChoice:
    """``as_of`` (default: ``default_as_of(last)``) with the metrics its board leaves out.

    ``last`` maps each metric with values to its latest date; ``metric_names`` is the catalog.
    Stale ones are those the engine marks stale on the day (``stale_on``): ``metrics`` gives
    their schedules and ``stale_after``, ``closed`` the city's closed days; without ``metrics`` every
    metric is ``daily`` (stale after 7 days).
    """
    day = as_of if as_of is not None else default_as_of(last)
    later = {m: d for m, d in sorted(last.items()) if d > day}
    stale = stale_on(day, {m: d for m, d in last.items() if d <= day}, metrics, closed)
    never = sorted(set(metric_names) - set(last))
    return AsOfChoice(day, later, stale, never, reason_text(day, last, as_of is not None))


def stale_on(
    day: dt.date,
    last: Mapping[str, dt.date],
    metrics: pd.DataFrame | None = None,
    closed: Collection[DateLike] = (),
) -> dict[str, dt.date]:
    """The metrics of ``last`` (metric -> latest date, none after ``day``) stale on ``day`` by the
    engine's rule (``summary.freshness``), sorted by name, with their latest dates.

    A weekly or monthly value of the week or month still running on ``day`` has no report yet: the
    metric is counted from the end of the week or month before, as if that one was reported.
    """
    if not last:
        return {}
    names = sorted(last)
    catalog = pd.DataFrame({"name": names})
    if metrics is not None:
        catalog = catalog.merge(metrics, on="name", how="left")
    if SCHEDULE not in catalog:
        catalog[SCHEDULE] = "daily"
    schedule = schedules_of(catalog)
    dates = pd.Series(pd.to_datetime([last[m] for m in names]))
    for period in PERIODIC:
        mine = (schedule == period).to_numpy() & (report_day(dates, period) > pd.Timestamp(day))
        start = dates[mine] - pd.to_timedelta(
            dates[mine].dt.day_of_week if period == "weekly" else dates[mine].dt.day - 1, unit="D"
        )
        dates[mine] = start - pd.Timedelta(days=1)
    obs = pd.DataFrame({"metric": names, "date": dates, "value": 1.0})
    obs["numerator"] = obs["denominator"] = 1.0
    fresh = freshness(obs, catalog.assign(**{SCHEDULE: schedule}), day, window=1, closed=closed)
    return {m: last[m] for m in fresh.loc[fresh["stale"], "metric"]}
