"""Interactive exploration for analysts: "how are we doing, and why?" in a few clicks.

The views are pure functions (DataFrame in, DataFrame out) over a score frame and the observations;
``Explorer`` only holds the widgets, calls the views and shows their tables and charts. Charts come
from ``cityscore.pages.charts`` and are drawn as inline SVG, so they show the same in JupyterLab, in a Voilà
page with no internet, and in a test that reads the widget's value. Each chart is a figure with a
text alternative: a caption with its headline numbers and, under "Data behind the chart", a table.

At real sizes (hundreds to thousands of metrics) a search box narrows the metric picker and the
scoreboard, and the board and change charts draw a bounded number of rows (the lowest, highest or
largest); the tables and the CSV download keep every row. ``ScoreCache`` reads and scores only what
is shown: every metric on the dates the board and the change need, one metric's year when it is
chosen. A city with areas gets an area picker (every view shows that area's scores) and a tab that
ranks the areas on the CityScore or on the chosen metric (``cityscore.apps.explore_areas``). The HTML
the views are shown in (tables, figures, status line, downloads) is ``cityscore.apps.explore_base``.

Scores follow the city's status bands and cap (``cityscore.toml``'s ``[scores]``, as ``cityscore
score`` and the daily report do) unless ``Explorer(kit, bands=..., cap=...)`` names others.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as w
import pandas as pd

from cityscore.apps.explore_areas import (
    AREA_VIEW,
    AREAS_INTRO,
    CITYWIDE_AREA,
    EVERY_AREA,
    area_figure,
    area_slice,
    area_slug,
    area_tables_html,
    area_targets,
    compute_area_views,
)
from cityscore.apps.explore_areas import (
    area_equity as area_equity,  # re-exported: docs/explore.md calls them
)
from cityscore.apps.explore_areas import area_ranking as area_ranking
from cityscore.apps.explore_base import (
    SCORED,
    chart_figure,
    check_choice,
    download_link,
    fmt_day,
    fmt_number,
    fmt_score,
    legend_html,
    scoring,
    selection_csv,
    status_html,
    table_html,
)
from cityscore.apps.explore_base import (
    chart_svg as chart_svg,  # re-exported: cityscore.apps.explore.chart_svg
)
from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.errors import CityScoreError
from cityscore.core.vocabulary import CITYWIDE, PERIODS
from cityscore.engine.score import score_by_area, score_range
from cityscore.engine.summary import (
    category_scores,
    contributions,
    leaders,
    metric_rows,
    percentiles,
)
from cityscore.frames.dates import DateLike, as_date
from cityscore.kit import LOOKBACK_DAYS, Kit
from cityscore.pages.render import score_text

ALL = "All categories"
HISTORY_DAYS = 365
COMPARE_CHOICES = [
    ("the day before", 1),
    ("a week before", 7),
    ("30 days before", 30),
    ("a year before", 364),
]
BOARD_COLUMNS = ["metric", "category", "value", "target", "score", "status", "note"]
RAW_COLUMNS = ["metric", "date", "value", "numerator", "denominator", "source", "batch_id"]
WINDOW_COLUMNS = [
    "period",
    "window_start",
    "window_end",
    "days",
    "days_with_data",
    "value",
    "target",
    "score",
    "status",
    "note",
]
VIEWS = ("scoreboard", "metric detail", "change", "exceeding / follow-up")
# The table behind each tab (what Prepare CSV saves) and the CSV file's name for it.
TAB_FRAMES = {
    "scoreboard": ("scoreboard", "scoreboard"),
    "metric detail": ("raw", "observations"),
    "change": ("change", "change"),
    "exceeding / follow-up": ("leaders", "leaders"),
    AREA_VIEW: ("areas", "areas"),
}
# The board chart draws this many metrics (a readable page at 2,000 metrics); the table lists all.
BOARD_CHART_ROWS = 30
# The change chart draws the metrics with the largest contributions, this many.
CHANGE_CHART_ROWS = 30
BOARD_ORDERS = {"lowest": "lowest scores first", "highest": "highest scores first"}


# --- pure views -------------------------------------------------------------------------------


def category_metrics(metrics: pd.DataFrame, category: str = ALL) -> list[str]:
    """Names of the metrics in ``category`` (all metrics for ``ALL``), in catalog order."""
    if category == ALL:
        return metrics["name"].astype(str).tolist()
    check_choice("category", category, sorted(metrics["category"].unique()))
    return metrics.loc[metrics["category"] == category, "name"].astype(str).tolist()


def matching_metrics(metrics: pd.DataFrame, category: str = ALL, search: str = "") -> list[str]:
    """Metrics in ``category`` whose name contains ``search`` (any case), in catalog order."""
    names = category_metrics(metrics, category)
    text = search.strip().casefold()
    return [n for n in names if text in n.casefold()] if text else names


def scoreboard_view(
    scores: pd.DataFrame,
    metrics: pd.DataFrame,
    as_of: DateLike,
    period: str,
    category: str = ALL,
    search: str = "",
    order: str = "lowest",
    bands: Bands = DEFAULT_BANDS,
) -> pd.DataFrame:
    """The scoreboard for one date and period: the CityScore (or the category's score) first, then
    each metric (of ``category`` whose name contains ``search``) from the lowest score up, since that
    is where an analyst looks first; ``order="highest"`` puts the highest first. No score sorts last.
    A category's score gets its status from ``bands`` (the scores' statuses come from the engine).
    """
    check_choice("period", period, list(PERIODS))
    check_choice("order", order, list(BOARD_ORDERS))
    as_of = as_date(as_of)
    names = matching_metrics(metrics, category, search)
    day = scores[(scores["as_of"] == as_of) & (scores["period"] == period)]
    rows = metric_rows(day).assign(metric=lambda f: f["metric"].astype(str))
    rows = rows[rows["metric"].isin(names)].merge(
        metrics[["name", "category"]].rename(columns={"name": "metric"}), on="metric"
    )
    rows = rows.sort_values(
        ["score", "metric"], ascending=[order == "lowest", True], na_position="last"
    )
    head = _headline_row(day, metrics, period, category, bands)
    out = pd.concat([head, rows[BOARD_COLUMNS]], ignore_index=True)
    return out.astype({"status": object, "note": object})


def _headline_row(
    day: pd.DataFrame, metrics: pd.DataFrame, period: str, category: str, bands: Bands
) -> pd.DataFrame:
    """The CityScore row of ``day`` (one date, one period), or the category's weighted score."""
    if category == ALL:
        city = day[day["metric"] == CITYWIDE].assign(metric=CITYWIDE, category="")
        return city[BOARD_COLUMNS].astype({"status": object, "note": object})
    cats = category_scores(day, metrics, bands)
    cat = cats[(cats["category"] == category) & (cats["period"] == period)]
    row = {
        "metric": f"{category} (category score)",
        "category": category,
        "value": None,
        "target": None,
    }
    if len(cat):
        first = cat.iloc[0]
        row |= {"score": first["score"], "status": first["status"]}
        row["note"] = f"{int(first['scored'])} of {int(first['metrics'])} metrics scored"
    else:
        row |= {"score": None, "status": None, "note": "no metric in this category has a row"}
    return pd.DataFrame([row], columns=BOARD_COLUMNS).astype(
        {"value": float, "target": float, "score": float}
    )


