"""`cityscore report`: run the daily report notebook and publish it as one offline HTML file.

Two halves. The notebook half (``daily_data``, ``show``, ``*_html``) is what
``notebooks/daily_report.ipynb`` calls, so the notebook stays thin. The command half executes that
notebook with papermill and converts it with nbconvert and our template *in the same process* (one
Python start-up, not two), then writes every file atomically: a failed run leaves the previous
report, ``latest.html`` and ``index.html`` untouched.

The database URL reaches the kernel through ``$CITYSCORE_DB`` only, never as a notebook parameter,
so no credential is written into any file. Top-level imports stay light: every ``cityscore`` call
imports this module to build its parser.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.errors import CityScoreError, ConfigError
from cityscore.core.runtime import SKIP_IMPORTS
from cityscore.core.secrets import environment
from cityscore.core.settings import DB_ENV, NOTEBOOKS_DIR, REPORTS_DIR, TEMPLATES_DIR, database_url

if TYPE_CHECKING:
    import altair as alt
    import nbformat
    import pandas as pd

    from cityscore.kit import Kit

HELP = "run the daily report notebook and write reports/<date>/cityscore-<date>.html (one offline file)"
NOTEBOOK = NOTEBOOKS_DIR / "daily_report.ipynb"
TEMPLATE_NAME = "report"
VEGALITE_MIME = "application/vnd.vegalite.v6+json"
SUMMARY_KEY = (
    "cityscore"  # output metadata key that carries the report's key numbers to the command
)
HIDE_TAG = (
    "report-hide"  # cells with this tag run (and are checked by nbval) but stay out of the HTML
)
CHART_KEY = "cityscore-chart"  # output metadata key: a chart's description and data table
SECTION_KEY = "cityscore-section"  # output metadata key: the title of a section an output opens
SPARK_DAYS = 30
MIN_SECRET = 4  # shortest password the outputs are scrubbed of (see _password)


class ReportError(CityScoreError):
    """Raised when the report notebook fails; the message names the failing cell."""


# --- the notebook half ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DailyData:
    """Everything the daily report shows, computed once by ``daily_data``."""

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

    def city(self, period: str = "day") -> dict[str, Any]:
        """The CityScore row of ``period`` on the report date, as a dict."""
        city = self.citywide
        row = city[(city["as_of"] == self.as_of) & (city["period"].astype(str) == period)]
        return row.iloc[0].to_dict()

    def summary(self, city_name: str) -> dict[str, Any]:
        """Key numbers for the archive index (JSON-safe)."""
        from cityscore.pages.display import status_word
        from cityscore.pages.render import score_text

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
        from cityscore.pages.render import score_text

        parts = [f"as of {self.as_of.date()}"]
        for period in ("day", "week", "month", "quarter"):
            parts.append(f"{period} {score_text(self.city(period)['score'], self.bands)}")
        day = self.city("day")
        parts.append(f"{int(day['below_one'])} of {int(day['scored'])} metrics below 1")
        return "CityScore " + ", ".join(parts)


def _number(value: Any) -> float | None:
    return None if value is None or value != value else round(float(value), 4)


def daily_data(
    kit: Kit,
    report_date: str = "",
    *,
    history_days: int = 365,
    stale_after: int = 7,
    periods: list[str] | None = None,
    leaders_period: str = "week",
    bands: str = "1.0,0.9",
    cap: float | None = None,
) -> DailyData:
    """Scores, history and the derived views for the report date (empty: ``Kit.default_as_of()``,
    the latest date most metrics have data for, as ``cityscore report`` picks it).

    When the city has areas with values in the report date's windows, ``areas`` and ``equity`` hold
    the areas' scores on the report date and how far apart they are (scored for that one date only).
    """
    import pandas as pd

    from cityscore.core.vocabulary import PERIODS
    from cityscore.engine import summary
    from cityscore.frames.dates import as_date

    first, last = kit.store.date_range()
    if last is None:
        kit.latest_date()  # raises the clear "database has no values yet" error
    as_of = as_date(report_date) if report_date else pd.Timestamp(kit.default_as_of())
    if not (pd.Timestamp(first) <= as_of <= pd.Timestamp(last)):
        msg = (
            f"no data for report date {as_of.date()}: the database holds {first} to {last}; "
            "pick a date in that range or leave the date empty for the latest"
        )
        raise ConfigError(msg)
    periods = periods or list(PERIODS)
    unknown = sorted(set(periods) - set(PERIODS))
    if unknown:
        msg = f"unknown period(s) {unknown}; choose from {list(PERIODS)}"
        raise ConfigError(msg)
    start = as_of - pd.Timedelta(days=history_days - 1)
    status_bands = Bands.parse(bands)
    history = kit.scores(start=start, end=as_of, bands=status_bands, cap=cap or None)
    metrics = kit.metrics()
    city = summary.citywide(history)
    contrib = pd.concat(
        [
            summary.contributions(history, metrics, as_of, since_days=days).assign(
                since=_since_label(city, as_of, days, label, status_bands)
            )
            for days, label in ((1, "since yesterday"), (7, "since last week"))
        ],
        ignore_index=True,
    )
    exceeding, follow_up = summary.leaders(history, as_of, period=leaders_period)
    area_scores = equity = None
    if kit.areas():  # an index walk, not a read of every area row
        scored = kit.scores(as_of, bands=status_bands, cap=cap or None, by="area")
        area_scores = scored[scored["area"] != ""].reset_index(drop=True)
        if area_scores["value"].notna().any():  # area values, not only area targets
            equity = summary.equity(area_scores)
        else:
            area_scores = None
    observations = kit.observations(start, as_of)
    return DailyData(
        as_of=as_of,
        scores=history[
            (history["as_of"] == as_of) & history["period"].isin(periods)  # on the categories
        ].reset_index(drop=True),
        history=history,
        metrics=metrics,
        targets=kit.targets(),
        citywide=city,
        contributions=contrib,
        exceeding=exceeding,
        follow_up=follow_up,
        freshness=summary.freshness(observations, metrics, as_of, stale_after=stale_after),
        areas=area_scores,
        equity=equity,
        bands=status_bands,
    )


def _since_label(
    city: pd.DataFrame, as_of: pd.Timestamp, days: int, label: str, bands: Bands = DEFAULT_BANDS
) -> str:
    """E.g. "since yesterday: 0.99 → 1.03", the day CityScores the contributions explain."""
    import pandas as pd

    from cityscore.pages.render import score_text

    day = city[city["period"].astype(str) == "day"].set_index("as_of")["score"]
    before = day.get(as_of - pd.Timedelta(days=days))
    return f"{label}: {score_text(before, bands)} → {score_text(day.get(as_of), bands)}"


MAX_PANELS = 24  # small multiples: at most this many metrics (follow-up first, then movers)
TOP_CONTRIBUTIONS = 12  # bars per comparison in "Why it moved"; the rest are one "All other" bar


@dataclass(frozen=True)
class Figure:
    """A chart with its text alternative: the chart's description and the data as an HTML table."""

    chart: alt.TopLevelMixin
    table: str = ""  # ready-escaped HTML (display.table_html), shown in a <details> below the chart


