"""The words of a score frame: each score's status by band, and the notes saying why none."""

from __future__ import annotations

import numpy as np

from cityscore.core.bands import Bands
from cityscore.core.vocabulary import BASELINE_DAYS, BASELINE_MIN_DAYS

STATUSES = ["meeting", "near", "below"]


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
]


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
