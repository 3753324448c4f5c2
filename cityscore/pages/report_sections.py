"""The report's HTML sections from one report day: the headline, the scoreboard, the leaders, data freshness."""

from __future__ import annotations

from cityscore.core.vocabulary import PERIODS
from cityscore.pages.display import board_html, status_class, status_html, table_html
from cityscore.pages.display import escape as _e
from cityscore.pages.render import score_text
from cityscore.pages.report_day import DailyData


def headline_html(daily: DailyData, city_name: str) -> str:
    """The top of the board: the page's h1, today's CityScore large with its status, the periods."""
    day = daily.city("day")
    others = " · ".join(
        f"{_e(p.capitalize())} <b>{_e(score_text(daily.city(p)['score'], daily.bands))}</b>"
        for p in ("week", "month", "quarter")
        if not daily.citywide[daily.citywide["period"].astype(str) == p].empty
    )
    share = day["share_below_one"]
    share_text = "—" if share != share else f"{share:.0%}"
    big = score_text(day["score"], daily.bands)
    return (
        '<section class="headline" aria-labelledby="headline-title">'
        f'<h1 id="headline-title" class="city">{_e(city_name)} · CityScore for '
        f"{_e(daily.as_of.strftime('%A, %B %d, %Y'))}</h1>"
        f'<p class="big {status_class(day["status"])}">{_e(big)}</p>'
        f'<p class="status-line">{status_html(day["status"])} · {_e(day["note"])}</p>'
        f'<p class="periods">{others}</p>'
        f'<p class="share">Share of scored metrics below 1 today: <b>{_e(share_text)}</b> '
        f"({int(day['below_one'])} of {int(day['scored'])})</p>"
        "</section>"
    )


def scoreboard_html(daily: DailyData, periods: list[str] | None = None) -> str:
    """The report's scoreboard section: ``display.board_html`` of the day's scores, in ``periods``
    (default: every period the day has scores for) and the day's bands."""
    present = set(daily.scores["period"].astype(str))
    shown = periods or [p for p in PERIODS if p in present]
    return board_html(daily.scores, daily.metrics, shown, bands=daily.bands)


def leaders_html(daily: DailyData) -> str:
    """Exceeding and needs-follow-up lists side by side."""
    columns = {"metric": "Metric", "score": "Week score", "status": "Status"}
    return _pair(
        table_html(
            daily.exceeding,
            columns,
            caption="Exceeding",
            empty="no metric has a week score",
            bands=daily.bands,
        ),
        table_html(
            daily.follow_up,
            columns,
            caption="Needs follow-up",
            empty="no other metric has a week score",
            bands=daily.bands,
        ),
    )


def freshness_html(daily: DailyData, max_rows: int = 20) -> str:
    """Stale metrics and metrics with missing days (the worst ``max_rows`` of each)."""
    fresh = daily.freshness
    stale = fresh[fresh["stale"]].sort_values("days_since", ascending=False)
    gaps = fresh[(fresh["missing_days"] > 0) & ~fresh["stale"]].sort_values(
        "missing_days", ascending=False
    )
    return _pair(
        table_html(
            stale,
            {"metric": "Metric", "last_date": "Latest data", "days_since": "Days old"},
            caption="Stale data",
            empty="every metric has recent data",
            max_rows=max_rows,
        ),
        table_html(
            gaps,
            {"metric": "Metric", "missing_days": "Missing days (last 90)"},
            caption="Missing days",
            empty="no missing days in the last 90",
            max_rows=max_rows,
        ),
    )


def _pair(*tables: str) -> str:
    """Tables side by side (each with its note), wrapping under each other on a narrow screen."""
    return '<div class="pair">' + "".join(f'<div class="list">{t}</div>' for t in tables) + "</div>"
