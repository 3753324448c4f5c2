"""The report's HTML sections from one report day: the headline, the scoreboard, the leaders, data freshness."""

from __future__ import annotations

import pandas as pd

from cityscore.core.vocabulary import PERIODS
from cityscore.engine.summary import OUTSIZED_MOVE, outsized_moves
from cityscore.pages.display import Column, board_html, status_class, status_html, table_html
from cityscore.pages.display import escape as _e
from cityscore.pages.render import round_half_even, score_text, value_target_text
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
        + "".join(f'<p class="why">{_e(line)}</p>' for line in headline_notes(daily))
        + "</section>"
    )


def headline_notes(daily: DailyData, threshold: float = OUTSIZED_MOVE) -> list[str]:
    """Sentences under the headline: which day and why, how many metrics are stale, which scores
    are capped, and any one metric that moved the day CityScore by more than ``threshold``."""
    notes = [f"{daily.why}."] if daily.why else []
    stale = daily.stale_metrics()
    if stale:
        n = len(stale)
        notes.append(
            f"{n} metric{'s are' if n != 1 else ' is'} stale (no recent data) and left out of the "
            f"CityScore: {names_list(stale)}."
        )
    capped = daily.capped_metrics()
    if capped and daily.cap is not None:
        n = len(capped)
        notes.append(
            f"{n} metric{'s' if n != 1 else ''} scored above the cap and {'are' if n != 1 else 'is'} "
            f"capped at {daily.cap:g}: {names_list(capped)}."
        )
    contrib = daily.contributions
    if "since" in contrib:
        contrib = contrib[contrib["since"].astype(str).str.startswith("since yesterday")]
    big = outsized_moves(contrib, threshold)
    if len(big):
        moves = ", ".join(
            f"{m} ({round_half_even(c, 3) if c < 0 else '+' + round_half_even(c, 3)})"
            for m, c in zip(big["metric"].astype(str), big["contribution"], strict=True)
        )
        who = "One metric alone" if len(big) == 1 else f"Each of {len(big)} metrics alone"
        notes.append(
            f"{who} moved the CityScore by more than {threshold:g} since yesterday: {moves}."
        )
    return notes


def names_list(names: list[str], shown: int = 5) -> str:
    """The first ``shown`` names, then how many more."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


def scoreboard_html(daily: DailyData, periods: list[str] | None = None) -> str:
    """The report's scoreboard section: ``display.board_html`` of the day's scores, in ``periods``
    (default: every period the day has scores for), the day's bands and cap."""
    present = set(daily.scores["period"].astype(str))
    shown = periods or [p for p in PERIODS if p in present]
    return board_html(daily.scores, daily.metrics, shown, bands=daily.bands, cap=daily.cap)


def leaders_html(daily: DailyData) -> str:
    """Exceeding (week scores at or above 1, highest first) and needs follow-up (below 1, lowest
    first) side by side, each score beside the week's value and target."""
    columns = [
        Column("metric", "Metric"),
        Column("score", "Week score", "number"),
        Column("status", "Status", "status"),
        Column("week", "Value, target (week)"),
    ]
    units = daily.metrics.set_index("name")["unit"] if "unit" in daily.metrics else None

    def shown(frame: pd.DataFrame) -> pd.DataFrame:
        unit = frame["metric"].map(units) if units is not None else [""] * len(frame)
        texts = [
            value_target_text(v, t, u)
            for v, t, u in zip(frame["value"], frame["target"], unit, strict=True)
        ]
        return frame.assign(week=pd.Series(texts, index=frame.index, dtype=object))

    return _pair(
        table_html(
            shown(daily.exceeding),
            columns,
            caption="Exceeding (week score 1 or more)",
            empty="no metric's week score is 1 or more",
            bands=daily.bands,
        ),
        table_html(
            shown(daily.follow_up),
            columns,
            caption="Needs follow-up (week score below 1)",
            empty="no metric's week score is below 1",
            bands=daily.bands,
        ),
    )


# What a freshness count counts, per reporting schedule (singular, plural).
MISSING_UNITS = {
    "daily": ("day", "days"),
    "weekdays": ("weekday", "weekdays"),
    "business_days": ("business day", "business days"),
    "weekly": ("week", "weeks"),
    "monthly": ("month", "months"),
}


def missing_text(count: int, schedule: str) -> str:
    """E.g. "3 weekdays", "1 week": missing reports in the schedule's own unit."""
    one, many = MISSING_UNITS.get(schedule, MISSING_UNITS["daily"])
    return f"{count} {one if count == 1 else many}"


def freshness_html(daily: DailyData, max_rows: int = 20) -> str:
    """Stale metrics and metrics with missing reports (the worst ``max_rows`` of each), counted in
    each metric's reporting schedule (``summary.freshness``)."""
    fresh = daily.freshness
    stale = fresh[fresh["stale"]].sort_values("days_since", ascending=False)
    gaps = fresh[(fresh["missing_days"] > 0) & ~fresh["stale"]].sort_values(
        "missing_days", ascending=False
    )
    schedule = gaps["schedule"] if "schedule" in gaps else pd.Series("daily", index=gaps.index)
    counts = zip(gaps["missing_days"], schedule, strict=True)
    gaps = gaps.assign(missing=[missing_text(int(n), str(s)) for n, s in counts])
    return _pair(
        table_html(
            stale,
            [
                Column("metric", "Metric"),
                Column("last_date", "Latest data", "date"),
                Column("days_since", "Days old", "int"),
            ],
            caption="Stale data (days old in the metric's reporting days)",
            empty="every metric has recent data",
            max_rows=max_rows,
        ),
        table_html(
            gaps,
            [Column("metric", "Metric"), Column("missing", "Missing (last 90 days)", "text")],
            caption="Missing days (reporting days, weeks or months without data)",
            empty="no missing days in the last 90",
            max_rows=max_rows,
        ),
    )


def _pair(*tables: str) -> str:
    """Tables side by side (each with its note), wrapping under each other on a narrow screen."""
    return '<div class="pair">' + "".join(f'<div class="list">{t}</div>' for t in tables) + "</div>"