def daily_values(
    observations: pd.DataFrame, scores: pd.DataFrame, targets: pd.DataFrame, metric: str
) -> pd.DataFrame:
    """A metric's daily values against the target in effect each day (fixed or baseline).

    Columns ``date, value, target, target_change``; a ratio's value is numerator / denominator.
    ``target_change`` is True on a day an effective-dated target change took effect.
    """
    obs = observations[observations["metric"] == metric]
    value = obs["value"].where(obs["value"].notna(), obs["numerator"] / obs["denominator"])
    days = metric_rows(scores)
    days = days[(days["metric"] == metric) & (days["period"] == "day")]
    out = pd.DataFrame({"date": days["as_of"].to_numpy(), "target": days["target"].to_numpy()})
    daily = pd.DataFrame(
        {"date": pd.to_datetime(obs["date"]).to_numpy(), "value": value.to_numpy()}
    )
    out = out.merge(daily, on="date", how="left")
    changes = pd.to_datetime(targets.loc[targets["metric"] == metric, "effective_from"])
    out["target_change"] = out["date"].isin(changes)
    return (
        out[["date", "value", "target", "target_change"]].sort_values("date").reset_index(drop=True)
    )


def score_history(scores: pd.DataFrame, metric: str, period: str) -> pd.DataFrame:
    """One metric's (or the CityScore's) score per as-of date for one period: ``as_of, value, target,
    score, status``; the chart draws the 1.0 line against it.
    """
    rows = scores[(scores["metric"] == metric) & (scores["period"] == period)]
    return rows[["as_of", "value", "target", "score", "status"]].reset_index(drop=True)


def window_view(
    scores: pd.DataFrame, observations: pd.DataFrame, metric: str, as_of: DateLike
) -> pd.DataFrame:
    """The window behind each period's score on ``as_of``: its dates, how many days had data, and the
    value, target and score that came out of it.
    """
    as_of = as_date(as_of)
    obs = observations[observations["metric"] == metric]
    dates = pd.to_datetime(obs["date"])
    today = scores[(scores["as_of"] == as_of) & (scores["metric"] == metric)].set_index("period")
    rows = []
    for period, days in PERIODS.items():
        start = as_of - pd.Timedelta(days=days - 1)
        row = today.loc[period] if period in today.index else None
        rows.append(
            {
                "period": period,
                "window_start": start,
                "window_end": as_of,
                "days": days,
                "days_with_data": int(((dates >= start) & (dates <= as_of)).sum()),
                **{
                    k: (row[k] if row is not None else None)
                    for k in ("value", "target", "score", "status", "note")
                },
            }
        )
    out = pd.DataFrame(rows, columns=WINDOW_COLUMNS)
    return out.astype({"status": object, "note": object})


def raw_observations(
    observations: pd.DataFrame, metric: str, as_of: DateLike, period: str
) -> pd.DataFrame:
    """The stored rows in the window behind ``period``'s score, newest first, with their source and
    import batch so an analyst can trace a surprising number to the file it came from.
    """
    check_choice("period", period, list(PERIODS))
    as_of = as_date(as_of)
    start = as_of - pd.Timedelta(days=PERIODS[period] - 1)
    obs = observations[observations["metric"] == metric]
    dates = pd.to_datetime(obs["date"])
    obs = obs[(dates >= start) & (dates <= as_of)]
    columns = [c for c in RAW_COLUMNS if c in obs.columns]
    return obs[columns].sort_values("date", ascending=False).reset_index(drop=True)


def metric_percentile(scores: pd.DataFrame, metric: str, as_of: DateLike) -> pd.DataFrame:
    """Where today's day score sits in the metric's own past year: ``metric, score, percentile, days_scored``."""
    return percentiles(scores[scores["metric"] == metric], as_of)  # one metric, not all of them


