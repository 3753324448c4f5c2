"""The facade: one object that ties the store, the loaders and the engine together.

``Kit(db_url)`` is what notebooks, widgets and the CLI call; it holds no scoring logic of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.errors import PROBLEM_COLUMNS, ConfigError, ValidationError
from cityscore.core.secrets import redact_url
from cityscore.core.vocabulary import METRIC_FILE_COLUMNS, PERIODS
from cityscore.engine import summary
from cityscore.engine.as_of import AsOfChoice, choose_as_of
from cityscore.engine.score import score_by_area, score_range
from cityscore.frames.dates import DateLike, as_date
from cityscore.io import demo, export, load, sources, streaming
from cityscore.io.changes import describe_changes, inserts_and_updates
from cityscore.io.csvtext import Source, source_name
from cityscore.io.metric_rows import validate_metrics
from cityscore.io.target_rows import validate_targets
from cityscore.io.value_rows import validate_values
from cityscore.kit.alerts import AlertMethods
from cityscore.kit.areas import AreaCatalogMethods
from cityscore.kit.calendar import calendar_options, scoring_options
from cityscore.kit.import_warnings import warned
from cityscore.store.database import ImportPlan, ImportResult, Store


class Kit(AreaCatalogMethods, AlertMethods):
    """A city's CityScore database and everything you can do with it."""

    def __init__(self, db: str | None = None) -> None:
        self.store = Store(db)

    def __repr__(self) -> str:
        return f"Kit({redact_url(self.store.url)!r})"

    @property
    def url(self) -> str:
        """The database URL as given, password and all: for a child process, never for printing
        (``redact_url`` it first)."""
        return self.store.url

    def close(self) -> None:
        """Close the database connections; a SQLite file then holds all its data (its WAL folded
        in) and can be copied as it is. The next call reconnects."""
        self.store.engine.dispose()

    def init(self) -> None:
        """Create the schema if it is missing (safe to repeat)."""
        self.store.init()

    # --- reading ---------------------------------------------------------------------------

    def metrics(self) -> pd.DataFrame:
        return self.store.metrics()

    def catalog_targets(self) -> dict[str, float | None]:
        """Each metric's target as metrics.csv (or the metric editor) last gave it."""
        return self.store.catalog_targets()

    def targets(self, *, areas: bool = False) -> pd.DataFrame:
        """Citywide targets; with ``areas=True`` the areas' too, with an ``area`` column."""
        return self.store.targets(areas=areas)

    def observations(
        self,
        start: DateLike | None = None,
        end: DateLike | None = None,
        *,
        areas: bool = False,
        with_source: bool = False,
    ) -> pd.DataFrame:
        """Citywide values; with ``areas=True`` every row, with an ``area`` column ("" = citywide);
        with ``with_source=True`` also the file each value came from (its ``source`` column)."""
        first = as_date(start).date() if start is not None else None
        last = as_date(end).date() if end is not None else None
        return self.store.observations(first, last, with_source=with_source, areas=areas)

    def areas(self) -> list[str]:
        """The areas (neighbourhoods) the database has values or targets for, sorted; citywide
        (the empty area) is left out. Cheap at any size: it never reads the observations."""
        return self.store.areas()

    def latest_date(self) -> dt.date:
        """The latest date with data; a clear error for an empty database."""
        _, last = self.store.date_range()
        if last is None:
            raise no_values_error()
        return last

    def as_of_choice(self, as_of: DateLike | None = None) -> AsOfChoice:
        """``as_of`` (default: ``default_as_of``) with the metrics its board leaves out."""
        last = self.store.last_dates()
        if not last:
            self.latest_date()  # the clear "no values yet" error
        day = as_date(as_of).date() if as_of is not None else None
        metrics = self.metrics()
        # The closed days the stale rule counts past (a business-day metric's holidays).
        reach = [*last.values(), *([day] if day is not None else [])]
        closed = calendar_options(min(reach), max(reach), None)["closed"]
        return choose_as_of(last, list(metrics["name"]), day, metrics=metrics, closed=closed)

    def date_range(self) -> tuple[dt.date | None, dt.date | None]:
        """The first and last dates with values (``None, None`` for an empty database)."""
        return self.store.date_range()

    def check_as_of(self, as_of: DateLike) -> dt.date:
        """``as_of`` as a date, if the database holds data on or around it; else a clear error."""
        day = as_date(as_of).date()
        first, last = self.date_range()
        if first is None or last is None:
            raise no_values_error()
        if not first <= day <= last:
            msg = (
                f"no data for {day}: the database holds {first} to {last}; "
                "pick a date in that range or leave the date out for the default"
            )
            raise ConfigError(msg)
        return day

    def default_as_of(self) -> dt.date:
        """The as-of date when none is given: the latest date most active metrics' data reach.

        Active metrics have a value in the quarter before the city's latest data; the date is the
        latest one that at least half of them reach, so one metric reported early cannot move the
        whole board to a day the others have no data for.
        """
        return self.as_of_choice().as_of

    # --- writing ---------------------------------------------------------------------------

    def import_metrics(
        self, source: Source, *, fmt: str = "auto", dry_run: bool = False
    ) -> ImportResult:
        """Validate and import a metrics file (kit metrics.csv, Boston toolkit CSV or JSON fixture)."""
        existing, catalog_targets = self.metrics(), self.store.catalog_targets()
        metrics, targets = load.load_metrics(
            source, fmt=fmt, existing=existing, catalog_targets=catalog_targets
        )
        name = source_name(source)
        result = self._write(lambda: self.store.write_metrics(metrics, targets, name), dry_run)
        if not dry_run:
            return warned(self.store, result)
        target = dict(zip(targets["metric"], targets["target"], strict=True))
        fields = [c for c in metrics.columns if c != "name" and c in existing] + ["target"]
        incoming = metrics.assign(target=metrics["name"].map(target))
        current = existing.assign(target=existing["name"].map(catalog_targets))
        return _with_changes(result, incoming, current, ["name"], fields)

    def import_targets(
        self, source: Source, *, date_format: str = "%Y-%m-%d", dry_run: bool = False,
        add_areas: bool = False,
    ) -> ImportResult:  # fmt: skip
        """Validate and import target changes (``metric,effective_from,target``)."""
        targets = load.load_targets(
            source,
            self.metrics(),
            date_format=date_format,
            stored_areas=self.known_areas(add_areas),
        )
        name = source_name(source)
        result = self._write(lambda: self.store.write_targets(targets, name), dry_run)
        if not dry_run:
            return result
        keys = ["metric", "effective_from"]
        return _with_changes(result, targets, self.targets(), keys, ["target"])

    def preview_values(
        self, source: Source, *, date_format: str = "%Y-%m-%d", fmt: str = "auto",
        add_areas: bool = False,
    ) -> ImportPlan:  # fmt: skip
        """A dry run of ``import_values``: rows to insert, update, leave unchanged, and rejected rows."""
        name = source_name(source)
        try:
            values = load.load_values(
                source,
                self.metrics(),
                date_format=date_format,
                fmt=fmt,
                stored_areas=self.known_areas(add_areas),
            )
        except ValidationError as exc:
            empty = pd.DataFrame(columns=["metric", "date", "value", "numerator", "denominator"])
            return ImportPlan(name, empty, empty, empty, exc.problems)
        return self._plan(name, values)

    def _plan(self, source: str, values: pd.DataFrame) -> ImportPlan:
        """What writing ``values`` (valid rows) would insert, update and leave unchanged."""
        plan = self.store.plan_observations(values)
        rejected = pd.DataFrame(columns=PROBLEM_COLUMNS)
        return ImportPlan(source, plan["insert"], plan["update"], plan["unchanged"], rejected)

    def import_values(
        self,
        source: Source,
        *,
        date_format: str = "%Y-%m-%d",
        fmt: str = "auto",
        dry_run: bool = False,
        add_areas: bool = False,
    ) -> ImportResult:
        """Validate and import daily values atomically; raises ``ValidationError`` listing every bad row.
        ``add_areas``: areas not in a declared area catalog are added to it, not refused."""
        known = self.known_areas(add_areas)
        if streaming.streams(source, fmt):  # a large CSV: memory bounded, a dry run rehearsed
            parts = streaming.ValuesInParts(
                source, self.metrics(), date_format=date_format, stored_areas=known
            )
            written = self._write(
                lambda: self.store.write_observations_in_parts(
                    parts, source_name(source), "values", parts.expected_rows
                ),
                dry_run,
            )
            return written if dry_run else warned(self.store, written)
        values = load.load_values(
            source, self.metrics(), date_format=date_format, fmt=fmt, stored_areas=known
        )
        name = source_name(source)
        if not dry_run:
            return warned(self.store, self.store.write_observations(values, name))
        plan = self.store.plan_observations(values)
        fields = ["value", "numerator", "denominator"]
        changes = describe_changes(plan["insert"], plan["update"], ["metric", "date"], fields)
        inserted, updated, unchanged = (len(plan[k]) for k in ("insert", "update", "unchanged"))
        return DryRun(
            "values", name, inserted, updated, unchanged, None, dry_run=True, changes=changes,
            added_areas=self.new_areas(values),
        )  # fmt: skip

    def enter(
        self,
        metric: str,
        date: DateLike,
        value: float | str | None = None,
        numerator: float | str | None = None,
        denominator: float | str | None = None,
        source: str = "manual entry",
        area: str = "",
        add_areas: bool = False,
    ) -> ImportResult:
        """Save one day's value (citywide, or of ``area``), validated exactly like a one-row
        values.csv."""
        when = date if isinstance(date, str) else as_date(date).strftime("%Y-%m-%d")
        row = {
            "metric": metric,
            "date": when,
            "value": value,
            "numerator": numerator,
            "denominator": denominator,
            "area": area,
        }
        rows = pd.DataFrame([{k: _cell(v) for k, v in row.items()}], dtype=object).assign(line=1)
        known = self.known_areas(add_areas)
        values = validate_values(rows, self.metrics(), source, stored_areas=known)
        return self.store.write_observations(values, source, kind="manual")

    def save_metric(
        self, name: str, *, source: str = "metric editor", **fields: object
    ) -> ImportResult:
        """Create a metric, or change some fields of an existing one (metric editor).

        ``fields`` are metrics.csv columns (``definition``, ``category``, ``target``...). A new target
        for an existing metric applies from today on; use ``set_target`` to choose the date.
        """
        unknown = sorted(set(fields) - set(METRIC_FILE_COLUMNS))
        if unknown:
            msg = f"unknown metric field(s) {unknown}; use {METRIC_FILE_COLUMNS[1:]}"
            raise ConfigError(msg)
        row = {k: _cell(v) for k, v in {**fields, "name": name}.items()}
        rows = pd.DataFrame([row], dtype=object).assign(line=1)
        rows.attrs["given"] = set(row)  # the other fields keep their stored values
        existing, targets = self.metrics(), self.store.catalog_targets()
        metrics, targets = validate_metrics(rows, source, existing, targets)
        return self.store.write_metrics(metrics, targets, source)

    def set_target(
        self,
        metric: str,
        effective_from: DateLike,
        target: float | str,
        *,
        source: str = "metric editor",
        area: str = "",
        add_areas: bool = False,
    ) -> ImportResult:
        """Change a metric's target from ``effective_from`` on (past scores before it keep the old one);
        with ``area``, the target of that area only, validated like a one-row targets.csv."""
        when = (
            effective_from
            if isinstance(effective_from, str)
            else as_date(effective_from).strftime("%Y-%m-%d")
        )
        row = {
            "metric": metric,
            "effective_from": when,
            "target": _cell(target),
            "area": _cell(area),
        }
        rows = pd.DataFrame([row], dtype=object)
        targets = validate_targets(
            rows.assign(line=1), self.metrics(), source, stored_areas=self.known_areas(add_areas)
        )
        return self.store.write_targets(targets, source)

    def _write(self, write: Callable[[], ImportResult], dry_run: bool) -> ImportResult:
        if not dry_run:
            return write()
        with self.store.rehearsal():
            result = write()
        return replace(result, batch_id=None, dry_run=True)

    # --- SQL sources -----------------------------------------------------------------------

    def sync(
        self,
        config: str | Path | dict = "sources.yml",
        *,
        metrics: list[str] | None = None,
        lookback_days: int | None = None,
        end: DateLike | None = None,
        timeout: float | None = None,
        add_areas: bool = False,
    ) -> list[ImportResult]:
        """Pull daily values from SQL sources (see ``cityscore.io.sources``): incremental, with a
        look-back. Every metric is fetched and validated first, then each one's days are written
        as one batch. ``timeout``: seconds for each source that sets none of its own."""
        fetched = self._fetch(config, metrics, lookback_days, end, timeout, add_areas)
        return [
            self.store.write_observations(values, f"sync {metric}", kind="sync")
            for metric, values in fetched.items()
        ]

    def preview_sync(
        self,
        config: str | Path | dict = "sources.yml",
        *,
        metrics: list[str] | None = None,
        lookback_days: int | None = None,
        end: DateLike | None = None,
        add_areas: bool = False,
    ) -> dict[str, ImportPlan]:
        """A dry run of ``sync``: per metric with new days, the rows it would insert, update and
        leave unchanged (an empty mapping when every metric is up to date)."""
        fetched = self._fetch(config, metrics, lookback_days, end, add_areas=add_areas)
        return {metric: self._plan(f"sync {metric}", values) for metric, values in fetched.items()}

    def _fetch(
        self,
        config: str | Path | dict,
        metrics: list[str] | None,
        lookback_days: int | None,
        end: DateLike | None,
        timeout: float | None = None,
        add_areas: bool = False,
    ) -> dict[str, pd.DataFrame]:
        cfg = sources.load_config(config)
        selected = cfg.selected(metrics)
        return sources.fetch(
            cfg,
            selected,
            self.metrics(),
            self.store.last_dates(),
            self.known_areas(add_areas),
            lookback_days=lookback_days,
            end=as_date(end).date() if end is not None else None,
            timeout=timeout,
        )

    def test_connection(self, url: str, *, password: str | None = None) -> str:
        """A short OK message, or a ``CityScoreError`` that never shows the password."""
        return sources.test_connection(url, password=password)

    # --- export and audit ------------------------------------------------------------------

    def export_values(self, out: str | Path | None = None) -> str:
        """Every stored value as values.csv text (re-importing it changes nothing)."""
        observations = self.observations(with_source=True, areas=True)
        return export.write(export.values_csv(observations), out)

    def export_scores(
        self,
        out: str | Path | None = None,
        *,
        start: DateLike | None = None,
        end: DateLike | None = None,
        layout: str = "kit",
    ) -> str:
        """Scores as CSV: the kit's columns, or ``layout="boston"`` for Boston's open-data table."""
        if start is None and end is None:
            scores = self.scores()
        else:
            scores = self.scores(start=start or end, end=end or start)
        observations = None
        if layout == "boston" and len(scores):
            first, last = (
                pd.to_datetime(scores["as_of"]).min(),
                pd.to_datetime(scores["as_of"]).max(),
            )
            observations = self.observations(first - pd.Timedelta(days=max(PERIODS.values())), last)
        return export.write(export.scores_csv(scores, self.metrics(), layout, observations), out)

    def history(self, metric: str, date: DateLike, area: str = "") -> pd.DataFrame:
        """Every version of one metric's value on one date (citywide, or of ``area``): current and
        superseded, with batch and source."""
        if date is None or metric is None:
            msg = "give both the metric and the date whose versions to show (--metric and --date)"
            raise ConfigError(msg)
        return self.store.history(metric, as_date(date).date(), area)

    def batches(self) -> pd.DataFrame:
        """Every import batch: kind, source, when, counts, and when it was undone."""
        return self.store.batches()

    def undo(self, batch_id: int) -> ImportResult:
        """Revert a whole batch (restoring the values it replaced); the undo is itself a batch."""
        return self.store.undo(int(batch_id))

    def load_demo(self, end: dt.date | None = None, *, areas: bool = False) -> list[ImportResult]:
        """Load the demo city (idempotent: loading it twice changes nothing).

        ``areas=True`` adds its ten invented neighbourhoods (values and area targets); the
        citywide numbers are the same either way.
        """
        end = end or dt.date.today() - dt.timedelta(days=1)
        if end > dt.date.today():
            msg = f"the demo cannot end on {end}, in the future; give a date up to today ({dt.date.today()})"
            raise ConfigError(msg)
        self.init()
        metrics, targets = demo.demo_metrics()
        results = [self.store.write_metrics(metrics, targets, "demo city metrics", today=end)]
        results.append(self.store.write_targets(demo.demo_target_change(end), "demo city targets"))
        values = demo.demo_observations(end)
        results.append(self.store.write_observations(values, "demo city values", kind="demo"))
        if areas:
            area_targets = demo.demo_area_targets()
            results.append(self.store.write_targets(area_targets, "demo neighbourhood targets"))
            area_values = demo.demo_area_observations(end)
            results.append(
                self.store.write_observations(area_values, "demo neighbourhood values", kind="demo")
            )
        return results

    # --- scoring ---------------------------------------------------------------------------

    def scores(
        self,
        as_of: DateLike | None = None,
        *,
        start: DateLike | None = None,
        end: DateLike | None = None,
        bands: Bands = DEFAULT_BANDS,
        cap: float | None = None,
        by: str | None = None,
        stale_metrics: Collection[str] = (),
        count_stale: bool | None = None,
    ) -> pd.DataFrame:
        """Scores for one date (default: ``default_as_of()``) or for every date ``start..end``.

        ``cap`` limits each metric's score (none by default). ``by="area"`` adds each area's scores
        after the citywide ones, with an ``area`` column (see ``cityscore.engine.score.score_by_area``).
        ``stale_metrics`` are stale whatever their dates; stale metrics count in the CityScore only
        with ``count_stale`` (default: the city's ``[scores] count_stale``). Business days leave out
        the city's ``[calendar]`` holidays and closures.
        """
        if by not in (None, "area"):
            msg = f"scores can be broken down by 'area' only; got by={by!r}"
            raise ConfigError(msg)
        if start is not None or end is not None:
            if start is None or end is None:
                msg = "give both the start and the end of the range (--from and --to)"
                raise ConfigError(msg)
            first, last = as_date(start), as_date(end)
        else:
            first = last = (
                as_date(as_of) if as_of is not None else pd.Timestamp(self.default_as_of())
            )
        # Area rows too: a ratio or sum metric's citywide day may have to be added up from them.
        observations = self.store.scoring_observations(
            first.date(), last.date(), citywide=by != "area"
        )
        scorer = score_by_area if by == "area" else score_range
        targets = self.targets(areas=by == "area")
        metrics = self.metrics()
        options = scoring_options(
            metrics, first.date(), last.date(), count_stale, self.area_catalog
        )
        return scorer(observations, metrics, targets, first, last, bands=bands, cap=cap,
                      stale_metrics=stale_metrics, **options)  # fmt: skip

    def scoring_observations(
        self,
        first: DateLike,
        last: DateLike,
        *,
        metric: str | None = None,
        area: str | None = None,
        with_source: bool = False,
        citywide: bool = False,
    ) -> pd.DataFrame:
        """The stored values that scores for ``first`` to ``last`` depend on, for an app that scores
        them in parts itself (the explorer): what ``scores`` reads, every window and a history
        baseline's year before ``first``, area rows included (an ``area`` column, "" = citywide).

        ``metric`` or ``area`` reads only that metric's or that area's rows; ``citywide`` only the
        rows a citywide score uses; ``with_source`` adds each row's ``source`` and ``batch_id``.
        """
        return self.store.scoring_observations(
            as_date(first).date(),
            as_date(last).date(),
            metric=metric,
            area=area,
            with_source=with_source,
            citywide=citywide,
        )

    def metric_scores(
        self,
        metric: str,
        as_of: DateLike,
        *,
        area: str = "",
        bands: Bands = DEFAULT_BANDS,
        cap: float | None = None,
    ) -> pd.DataFrame:
        """One metric's scores on one date, citywide or of ``area`` (what the entry form shows after
        a save): the same rows as ``scores(as_of, by="area")`` gives for it, but only that metric's
        values are read, so it stays quick in a city of thousands of metrics and dozens of areas."""
        day = as_date(as_of)
        observations = self.store.scoring_observations(day.date(), day.date(), metric=metric)
        catalog = self.metrics().query("name == @metric")
        targets = self.targets(areas=True).query("metric == @metric")
        options = scoring_options(catalog, day.date(), day.date(), None, self.area_catalog)
        scores = score_by_area(observations, catalog, targets, day, day, bands=bands, cap=cap,
                               **options)  # fmt: skip
        mine = (scores["metric"] == metric) & (scores["area"] == area.strip())
        return scores[mine].reset_index(drop=True)

    def equity(
        self,
        as_of: DateLike | None = None,
        *,
        start: DateLike | None = None,
        end: DateLike | None = None,
        bands: Bands = DEFAULT_BANDS,
        cap: float | None = None,
    ) -> pd.DataFrame:
        """Per metric and period: the best and worst area, the gap (worst / best) and the share of
        areas below 1 (see ``cityscore.engine.summary.equity``); empty for a city without areas."""
        scores = self.scores(as_of, start=start, end=end, bands=bands, cap=cap, by="area")
        return summary.equity(scores)


@dataclass(frozen=True)
class DryRun(ImportResult):
    """A dry run's counts, and what it would change: the first rows to insert and old -> new updates."""

    changes: str = ""

    def __str__(self) -> str:
        return "\n".join(t for t in (super().__str__(), self.changes) if t)


def _with_changes(
    result: ImportResult,
    incoming: pd.DataFrame,
    current: pd.DataFrame,
    keys: list[str],
    fields: list[str],
) -> DryRun:
    insert, update = inserts_and_updates(incoming, current, keys, fields)
    changes = describe_changes(insert, update, keys, fields)
    return DryRun(**{**result.__dict__, "changes": changes})


def _cell(value: object) -> str:
    """One form field as the text a CSV cell would hold (numbers at full precision)."""
    if value is None or (isinstance(value, float) and value != value):
        return "" if value is None else "nan"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(float(value)) if isinstance(value, float) else str(value)
    return str(value).strip()


def no_values_error() -> ConfigError:
    """The error for a question about dates asked of a database with no values yet."""
    msg = "the database has no values yet; import some (`cityscore values import FILE`) or run `cityscore demo`"
    return ConfigError(msg)
