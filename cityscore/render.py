"""Turn score frames into text a person reads: rounded tables, CSV and JSON.

Computation never rounds; display rounds to 2 decimals, half to even (0.125 -> 0.12, 0.135 -> 0.14),
reading the number as it prints (its shortest repr), so what you see is what a hand calculation gives.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import pandas as pd

from . import score_files
from .catalog import CITYWIDE

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
    exact = Decimal(repr(number))
    digits = max(exact.adjusted(), 0) + places + 2
    with localcontext() as context:
        context.prec = max(context.prec, digits)
        rounded = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return str(abs(rounded) if rounded.is_zero() else rounded)


def scores_csv(scores: pd.DataFrame) -> str:
    """CSV with exactly ``as_of,metric,period,value,target,score,status,note``; full precision.

    Floats print as Python prints them (shortest round-trip digits), missing values as empty
    cells, labels quoted only where they hold a comma, a quote or a line break.
    """
    return b"".join(score_files.csv_chunks(scores)).decode("utf-8")


def scores_json(scores: pd.DataFrame) -> str:
    """A JSON list of score rows (``null`` for no score), one key per line (``indent=1``)."""
    return b"".join(score_files.json_chunks(scores)).decode("utf-8")


def scoreboard(scores: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per metric (CityScore first), one column per period, rounded scores or ``—``."""
    day = scores[scores["as_of"] == as_of]
    wide = day.pivot(index="metric", columns="period", values="score")
    wide = wide.reindex(day["metric"].unique())
    return wide.map(round_half_even)


def scores_table(scores: pd.DataFrame) -> str:
    """A plain-text scoreboard per as-of date, for the terminal."""
    blocks = []
    for as_of in pd.unique(scores["as_of"]):
        day = scores[scores["as_of"] == as_of]
        city = day[(day["metric"] == CITYWIDE) & (day["period"] == "day")].iloc[0]
        headline = (
            f"CityScore as of {pd.Timestamp(as_of).date()}: {round_half_even(city['score'])}"
            f" ({city['status'] if isinstance(city['status'], str) else 'no score'}; {city['note']})"
        )
        board = scoreboard(scores, as_of)
        board.index.name = None
        board.columns.name = None
        blocks.append(headline + "\n" + board.to_string())
    return "\n\n".join(blocks) + "\n"