def change_view(
    scores: pd.DataFrame,
    metrics: pd.DataFrame,
    as_of: DateLike,
    since_days: int,
    period: str,
    category: str = ALL,
) -> pd.DataFrame:
    """Each metric's part in the change of the CityScore between ``as_of - since_days`` and ``as_of``.

    The contributions over all metrics add up to the citywide change; a category filter shows only
    that category's part of it.
    """
    table = contributions(scores, metrics, as_of, since_days=since_days, period=period)
    names = category_metrics(metrics, category)
    return table[table["metric"].isin(names)].reset_index(drop=True)


def citywide_change(
    scores: pd.DataFrame, as_of: DateLike, since_days: int, period: str
) -> tuple[float, float]:
    """(CityScore before, CityScore now) for the change view's headline."""
    now = as_date(as_of)
    city = scores[(scores["metric"] == CITYWIDE) & (scores["period"] == period)].set_index("as_of")[
        "score"
    ]
    before = now - pd.Timedelta(days=since_days)
    return float(city.get(before, float("nan"))), float(city.get(now, float("nan")))


def leader_lists(
    scores: pd.DataFrame,
    metrics: pd.DataFrame,
    as_of: DateLike,
    period: str,
    category: str = ALL,
    n: int = 5,
) -> pd.DataFrame:
    """Exceeding and needs-follow-up metrics in one frame, with a ``list`` column saying which."""
    names = category_metrics(metrics, category)
    rows = scores[scores["metric"].isin([*names, CITYWIDE])]
    top, bottom = leaders(rows, as_of, period=period, n=n)
    return pd.concat(
        [top.assign(list="exceeding"), bottom.assign(list="needs follow-up")], ignore_index=True
    )[["list", "metric", "value", "target", "score", "status"]].astype({"status": object})


# --- text alternatives: what each chart shows, in words and numbers ----------------------------


def board_chart_rows(board: pd.DataFrame, limit: int = BOARD_CHART_ROWS) -> list[str]:
    """The metrics the board chart draws: the first ``limit`` of the scoreboard (after its headline)."""
    return board["metric"].iloc[1:].head(limit).astype(str).tolist()


def board_chart_data(scores: pd.DataFrame, as_of: DateLike, names: list[str]) -> pd.DataFrame:
    """The drawn metrics' score and status for every period on ``as_of``: one row per metric."""
    day = scores[(scores["as_of"] == as_date(as_of)) & scores["metric"].isin(names)]
    day = day.assign(metric=day["metric"].astype(str), period=day["period"].astype(str))
    wide = day.pivot_table(
        index="metric", columns="period", values="score", aggfunc="first", dropna=False
    )
    status = day.pivot_table(index="metric", columns="period", values="status", aggfunc="first")
    out = pd.DataFrame({"metric": names})
    for period in PERIODS:
        out[period] = out["metric"].map(wide[period]) if period in wide else float("nan")
        if period in status:
            out[f"{period} status"] = out["metric"].map(status[period]).astype(object)
        else:
            out[f"{period} status"] = None
    return out


def board_description(
    board: pd.DataFrame, s: Selection, drawn: int, matching: int, bands: Bands = DEFAULT_BANDS
) -> str:
    """What the board chart shows: the headline score, the status counts, and which metrics."""
    head = board.iloc[0] if len(board) else None
    rows = board.iloc[1:]
    counts = rows["status"].value_counts()
    scored = ", ".join(f"{int(counts.get(k, 0))} {k}" for k in SCORED)
    unscored = int(rows["status"].isna().sum())
    which = "lowest" if s.board == "lowest" else "highest"
    headline = (
        f"{head['metric']} ({s.period}) {fmt_score(head['score'], bands)}. "
        if head is not None
        else ""
    )
    return (
        f"Scoreboard for {s.as_of.date()}, {s.category.lower() if s.category == ALL else s.category}"
        f"{f', names containing “{s.search.strip()}”' if s.search.strip() else ''}: {headline}"
        f"Of {matching} metrics, {s.period} status: {scored}, {unscored} without a score. "
        f"The chart shows the {drawn} with the {which} {s.period} scores, every period side by side"
        f"{'' if drawn == matching else '; search or pick a category to see others'}."
    )


def detail_description(daily: pd.DataFrame, metric: str) -> str:
    """The metric's daily values in numbers: the latest, the lowest, the highest, target changes."""
    days = daily.dropna(subset=["value"])
    if days.empty:
        return f"{metric}: no daily values in this year."
    last = days.iloc[-1]
    low, high = days.loc[days["value"].idxmin()], days.loc[days["value"].idxmax()]
    target = (
        f" against a target of {fmt_number(last['target'], 3)}" if pd.notna(last["target"]) else ""
    )
    changes = daily.loc[daily["target_change"], "date"]
    changed = (
        f" The target changed on {', '.join(fmt_day(d) for d in changes)}." if len(changes) else ""
    )
    return (
        f"{metric}, daily values from {fmt_day(days['date'].iloc[0])} to {fmt_day(last['date'])}: "
        f"latest {fmt_number(last['value'], 3)} on {fmt_day(last['date'])}{target}; "
        f"lowest {fmt_number(low['value'], 3)} on {fmt_day(low['date'])}, "
        f"highest {fmt_number(high['value'], 3)} on {fmt_day(high['date'])}.{changed}"
    )


