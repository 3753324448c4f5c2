"""Interactive exploration for analysts: "how are we doing, and why?" in a few clicks.

The views are pure functions (DataFrame in, DataFrame out) over a score frame and the observations;
``Explorer`` only holds the widgets, calls the views and shows their tables and charts. Charts come
from ``cityscore.charts`` and are drawn as inline SVG, so they show the same in JupyterLab, in a Voilà
page with no internet, and in a test that reads the widget's value.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as w
import pandas as pd

from .catalog import CITYWIDE, PERIODS
from .errors import CityScoreError, ConfigError
from .kit import Kit
from .render import round_half_even
from .score import DateLike, as_date
from .summary import category_scores, contributions, leaders, metric_rows, percentiles

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


# --- pure views -------------------------------------------------------------------------------


def check_choice(label: str, value: str, allowed: list[str]) -> None:
    """A clear error for a value that is not one of the allowed choices."""
    if value not in allowed:
        shown = ", ".join(allowed[:10]) + (" ..." if len(allowed) > 10 else "")
        msg = f"unknown {label} {value!r}; choose one of: {shown}"
        raise ConfigError(msg)


def category_metrics(metrics: pd.DataFrame, category: str = ALL) -> list[str]:
    """Names of the metrics in ``category`` (all metrics for ``ALL``), in catalog order."""
    if category == ALL:
        return metrics["name"].astype(str).tolist()
    check_choice("category", category, sorted(metrics["category"].unique()))
    return metrics.loc[metrics["category"] == category, "name"].astype(str).tolist()


def scoreboard_view(
    scores: pd.DataFrame, metrics: pd.DataFrame, as_of: DateLike, period: str, category: str = ALL
) -> pd.DataFrame:
    """The scoreboard for one date and period: the CityScore (or the category's score) first, then
    each metric from the lowest score up, since that is where an analyst looks first.
    """
    check_choice("period", period, list(PERIODS))
    as_of = as_date(as_of)
    names = category_metrics(metrics, category)
    day = scores[(scores["as_of"] == as_of) & (scores["period"] == period)]
    rows = metric_rows(day).assign(metric=lambda f: f["metric"].astype(str))
    rows = rows[rows["metric"].isin(names)].merge(
        metrics[["name", "category"]].rename(columns={"name": "metric"}), on="metric"
    )
    rows = rows.sort_values(["score", "metric"], na_position="last")
    head = _headline_row(day, metrics, period, category)
    out = pd.concat([head, rows[BOARD_COLUMNS]], ignore_index=True)
    return out.astype({"status": object, "note": object})


def _headline_row(
    day: pd.DataFrame, metrics: pd.DataFrame, period: str, category: str
) -> pd.DataFrame:
    """The CityScore row of ``day`` (one date, one period), or the category's weighted score."""
    if category == ALL:
        city = day[day["metric"] == CITYWIDE].assign(metric=CITYWIDE, category="")
        return city[BOARD_COLUMNS].astype({"status": object, "note": object})
    cats = category_scores(day, metrics)
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
    obs = observations[observations["metric"].astype(str) == metric]
    value = obs["value"].where(obs["value"].notna(), obs["numerator"] / obs["denominator"])
    days = metric_rows(scores)
    days = days[(days["metric"].astype(str) == metric) & (days["period"] == "day")]
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
    rows = scores[(scores["metric"].astype(str) == metric) & (scores["period"] == period)]
    return rows[["as_of", "value", "target", "score", "status"]].reset_index(drop=True)


def window_view(
    scores: pd.DataFrame, observations: pd.DataFrame, metric: str, as_of: DateLike
) -> pd.DataFrame:
    """The window behind each period's score on ``as_of``: its dates, how many days had data, and the
    value, target and score that came out of it.
    """
    as_of = as_date(as_of)
    obs = observations[observations["metric"].astype(str) == metric]
    dates = pd.to_datetime(obs["date"])
    today = scores[(scores["as_of"] == as_of) & (scores["metric"].astype(str) == metric)].set_index(
        "period"
    )
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
    obs = observations[observations["metric"].astype(str) == metric]
    dates = pd.to_datetime(obs["date"])
    obs = obs[(dates >= start) & (dates <= as_of)]
    columns = [c for c in RAW_COLUMNS if c in obs.columns]
    return obs[columns].sort_values("date", ascending=False).reset_index(drop=True)


def metric_percentile(scores: pd.DataFrame, metric: str, as_of: DateLike) -> pd.DataFrame:
    """Where today's day score sits in the metric's own past year: ``metric, score, percentile, days_scored``."""
    table = percentiles(scores, as_of)
    return table[table["metric"] == metric].reset_index(drop=True)


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
    rows = scores[scores["metric"].astype(str).isin([*names, CITYWIDE])]
    top, bottom = leaders(rows, as_of, period=period, n=n)
    return pd.concat(
        [top.assign(list="exceeding"), bottom.assign(list="needs follow-up")], ignore_index=True
    )[["list", "metric", "value", "target", "score", "status"]].astype({"status": object})


def selection_csv(frame: pd.DataFrame) -> str:
    """The frame as CSV at full precision, dates as ISO text."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d")
    return out.to_csv(index=False, lineterminator="\n")


# --- display helpers -------------------------------------------------------------------------


def table_html(frame: pd.DataFrame, max_rows: int = 60) -> str:
    """An escaped HTML table with scores rounded for display (half-to-even, never up)."""
    shown = frame.head(max_rows).copy()
    for column in ("value", "target", "score", "before", "now", "contribution", "percentile"):
        if column in shown.columns:
            places = 3 if column == "contribution" else (1 if column == "percentile" else 2)
            shown[column] = [round_half_even(v, places) for v in shown[column]]
    for column in shown.columns:
        if pd.api.types.is_datetime64_any_dtype(shown[column]):
            shown[column] = shown[column].dt.strftime("%Y-%m-%d")
    more = (
        f"<p>… {len(frame) - max_rows} more rows in the CSV download</p>"
        if len(frame) > max_rows
        else ""
    )
    return shown.to_html(index=False, escape=True, na_rep="—", classes="cityscore-table") + more


def chart_svg(chart: object) -> str:
    """An Altair chart as inline SVG: no scripts and no network, so it draws anywhere."""
    import vl_convert

    return vl_convert.vegalite_to_svg(chart.to_dict())  # type: ignore[attr-defined]


def download_link(csv_text: str, filename: str) -> str:
    """An HTML link that saves ``csv_text`` as ``filename`` without a server round trip."""
    payload = base64.b64encode(csv_text.encode("utf-8")).decode("ascii")
    name = html.escape(filename, quote=True)
    rows = max(csv_text.count("\n") - 1, 0)
    return f'<a download="{name}" href="data:text/csv;charset=utf-8;base64,{payload}">Save {name} ({rows} rows)</a>'


# --- the widgets -----------------------------------------------------------------------------


@dataclass
class Selection:
    """What the controls say now."""

    as_of: pd.Timestamp
    period: str
    category: str
    metric: str
    since_days: int


class Explorer:
    """Controls and views over one kit. ``Explorer(kit).widget`` is what the notebook displays.

    Tests drive it like a person: set a control's ``value``, ``click()`` a button, then read
    ``frames`` (the DataFrames behind every view) or the HTML widgets' values.
    """

    def __init__(
        self, kit: Kit, as_of: DateLike | None = None, history_days: int = HISTORY_DAYS
    ) -> None:
        self.kit = kit
        self.history_days = history_days
        self.metrics = kit.metrics()
        self.targets = kit.targets()
        latest = kit.latest_date()
        first = as_date(as_of).date() if as_of is not None else latest
        self.frames: dict[str, pd.DataFrame] = {}
        self._loaded_for: pd.Timestamp | None = None
        self._drawn: dict[int, tuple] = {}
        categories = sorted(self.metrics["category"].astype(str).unique())
        names = self.metrics["name"].astype(str).tolist()
        self.as_of = w.DatePicker(value=first, description="As of", max=latest)
        self.period = w.Dropdown(options=list(PERIODS), value="week", description="Period")
        self.category = w.Dropdown(options=[ALL, *categories], value=ALL, description="Category")
        self.metric = w.Dropdown(
            options=names, value=names[0] if names else None, description="Metric"
        )
        self.since = w.Dropdown(options=COMPARE_CHOICES, value=7, description="Compare to")
        self.download = w.Button(
            description="Prepare CSV", icon="download", tooltip="CSV of the table in the open tab"
        )
        self.link = w.HTML()
        self.message = w.HTML()
        self.board = w.HTML()
        self.board_chart = w.HTML()
        self.detail_chart = w.HTML()
        self.history_chart = w.HTML()
        self.detail = w.HTML()
        self.change_chart = w.HTML()
        self.change = w.HTML()
        self.leaders = w.HTML()
        self.tabs = w.Tab(
            children=[
                w.VBox([self.board_chart, self.board]),
                w.VBox([self.detail_chart, self.history_chart, self.detail]),
                w.VBox([self.change_chart, self.change]),
                self.leaders,
            ],
            titles=[v.capitalize() for v in VIEWS],
        )
        for control in (self.as_of, self.period, self.metric, self.since):
            control.observe(self._on_change, names="value")
        self.category.observe(self._on_category, names="value")
        self.tabs.observe(lambda _: self._clear_link(), names="selected_index")
        self.download.on_click(lambda _: self.prepare_download())
        controls = w.HBox([self.as_of, self.period, self.category])
        picks = w.HBox([self.metric, self.since, self.download, self.link])
        self.widget = w.VBox([controls, picks, self.message, self.tabs])
        self.refresh()

    def _repr_mimebundle_(self, **kwargs: object) -> dict:
        # Show the widgets, with a short plain-text stand-in: the default repr would spell out
        # every child widget, charts included, into the saved notebook.
        bundle = self.widget._repr_mimebundle_(**kwargs)
        s = self.selection
        bundle["text/plain"] = (
            f"CityScore Explorer: {len(self.metrics)} metrics, as of {s.as_of.date()}"
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
        )

    def current_frame(self) -> pd.DataFrame:
        """The table behind the open tab: what the CSV download holds."""
        key = ("scoreboard", "raw", "change", "leaders")[self.tabs.selected_index or 0]
        return self.frames[key]

    def _load(self, as_of: pd.Timestamp) -> None:
        # A year of scores feeds the histories and percentiles; reload only when the date moves.
        if self._loaded_for == as_of:
            return
        start = as_of - pd.Timedelta(days=self.history_days - 1)
        self.scores = self.kit.scores(start=start, end=as_of)
        window = start - pd.Timedelta(days=max(PERIODS.values()))
        self.observations = self.kit.store.observations(
            window.date(), as_of.date(), with_source=True
        )
        self._loaded_for = as_of

    # --- events ------------------------------------------------------------------------------

    def _on_change(self, _change: object = None) -> None:
        self.refresh()

    def _on_category(self, _change: object = None) -> None:
        names = category_metrics(self.metrics, self.category.value)
        keep = self.metric.value if self.metric.value in names else (names[0] if names else None)
        with self.metric.hold_trait_notifications():
            self.metric.options = names
            self.metric.value = keep
        self.refresh()

    def _clear_link(self) -> None:
        self.link.value = ""

    def prepare_download(self) -> str:
        """Put a link to the open tab's table as CSV next to the button; returns the CSV text."""
        s = self.selection
        view = ("scoreboard", "observations", "change", "leaders")[self.tabs.selected_index or 0]
        text = selection_csv(self.current_frame())
        self.link.value = download_link(text, f"cityscore-{view}-{s.period}-{s.as_of.date()}.csv")
        return text

    def refresh(self) -> None:
        """Recompute every view for the current selection and show it."""
        self._clear_link()
        if self.as_of.value is None or self.metric.value is None:
            self.message.value = "<p>Pick a date and a metric.</p>"
            return
        s = self.selection
        try:
            self._load(s.as_of)
            self.frames = compute_views(
                self.scores, self.observations, self.metrics, self.targets, s
            )
        except CityScoreError as exc:  # shown on the page: an observer's exception would vanish
            self.message.value = (
                f"<p><b>Cannot show this selection:</b> {html.escape(str(exc))}</p>"
            )
            return
        self.message.value = _headline(self.frames, s)
        self._show(s)

    def _show(self, s: Selection) -> None:
        f = self.frames
        self.board.value = table_html(f["scoreboard"])
        self.detail.value = (
            f"<h4>{html.escape(s.metric)}: percentile of today's day score in its own past year</h4>"
            + table_html(f["percentile"])
            + "<h4>The window behind each period's score</h4>"
            + table_html(f["windows"])
            + f"<h4>Stored values in the {s.period} window, with source and import batch</h4>"
            + table_html(f["raw"])
        )
        self.change.value = table_html(f["change"])
        self.leaders.value = table_html(f["leaders"])
        for target, (key, make) in self._charts(s).items():
            if self._drawn.get(id(target)) != key:  # redraw only charts whose inputs changed
                target.value = _safe_chart(make)
                self._drawn[id(target)] = key

    def _year(self) -> pd.DataFrame:
        """The observations of the loaded year (the extra quarter before it only feeds windows)."""
        first = self.scores["as_of"].min()
        return self.observations[self.observations["date"] >= first]

    def _charts(self, s: Selection) -> dict[w.HTML, tuple[tuple, Callable[[], object]]]:
        """Each chart widget with the selection it depends on and how to draw it."""
        from . import charts  # the Altair specs; imported late so the views work without them

        f = self.frames
        return {
            self.board_chart: (
                (s.as_of,),
                lambda: charts.scoreboard_chart(self.scores, self.metrics, s.as_of),
            ),
            self.detail_chart: (
                (s.as_of, s.metric),
                lambda: charts.metric_detail_chart(self._year(), self.targets, s.metric),
            ),
            self.history_chart: (
                (s.as_of, s.metric),
                lambda: charts.score_history_chart(self.scores, s.metric),
            ),
            self.change_chart: (
                (s.as_of, s.since_days, s.period, s.category),
                lambda: charts.contributions_chart(f["change"]),
            ),
        }


def compute_views(
    scores: pd.DataFrame,
    observations: pd.DataFrame,
    metrics: pd.DataFrame,
    targets: pd.DataFrame,
    s: Selection,
) -> dict[str, pd.DataFrame]:
    """Every view's DataFrame for one selection (the Explorer shows these; tests assert on them)."""
    return {
        "scoreboard": scoreboard_view(scores, metrics, s.as_of, s.period, s.category),
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


def _headline(frames: dict[str, pd.DataFrame], s: Selection) -> str:
    before, now = frames["city_change"].iloc[0]
    return (
        f"<p><b>CityScore ({s.period}) on {s.as_of.date()}: {round_half_even(now)}</b>"
        f" — was {round_half_even(before)} {s.since_days} day(s) before"
        f" (change {round_half_even(now - before, 3)}).</p>"
    )


def _safe_chart(make: Callable[[], object]) -> str:
    """The chart as SVG; a short note instead if the chart cannot be drawn for this selection."""
    try:
        return chart_svg(make())
    except Exception as exc:  # a broken chart must not take the tables down with it
        return f"<p><i>chart not available: {html.escape(str(exc))}</i></p>"


def explore(kit: Kit | None = None, as_of: DateLike | None = None) -> Explorer:
    """The explorer over ``kit`` (default: the database from ``$CITYSCORE_DB``)."""
    return Explorer(kit or Kit(), as_of=as_of)


def key_numbers(kit: Kit, as_of: DateLike | None = None, metrics: list[str] | None = None) -> str:
    """Plain text with the CityScore and a few metric scores on ``as_of``, so a notebook test compares
    them and any change in scoring fails it.
    """
    day = as_date(as_of) if as_of is not None else pd.Timestamp(kit.latest_date())
    scores = kit.scores(day)
    lines = [f"as of {day.date()}"]
    wanted = [CITYWIDE, *(metrics or [])]
    for metric in wanted:
        check_choice("metric", metric, [CITYWIDE, *kit.metrics()["name"].astype(str)])
        rows = scores[scores["metric"].astype(str) == metric].set_index("period")["score"]
        parts = ", ".join(f"{p} {round_half_even(rows.get(p), 4)}" for p in PERIODS)
        lines.append(f"{metric}: {parts}")
    return "\n".join(lines)
