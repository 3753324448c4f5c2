"""The ``Explorer`` widget: the controls, the tabs and what they show, over one kit.

``Explorer`` only holds the widgets, calls the views (pure functions: DataFrame in, DataFrame out,
one module per tab) and shows their tables and figures; ``ScoreCache`` reads and scores what is
shown. ``explore`` opens one on the database from ``$CITYSCORE_DB``.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as w
import pandas as pd

from cityscore.apps.explorer.area_map import area_map_html, city_map
from cityscore.apps.explorer.areas import (
    AREA_VIEW,
    AREAS_INTRO,
    area_figure,
    area_tables_html,
    area_targets,
    compute_area_views,
)
from cityscore.apps.explorer.board import board_figure, leader_lists, scoreboard_view
from cityscore.apps.explorer.cache import EVERY_AREA, HISTORY_DAYS, ScoreCache
from cityscore.apps.explorer.change import change_figure, change_view, citywide_change
from cityscore.apps.explorer.choices import (
    ALL,
    BOARD_ORDERS,
    CITYWIDE_AREA,
    COMPARE_CHOICES,
    Selection,
    matching_metrics,
)
from cityscore.apps.explorer.downloads import area_slug, download_link, selection_csv
from cityscore.apps.explorer.markup import legend_html, live_message_html, view_table_html
from cityscore.apps.explorer.metric import (
    daily_values,
    detail_figure,
    history_figure,
    metric_percentile,
    raw_observations,
    score_history,
    window_view,
)
from cityscore.apps.explorer.scoring import scoring
from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.errors import CityScoreError
from cityscore.core.secrets import redact_url
from cityscore.core.vocabulary import CITYWIDE, PERIODS
from cityscore.engine.rates import metric_rates
from cityscore.frames.dates import DateLike, as_date
from cityscore.kit import Kit
from cityscore.pages.render import round_half_even, score_text

VIEWS = ("scoreboard", "metric detail", "change", "exceeding / follow-up")
# The table behind each tab (what Prepare CSV saves) and the CSV file's name for it.
TAB_FRAMES = {
    "scoreboard": ("scoreboard", "scoreboard"),
    "metric detail": ("raw", "observations"),
    "change": ("change", "change"),
    "exceeding / follow-up": ("leaders", "leaders"),
    AREA_VIEW: ("areas", "areas"),
}

# Shown to screen readers with the controls: how to drive the page from the keyboard.
INTRO = (
    '<h2 id="explorer" tabindex="-1">Explorer</h2>'
    "<p>Choose a date, a period and a category; type part of a metric's name in <i>Find metric</i>"
    " and press Enter to narrow the metric list and the scoreboard. The tabs below switch views"
    " (arrow keys move between the tabs, Enter opens one). Each chart is followed by its description and, under"
    " <i>Data behind the chart</i>, its numbers as a table.</p>"
)
WIDE = {"description_width": "initial"}  # labels in full, never cut off


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
            self.message.value = live_message_html(
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
        self.city_map = city_map(
            kit, self.areas
        )  # the Compare areas tab's map, if the city has one
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
        intro = (
            INTRO
            + database_html(kit.url)
            + legend_html(self.bands, self.cap)
            + (AREAS_INTRO if self.areas else "")
        )
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
            self.message.value = live_message_html("Pick a date.")
            return
        if self.metric.value is None:
            self.message.value = live_message_html(
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
            self.message.value = live_message_html(
                f"<b>Cannot show this selection:</b> {html.escape(str(exc))}", raw=True
            )
            return
        self.message.value = _headline(self.frames, s, self.bands)
        self._show(s)

    def _table(self, frame: pd.DataFrame, caption: str) -> str:
        """A view's table, its scores written against the explorer's bands."""
        return view_table_html(frame, caption=caption, bands=self.bands)

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
        self.leaders.value = leaders_note(f["leaders"], s.period) + self._table(
            f["leaders"], f"Exceeding and needing follow-up{where}, {s.period} scores"
        )
        if "areas" in self.frames:
            self.area_table.value = area_tables_html(
                self.frames, s.compared, s.period, s.as_of, self.bands,
                rate=metric_rates(self.metrics).get(s.compared, ""),
            )  # fmt: skip
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
        f, bands = self.frames, self.bands
        targets = area_targets(self.targets, s.metric, s.area)
        charts = {
            self.board_chart: (
                board_key,
                lambda: board_figure(f["scoreboard"], self.scores, self.metrics, s, bands),
            ),
            self.detail_chart: (
                (s.as_of, s.metric, s.area),
                lambda: detail_figure(f["daily"], self._year(s), targets, s, bands),
            ),
            self.history_chart: (
                (s.as_of, s.metric, s.period, s.area),
                lambda: history_figure(f["history"], self.scores, s, bands),
            ),
            self.change_chart: (
                (s.as_of, s.since_days, s.period, s.category, s.area),
                lambda: change_figure(f["change"], f["city_change"], s, bands),
            ),
        }
        if "areas" in self.frames:
            key = (s.as_of, s.period, s.compared)
            charts[self.area_chart] = (
                key,
                lambda: (
                    area_figure(self.frames, s.compared, s.period, s.as_of, self.bands)
                    + area_map_html(
                        self.frames["areas"],
                        s.compared,
                        s.period,
                        s.as_of,
                        self.city_map,
                        self.bands,
                    )
                ),
            )
        return charts


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
    return live_message_html(
        f"<b>CityScore{of} ({s.period}) on {s.as_of.date()}: {score_text(now, bands)}</b>"
        f" — was {score_text(before, bands)} {s.since_days} day(s) before"
        f" (change {round_half_even(now - before, 3)}).",
        raw=True,
    )


def database_html(url: str) -> str:
    """Which database the page reads (a password in the URL masked)."""
    return f"<p>Database: <code>{html.escape(redact_url(url))}</code></p>"


def leaders_note(leaders: pd.DataFrame, period: str) -> str:
    """What the leader lists hold, and which of them is empty."""
    words = [
        f"<b>Exceeding</b>: {period} scores of 1 or more, highest first",
        f"<b>needs follow-up</b>: {period} scores below 1, lowest first",
    ]
    for i, (key, label) in enumerate((("exceeding", "1 or more"), ("needs follow-up", "below 1"))):
        if not (leaders["list"] == key).any():
            words[i] += f" (none: no {period} score is {label})"
    return f'<p class="cityscore-leaders-note">{"; ".join(words)}.</p>'


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
