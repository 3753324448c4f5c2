"""What the digest tells, as text both its parts share: the headline lines and the board's rows.

The HTML and the plain-text part are drawn from these same strings, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from cityscore.core.vocabulary import CITYWIDE, PERIODS
from cityscore.pages.display import STATUS_SYMBOLS, status_word
from cityscore.pages.render import NO_SCORE, round_half_even, score_text, score_texts

if TYPE_CHECKING:
    from cityscore.pages.report_day import DailyData

STALE = "stale"  # the status of a metric whose data is late (its score kept, not counted)
SYMBOLS = {**STATUS_SYMBOLS, STALE: "◷"}
# The board's columns, one row per (metric, period), every cell already text.
BOARD_COLUMNS = [
    "category",
    "metric",
    "unit",
    "period",
    "value",
    "target",
    "score",
    "status",
    "note",
]


@dataclass(frozen=True)
class Summary:
    """The headline's facts as text: the day's CityScore, the other periods, the share below 1."""

    title: str  # "Springfield · CityScore for Saturday, October 31, 2026"
    score: str
    status: str
    note: str  # "17 of 20 metrics scored"
    periods: list[tuple[str, str]]  # ("Week", "0.99"), ...
    share: str  # "Share of scored metrics below 1 today: 65% (11 of 17)"


def summary(daily: DailyData, city_name: str) -> Summary:
    """The headline of the report day, in the words of the report's own headline."""
    day = daily.city("day")
    present = set(daily.citywide["period"].astype(str))
    share = day["share_below_one"]
    share_text = NO_SCORE if share != share else f"{share:.0%}"
    return Summary(
        title=f"{city_name} · CityScore for {daily.as_of.strftime('%A, %B %d, %Y')}",
        score=score_text(day["score"], daily.bands),
        status=status_word(day["status"]),
        note=str(day["note"] or ""),
        periods=[
            (p.capitalize(), score_text(daily.city(p)["score"], daily.bands))
            for p in ("week", "month", "quarter")
            if p in present
        ],
        share=(
            f"Share of scored metrics below 1 today: {share_text} "
            f"({int(day['below_one'])} of {int(day['scored'])})"
        ),
    )


def status_name(status: object) -> str:
    """``meeting``, ``near``, ``below``, ``stale`` or ``no score``."""
    return STALE if status == STALE else status_word(status)


def status_label(status: str) -> str:
    """A status word with its symbol, e.g. ``✗ below`` (a status never told by colour alone)."""
    return f"{SYMBOLS.get(status, SYMBOLS['no score'])} {status}"


def number_text(value: object) -> str:
    """A value or target as shown: two decimals below 100, none from 100 up; ``—`` when missing."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return NO_SCORE
    number = float(value)  # type: ignore[arg-type]
    return round_half_even(number, 0 if abs(number) >= 100 else 2)


def board_rows(daily: DailyData) -> pd.DataFrame:
    """The day's metric scores as text (``BOARD_COLUMNS``), by category, metric and period.

    Scores use the report's rounding (``score_texts``, never contradicting the status); the
    CityScore rows are left out (the headline tells them).
    """
    rows = daily.scores[daily.scores["metric"].astype(str) != CITYWIDE]
    info = daily.metrics.set_index("name")[["category", "unit"]].astype(str)
    metric = rows["metric"].astype(str)
    frame = pd.DataFrame(
        {
            "category": metric.map(info["category"]).fillna("Other").to_numpy(),
            "metric": metric.to_numpy(),
            "unit": metric.map(info["unit"]).fillna("").to_numpy(),
            "period": rows["period"].astype(str).to_numpy(),
            "value": [number_text(v) for v in rows["value"]],
            "target": [number_text(v) for v in rows["target"]],
            "score": score_texts(rows["score"], daily.bands),
            "status": [status_name(s) for s in rows["status"]],
            "note": [n if isinstance(n, str) else "" for n in rows["note"]],
        }
    )
    order = {p: i for i, p in enumerate(PERIODS)}
    frame = frame.assign(_order=frame["period"].map(order))
    frame = frame.sort_values(["category", "metric", "_order"], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)[BOARD_COLUMNS]


def periods_shown(board: pd.DataFrame) -> list[str]:
    """The periods the board has rows for, in the kit's order (day, week, month, quarter)."""
    present = set(board["period"])
    return [p for p in PERIODS if p in present]