def history_table(scores: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One metric's score per as-of date, one column per period (the history chart's data)."""
    rows = scores[scores["metric"] == metric]
    wide = rows.pivot_table(
        index="as_of",
        columns="period",
        values="score",
        aggfunc="first",
        dropna=False,
        observed=True,
    )
    wide.columns = [str(c) for c in wide.columns]
    out = wide.reindex(columns=list(PERIODS)).reset_index()
    return out.sort_values("as_of", ascending=False).reset_index(drop=True)


def history_description(
    history: pd.DataFrame, metric: str, period: str, bands: Bands = DEFAULT_BANDS
) -> str:
    """The metric's ``period`` score over the year: today, the lowest, the highest, days at 1.0+."""
    rows = history.dropna(subset=["score"]).sort_values("as_of")
    if rows.empty:
        return f"{metric}: no {period} score in this year."
    last = rows.iloc[-1]
    low, high = rows.loc[rows["score"].idxmin()], rows.loc[rows["score"].idxmax()]
    on_target = int((rows["score"] >= 1.0).sum())
    return (
        f"{metric}, score history (every period; 1.0 = on target). {period.capitalize()} score: "
        f"{fmt_score(last['score'], bands)} on {fmt_day(last['as_of'])}; lowest "
        f"{fmt_score(low['score'], bands)} on {fmt_day(low['as_of'])}, highest "
        f"{fmt_score(high['score'], bands)} on {fmt_day(high['as_of'])}; "
        f"at or above 1.0 on {on_target} of {len(rows)} days."
    )


def change_description(
    change: pd.DataFrame, city: pd.DataFrame, s: Selection, drawn: int, bands: Bands = DEFAULT_BANDS
) -> str:
    """Why the CityScore moved: the change, then the largest contributions up and down."""
    before, now = city.iloc[0]
    up = change[change["contribution"] > 0].nlargest(3, "contribution")
    down = change[change["contribution"] < 0].nsmallest(3, "contribution")

    def names(rows: pd.DataFrame) -> str:
        parts = [
            f"{m} ({fmt_number(c, 3)})"
            for m, c in zip(rows["metric"], rows["contribution"], strict=True)
        ]
        return ", ".join(parts) or "none"

    since = (s.as_of - pd.Timedelta(days=s.since_days)).date()
    return (
        f"CityScore ({s.period}) {fmt_score(before, bands)} on {since}, {fmt_score(now, bands)} on "
        f"{s.as_of.date()} "
        f"(change {fmt_number(now - before, 3)}). Largest contributions up: {names(up)}; "
        f"down: {names(down)}. The chart shows the {drawn} largest of {len(change)} contributions"
        + (f", the other {len(change) - drawn} summed in one bar." if len(change) > drawn else ".")
    )


# --- the widgets -----------------------------------------------------------------------------


@dataclass
class Selection:
    """What the controls say now."""

    as_of: pd.Timestamp
    period: str
    category: str
    metric: str
    since_days: int
    search: str = ""
    board: str = "lowest"
    area: str = CITYWIDE_AREA  # "" = citywide
    compare: str = CITYWIDE  # what the areas are compared on: the CityScore, or the metric

    @property
    def compared(self) -> str:
        """The metric the area comparison shows (``CITYWIDE`` or the chosen metric)."""
        return CITYWIDE if self.compare == CITYWIDE else self.metric


# Shown to screen readers with the controls: how to drive the page from the keyboard.
INTRO = (
    '<h2 id="explorer" tabindex="-1">Explorer</h2>'
    "<p>Choose a date, a period and a category; type part of a metric's name in <i>Find metric</i>"
    " and press Enter to narrow the metric list and the scoreboard. The tabs below switch views"
    " (arrow keys move between the tabs, Enter opens one). Each chart is followed by its description and, under"
    " <i>Data behind the chart</i>, its numbers as a table.</p>"
)
WIDE = {"description_width": "initial"}  # labels in full, never cut off
NEAR_DAYS = 31  # dates at most this far apart are scored in one pass over the days between them
CACHE_SIZE = 8  # dates (all metrics) and metric years kept in memory; older ones are read again


