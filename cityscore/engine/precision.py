"""Scores free of float noise: a quotient within 1e-13 of a 12-digit number is that number; no infinities.

A float division carries noise in its last bits: 0.09 / 0.1 is 0.8999999999999999, and a metric on
target every day can score 0.9999999999999996 once a window's values are summed. Compared with a band
edge (``score >= 0.9``), that noise would decide a status. Every score (a metric's, a CityScore, a
category's) goes through ``settle`` once, right after its division, in the engine and in the slow
reference alike. A score within a relative ``TOLERANCE`` (1e-13) of the number it rounds to at 12
significant digits is taken to be that number: the noise of a quarter's sums is below 1e-14, and no
input has the 13 or more digits the tolerance could blur. Every other score is kept exactly as
divided (10/12 stays 0.8333333333333334). So a score exactly on target is 1, and a score exactly on
a band edge falls on the documented side (``>=``).

A score that is not a finite number (an input near the float limits) is no score (NaN); the import
checks keep such inputs out (``io.cells.NUMBER_LIMITS``), so this only guards frames built by hand.
"""

from __future__ import annotations

import numpy as np

# A score this close (relative) to a number of ``SIGNIFICANT_DIGITS`` digits is that number
# (documented in docs/methodology.md).
SIGNIFICANT_DIGITS = 12
TOLERANCE = 1e-13

# Outside this range of magnitudes a score is left as computed: the scaling below would overflow,
# and band edges (around 1) are nowhere near.
_SMALLEST, _LARGEST = 1e-200, 1e200


# Exact powers of ten up to 10**22, then the nearest floats: looked up, not computed per score.
_POWERS = 10.0 ** np.arange(0, 230)


# Scores are settled in blocks of this many: the dozen temporaries of a block stay in the CPU's
# cache, where whole-array temporaries of a full history (tens of millions of scores) would each be a
# pass through memory (3-4 times slower at 2,000 metrics x 10 years, and page faults on first use).
BLOCK = 1 << 16


def settle(scores: np.ndarray | float) -> np.ndarray:
    """``scores`` with each one within ``TOLERANCE`` of its ``SIGNIFICANT_DIGITS``-digit rounding
    replaced by that rounding (``0.8999999999999999`` -> ``0.9``); infinities become NaN.

    A new array (the input is not changed); a scalar in gives a 0-d array (``float()`` it).
    """
    given = np.asarray(scores, dtype=float)
    flat = given.reshape(-1)
    out = np.empty(flat.shape, dtype=float)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        for first in range(0, flat.size, BLOCK):
            out[first : first + BLOCK] = _settle_block(flat[first : first + BLOCK])
    return out.reshape(given.shape)


def _settle_block(x: np.ndarray) -> np.ndarray:
    """``settle`` of one 1-d block (a new array)."""
    x = np.where(np.isinf(x), np.nan, x)
    size = np.abs(x)
    ok = (size >= _SMALLEST) & (size <= _LARGEST)  # NaN, 0 and the extremes stay as they are
    if not ok.any():
        return x
    # A cell that is not ``ok`` is scaled as if it were 1 and then keeps its own value.
    size[~ok] = 1.0
    base = np.where(ok, x, 1.0)  # (NaN through rint is ten times slower)
    shift = ((SIGNIFICANT_DIGITS - 1) - np.floor(np.log10(size))).astype(np.int64)
    # Scale by a power of ten (exact up to 10**22), round to a whole number, scale back: one
    # correctly rounded division gives the float nearest the rounded decimal.
    factor = _POWERS[np.abs(shift)]
    down = shift < 0  # scores of 10**12 and more: divide first
    if down.any():
        settled = np.where(down, np.rint(base / factor) * factor, np.rint(base * factor) / factor)
    else:
        settled = np.rint(base * factor)
        settled /= factor
    close = np.abs(settled - base) <= TOLERANCE * np.abs(base)
    return np.where(ok & close, settled, x)


def settle_one(score: float) -> float | None:
    """One score as ``settle`` gives it, or ``None`` when it is not a finite number."""
    value = float(settle(score))
    return None if np.isnan(value) else value
