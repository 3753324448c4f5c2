"""Turn score frames into text a person reads: rounded tables, CSV and JSON.

Computation never rounds; display rounds to 2 decimals, half to even (0.125 -> 0.12, 0.135 -> 0.14),
reading the number as it prints (its shortest repr), so what you see is what a hand calculation gives.
A shown score never contradicts its status (``score_text``): when 2 decimals would carry it onto or
across a band edge it has not reached (0.996 -> "1.00" while near), it shows more decimals.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, localcontext

import numpy as np
import pandas as pd

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.vocabulary import CITYWIDE
from cityscore.io import score_files

NO_SCORE = "—"


def round_half_even(value: float | None, places: int = 2) -> str:
    """``value`` rounded half-to-even to ``places`` decimals, as text; ``—`` for a missing value.

    Any size of number works (the decimal context grows to fit), infinities print as ``inf``, and a
    number that rounds to zero never shows a minus sign.
    """
    if value is None or pd.isna(value):
        return NO_SCORE
    number = float(value)
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return _rounded(number, places, ROUND_HALF_EVEN)


def _rounded(number: float, places: int, rounding: str) -> str:
    exact = Decimal(repr(number))
    digits = max(exact.adjusted(), 0) + places + 2
    with localcontext() as context:
        context.prec = max(context.prec, digits)
        rounded = exact.quantize(Decimal(1).scaleb(-places), rounding=rounding)
    return str(abs(rounded) if rounded.is_zero() else rounded)


# Most decimals a score shows to stay on its side of a band edge (before rounding toward it).
MAX_SCORE_PLACES = 4


def band(score: float, bands: Bands = DEFAULT_BANDS) -> int:
    """0 meeting, 1 near, 2 below: the same test as the status (``score >= edge``)."""
    return 0 if score >= bands.meeting else 1 if score >= bands.near else 2


def _edge_places(bands: Bands) -> int:
    """Decimals the band edges need to be written exactly (0.9 -> 1, 0.955 -> 3)."""
    edges = (bands.meeting, bands.near)
    return max(max(-int(Decimal(repr(float(e))).as_tuple().exponent), 0) for e in edges)


def score_text(
    value: float | None,
    bands: Bands = DEFAULT_BANDS,
    places: int = 2,
    max_places: int = MAX_SCORE_PLACES,
) -> str:
    """A score as text that never contradicts its status.

    Half-to-even at ``places`` decimals, like ``round_half_even``, unless that would carry the score
    onto or across a band edge it has not reached (0.996 near -> "1.00"; 0.8996 below -> "0.90").
    Then it shows the fewest extra decimals, up to ``max_places``, that keep it in its band
    (0.996 -> "0.996", 0.8996 -> "0.8996"); past that (0.99999) it rounds toward its own band at
    ``max_places``: "0.9999". (With an edge written with more decimals than ``max_places``, that
    many; if even that cannot separate them, the number as Python prints it.) So the text, read
    back as a number, is always in the same band as the exact score. Missing: ``—``.
    """
    text = round_half_even(value, places)
    if text == NO_SCORE or "inf" in text:
        return text
    number = float(value)  # type: ignore[arg-type]
    home = band(number, bands)
    last = max(places, max_places, _edge_places(bands))
    for more in range(places, last + 1):
        text = round_half_even(number, more)
        if band(float(text), bands) == home:
            return text
    text = _rounded(number, last, ROUND_FLOOR if float(text) > number else ROUND_CEILING)
    return text if band(float(text), bands) == home else repr(number)


# The bulk path formats with Python's float formatting where that provably equals the Decimal path.
FAST_PLACES = range(7)  # past 6 decimals ``str(Decimal)`` writes a zero as ``0E-7``
TIE_MARGIN = 1e-9  # distance from a tie, relative to |x| * 10**places, surely wider than an ulp


def _floats(values: Iterable[object]) -> np.ndarray:
    """``values`` as float64, missing values (None, NaN, pd.NA) as NaN."""
    return pd.Series(values).to_numpy(dtype=np.float64, na_value=np.nan)


def _fast_texts(numbers: np.ndarray, places: int) -> tuple[list[str], np.ndarray]:
    """``format(x, f".{places}f")`` for every number, and where that equals ``round_half_even``.

    Python formats the exact binary value ``x`` rounded half-to-even; ``round_half_even`` rounds
    ``r = repr(x)``, with ``|r - x| <= ulp(x) / 2``. Both give the same digits unless a tie point
    ``(k + 1/2) * 10**-places`` lies between ``r`` and ``x`` or on them (2.675 is 2.67499… in
    binary), so a number whose ``y = x * 10**places`` is more than ``TIE_MARGIN * (1 + |y|)``
    (≫ 2 ulp(y), the rounding of ``y`` included) from ``k + 1/2`` is safe. That test also fails
    for NaN, infinities and ``|y| > 5e8``, where a float's binary digits may part from its repr's
    (1e23 formats as 99999999999999991611392): those, and places outside ``FAST_PLACES``, are left
    to the exact path. A number that rounds to zero is formatted as ``|x|``: no "-0.00".
    """
    if places not in FAST_PLACES:
        return [NO_SCORE] * len(numbers), np.zeros(len(numbers), dtype=bool)
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = numbers * 10.0**places
        size = np.abs(scaled)
        fast = np.abs(scaled - np.floor(scaled) - 0.5) > TIE_MARGIN * (1.0 + size)
    spec = f".{places}f"
    shown = np.where(size < 0.5, np.abs(numbers), numbers)
    return [format(x, spec) for x in shown.tolist()], fast


def round_half_evens(values: Iterable[object], places: int = 2) -> list[str]:
    """``[round_half_even(v, places) for v in values]``, fast (see ``_fast_texts``)."""
    numbers = _floats(values)
    texts, fast = _fast_texts(numbers, places)
    for i in np.flatnonzero(~fast).tolist():
        texts[i] = round_half_even(numbers[i], places)
    return texts


def _bands(numbers: np.ndarray, bands: Bands) -> np.ndarray:
    """``band`` of every number (NaN counts as below; callers never keep a NaN's text)."""
    return np.where(numbers >= bands.meeting, 0, np.where(numbers >= bands.near, 1, 2))


def score_texts(
    values: Iterable[object],
    bands: Bands = DEFAULT_BANDS,
    places: int = 2,
    max_places: int = MAX_SCORE_PLACES,
) -> list[str]:
    """``[score_text(v, bands, places, max_places) for v in values]``, 10-20 times faster.

    ``score_text`` keeps its first text, ``round_half_even`` at ``places``, whenever that text read
    back as a number is in the value's band. Here that text comes from ``_fast_texts`` and is kept
    under the same test; every other value (a tie, a text across a band edge, NaN, inf, a huge
    number) goes through ``score_text`` itself: a few per board.
    """
    numbers = _floats(values)
    texts, fast = _fast_texts(numbers, places)
    read_back = np.array([float(t) for t in texts]) if fast.any() else numbers
    fast &= _bands(read_back, bands) == _bands(numbers, bands)
    for i in np.flatnonzero(~fast).tolist():
        texts[i] = score_text(numbers[i], bands, places, max_places)
    return texts


def scores_csv(scores: pd.DataFrame) -> str:
    """CSV with exactly ``as_of,metric,period,value,target,score,status,note``; full precision.

    Floats print as Python prints them (shortest round-trip digits), missing values as empty
    cells, labels quoted only where they hold a comma, a quote or a line break.
    """
    return b"".join(score_files.csv_chunks(scores)).decode("utf-8")


def scores_json(scores: pd.DataFrame) -> str:
    """A JSON list of score rows (``null`` for no score), one key per line (``indent=1``)."""
    return b"".join(score_files.json_chunks(scores)).decode("utf-8")


def scoreboard(
    scores: pd.DataFrame, as_of: pd.Timestamp, bands: Bands = DEFAULT_BANDS
) -> pd.DataFrame:
    """One row per metric (CityScore first), one column per period, scores as ``score_text``."""
    day = scores[scores["as_of"] == as_of]
    wide = day.pivot(index="metric", columns="period", values="score")
    wide = wide.reindex(day["metric"].unique())
    return score_text_frame(wide, bands)


def score_text_frame(scores: pd.DataFrame, bands: Bands = DEFAULT_BANDS) -> pd.DataFrame:
    """Every cell of a frame of scores as ``score_text`` (one ``score_texts`` call), same labels."""
    texts = np.array(score_texts(scores.to_numpy().ravel(), bands), dtype=object)
    return pd.DataFrame(texts.reshape(scores.shape), index=scores.index, columns=scores.columns)


def scores_table(scores: pd.DataFrame, bands: Bands = DEFAULT_BANDS) -> str:
    """A plain-text scoreboard per as-of date, for the terminal (scores shown by ``bands``)."""
    blocks = []
    for as_of in pd.unique(scores["as_of"]):
        day = scores[scores["as_of"] == as_of]
        city = day[(day["metric"] == CITYWIDE) & (day["period"] == "day")].iloc[0]
        headline = (
            f"CityScore as of {pd.Timestamp(as_of).date()}: {score_text(city['score'], bands)}"
            f" ({city['status'] if isinstance(city['status'], str) else 'no score'}; {city['note']})"
        )
        board = scoreboard(scores, as_of, bands)
        board.index.name = None
        board.columns.name = None
        blocks.append(headline + "\n" + board.to_string())
    return "\n\n".join(blocks) + "\n"


# --- values and targets beside scores ---------------------------------------------------------------


def quantity_text(value: object) -> str:
    """A value or target as a reader writes it: whole numbers as integers with thousands separators
    (``1,250``), otherwise 2 decimals under 10, 1 under 100 and none from 100 up, half-to-even,
    without trailing zeros (``6.5``, ``0.85``, ``12.3``); missing: ``—``."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return NO_SCORE
    number = float(value)  # type: ignore[arg-type]
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    size = abs(number)
    places = 2 if size < 10 else 1 if size < 100 else 0
    text = round_half_even(number, places)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    whole, dot, decimals = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-')):,}{dot}{decimals}"


def value_target_text(value: object, target: object, unit: object = "") -> str:
    """A period's value and target with the metric's unit: ``252 tons, target 315``; no value:
    ``no value``; no target: ``252 tons, no target``."""
    unit_text = f" {unit}" if isinstance(unit, str) and unit.strip() else ""
    missing = value is None or pd.isna(value)  # type: ignore[call-overload]
    shown = "no value" if missing else f"{quantity_text(value)}{unit_text}"
    if target is None or pd.isna(target):  # type: ignore[call-overload]
        return f"{shown}, no target"
    return f"{shown}, target {quantity_text(target)}"


def is_capped(score: object, cap: float | None) -> bool:
    """Whether ``score`` sits at the ``cap`` (a capped score is the cap itself)."""
    return cap is not None and score is not None and not pd.isna(score) and float(score) >= cap  # type: ignore[call-overload, arg-type]