def chart_bundle(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """A chart as a Vega-Lite mimebundle; the report template turns it into an inline, escaped spec."""
    spec = chart.to_dict()
    spec.pop("$schema", None)  # a URL the page never needs: Vega-Embed assumes Vega-Lite
    return {VEGALITE_MIME: spec, "text/plain": f"<{type(chart).__name__}>"}


def show(figure: alt.TopLevelMixin | Figure) -> None:
    """Display a chart (or a Figure) so that the report template can embed it offline.

    The chart's description and the Figure's table ride along in the output metadata; the template
    shows them as the figure's caption and a "Data behind this chart" table.
    """
    from IPython.display import display

    if not isinstance(figure, Figure):
        figure = Figure(figure)
    bundle = chart_bundle(figure.chart)
    description = bundle[VEGALITE_MIME].get("description", "")
    meta = {CHART_KEY: {"description": description, "table": figure.table}}
    display(bundle, raw=True, metadata=meta)


def show_html(text: str, summary: dict[str, Any] | None = None) -> None:
    """Display ready-escaped HTML; ``summary`` rides along in the output metadata for the command."""
    from IPython.display import HTML, display

    display(HTML(text), metadata={SUMMARY_KEY: summary} if summary else None)


def scoreboard_html(daily: DailyData, periods: list[str] | None = None) -> str:
    """The scoreboard: categories as collapsible sections, a searchable table of metrics x periods."""
    from cityscore.core.vocabulary import PERIODS
    from cityscore.pages.display import scoreboard_html as board

    present = set(daily.scores["period"].astype(str))
    shown = periods or [p for p in PERIODS if p in present]
    return board(daily.scores, daily.metrics, shown, bands=daily.bands)


def citywide_figure(daily: DailyData) -> Figure:
    """The CityScore over the history window; the table gives every day's numbers."""
    from cityscore.pages.charts import citywide_chart
    from cityscore.pages.display import Column, table_html

    city = daily.citywide
    wide = city.pivot_table(
        index="as_of", columns=city["period"].astype(str), values="score", observed=True
    )
    share = city[city["period"].astype(str) == "day"].set_index("as_of")["share_below_one"]
    table = wide.reindex(columns=[p for p in ("day", "week") if p in wide.columns])
    table = table.assign(share=share).sort_index(ascending=False).reset_index()
    columns = [Column("as_of", "Date", "date")]
    columns += [
        Column(p, f"{p.capitalize()} CityScore", "number") for p in ("day", "week") if p in table
    ]
    columns.append(Column("share", "Share of metrics below 1 (day)", "percent", 0))
    return Figure(
        citywide_chart(city, daily.bands),
        _details(
            table_html(table, columns, caption="CityScore by day, newest first", bands=daily.bands)
        ),
    )


def contributions_figure(daily: DailyData, top: int = TOP_CONTRIBUTIONS) -> Figure:
    """What moved the CityScore: the ``top`` largest contributions per comparison, the rest summed."""
    from cityscore.pages.charts import contributions_chart, top_contributions
    from cityscore.pages.display import Column, table_html

    shown = top_contributions(daily.contributions, top)
    columns = [
        Column("metric", "Metric"),
        Column("since", "Comparison"),
        Column("before", "Score before", "number"),
        Column("now", "Score now", "number"),
        Column("contribution", "Contribution", "number", 3),
    ]
    return Figure(
        contributions_chart(daily.contributions, top=top),
        _details(
            table_html(
                shown,
                columns,
                caption="Contributions to the change in CityScore",
                bands=daily.bands,
            )
        ),
    )


def panel_metrics(daily: DailyData, n: int = MAX_PANELS, period: str = "week") -> list[str]:
    """The metrics worth a small multiple: those needing follow-up, then the biggest movers.

    Follow-up: the lowest ``period`` scores below 1 (up to half the panels). Movers: the largest
    change of the ``period`` score over the last 30 days. All metrics when there are at most ``n``.
    """
    import pandas as pd

    from cityscore.engine.summary import metric_rows

    rows = metric_rows(daily.history, period)
    rows = rows.assign(metric=rows["metric"].astype(str))
    names = sorted(rows["metric"].unique())
    if len(names) <= n:
        return names
    score = rows.pivot_table(index="as_of", columns="metric", values="score")
    now = score.loc[daily.as_of] if daily.as_of in score.index else score.iloc[-1]
    before_day = daily.as_of - pd.Timedelta(days=30)
    before = score.loc[before_day] if before_day in score.index else score.iloc[0]
    low = now[now < 1].sort_values(kind="stable").index[: n // 2].tolist()
    moves = (now - before).abs().drop(low, errors="ignore").dropna()
    movers = moves.sort_values(ascending=False, kind="stable").index[: n - len(low)].tolist()
    return low + movers


def small_multiples_figure(daily: DailyData, n: int = MAX_PANELS, period: str = "week") -> Figure:
    """Small multiples of the chosen metrics' ``period`` scores, with a table of their numbers."""
    import pandas as pd

    from cityscore.engine.summary import metric_rows
    from cityscore.pages.charts import small_multiples_chart
    from cityscore.pages.display import Column, table_html

    chosen = panel_metrics(daily, n, period)
    rows = metric_rows(daily.history, period, chosen)
    rows = rows.assign(metric=rows["metric"].astype(str))
    stats = []
    for metric in chosen:
        mine = rows[rows["metric"] == metric].dropna(subset=["score"]).sort_values("as_of")
        today = mine[mine["as_of"] == daily.as_of]["score"]
        low = mine.loc[mine["score"].idxmin()] if len(mine) else None
        stats.append(
            {
                "metric": metric,
                "now": today.iloc[0] if len(today) else float("nan"),
                "low": low["score"] if low is not None else float("nan"),
                "low_on": low["as_of"] if low is not None else pd.NaT,
                "high": mine["score"].max() if len(mine) else float("nan"),
            }
        )
    columns = [
        Column("metric", "Metric"),
        Column("now", f"{period.capitalize()} score today", "number"),
        Column("low", "Lowest", "number"),
        Column("low_on", "Lowest on", "date"),
        Column("high", "Highest", "number"),
    ]
    caption = f"{period.capitalize()} scores of the {len(chosen)} metrics shown"
    return Figure(
        small_multiples_chart(
            daily.history, daily.targets, period, metrics=chosen, bands=daily.bands
        ),
        _details(
            table_html(
                pd.DataFrame(stats, columns=[c.field for c in columns]),
                columns,
                caption=caption,
                bands=daily.bands,
            )
        ),
    )


def _details(table: str) -> str:
    return (
        '<details class="data"><summary>Data behind this chart</summary>'
        f'<div class="table-wrap">{table}</div></details>'
    )


def headline_html(daily: DailyData, city_name: str) -> str:
    """The top of the board: the page's h1, today's CityScore large with its status, the periods."""
    from cityscore.pages.display import escape as _e
    from cityscore.pages.display import status_class, status_html
    from cityscore.pages.render import score_text

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


def leaders_html(daily: DailyData) -> str:
    """Exceeding and needs-follow-up lists side by side."""
    from cityscore.pages.display import table_html

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


def _pair(*tables: str) -> str:
    """Tables side by side (each with its note), wrapping under each other on a narrow screen."""
    return '<div class="pair">' + "".join(f'<div class="list">{t}</div>' for t in tables) + "</div>"


def freshness_html(daily: DailyData, max_rows: int = 20) -> str:
    """Stale metrics and metrics with missing days (the worst ``max_rows`` of each)."""
    from cityscore.pages.display import table_html

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


# --- across neighbourhoods ------------------------------------------------------------------------

AREAS_TITLE = "Across neighbourhoods"
AREA_PERIOD = "month"  # the areas are compared on their month scores (daily area data is sparse)
TOP_GAPS = 10  # metrics in the widest-gap list and the heat table; the rest are counted in words


def areas_section(
    daily: DailyData, areas_map: str | Path = "", top: int = TOP_GAPS
) -> list[str | Figure]:
    """The "Across neighbourhoods" section as parts to show in order (HTML text or a Figure); no
    parts when the city has no areas.

    A map of each area's CityScore from ``areas_map`` (default: the demo's own map when the areas
    are the demo's), else a heat table of areas x (the CityScore and the ``top`` metrics with the
    widest gap); then those metrics with their best and worst area. Area names that the map and
    the data do not share are listed; when none match, the heat table is shown instead.
    """
    from cityscore.core.vocabulary import CITYWIDE
    from cityscore.engine import summary
    from cityscore.pages import areas
    from cityscore.pages.display import escape as _e

    if daily.areas is None or daily.areas.empty or daily.equity is None:
        return []
    rows = areas.area_rows(daily.areas, CITYWIDE, AREA_PERIOD, daily.as_of)
    gaps = summary.widest_gaps(daily.equity, daily.as_of, AREA_PERIOD)
    names = rows["area"].tolist()
    path = Path(areas_map) if areas_map else areas.shipped_map(names)
    geojson, notes = None, []
    if path is not None:
        geojson = areas.load_geojson(path)
        missing, extra = areas.unmatched(geojson, names)
        if len(missing) == len(names):
            notes.append(
                f"None of the {len(names)} areas in the data has a shape in {path.name} (its "
                f"features are named e.g. {', '.join(areas.map_names(geojson)[:3])}): the table "
                "below shows the areas instead of a map. Name each feature's properties.name "
                "exactly as the values' area column spells the area."
            )
            geojson = None
        else:
            if missing:
                notes.append(f"No shape in {path.name} for: {', '.join(missing)} (see the table).")
            if extra:
                notes.append(
                    f"Shapes in {path.name} with no area in the data (grey): {', '.join(extra)}."
                )
    head = (
        f'<h2 id="{_e(AREAS_TITLE.replace(" ", "-"))}">{_e(AREAS_TITLE)}</h2>'
        f"<p>{_e(_areas_intro(daily, len(names)))}</p>"
        + "".join(f'<p class="note">{_e(note)}</p>' for note in notes)
    )
    parts: list[str | Figure] = [head]
    if geojson is not None:
        parts += [
            '<h3 id="areas-map">CityScore by area</h3>',
            _area_map_figure(daily, rows, geojson),
        ]
    else:
        parts.append(_heat_html(daily, gaps, top))
    parts.append(_gaps_html(daily, gaps, top))
    return parts


def _areas_intro(daily: DailyData, n_areas: int) -> str:
    from cityscore.core.vocabulary import CITYWIDE, PERIODS
    from cityscore.pages.render import score_text

    def _r(score: float) -> str:
        return score_text(score, daily.bands)

    eq = daily.equity
    city = eq[
        (eq["as_of"] == daily.as_of)
        & (eq["metric"].astype(str) == CITYWIDE)
        & (eq["period"].astype(str) == AREA_PERIOD)
    ]
    text = (
        f"Each of the city's {n_areas} areas is scored by the same rules as the city; they are "
        f"compared here on their {AREA_PERIOD} scores (the {PERIODS[AREA_PERIOD]} days to "
        f"{daily.as_of.date()})."
    )
    if len(city) and city.iloc[0]["scored"] > 0:
        c = city.iloc[0]
        text += (
            f" Area CityScores run from {_r(c['worst_score'])} in {c['worst_area']} to "
            f"{_r(c['best_score'])} in {c['best_area']} (gap {_r(c['gap'])}, worst ÷ best); "
            f"{int(c['below_one'])} of {int(c['scored'])} areas are below 1."
        )
    return text


def _area_map_figure(daily: DailyData, rows: pd.DataFrame, geojson: dict) -> Figure:
    from cityscore.pages.areas import area_map
    from cityscore.pages.display import Column, table_html

    title = f"{AREA_PERIOD.capitalize()} CityScore by area, {daily.as_of.date()}"
    columns = [
        Column("area", "Area"),
        Column("score", "CityScore", "number"),
        Column("status", "Status", "status"),
        Column("note", "Note"),
    ]
    table = table_html(rows, columns, caption=title, bands=daily.bands)
    return Figure(area_map(rows, geojson, title=title, bands=daily.bands), _details(table))


def _heat_html(daily: DailyData, gaps: pd.DataFrame, top: int) -> str:
    from cityscore.core.vocabulary import CITYWIDE
    from cityscore.pages.areas import heat_frames, heat_html
    from cityscore.pages.display import escape as _e

    shown = gaps["metric"].head(top).tolist()
    frames = heat_frames(daily.areas, [CITYWIDE, *shown], AREA_PERIOD, daily.as_of)
    caption = (
        f"{AREA_PERIOD.capitalize()} scores by area: the CityScore and the {len(shown)} "
        f"metric{'s' if len(shown) != 1 else ''} with the widest gap"
    )
    rest = len(gaps) - len(shown)
    more = (
        f'<p class="more">{rest} more metric{"s" if rest != 1 else ""} with a gap between areas '
        "not shown in this table.</p>"
        if rest > 0
        else ""
    )
    return (
        '<h3 id="areas-table">Scores by area</h3>'
        + heat_html(*frames, caption=caption, bands=daily.bands)
        + more
        + f"<p>Each cell: the area's {_e(AREA_PERIOD)} score with its status (✓ meeting, "
        "≈ near, ✗ below); — where the area has no score (the reason is read out with it).</p>"
    )


def _gaps_html(daily: DailyData, gaps: pd.DataFrame, top: int) -> str:
    from cityscore.pages.display import Column, table_html

    status = daily.areas[daily.areas["period"].astype(str) == AREA_PERIOD]
    status = status[status["as_of"] == daily.as_of]
    worst = dict(
        zip(
            zip(status["metric"].astype(str), status["area"].astype(str), strict=True),
            status["status"].astype(object),
            strict=True,
        )
    )
    table = gaps.assign(
        worst_status=[worst.get(k) for k in zip(gaps["metric"], gaps["worst_area"], strict=True)],
        below=[f"{b} of {n}" for b, n in zip(gaps["below_one"], gaps["scored"], strict=True)],
    )
    columns = [
        Column("metric", "Metric"),
        Column("worst_area", "Worst area"),
        Column("worst_score", "Worst score", "number"),
        Column("worst_status", "Worst area's status", "status"),
        Column("best_area", "Best area"),
        Column("best_score", "Best score", "number"),
        Column("gap", "Gap (worst ÷ best)", "number"),
        Column("below", "Areas below 1"),
    ]
    return '<h3 id="areas-gaps">Widest gaps</h3>' + table_html(
        table,
        columns,
        caption=f"Metrics with the widest gap between areas ({AREA_PERIOD} scores), widest first",
        empty="no metric is scored in two or more areas",
        max_rows=top,
        more="{n} more metrics scored in two or more areas not shown; their gaps are narrower.",
        bands=daily.bands,
    )


def show_areas(daily: DailyData, areas_map: str = "") -> None:
    """Display the "Across neighbourhoods" section (nothing for a city without areas)."""
    from IPython.display import HTML, display

    for i, part in enumerate(areas_section(daily, areas_map)):
        if isinstance(part, Figure):
            show(part)
        else:
            display(HTML(part), metadata={SECTION_KEY: AREAS_TITLE} if i == 0 else None)


# --- the command half -----------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from cityscore.apps.city import add_score_options
    from cityscore.core.dates import date_argument

    parser.add_argument(
        "--date",
        type=date_argument,
        metavar="D",
        help="report date (default: the latest date most metrics have data for)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPORTS_DIR,
        metavar="DIR",
        help="reports folder (default reports/)",
    )
    parser.add_argument(
        "--city", metavar="NAME", help="city name shown in the report (default: the notebook's)"
    )
    add_score_options(parser)
    parser.add_argument(
        "--areas-map",
        type=Path,
        metavar="FILE",
        help="the city's areas.geojson, for the map of its neighbourhoods (each feature's "
        "properties.name is an area; default: cityscore.toml's areas_map, the demo's own map "
        "for the demo, else a table)",
    )


def run(kit: Kit, args: argparse.Namespace) -> int:
    """Execute, convert and publish; a failure names the cell and keeps the failed notebook."""
    from cityscore.core.secrets import url_secrets

    out = Path(args.out)
    # The date is checked here, before a kernel starts: a wrong one fails in a second, not in a cell.
    day = kit.check_as_of(args.date) if args.date else kit.default_as_of()
    parameters: dict[str, Any] = {"report_date": day.isoformat()}
    if args.city:
        parameters["city_name"] = args.city
    if args.bands:
        parameters["bands"] = args.bands
    if args.cap:
        parameters["cap"] = args.cap
    if getattr(args, "areas_map", None):
        from cityscore.pages.areas import load_geojson

        load_geojson(args.areas_map)  # a bad or missing file fails here, in one line
        parameters["areas_map"] = str(Path(args.areas_map).resolve())
    db = args.db or os.environ.get(DB_ENV)
    secrets = [s for s in url_secrets(database_url(db)) if len(s) >= MIN_SECRET]
    try:
        path = publish(out, parameters, db=db, secrets=secrets)
    except ReportError as exc:
        print(f"cityscore: report failed: {exc}", file=sys.stderr)
        return 1
    summary = json.loads((path.parent / "summary.json").read_text(encoding="utf-8"))
    print(f"CityScore {summary['as_of']}: {summary['cityscore']} ({summary['status']})")
    print(f"wrote {path}")
    print(f"updated {out / 'latest.html'} and {out / 'index.html'}")
    return 0


def _password(url: str) -> list[str]:
    """The URL's password as written (maybe %-encoded) and decoded: text that must never be written.

    Passwords shorter than MIN_SECRET are not searched for: replacing every "ab" would garble the
    report, and such a password protects nothing anyway.
    """
    from urllib.parse import unquote

    match = re.match(r"^[^:/]+://[^:/@]+:([^@]*)@", url)
    if not match or len(match.group(1)) < MIN_SECRET:
        return []
    return sorted({match.group(1), unquote(match.group(1))}, key=len, reverse=True)


def publish(
    out: Path, parameters: dict[str, Any], *, db: str | None = None, secrets: Sequence[str] = ()
) -> Path:
    """Run the notebook into a private temp folder, then write the report files into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    with _lock(out), tempfile.TemporaryDirectory(prefix="cityscore-report-") as tmp:
        executed = Path(tmp) / "daily_report.ipynb"
        try:
            nb = execute(executed, parameters, db=db)
        except ReportError as exc:
            if not executed.exists():
                raise
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
            failed = out / "failed" / f"daily_report-{stamp}.ipynb"
            kept = _scrub_outputs(_read_nb(executed), secrets)
            write_atomic(failed, _nb_text(kept))
            msg = f"{_scrub(str(exc), secrets)}\nthe failed notebook is kept at {failed}; the previous report is unchanged"
            raise ReportError(msg) from None
        nb = _scrub_outputs(nb, secrets)
        summary = _summary(nb)
        day = summary["as_of"]
        folder = out / day
        try:
            page = export_html(nb, title=f"{summary['city_name']} CityScore {day}")
        except Exception as exc:  # a template or exporter problem: still leave every file as it was
            msg = f"the notebook ran but converting it to HTML failed: {type(exc).__name__}: {exc}"
            raise ReportError(_scrub(msg, secrets)) from exc
        notebook = _nb_text(nb)
        target = folder / f"cityscore-{day}.html"
        write_atomic(folder / f"cityscore-{day}.ipynb", notebook)
        write_atomic(folder / "summary.json", json.dumps(summary, indent=1))
        write_atomic(target, page)
        update_archive(out)
        return target


@contextlib.contextmanager
def _lock(out: Path) -> Iterator[None]:
    """One report run at a time per reports folder (a cron job and a person may overlap)."""
    import fcntl

    with open(out / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ``runtime.SKIP_IMPORTS``, marked absent for good in this process and in the kernel, both of which
# only run the report: a report run stays near papermill's own start-up time.
_SKIP_LINE = f"import sys; [sys.modules.setdefault(m, None) for m in {SKIP_IMPORTS!r}]"


def execute(
    output: Path, parameters: dict[str, Any], *, db: str | None = None
) -> nbformat.NotebookNode:
    """Run the report notebook with papermill; the database reaches the kernel via $CITYSCORE_DB."""
    for module in SKIP_IMPORTS:
        sys.modules.setdefault(module, None)  # type: ignore[arg-type]
    import papermill

    try:
        with environment(DB_ENV, db):
            return papermill.execute_notebook(
                str(NOTEBOOK),
                str(output),
                parameters=parameters,
                progress_bar=False,
                log_output=False,
                # Runs at kernel start-up, before the notebook; never written into it.
                kernel_manager_class=_this_python_kernel(),
                extra_arguments=[
                    f"--IPKernelApp.exec_lines={_SKIP_LINE}",
                    "--IPKernelApp.log_level=ERROR",  # no start-up chatter in cron mail
                ],
            )
    except papermill.PapermillExecutionError as exc:
        line = _failing_line(exc.traceback or []) or (exc.source or "").strip().partition("\n")[0]
        msg = f"cell {exc.cell_index} (In [{exc.exec_count}]) at `{line}` raised {exc.ename}: {exc.evalue}"
        raise ReportError(msg) from None
    except Exception as exc:  # the kernel did not start, the notebook is missing, ...
        msg = f"could not run {NOTEBOOK.name}: {type(exc).__name__}: {exc}"
        raise ReportError(msg) from None


def _this_python_kernel() -> type:
    """A kernel manager that starts the kernel in this very Python, where cityscore is installed.

    The notebook names the kernel "python3", and a "python3" kernel installed for the user (e.g.
    by ``ipython kernel install --user``) may be another Python without cityscore; cron would fail.
    """
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import KernelManager

    class ThisPythonKernelManager(KernelManager):
        @property
        def kernel_spec(self) -> KernelSpec:
            argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
            return KernelSpec(argv=argv, display_name="Python 3 (cityscore)", language="python")

    return ThisPythonKernelManager


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _failing_line(traceback: list[str]) -> str:
    """The notebook line the traceback points at (IPython marks it ``----> 4 code``)."""
    for frame in traceback:
        for text in _ANSI.sub("", frame).splitlines():
            if text.lstrip().startswith("---->"):
                return text.split("---->", 1)[1].strip().partition(" ")[2].strip()
    return ""


def _summary(nb: nbformat.NotebookNode) -> dict[str, Any]:
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            found = output.get("metadata", {}).get(SUMMARY_KEY)
            if found:
                return dict(found)
    msg = f"{NOTEBOOK.name} ran but displayed no headline (no output carries '{SUMMARY_KEY}' metadata)"
    raise ReportError(msg)


def _read_nb(path: Path) -> nbformat.NotebookNode:
    import nbformat

    return nbformat.read(path, as_version=4)


def _nb_text(nb: nbformat.NotebookNode) -> str:
    import nbformat

    return nbformat.writes(nb)


def _scrub(value: Any, secrets: Sequence[str]) -> Any:
    """``value`` (text, or JSON-like lists and dicts of it) with every secret replaced by ``***``."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "***")
        return value
    if isinstance(value, dict):
        return type(value)({key: _scrub(item, secrets) for key, item in value.items()})
    if isinstance(value, list):
        return [_scrub(item, secrets) for item in value]
    return value


def _scrub_outputs(nb: nbformat.NotebookNode, secrets: Sequence[str]) -> nbformat.NotebookNode:
    """Belt and braces: the password never reaches the kernel, but if an output echoed it, hide it.

    Only outputs are scrubbed (sources hold no secret), so the page's own JavaScript is never touched.
    """
    if secrets:
        for cell in nb.cells:
            if "outputs" in cell:
                cell.outputs = _scrub(cell.outputs, secrets)
    return nb


def script_json(value: Any) -> str:
    """JSON that is safe inside ``<script>``: ``<``, ``>`` and ``&`` become ``\\u003c``-style escapes."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text


def section_links(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """(id, title) of every ``## `` heading the page shows, for its navigation: in Markdown cells,
    and the sections an output opens (``SECTION_KEY``, e.g. "Across neighbourhoods" when the city
    has areas). The ids are the ones nbconvert's Markdown renderer gives headings (spaces become
    hyphens).
    """
    links = []
    for cell in nb.cells:
        if HIDE_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            title = output.get("metadata", {}).get(SECTION_KEY)
            if title:
                links.append((title.replace(" ", "-"), title))
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("## "):
                title = line[3:].strip()
                links.append((title.replace(" ", "-"), title))
    return links


def javascript_bundle() -> str:
    """Vega + Vega-Lite + Vega-Embed as one script, cached on disk per vl-convert version (~1 s saved)."""
    import vl_convert

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cityscore"
    path = cache / f"vl-convert-{vl_convert.__version__}-bundle.js"
    if path.exists():
        return path.read_text(encoding="utf-8")
    bundle = vl_convert.javascript_bundle()
    # A literal "</script" or "<!--" would end or confuse the inline script; the bundle has none
    # today, and escaping keeps it so if a future version does.
    bundle = bundle.replace("</script", "<\\/script").replace("<!--", "<\\!--")
    with contextlib.suppress(OSError):
        write_atomic(path, bundle)
    return bundle


def export_html(nb: nbformat.NotebookNode, title: str) -> str:
    """The executed notebook as one HTML page: outputs only, the Vega bundle inlined once."""
    from nbconvert import TemplateExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    # TemplateExporter rather than HTMLExporter: the latter re-parses the finished page (1 MB of
    # JavaScript) with BeautifulSoup to add alt texts we do not need, and rewrites our markup.
    exporter = TemplateExporter(
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        template_name=TEMPLATE_NAME,
        template_file="index.html.j2",
        exclude_input=True,
    )
    exporter.output_mimetype = "text/html"
    exporter.register_filter("script_json", script_json)
    exporter.register_filter("section_links", section_links)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={HIDE_TAG}), enabled=True)
    bundle = javascript_bundle()
    resources = {
        "cityscore": {
            "title": title,
            "bundle": bundle,
            "draw": PAGE_SCRIPT,
            "csp": content_security_policy([bundle, PAGE_SCRIPT]),
            "chart_key": CHART_KEY,
            "vegalite_mime": VEGALITE_MIME,
        }
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


# The page's one script (its hash is in the CSP): draws every chart from its escaped JSON spec (an
# error shows in place of the chart), makes the scoreboard searchable, and opens every collapsed
# section for printing. Without JavaScript the board and every table still read in full.
PAGE_SCRIPT = """
document.querySelectorAll("figure.chart-box").forEach(function (box) {
  var spec = JSON.parse(box.querySelector("script.chart-spec").textContent);
  var target = box.querySelector("div.chart");
  vegaEmbed(target, spec, {renderer: "svg", actions: false}).then(function () {
    box.classList.add("drawn");
  }).catch(function (err) {
    console.error("chart failed to draw:", err);
    target.textContent = "This chart could not be drawn: " + err;
  });
});
document.querySelectorAll(".board").forEach(function (board) {
  var tools = board.querySelector(".board-tools");
  var input = board.querySelector("input[type=search]");
  var count = board.querySelector("[role=status]");
  var sections = Array.prototype.slice.call(board.querySelectorAll("details.category"));
  sections.forEach(function (d) { d.dataset.wasOpen = d.open ? "1" : ""; });
  tools.hidden = false;
  input.addEventListener("input", function () {
    var query = input.value.trim().toLowerCase();
    var found = 0;
    sections.forEach(function (d) {
      var hits = 0;
      d.querySelectorAll("tbody tr").forEach(function (row) {
        var hit = !query || row.dataset.name.indexOf(query) >= 0;
        row.hidden = !hit;
        if (hit) { hits += 1; }
      });
      d.hidden = hits === 0;
      d.open = query ? hits > 0 : d.dataset.wasOpen === "1";
      found += hits;
    });
    count.textContent = query ? found + (found === 1 ? " metric matches" : " metrics match") : "";
  });
});
var closedForPrint = [];
window.addEventListener("beforeprint", function () {
  closedForPrint = Array.prototype.slice.call(document.querySelectorAll("details:not([open])"));
  closedForPrint.forEach(function (d) { d.open = true; });
});
window.addEventListener("afterprint", function () {
  closedForPrint.forEach(function (d) { d.open = false; });
});
"""


def content_security_policy(scripts: list[str]) -> str:
    """A policy that lets only our own inline scripts run and forbids every network load.

    Escaping is the defence against injected markup; this is the second wall: an injected inline
    handler or script would not match a hash, and nothing may be fetched. Vega compiles its
    expressions with ``Function`` (hence 'unsafe-eval'); Vega-Embed adds inline styles.
    """
    import base64
    import hashlib

    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
        for s in scripts
    )
    return (
        f"default-src 'none'; script-src {hashes} 'unsafe-eval'; style-src 'unsafe-inline'; "
        "img-src data:; font-src data:; base-uri 'none'; form-action 'none'"
    )


def write_atomic(path: Path, text: str) -> None:
    """Write via a temp file in the same folder and rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# --- the archive ----------------------------------------------------------------------------------

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def archive(out: Path) -> list[dict[str, Any]]:
    """Every published report in ``out`` (newest first), from each date folder's summary.json."""
    entries = []
    for folder in sorted(out.iterdir(), reverse=True) if out.exists() else []:
        summary = folder / "summary.json"
        if (
            _DAY.match(folder.name)
            and summary.exists()
            and (folder / f"cityscore-{folder.name}.html").exists()
        ):
            entries.append(json.loads(summary.read_text(encoding="utf-8")))
    return entries


def sparkline_svg(values: list[float | None], width: int = 120, height: int = 28) -> str:
    """A tiny inline SVG line (no script, no external file) of the recent CityScores, with 1.0 dashed.

    Its accessible name says what the line shows: first, last, lowest and highest.
    """
    from cityscore.pages.display import escape
    from cityscore.pages.render import score_text

    points = [v for v in values if v is not None]
    if len(points) < 2:
        return ""
    low, high = min([*points, 1.0]), max([*points, 1.0])
    span = (high - low) or 1.0

    def y(v: float) -> float:
        return round(height - 2 - (v - low) / span * (height - 4), 1)

    step = width / (len(values) - 1)
    coords = " ".join(f"{round(i * step, 1)},{y(v)}" for i, v in enumerate(values) if v is not None)
    label = (
        f"CityScore over the last {len(values)} days: from {score_text(points[0])} to "
        f"{score_text(points[-1])}, lowest {score_text(min(points))}, "
        f"highest {score_text(max(points))}"
    )
    return (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label)}">'
        f'<line x1="0" x2="{width}" y1="{y(1.0)}" y2="{y(1.0)}" stroke="#767676" stroke-dasharray="3 2"/>'
        f'<polyline fill="none" stroke="#0f3b2a" stroke-width="1.5" points="{coords}"/></svg>'
    )


