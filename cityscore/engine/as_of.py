"""Which day a board shows: the latest date most active metrics reach, and what it leaves out."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from cityscore.core.vocabulary import BASELINE_DAYS, PERIODS

# Days of data before the first as-of date that a score can depend on: the baseline's year (which
# also covers the longest window, a quarter).
LOOKBACK_DAYS = max(BASELINE_DAYS, max(PERIODS.values()) - 1)

# The default as-of date: the latest date that at least this share of the active metrics reach, an
# active metric being one with a value in the longest window (a quarter) before the city's latest data.
DEFAULT_AS_OF_SHARE = 0.5
ACTIVE_DAYS = max(PERIODS.values())
STALE_DAYS = 7  # as the report's freshness table: no value in the last week is stale
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
    )  # metric -> its latest date (long before)
    never: list[str] = field(default_factory=list)  # metrics with no values at all

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
                f"Stale: no value in the {STALE_DAYS} days to {self.as_of} for {names_text(self.stale)}."
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


def default_as_of(last: dict[str, dt.date]) -> dt.date:
    newest = max(last.values())
    active = sorted(
        (d for d in last.values() if d > newest - dt.timedelta(days=ACTIVE_DAYS)), reverse=True
    )
    # The k-th latest date is reached by k of the active metrics: take the smallest k that is "most".
    needed = max(1, math.ceil(len(active) * DEFAULT_AS_OF_SHARE))
    return active[needed - 1]


def choose_as_of(
    last: dict[str, dt.date], metric_names: list[str], as_of: dt.date | None = None
) -> AsOfChoice:
    """``as_of`` (default: ``default_as_of(last)``) with the metrics its board leaves out.

    ``last`` maps each metric with values to its latest date; ``metric_names`` is the catalog.
    """
    day = as_of if as_of is not None else default_as_of(last)
    stale_before = day - dt.timedelta(days=STALE_DAYS)
    later = {m: d for m, d in sorted(last.items()) if d > day}
    stale = {m: d for m, d in sorted(last.items()) if d < stale_before}
    never = sorted(set(metric_names) - set(last))
    return AsOfChoice(day, later, stale, never)
