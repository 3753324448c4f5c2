"""The day's headline as the messages tell it: the city, the date, the CityScore and its status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cityscore.pages.display import status_word
from cityscore.pages.render import score_text

if TYPE_CHECKING:
    from cityscore.engine.alerts import Alert
    from cityscore.pages.report_day import DailyData


@dataclass(frozen=True)
class Headline:
    """One day's CityScore in words: ``cityscore`` as the report shows it (``—`` for none)."""

    city: str
    date: str  # ISO YYYY-MM-DD
    cityscore: str
    status: str  # meeting, near, below or "no score"

    def sentence(self) -> str:
        """E.g. ``Springfield CityScore for 2026-10-31: 0.95 (near)``."""
        return f"{self.city} CityScore for {self.date}: {self.cityscore} ({self.status})"


def headline(daily: DailyData, city_name: str) -> Headline:
    """The headline of ``daily`` (``apps.report.daily.daily_data``) for ``city_name``."""
    day = daily.city("day")
    return Headline(
        city=city_name,
        date=daily.as_of.strftime("%Y-%m-%d"),
        cityscore=score_text(day["score"], daily.bands),
        status=status_word(day["status"]),
    )


def open_alerts(alerts: Sequence[Alert]) -> list[Alert]:
    """The alerts still open, oldest first (then by subject), as every message lists them."""
    return sorted(
        (a for a in alerts if a.state == "open"), key=lambda a: (a.started, a.subject, a.rule)
    )


def alert_line(alert: Alert) -> str:
    """One alert as plain text: its message and since when (``… (since 2026-10-27)``)."""
    when = "since" if alert.state == "open" else "cleared; open since"
    return f"{alert.message} ({when} {alert.started.isoformat()})"