class ScoreCache:
    """Scores read on demand, so the explorer starts in time proportional to what it shows.

    The board, the change and the lists need every metric on one or two dates: ``days`` scores
    all metrics on those dates, citywide, or of one area once it is picked, or of every area once
    the areas are compared on the CityScore. The metric detail needs one metric's year: ``year``
    reads and scores that metric alone (every area of it), when it is chosen. All are kept (the
    last ``CACHE_SIZE``) and give the rows ``Kit.scores`` (``by="area"``) gives with the same
    ``bands`` and ``cap``.
    """

    def __init__(
        self,
        kit: Kit,
        metrics: pd.DataFrame,
        history_days: int = HISTORY_DAYS,
        *,
        bands: Bands = DEFAULT_BANDS,
        cap: float | None = None,
    ) -> None:
        self.kit = kit
        self.metrics = metrics
        self.history_days = history_days
        self.bands = bands
        self.cap = cap
        self.areas = kit.areas()
        self.targets = kit.targets(areas=bool(self.areas))
        self._days: dict[tuple[str, pd.Timestamp], pd.DataFrame] = {}
        self._years: dict[tuple[str, pd.Timestamp], tuple[pd.DataFrame, pd.DataFrame]] = {}

    def _score(
        self,
        observations: pd.DataFrame,
        metrics: pd.DataFrame,
        start: pd.Timestamp,
        end: pd.Timestamp,
        by_area: bool,
        area: str | None = None,
    ) -> pd.DataFrame:
        """Scores as ``Kit.scores`` gives them; with ``area``, that area's (and the city's) only:
        the other areas' targets would add a grid column per metric and area, scored for nothing
        (at 2,000 metrics x 25 areas, 7 s of an area's 7.8)."""
        targets = self.targets[self.targets["metric"].isin(metrics["name"].astype(str))]
        if area is not None and "area" in targets:
            targets = targets[targets["area"].isin(["", area])]
        options = {"bands": self.bands, "cap": self.cap}
        if by_area and self.areas:
            return score_by_area(observations, metrics, targets, start, end, **options)
        # Citywide: the area rows only add up to citywide days that have none (as Kit.scores).
        city = area_slice(targets) if "area" in targets else targets
        return score_range(observations, metrics, city, start, end, **options)

    def days(self, dates: list[pd.Timestamp], scope: str = CITYWIDE_AREA) -> pd.DataFrame:
        """Every metric's scores on each of ``dates``: citywide (``scope=""``), of one area (its
        rows only are read: an area is scored from its own rows and targets), or of ``EVERY_AREA``.
        One read for the dates not kept yet."""
        scope = scope if self.areas else CITYWIDE_AREA
        missing = sorted({d for d in dates if (scope, d) not in self._days})
        if missing:
            lookback = pd.Timedelta(days=LOOKBACK_DAYS)
            # Every metric's windows, a history baseline's year: as Kit.scores reads.
            obs = self.kit.store.scoring_observations(
                missing[0].date(),
                missing[-1].date(),
                area=scope if scope not in (CITYWIDE_AREA, EVERY_AREA) else None,
                citywide=scope == CITYWIDE_AREA,
            )
            by_area = scope != CITYWIDE_AREA
            one = scope if scope not in (CITYWIDE_AREA, EVERY_AREA) else None
            if missing[-1] - missing[0] <= pd.Timedelta(days=NEAR_DAYS):
                # Dates close together (the day or week before): one pass over their range.
                span = self._score(obs, self.metrics, missing[0], missing[-1], by_area, one)
                for day, rows in span[span["as_of"].isin(missing)].groupby("as_of"):
                    self._days[(scope, day)] = rows.reset_index(drop=True)
            else:
                for day in missing:
                    window = obs[(obs["date"] >= day - lookback) & (obs["date"] <= day)]
                    scored = self._score(window, self.metrics, day, day, by_area, one)
                    self._days[(scope, day)] = scored
            _trim(self._days)
        return pd.concat([self._days[(scope, d)] for d in dict.fromkeys(dates)], ignore_index=True)

    def year(self, metric: str, as_of: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(scores, observations with source) of ``metric`` for the year to ``as_of``, every area;
        the observations reach back far enough for the first day's windows (and baseline)."""
        key = (metric, as_of)
        if key not in self._years:
            start = as_of - pd.Timedelta(days=self.history_days - 1)
            obs = self.kit.store.scoring_observations(
                start.date(), as_of.date(), metric=metric, with_source=True
            )
            one = self.metrics[self.metrics["name"].astype(str) == metric]
            scores = metric_rows(self._score(obs, one, start, as_of, by_area=True))
            self._years[key] = (scores.reset_index(drop=True), obs)
            _trim(self._years)
        return self._years[key]

    def selection(self, s: Selection) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(scores, observations) of ``s.area`` for the views: every metric on ``s.as_of`` and the
        date compared with, and the chosen metric's whole year; its observations with source."""
        before = s.as_of - pd.Timedelta(days=s.since_days)
        day = area_slice(self.days([s.as_of, before], scope=s.area), s.area)
        scores, obs = self.year(s.metric, s.as_of)
        year = area_slice(scores, s.area)
        day = day[day["metric"].astype(str) != s.metric]
        return pd.concat([day, year], ignore_index=True), area_slice(obs, s.area)


def _trim(cache: dict) -> None:
    while len(cache) > CACHE_SIZE:
        cache.pop(next(iter(cache)))


class Explorer:
    """Controls and views over one kit. ``Explorer(kit).widget`` is what the notebook displays.

    Tests drive it like a person: set a control's ``value``, ``click()`` a button, then read
    ``frames`` (the DataFrames behind every view) or the HTML widgets' values.

    ``bands`` and ``cap`` are the status bands and score cap every view scores with and writes
    scores against; ``None`` takes the city's (``cityscore.toml``, found as the command line finds
    it), so the explorer agrees with ``cityscore score`` and the daily report. ``cap=0``: no cap.
    A bad setting or database is said on the page (``error`` holds it), never as a traceback.
    """

    def __init__(
        self,
        kit: Kit,
        as_of: DateLike | None = None,
        history_days: int = HISTORY_DAYS,
        *,
        bands: Bands | str | None = None,
        cap: float | None = None,
    ) -> None:
        self.kit = kit
        self.history_days = history_days
        self.message = w.HTML()
        self.error: str | None = None
        try:
            self.bands, self.cap = scoring(bands, cap)
            self._build(as_of)
        except CityScoreError as exc:
            # e.g. a broken cityscore.toml: said on the page, as refresh says a selection's errors
            self.error = str(exc)
            self.message.value = status_html(
                f"<b>Cannot open the explorer:</b> {html.escape(self.error)}", raw=True
            )
            self.widget = w.VBox([self.message])

    def _build(self, as_of: DateLike | None) -> None:
        """Read the catalog, make the controls and views, and show the first selection."""
        kit = self.kit
        self.metrics = kit.metrics()
        latest = kit.latest_date()
        first = as_date(as_of).date() if as_of is not None else kit.default_as_of()
        self.cache = ScoreCache(
            kit, self.metrics, self.history_days, bands=self.bands, cap=self.cap
        )
        self.areas = self.cache.areas
        self.targets = self.cache.targets
        self.scores = self.observations = pd.DataFrame()
        self.frames: dict[str, pd.DataFrame] = {}
        self._drawn: dict[int, tuple] = {}
        self._quiet = False
        categories = sorted(self.metrics["category"].astype(str).unique())
        names = self.metrics["name"].astype(str).tolist()
        self.as_of = w.DatePicker(value=first, description="As of", max=latest, style=WIDE)
        self.period = w.Dropdown(
            options=list(PERIODS), value="week", description="Period", style=WIDE
        )
        self.category = w.Dropdown(
            options=[ALL, *categories], value=ALL, description="Category", style=WIDE
        )
        # Labels are shown as text by the front end (never as HTML), so any area name is safe.
        self.area = w.Dropdown(
            options=[("Citywide", CITYWIDE_AREA), *[(a, a) for a in self.areas]],
            value=CITYWIDE_AREA,
            description="Area",
            style=WIDE,
        )
        self.search = w.Text(
            description="Find metric",
            placeholder="part of a name, then Enter",
            continuous_update=False,
            style=WIDE,
        )
        self.metric = w.Dropdown(
            options=names, value=names[0] if names else None, description="Metric", style=WIDE
        )
        self.board_order = w.Dropdown(
            options=[(label, key) for key, label in BOARD_ORDERS.items()],
            value="lowest",
            description="Scoreboard",
            style=WIDE,
        )
        self.since = w.Dropdown(
            options=COMPARE_CHOICES, value=7, description="Compare to", style=WIDE
        )
        self.compare = w.Dropdown(
            options=[("the areas' CityScore", CITYWIDE), ("the chosen metric", "metric")],
            value=CITYWIDE,
            description="Compare areas on",
            style=WIDE,
        )
        self.download = w.Button(
            description="Prepare CSV", icon="download", tooltip="CSV of the table in the open tab"
        )
        self.link = w.HTML()
        self.board = w.HTML()
        self.board_chart = w.HTML()
        self.detail_chart = w.HTML()
        self.history_chart = w.HTML()
        self.detail = w.HTML()
        self.change_chart = w.HTML()
        self.change = w.HTML()
        self.leaders = w.HTML()
        self.area_chart = w.HTML()
        self.area_table = w.HTML()
        self.views = [*VIEWS, *([AREA_VIEW] if self.areas else [])]
        pages = [
            w.VBox([self.board_chart, self.board]),
            w.VBox([self.detail_chart, self.history_chart, self.detail]),
            w.VBox([self.change_chart, self.change]),
            self.leaders,
        ]
        if self.areas:
            pages.append(w.VBox([self.compare, self.area_chart, self.area_table]))
        self.tabs = w.Tab(children=pages, titles=[v.capitalize() for v in self.views])
        for control in (
            self.as_of,
            self.period,
            self.metric,
            self.since,
            self.board_order,
            self.area,
            self.compare,
        ):
            control.observe(self._on_change, names="value")
        self.category.observe(self._on_filter, names="value")
        self.search.observe(self._on_filter, names="value")
        self.tabs.observe(self._on_tab, names="selected_index")
        self.download.on_click(lambda _: self.prepare_download())
        where = [self.as_of, self.period, self.category, *([self.area] if self.areas else [])]
        controls = w.HBox(where, layout=w.Layout(flex_flow="row wrap"))
        picks = w.HBox(
            [self.search, self.metric, self.board_order, self.since],
            layout=w.Layout(flex_flow="row wrap"),
        )
        save = w.HBox([self.download, self.link])
        intro = INTRO + legend_html(self.bands, self.cap) + (AREAS_INTRO if self.areas else "")
        self.widget = w.VBox([w.HTML(intro), controls, picks, save, self.message, self.tabs])
        self.refresh()

    def _repr_mimebundle_(self, **kwargs: object) -> dict:
        # Show the widgets, with a short plain-text stand-in: the default repr would spell out
        # every child widget, charts included, into the saved notebook.
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = (
            f"CityScore Explorer: {self.error}"
            if self.error is not None
            else f"CityScore Explorer: {len(self.metrics)} metrics, as of {self.as_of.value}"
        )
        return bundle

    # --- state -------------------------------------------------------------------------------

    @property
    def selection(self) -> Selection:
        return Selection(
            as_of=as_date(self.as_of.value),
            period=self.period.value,
            category=self.category.value,
            metric=self.metric.value,
            since_days=int(self.since.value),
            search=self.search.value,
            board=self.board_order.value,
            area=self.area.value,
            compare=self.compare.value,
        )

    def _tab(self) -> tuple[str, str]:
        """(frame key, CSV name) of the open tab."""
        return TAB_FRAMES[self.views[self.tabs.selected_index or 0]]

    def current_frame(self) -> pd.DataFrame:
        """The table behind the open tab: what the CSV download holds."""
        return self.frames[self._tab()[0]]

    # --- events ------------------------------------------------------------------------------

    def _on_change(self, _change: object = None) -> None:
        if not self._quiet:
            self.refresh()

    def _on_filter(self, _change: object = None) -> None:
        """Category or search changed: narrow the metric picker, keep the metric if it still fits."""
        names = matching_metrics(self.metrics, self.category.value, self.search.value)
        keep = self.metric.value if self.metric.value in names else (names[0] if names else None)
        self._quiet = True  # one refresh below, not one per trait the picker changes
        try:
            self.metric.options = names
            self.metric.value = keep
        finally:
            self._quiet = False
        self.refresh()

    def _clear_link(self) -> None:
        self.link.value = ""

    def _compared_scores(self, s: Selection) -> pd.DataFrame:
        """Every area's scores of what is compared: the CityScore needs every metric of every area
        on the date; a metric, only its own year (already read for the detail)."""
        if s.compared == CITYWIDE:
            return self.cache.days([s.as_of], scope=EVERY_AREA)
        return self.cache.year(s.metric, s.as_of)[0]

    def _comparing(self) -> bool:
        """Is the Compare areas tab open?"""
        return self.views[self.tabs.selected_index or 0] == AREA_VIEW

    def _on_tab(self, _change: object = None) -> None:
        self._clear_link()
        if self._comparing() and "areas" not in self.frames:
            self.refresh()  # the comparison is computed when its tab is first opened

    def prepare_download(self) -> str:
        """Put a link to the open tab's table as CSV next to the button; returns the CSV text."""
        s = self.selection
        view = self._tab()[1]
        where = f"-{area_slug(s.area)}" if s.area else ""
        text = selection_csv(self.current_frame())
        self.link.value = download_link(
            text, f"cityscore-{view}{where}-{s.period}-{s.as_of.date()}.csv"
        )
        return text

    def refresh(self) -> None:
        """Recompute every view for the current selection and show it."""
        self._clear_link()
        if self.as_of.value is None:
            self.message.value = status_html("Pick a date.")
            return
        if self.metric.value is None:
            self.message.value = status_html(
                f"No metric in {self.category.value} has “{self.search.value.strip()}” in its "
                "name: change or clear Find metric."
                if self.search.value.strip()
                else "Pick a metric."
            )
            return
        s = self.selection
        try:
            self.scores, self.observations = self.cache.selection(s)
            targets = area_targets(self.targets, s.metric, s.area)
            self.frames = compute_views(
                self.scores, self.observations, self.metrics, targets, s, self.bands
            )
            if self._comparing():  # the areas' scores: only once the tab is open
                self.frames |= compute_area_views(
                    self._compared_scores(s), s.compared, s.period, s.as_of
                )
        except CityScoreError as exc:  # shown on the page: an observer's exception would vanish
            self.message.value = status_html(
                f"<b>Cannot show this selection:</b> {html.escape(str(exc))}", raw=True
            )
            return
        self.message.value = _headline(self.frames, s, self.bands)
        self._show(s)

    def _table(self, frame: pd.DataFrame, caption: str) -> str:
        """A view's table, its scores written against the explorer's bands."""
        return table_html(frame, caption=caption, bands=self.bands)

    def _show(self, s: Selection) -> None:
        f = self.frames
        name = html.escape(s.metric)
        where = f" — {s.area}" if s.area else ""
        self.board.value = self._table(
            f["scoreboard"], f"Scoreboard{where}, {s.period} scores on {s.as_of.date()}"
        )
        self.detail.value = (
            f"<h3>{name}: percentile of today's day score in its own past year</h3>"
            + self._table(f["percentile"], f"{s.metric}{where}: percentile")
            + "<h3>The window behind each period's score</h3>"
            + self._table(f["windows"], f"{s.metric}{where}: windows on {s.as_of.date()}")
            + f"<h3>Stored values in the {s.period} window, with source and import batch</h3>"
            + self._table(f["raw"], f"{s.metric}{where}: stored values")
        )
        score = "CityScore" + (f" of {s.area}" if s.area else "")
        self.change.value = self._table(
            f["change"], f"Contributions to the change in the {score} ({s.period})"
        )
        self.leaders.value = self._table(
            f["leaders"], f"Exceeding and needing follow-up{where}, {s.period} scores"
        )
        if "areas" in self.frames:
            self.area_table.value = area_tables_html(
                self.frames, s.compared, s.period, s.as_of, self.bands
            )
        for target, (key, make) in self._charts(s).items():
            if self._drawn.get(id(target)) != key:  # redraw only charts whose inputs changed
                target.value = _safe_chart(make)
                self._drawn[id(target)] = key

    def _year(self, s: Selection) -> pd.DataFrame:
        """The observations of the shown year (the extra lookback before it only feeds windows)."""
        first = s.as_of - pd.Timedelta(days=self.history_days - 1)
        return self.observations[self.observations["date"] >= first]

    def _charts(self, s: Selection) -> dict[w.HTML, tuple[tuple, Callable[[], str]]]:
        """Each chart widget with the selection it depends on and how to draw it (as a figure)."""
        board_key = (s.as_of, s.period, s.category, s.search.strip().casefold(), s.board, s.area)
        charts = {
            self.board_chart: (board_key, lambda: self._board_figure(s)),
            self.detail_chart: ((s.as_of, s.metric, s.area), lambda: self._detail_figure(s)),
            self.history_chart: (
                (s.as_of, s.metric, s.period, s.area),
                lambda: self._history_figure(s),
            ),
            self.change_chart: (
                (s.as_of, s.since_days, s.period, s.category, s.area),
                lambda: self._change_figure(s),
            ),
        }
        if "areas" in self.frames:
            key = (s.as_of, s.period, s.compared)
            charts[self.area_chart] = (
                key,
                lambda: area_figure(self.frames, s.compared, s.period, s.as_of, self.bands),
            )
        return charts

    def _board_figure(self, s: Selection) -> str:
        from cityscore.pages import (
            charts,  # the Altair specs; imported late so the views work without them
        )

        board = self.frames["scoreboard"]
        names = board_chart_rows(board)
        if not names:
            return status_html("No metric to draw on the board for this selection.")
        shown = self.metrics[self.metrics["name"].astype(str).isin(names)]
        day = self.scores[self.scores["as_of"] == s.as_of]
        where = f" — {s.area}" if s.area else ""
        return chart_figure(
            charts.scoreboard_chart(day[day["metric"].isin(names)], shown, s.as_of, self.bands),
            f"Scoreboard chart{where}, {s.as_of.date()}",
            board_description(board, s, len(names), len(board) - 1, self.bands),
            board_chart_data(self.scores, s.as_of, names),
            self.bands,
        )

    def _detail_figure(self, s: Selection) -> str:
        from cityscore.pages import charts

        daily = self.frames["daily"]
        targets = area_targets(self.targets, s.metric, s.area)
        where = f" — {s.area}" if s.area else ""
        return chart_figure(
            charts.metric_detail_chart(self._year(s), targets, s.metric),
            f"{s.metric}{where}: daily values vs target",
            detail_description(daily, s.metric),
            daily.sort_values("date", ascending=False),
            self.bands,
        )

    def _history_figure(self, s: Selection) -> str:
        from cityscore.pages import charts

        where = f" — {s.area}" if s.area else ""
        return chart_figure(
            charts.score_history_chart(self.scores, s.metric, self.bands),
            f"{s.metric}{where}: score history",
            history_description(self.frames["history"], s.metric, s.period, self.bands),
            history_table(self.scores, s.metric),
            self.bands,
        )

    def _change_figure(self, s: Selection) -> str:
        from cityscore.pages import charts

        change = self.frames["change"]
        if change.empty:
            return status_html("No contributions to draw for this selection.")
        # The largest bars, the rest summed into one: the bars still add up to the change.
        drawn = charts.top_contributions(change, CHANGE_CHART_ROWS)
        score = "CityScore" + (f" of {s.area}" if s.area else "")
        return chart_figure(
            charts.contributions_chart(change, top=CHANGE_CHART_ROWS),
            f"Contributions to the change in the {score}",
            change_description(
                change,
                self.frames["city_change"],
                s,
                min(CHANGE_CHART_ROWS, len(change)),
                self.bands,
            ),
            drawn[["metric", "category", "before", "now", "contribution"]],
            self.bands,
        )


def compute_views(
    scores: pd.DataFrame,
    observations: pd.DataFrame,
    metrics: pd.DataFrame,
    targets: pd.DataFrame,
    s: Selection,
    bands: Bands = DEFAULT_BANDS,
) -> dict[str, pd.DataFrame]:
    """Every view's DataFrame for one selection (the Explorer shows these; tests assert on them).

    ``scores`` are scored with ``bands`` already; a category's score gets its status from them.
    """
    return {
        "scoreboard": scoreboard_view(
            scores, metrics, s.as_of, s.period, s.category, s.search, s.board, bands
        ),
        "daily": daily_values(observations, scores, targets, s.metric),
        "history": score_history(scores, s.metric, s.period),
        "windows": window_view(scores, observations, s.metric, s.as_of),
        "raw": raw_observations(observations, s.metric, s.as_of, s.period),
        "percentile": metric_percentile(scores, s.metric, s.as_of),
        "change": change_view(scores, metrics, s.as_of, s.since_days, s.period, s.category),
        "leaders": leader_lists(scores, metrics, s.as_of, s.period, s.category),
        "city_change": pd.DataFrame(
            [citywide_change(scores, s.as_of, s.since_days, s.period)], columns=["before", "now"]
        ),
    }


def _headline(frames: dict[str, pd.DataFrame], s: Selection, bands: Bands = DEFAULT_BANDS) -> str:
    before, now = frames["city_change"].iloc[0]
    of = f" of {html.escape(s.area)}" if s.area else ""
    return status_html(
        f"<b>CityScore{of} ({s.period}) on {s.as_of.date()}: {fmt_score(now, bands)}</b>"
        f" — was {fmt_score(before, bands)} {s.since_days} day(s) before"
        f" (change {fmt_number(now - before, 3)}).",
        raw=True,
    )


def _safe_chart(make: Callable[[], str]) -> str:
    """The chart's figure; a short note instead if the chart cannot be drawn for this selection."""
    try:
        return make()
    except Exception as exc:  # a broken chart must not take the tables down with it
        return f"<p><i>chart not available: {html.escape(str(exc))}</i></p>"


def explore(
    kit: Kit | None = None,
    as_of: DateLike | None = None,
    *,
    bands: Bands | str | None = None,
    cap: float | None = None,
) -> Explorer:
    """The explorer over ``kit`` (default: the database from ``$CITYSCORE_DB``), scored with
    ``bands`` and ``cap`` (default: the city's settings; see ``Explorer``)."""
    return Explorer(kit or Kit(), as_of=as_of, bands=bands, cap=cap)


def key_numbers(
    kit: Kit,
    as_of: DateLike | None = None,
    metrics: list[str] | None = None,
    skip_unknown: bool = False,
    *,
    bands: Bands | str | None = None,
    cap: float | None = None,
) -> str:
    """Plain text with the CityScore and a few metric scores on ``as_of``, so a notebook test compares
    them and any change in scoring fails it.

    ``skip_unknown`` leaves out (and names on a last line) metrics this city does not have, so the
    notebook written for the demo city still runs on any city. Scored with ``bands`` and ``cap``
    (default: the city's settings, as the explorer).
    """
    bands, cap = scoring(bands, cap)
    day = as_date(as_of) if as_of is not None else pd.Timestamp(kit.default_as_of())
    known = [CITYWIDE, *kit.metrics()["name"].astype(str)]
    wanted = [CITYWIDE, *(metrics or [])]
    missing = [m for m in wanted if m not in known] if skip_unknown else []
    scores = kit.scores(day, bands=bands, cap=cap)
    lines = [f"as of {day.date()}"]
    for metric in (m for m in wanted if m not in missing):
        check_choice("metric", metric, known)
        rows = scores[scores["metric"] == metric].set_index("period")["score"]
        parts = ", ".join(f"{p} {score_text(rows.get(p), bands, places=4)}" for p in PERIODS)
        lines.append(f"{metric}: {parts}")
    if missing:
        lines.append(f"not in this city's catalog: {', '.join(missing)}")
    return "\n".join(lines)