def index_html(entries: list[dict[str, Any]]) -> str:
    """The archive page: every report with its CityScore, status and a sparkline."""
    from cityscore.pages.display import escape as _e
    from cityscore.pages.display import status_html

    rows = "".join(
        "<tr>"
        f'<th scope="row"><a href="{_e(e["as_of"])}/cityscore-{_e(e["as_of"])}.html">{_e(e["as_of"])}</a></th>'
        f"<td>{_e(e['city_name'])}</td>"
        f'<td class="score">{_e(e["cityscore"])}</td>'
        f"<td>{status_html(e['status'])}</td>"
        f"<td>{sparkline_svg(e.get('spark', []))}</td>"
        "</tr>"
        for e in entries
    )
    latest = (
        '<p><a href="latest.html">Latest report</a></p>' if entries else "<p>No reports yet.</p>"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>CityScore reports</title><style>{INDEX_CSS}</style></head><body>"
        f'<main id="main"><h1>CityScore reports</h1>{latest}'
        '<div class="table-wrap"><table><caption>Every published report, newest first</caption>'
        '<thead><tr><th scope="col">Date</th><th scope="col">City</th><th scope="col">CityScore</th>'
        f'<th scope="col">Status</th><th scope="col">Last {SPARK_DAYS} days</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div></main>"
        "<footer>Generated by CityScore Kit.</footer></body></html>\n"
    )


