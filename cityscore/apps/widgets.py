"""Data-entry widgets for notebooks: manual entry, metric editor, CSV upload, SQL server.

Each panel is a thin wrapper over ``Kit``: it reads widget values, calls one Kit method and shows the
result (escaped) in an ``HTML`` widget. Nothing here validates or computes on its own, so the same
rules apply as on the command line. Panels work headless: set ``.value`` and call ``.click()``.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from collections.abc import Callable
from typing import TYPE_CHECKING

import ipywidgets as w
import pandas as pd

from cityscore.core.errors import CityScoreError, ValidationError
from cityscore.core.vocabulary import (
    AGGREGATIONS,
    ALLOW_NEGATIVE,
    BASELINES,
    DIRECTIONS,
    KINDS,
    METRIC_COLUMNS,
    PER_RESIDENTS,
    SCHEDULE,
    SCHEDULES,
    STALE_AFTER,
)
from cityscore.io.checks import date_format_field_hint
from cityscore.io.load import INPUT_FORMATS
from cityscore.kit import Kit

if TYPE_CHECKING:
    from cityscore.store.batches import ImportPlan

WIDE = w.Layout(width="32em")


def _ok(text: str) -> str:
    return f'<div style="color:#1a7f37">&#10003; {html.escape(text)}</div>'


def _error(exc: Exception) -> str:
    """An error as HTML: a ValidationError becomes a table of its bad rows (the first 20)."""
    if isinstance(exc, ValidationError):
        head = html.escape(str(exc).splitlines()[0])
        table = _frame_html(exc.problems, "Problems")
        return f'<div style="color:#b42318">&#10007; {head}</div>{table}'
    return f'<div style="color:#b42318">&#10007; {html.escape(str(exc))}</div>'


def _frame_html(frame: pd.DataFrame, title: str, limit: int = 20) -> str:
    """The first ``limit`` rows as an escaped HTML table under ``title``; empty cells for missing."""
    if frame.empty:
        return ""
    shown = frame.head(limit).copy()
    for column in shown.columns:
        if pd.api.types.is_datetime64_any_dtype(shown[column]):
            stamps = shown[column].dropna()
            timed = (stamps != stamps.dt.normalize()).any()  # import times, not value dates
            shown[column] = shown[column].dt.strftime("%Y-%m-%d %H:%M:%S" if timed else "%Y-%m-%d")
        elif shown[column].dtype == object:  # to_html's na_rep leaves None as "None"
            shown[column] = shown[column].where(shown[column].notna(), "")
    more = f" (first {limit} of {len(frame)})" if len(frame) > limit else ""
    table = shown.to_html(index=False, escape=True, border=0, na_rep="")
    return f"<b>{html.escape(title)}</b>{html.escape(more)}{table}"


def _run(out: w.HTML, action: Callable[[], str]) -> bool:
    """Run one Kit call; show its message or its error in ``out``. True when it worked."""
    try:
        out.value = action()
    except CityScoreError as exc:
        out.value = _error(exc)
        return False
    return True


def _metric_options(kit: Kit) -> list[tuple[str, str]]:
    """Dropdown options grouped by category: ``Category · Metric`` labels, metric names as values."""
    metrics = kit.metrics().sort_values(["category", "name"])
    return [(f"{r.category} · {r.name}", r.name) for r in metrics.itertuples()]


def narrowed(options: list[tuple[str, str]], text: str) -> list[tuple[str, str]]:
    """The options whose label (``Category · Metric``) holds ``text``, any case; all for none."""
    wanted = text.strip().casefold()
    return [o for o in options if wanted in o[0].casefold()] if wanted else options


class MetricPicker:
    """A metric dropdown with a find box above it that narrows it as you type: at a real city's
    size (hundreds to thousands of metrics) nobody scrolls a list to its metric."""

    def __init__(self, kit: Kit) -> None:
        self.find = w.Text(
            description="Find",
            placeholder="part of a metric's name or category",
            layout=WIDE,
        )
        self.dropdown = w.Dropdown(description="Metric", layout=WIDE)
        self.note = w.HTML()
        self.reset(_metric_options(kit))
        self.find.observe(self._narrow, names="value")
        self.widget = w.VBox([self.find, self.dropdown, self.note])

    def reset(self, options: list[tuple[str, str]]) -> None:
        """New options (the catalog changed); the find box keeps narrowing them."""
        self.options = options
        self._narrow()

    def _narrow(self, _change: object = None) -> None:
        shown = narrowed(self.options, self.find.value)
        names = [name for _, name in shown]
        keep = self.dropdown.value
        self.dropdown.options = shown
        # The metric chosen stays chosen while it still matches; else the first that does.
        self.dropdown.value = keep if keep in names else (names[0] if names else None)
        text = html.escape(self.find.value.strip())
        self.note.value = "" if shown else f"No metric has “{text}” in its name or category."


def _area_box(kit: Kit) -> w.Combobox:
    """An area field: pick a stored area or type a new one; empty = citywide."""
    return w.Combobox(
        description="Area",
        options=kit.areas(),
        placeholder="empty = citywide; or a neighbourhood",
        ensure_option=False,
        layout=WIDE,
    )


def _iso(value: dt.date | None) -> str:
    return value.isoformat() if value is not None else ""


class ManualEntry:
    """One day's value for one metric (citywide or of one area); after saving, its new day and week
    scores (the area's when an area is given)."""

    def __init__(self, kit: Kit, default_date: dt.date | None = None) -> None:
        self.kit = kit
        self.picker = MetricPicker(kit)
        self.metric = self.picker.dropdown
        self.date = w.DatePicker(
            description="Date", value=default_date or dt.date.today() - dt.timedelta(days=1)
        )
        self.value = w.Text(description="Value", placeholder="e.g. 6.5 or 93%")
        self.numerator = w.Text(description="Numerator", placeholder="e.g. on-time repairs")
        self.denominator = w.Text(description="Denominator", placeholder="e.g. all repairs")
        self.area = _area_box(kit)
        self.save = w.Button(description="Save", button_style="primary", icon="check")
        self.message = w.HTML()
        self.save.on_click(self.submit)
        self.metric.observe(self._show_fields, names="value")
        self._show_fields()
        self.widget = w.VBox(
            [w.HTML("<h3>Manual entry</h3>"), self.picker.widget, self.date, self.area, self.value, self.numerator,
             self.denominator, self.save, self.message]
        )  # fmt: skip

    def _kind(self) -> str:
        metrics = self.kit.metrics().set_index("name")
        return (
            str(metrics.loc[self.metric.value, "kind"])
            if self.metric.value in metrics.index
            else "value"
        )

    def _show_fields(self, _change: object = None) -> None:
        ratio = self._kind() == "ratio"
        self.value.layout.display = "none" if ratio else None
        self.numerator.layout.display = None if ratio else "none"
        self.denominator.layout.display = None if ratio else "none"

    def submit(self, _button: object = None) -> None:
        ratio = self._kind() == "ratio"

        def save() -> str:
            result = self.kit.enter(
                self.metric.value,
                _iso(self.date.value),
                value=None if ratio else self.value.value,
                numerator=self.numerator.value if ratio else None,
                denominator=self.denominator.value if ratio else None,
                area=self.area.value,
            )
            return _ok(str(result)) + self._scores_html(self.area.value.strip())

        if _run(self.message, save):
            self.area.options = self.kit.areas()  # a new area can be picked next time

    def _scores_html(self, area: str = "") -> str:
        scores = self.kit.metric_scores(self.metric.value, self.date.value, area=area)
        mine = scores["period"].isin(["day", "week"])
        title = f"New scores of {area}" if area else "New scores"
        return _frame_html(
            scores.loc[mine, ["period", "value", "target", "score", "status", "note"]], title
        )


class MetricEditor:
    """Create or edit a metric; change a target from an effective date on."""

    # The text fields of the form: every metrics.csv column but the name and the trend checkbox.
    FIELDS = tuple(c for c in METRIC_COLUMNS if c not in ("name", "trend"))

    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        names = list(kit.metrics()["name"])
        self.name = w.Combobox(
            description="Name", options=names, placeholder="new or existing metric", layout=WIDE
        )
        self.definition = w.Textarea(description="Definition", layout=WIDE)
        self.category = w.Text(description="Category", value="General")
        self.unit = w.Text(description="Unit")
        self.direction = w.Dropdown(description="Better is", options=list(DIRECTIONS))
        self.kind = w.Dropdown(description="Kind", options=list(KINDS))
        self.aggregation = w.Dropdown(
            description="Aggregation", options=["", *AGGREGATIONS], value=""
        )
        self.target = w.Text(
            description="Target", placeholder="> 0, or empty with baseline=history"
        )
        self.baseline = w.Dropdown(description="Baseline", options=list(BASELINES))
        self.schedule = w.Dropdown(description="Reports", options=list(SCHEDULES), value="daily")
        self.stale_after = w.Text(
            description="Stale after",
            placeholder="days without a value; empty: the schedule's default",
        )
        self.trend = w.Checkbox(description="Trend (sparse counts)")
        self.allow_negative = w.Checkbox(description="Negative values allowed (net changes)")
        self.weight = w.Text(description="Weight", value="1")
        self.per_residents = w.Text(
            description="Per residents",
            placeholder="a rate per N residents, e.g. 1000; empty: a count",
        )
        self.save = w.Button(description="Save metric", button_style="primary")
        self.message = w.HTML()
        self.name.observe(self._load, names="value")
        self.save.on_click(self.submit)
        self.target_picker = MetricPicker(kit)
        self.target_metric = self.target_picker.dropdown
        self.effective_from = w.DatePicker(description="From", value=dt.date.today())
        self.new_target = w.Text(description="New target")
        self.target_area = _area_box(kit)
        self.change = w.Button(description="Change target")
        self.target_message = w.HTML()
        self.change.on_click(self.change_target)
        fields = [getattr(self, f) for f in self.FIELDS]
        self.widget = w.VBox(
            [w.HTML("<h3>Metric editor</h3>"), self.name, *fields, self.trend, self.allow_negative, self.per_residents,
             self.schedule, self.stale_after, self.save, self.message,
             w.HTML("<h4>Change a target from a date on</h4>"), self.target_picker.widget, self.effective_from,
             self.target_area, self.new_target, self.change, self.target_message]
        )  # fmt: skip

    def _load(self, _change: object = None) -> None:
        """Fill the form from an existing metric, so an edit starts from what is stored."""
        metrics = self.kit.metrics().set_index("name")
        if self.name.value not in metrics.index:
            return
        row = metrics.loc[self.name.value]
        target = self.kit.catalog_targets().get(self.name.value)
        for field in self.FIELDS:
            if field not in ("target", "weight"):
                getattr(self, field).value = str(row[field])
        self.trend.value = bool(row["trend"])
        self.allow_negative.value = bool(row.get(ALLOW_NEGATIVE, False))
        self.weight.value = f"{row['weight']:g}"
        per = row.get(PER_RESIDENTS)
        self.per_residents.value = "" if per is None or pd.isna(per) else f"{per:g}"
        self.schedule.value = row.get(SCHEDULE) or "daily"
        stale = pd.to_numeric(row.get(STALE_AFTER), errors="coerce")
        self.stale_after.value = "" if pd.isna(stale) else f"{stale:g}"
        self.target.value = "" if target is None else f"{target:g}"

    def submit(self, _button: object = None) -> None:
        fields = {f: getattr(self, f).value for f in self.FIELDS}
        fields["baseline"] = "" if fields["baseline"] == "target" else fields["baseline"]
        if _run(self.message, lambda: _ok(str(self.kit.save_metric(self.name.value.strip(), trend=self.trend.value,
                                                                    allow_negative=self.allow_negative.value,
                                                                    per_residents=self.per_residents.value,
                                                                    schedule=self.schedule.value,
                                                                    stale_after=self.stale_after.value,
                                                                    **fields)))):  # fmt: skip
            self.name.options = list(self.kit.metrics()["name"])
            self.target_picker.reset(_metric_options(self.kit))

    def change_target(self, _button: object = None) -> None:
        def change() -> str:
            result = self.kit.set_target(
                self.target_metric.value,
                _iso(self.effective_from.value),
                self.new_target.value,
                area=self.target_area.value,
            )
            return _ok(str(result))

        if _run(self.target_message, change):
            self.target_area.options = self.kit.areas()


class CsvUpload:
    """Upload a values file: a dry-run preview first, then one button that writes it atomically."""

    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        self.upload = w.FileUpload(
            accept=".csv,.txt,.json,.xlsx,.ods", multiple=False, description="Values file"
        )
        self.date_format = w.Text(description="Date format", value="%Y-%m-%d")
        self.fmt = w.Dropdown(description="Format", options=list(INPUT_FORMATS), value="auto")
        self.confirm = w.Button(
            description="Import", button_style="success", disabled=True, icon="upload"
        )
        self.preview = w.HTML()
        self.message = w.HTML()
        self.plan: ImportPlan | None = None
        self.upload.observe(self.show_preview, names="value")
        self.date_format.observe(self.show_preview, names="value")
        self.fmt.observe(self.show_preview, names="value")
        self.confirm.on_click(self.submit)
        self.widget = w.VBox(
            [w.HTML("<h3>CSV upload</h3>"), self.upload, self.date_format, self.fmt, self.preview, self.confirm,
             self.message]
        )  # fmt: skip

    def _file(self) -> io.BytesIO | None:
        if not self.upload.value:
            return None
        item = self.upload.value[0]
        data = io.BytesIO(bytes(item["content"]))
        data.name = item["name"]
        return data

    def show_preview(self, _change: object = None) -> None:
        """Dry run: what would be inserted, updated, left unchanged; every rejected row and why."""
        self.confirm.disabled, self.plan = True, None
        if (
            _change is not None
        ):  # a new file or setting: the last import's message no longer applies
            self.message.value = ""
        source = self._file()
        if source is None:
            self.preview.value = ""
            return
        try:
            plan = self.kit.preview_values(
                source, date_format=self.date_format.value, fmt=self.fmt.value
            )
        except CityScoreError as exc:
            self.preview.value = _error(exc)
            return
        self.plan = plan
        parts = [f"<p>{html.escape(plan.summary())}</p>"]
        parts += [
            _frame_html(
                date_format_field_hint(plan.rejected, self.date_format.description),
                "Rejected rows (nothing is written until they are fixed)",
            )
        ]
        parts += [
            _frame_html(plan.insert, "To insert"),
            _frame_html(plan.update, "To update (old value kept)"),
            _frame_html(plan.unchanged, "Unchanged (already stored, will not be written)"),
        ]
        self.preview.value = "".join(parts)
        self.confirm.disabled = not plan.ok or (plan.insert.empty and plan.update.empty)

    def submit(self, _button: object = None) -> None:
        source = self._file()
        if source is None or self.plan is None or not self.plan.ok:
            return
        date_format, fmt = self.date_format.value, self.fmt.value
        if _run(
            self.message,
            lambda: _ok(str(self.kit.import_values(source, date_format=date_format, fmt=fmt))),
        ):
            self.show_preview()  # the same file again now shows every row as unchanged


class SqlServer:
    """Read daily values from a SQL database: test the connection, map columns, preview, sync.

    The password field is emptied as soon as it is entered; the password lives only in this Python
    object's memory, so it is never saved with the notebook, stored in the database or printed.
    """

    def __init__(self, kit: Kit, default_start: dt.date | None = None) -> None:
        self.kit = kit
        self._password: str | None = None
        self.url = w.Text(
            description="URL", placeholder="postgresql+psycopg://user@host:5432/db", layout=WIDE
        )
        self.password = w.Password(
            description="Password", placeholder="kept in memory only", continuous_update=False
        )
        self.test = w.Button(description="Test connection")
        self.picker = MetricPicker(kit)
        self.metric = self.picker.dropdown
        self.query = w.Textarea(
            description="Query",
            placeholder="SELECT day, count(*) ... WHERE day BETWEEN :start AND :end GROUP BY day",
            layout=w.Layout(width="48em", height="8em"),
        )
        self.table = w.Text(description="or table", placeholder="schema.daily_table")
        self.date_column = w.Text(description="date col", value="date")
        self.value_column = w.Text(description="value col", value="value")
        self.numerator_column = w.Text(description="numerator col", value="numerator")
        self.denominator_column = w.Text(description="denominator col", value="denominator")
        self.area_column = w.Text(description="area col", placeholder="empty: every row citywide")
        # What an empty or NULL area of the result is (sources.yml ``blank_area``; see io/blank_areas).
        self.blank_area = w.Dropdown(
            description="blank area",
            options=[("not set", ""), ("records with no area (unlocated)", "unlocated"),
                     ("the city's total (ROLLUP)", "total")],
        )  # fmt: skip
        self.start = w.DatePicker(description="First day", value=default_start)
        self.lookback = w.IntText(description="Look-back", value=7)
        self.preview_button = w.Button(description="Preview")
        self.sync_button = w.Button(description="Sync", button_style="success")
        self.message = w.HTML()
        self.password.observe(self._keep_password, names="value")
        self.test.on_click(self.test_connection)
        self.preview_button.on_click(self.preview)
        self.sync_button.on_click(self.sync)
        columns = w.VBox(
            [
                self.date_column,
                self.value_column,
                self.numerator_column,
                self.denominator_column,
                self.area_column,
                self.blank_area,
            ]
        )
        self.widget = w.VBox(
            [w.HTML("<h3>SQL server</h3>"), self.url, self.password, self.test, self.picker.widget, self.query,
             self.table, columns, self.start, self.lookback, w.HBox([self.preview_button, self.sync_button]),
             self.message]
        )  # fmt: skip

    def _keep_password(self, change: dict) -> None:
        if change["new"]:
            self._password = change["new"]
            self.password.value = ""
            self.password.placeholder = "password set (in memory only; type again to change)"

    def config(self) -> dict:
        """The sync configuration for the chosen metric, built in memory (never written to a file)."""
        columns = {"date": self.date_column.value}
        for role, box in [("value", self.value_column), ("numerator", self.numerator_column),
                          ("denominator", self.denominator_column)]:  # fmt: skip
            columns[role] = box.value
        kind = self.kit.metrics().set_index("name")["kind"].get(self.metric.value, "value")
        drop = ("numerator", "denominator") if kind == "value" else ("value",)
        if self.area_column.value.strip():
            columns["area"] = self.area_column.value.strip()
        spec: dict = {"source": "server", "columns": {k: v for k, v in columns.items() if k not in drop},
                      "lookback_days": self.lookback.value}  # fmt: skip
        if self.query.value.strip():
            spec["query"] = self.query.value
        else:
            spec["table"] = self.table.value.strip()
        if self.start.value:
            spec["start"] = self.start.value.isoformat()
        if self.blank_area.value:
            spec["blank_area"] = self.blank_area.value
        source = {"url": self.url.value.strip(), "password": self._password}
        return {"sources": {"server": source}, "metrics": {self.metric.value: spec}}

    def test_connection(self, _button: object = None) -> None:
        _run(
            self.message,
            lambda: _ok(self.kit.test_connection(self.url.value.strip(), password=self._password)),
        )

    def preview(self, _button: object = None) -> None:
        def show() -> str:
            plans = self.kit.preview_sync(self.config(), metrics=[self.metric.value])
            if not plans:
                return _ok("nothing to read: this metric is up to date")
            plan = plans[self.metric.value]
            counts = f"{len(plan.insert)} to insert, {len(plan.update)} to update, {len(plan.unchanged)} unchanged"
            return (
                _ok(counts)
                + _frame_html(plan.insert, "To insert")
                + _frame_html(plan.update, "To update")
            )

        _run(self.message, show)

    def sync(self, _button: object = None) -> None:
        def run() -> str:
            results = self.kit.sync(self.config(), metrics=[self.metric.value])
            return "".join(_ok(str(r)) for r in results) or _ok(
                "nothing to read: this metric is up to date"
            )

        _run(self.message, run)


class Audit:
    """Every version of one day's value (citywide or of one area), and undo of a whole batch."""

    BATCH_COLUMNS = ("id", "kind", "source", "created_at", "inserted", "updated", "unchanged",
                     "undone_at")  # fmt: skip
    SHOWN_BATCHES = 20

    def __init__(self, kit: Kit, default_date: dt.date | None = None) -> None:
        self.kit = kit
        self.picker = MetricPicker(kit)
        self.metric = self.picker.dropdown
        self.date = w.DatePicker(
            description="Date", value=default_date or dt.date.today() - dt.timedelta(days=1)
        )
        self.area = _area_box(kit)
        self.show = w.Button(description="Show versions", icon="history")
        self.versions = w.HTML()
        self.batch = w.IntText(description="Batch id")
        self.undo_button = w.Button(description="Undo batch", button_style="warning", icon="undo")
        self.batches = w.HTML()
        self.message = w.HTML()
        self.show.on_click(self.show_versions)
        self.undo_button.on_click(self.undo)
        self.show_batches()
        self.widget = w.VBox(
            [w.HTML("<h3>Versions of a day's value</h3>"), self.picker.widget, self.date, self.area, self.show,
             self.versions, w.HTML("<h3>Undo a whole batch</h3>"), self.batches, self.batch,
             self.undo_button, self.message]
        )  # fmt: skip

    def show_versions(self, _button: object = None) -> None:
        """The day's versions, oldest first, each with its area, source and batch."""
        area = self.area.value.strip()

        def versions() -> str:
            found = self.kit.history(self.metric.value, self.date.value, area)
            where = f"in {area}" if area else "citywide"
            title = f"{self.metric.value} on {_iso(self.date.value)}, {where}"
            if found.empty:
                return _ok(f"{title}: no value stored")
            return _frame_html(found.assign(area=area)[["area", *found.columns]], title)

        _run(self.versions, versions)

    def show_batches(self) -> None:
        """The latest batches, newest first (an undo is a batch too)."""
        batches = self.kit.batches()
        latest = batches.iloc[::-1][list(self.BATCH_COLUMNS)]
        self.batches.value = _frame_html(latest, "Latest batches", limit=self.SHOWN_BATCHES)

    def undo(self, _button: object = None) -> None:
        if _run(self.message, lambda: _ok(str(self.kit.undo(self.batch.value)))):
            self.show_batches()
            self.area.options = self.kit.areas()  # an undone area may be gone
