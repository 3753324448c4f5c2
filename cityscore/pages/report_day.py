"""One report day's frames (``DailyData``) and the key numbers they give."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.vocabulary import CITYWIDE
from cityscore.engine.summary import STALE_STATUS
from cityscore.pages.display import status_word
from cityscore.pages.render import score_text
from cityscore.pages.report_index import SPARK_DAYS


@dataclass(frozen=True)
class DailyData:
    """Everything the daily report shows, computed once by ``apps.report.daily.daily_data``."""

    as_of: pd.Timestamp
    scores: pd.DataFrame  # score rows for as_of, in the chosen periods (the scoreboard's columns)
    history: pd.DataFrame  # score rows for every day of the history window
    metrics: pd.DataFrame
    targets: pd.DataFrame
    citywide: pd.DataFrame  # summary.citywide(history)
    contributions: pd.DataFrame  # with a `since` column
    exceeding: pd.DataFrame
    follow_up: pd.DataFrame
    freshness: pd.DataFrame
    # Scores by area on as_of (area rows only) and their equity summary; None: the city has no areas.
    areas: pd.DataFrame | None = None
    equity: pd.DataFrame | None = None
    bands: Bands = DEFAULT_BANDS  # the status bands scored with: shown scores keep to them
    # Why the report shows as_of, e.g. "Friday 4 December 2026: the latest day most metrics
    # reach; 18 metrics have data for later days" (``engine.as_of.AsOfChoice.why``).
    why: str = ""
    cap: float | None = None  # the cap every metric's score was scored with (None: no cap)
    # The area catalog (``Kit.area_catalog()``): each area's key into the map; None: the names.
    area_catalog: pd.DataFrame | None = None

    def stale_metrics(self) -> list[str]:
        """The metrics whose scores on the report date are stale (their data stopped coming)."""
        if "status" not in self.scores:
            return []
        rows = self.scores[self.scores["status"].astype(object) == STALE_STATUS]
        return sorted(set(rows["metric"].astype(str)) - {CITYWIDE})

    def capped_metrics(self) -> list[str]:
        """The metrics with a score at the cap on the report date (in any period shown)."""
        if self.cap is None or "score" not in self.scores:
            return []
        rows = self.scores[self.scores["score"] >= self.cap]
        return sorted(set(rows["metric"].astype(str)) - {CITYWIDE})

    def city(self, period: str = "day") -> dict[str, Any]:
        """The CityScore row of ``period`` on the report date, as a dict."""
        city = self.citywide
        row = city[(city["as_of"] == self.as_of) & (city["period"].astype(str) == period)]
        return row.iloc[0].to_dict()

    def summary(self, city_name: str) -> dict[str, Any]:
        """Key numbers for the archive index (JSON-safe)."""
        day = self.city("day")
        city = self.citywide[self.citywide["period"].astype(str) == "day"].tail(SPARK_DAYS)
        return {
            "as_of": self.as_of.strftime("%Y-%m-%d"),
            "city_name": city_name,
            "cityscore": score_text(day["score"], self.bands),
            "status": status_word(day["status"]),
            "share_below_one": _number(day["share_below_one"]),
            "scored": int(day["scored"]),
            "spark": [_number(s) for s in city["score"]],
        }

    def key_numbers(self) -> str:
        """Key numbers as one line of text, for people and for nbval to compare."""
        parts = [f"as of {self.as_of.date()}"]
        for period in ("day", "week", "month", "quarter"):
            parts.append(f"{period} {score_text(self.city(period)['score'], self.bands)}")
        day = self.city("day")
        parts.append(f"{int(day['below_one'])} of {int(day['scored'])} metrics below 1")
        return "CityScore " + ", ".join(parts)


def _number(value: Any) -> float | None:
    """A number for the summary's JSON: ``None`` for a missing or non-finite one (not JSON)."""
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return None
    return round(float(value), 4)
