"""The words of a score frame: each score's status by band, and the notes saying why none."""

from __future__ import annotations

import numpy as np

from cityscore.core.bands import Bands
from cityscore.core.vocabulary import (
    BASELINE_DAYS,
    BASELINE_MIN_DAYS,
    WEEKDAY_BASELINE_MIN_WEEKS,
    WEEKDAY_BASELINE_WEEKS,
)

# A stale metric (no value for longer than its schedule allows, or named stale by the caller) has
# this status in every period, whatever its score; its score is kept but counts in no CityScore.
STALE = "stale"


STATUSES = ["meeting", "near", "below", STALE]


# A score that came out infinite or undefined (``engine.precision.settle``) is no score.
NOT_FINITE = "score is not a finite number (a value or target too large or too small to divide)"

# Why a metric has no score; the first that applies wins (index 0 means "scored").
NOTES = [
    "",
    "no data in the window",
    "denominator total is 0 in the window",
    "no target in effect on this date",
    f"not enough history for a baseline (needs {BASELINE_MIN_DAYS} days in the {BASELINE_DAYS} before)",
    "baseline target is not above 0",
    "value is 0 for a trend metric",
    "value is 0 for a lower-is-better metric",
    NOT_FINITE,
]


# Reporting schedules and seasonal baselines (``engine.schedules``, docs/methodology.md).
NO_REPORTING_DAY = "no reporting day of the metric's schedule in the window"
NO_WEEKDAY_HISTORY = (
    f"not enough history for a weekday baseline (needs {WEEKDAY_BASELINE_MIN_WEEKS} of the same "
    f"weekday in the {WEEKDAY_BASELINE_WEEKS} weeks before)"
)
NO_LAST_YEAR = "no value in the same window a year (52 weeks) earlier"
NOTES += [NO_REPORTING_DAY, NO_WEEKDAY_HISTORY, NO_LAST_YEAR]


# A rate per resident (``per_residents``) needs the residents of the city or area (``engine.rates``).
NO_POPULATION = (
    "no population for a rate per resident (an area's: areas.csv; the city's: population in "
    "cityscore.toml, or every area's)"
)
NOTES += [NO_POPULATION]


# Only an area's rows can carry this one: a sum metric's citywide count target is not an area's.
NO_AREA_TARGET = (
    "no area target in effect (a sum metric's citywide target does not apply to an area)"
)


AREA_NOTES = [*NOTES, NO_AREA_TARGET]


NO_CITY_SCORE = "no metric has a score"


def status_codes(scores: np.ndarray, bands: Bands) -> np.ndarray:
    """Index into ``STATUSES`` per score (-1 where there is no score)."""
    # Band by band in int8: np.select would build an int64 array and three full-size masks at once.
    codes = np.full(scores.shape, -1, dtype=np.int8)
    codes[scores < bands.near] = 2
    codes[scores >= bands.near] = 1
    codes[scores >= bands.meeting] = 0
    return codes