INDEX_CSS = (
    "body{font-family:system-ui,sans-serif;margin:0;color:#1d2b24;background:#fff}"
    "main,footer{max-width:60rem;margin:0 auto;padding:1.5rem 1rem}footer{color:#4a544f}"
    ":focus-visible{outline:3px solid #0072b2;outline-offset:2px}"
    ".table-wrap{max-width:100%;overflow-x:auto}"
    "table{border-collapse:collapse}caption{text-align:left;font-weight:bold;padding-bottom:.4rem}"
    "td,th{padding:.35rem .8rem;border-bottom:1px solid #ddd;text-align:left}"
    "th[scope=row]{font-weight:normal}"
    ".score{font-weight:bold;font-variant-numeric:tabular-nums}"
    ".status{white-space:nowrap;padding:0 .35rem;border-radius:4px;color:#111;background:#a3a8a5}"
    ".status.meeting{background:#009e73}.status.near{background:#f0e442}.status.below{background:#d55e00}"
    "@media print{.table-wrap{overflow:visible}*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}"
)


def update_archive(out: Path) -> None:
    """Rewrite index.html and latest.html (the newest date's report) from what is on disk."""
    entries = archive(out)
    if entries:
        newest = entries[0]["as_of"]
        page = (out / newest / f"cityscore-{newest}.html").read_text(encoding="utf-8")
        write_atomic(out / "latest.html", page)
    write_atomic(out / "index.html", index_html(entries))
