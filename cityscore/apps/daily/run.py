"""The morning run's steps in order: sync each source, score, record the alerts, write the report,
publish it, and send the digest, the alert mails and the webhook call.

A step that fails is logged and named, and the run goes on: a failed source's metrics are reported
stale, a mail server that is down still leaves the report written. Exit status: 0 all went well,
1 the run finished with failures (named), 2 no report could be made.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cityscore.apps.daily.notify import Notices, send_notices
from cityscore.apps.daily.publish import publish_reports
from cityscore.apps.daily.runlog import LOG_FILE, RunLog
from cityscore.apps.daily.sources import SyncOutcome, plan, sync_each
from cityscore.core.errors import CityScoreError
from cityscore.core.settings import Settings
from cityscore.engine.alerts import AlertRules, changes, evaluate

if TYPE_CHECKING:
    from cityscore.kit import Kit
    from cityscore.pages.report_day import DailyData

OK, FAILURES, NO_REPORT = 0, 1, 2


@dataclass(frozen=True)
class DailyOptions:
    """What one run does beyond the settings: where to publish, dry run, the database for the kernel."""

    folder: Path  # the city folder: the run's lock and log live here
    publish: Path | None = None
    dry_run: bool = False
    db: str | None = None  # the database as the report's kernel gets it ($CITYSCORE_DB)
    secrets: tuple[str, ...] = ()  # text no log line or message may show


@dataclass
class DailyOutcome:
    """What the run did: the report written, the failures by step, the run's exit status."""

    report: Path | None = None
    failures: dict[str, str] = field(default_factory=dict)
    code: int = OK


def daily(
    kit: Kit, settings: Settings, options: DailyOptions, say: Callable[[str], None] = print
) -> DailyOutcome:
    """Run every step (see the module docstring); ``say`` gets one line per thing done."""
    log = RunLog(options.folder / LOG_FILE, options.secrets)
    outcome = DailyOutcome()
    for problem in settings.problems:  # [mail] or [webhook] wrong: the run goes on without them
        log.write("settings", dt.datetime.now().astimezone(), 0.0, {}, error=problem)
        outcome.failures["settings"] = log.text(problem)
    sync = sync_each(kit, settings.sources, settings.daily.source_timeout, log)
    for name, rows in sync.written.items():
        say(f"synced {name}: {rows} row(s) written")
    for name, why in sync.failed.items():  # named on stderr at the end, with any other failure
        outcome.failures[f"source {name}"] = why
    daily_data = _step(log, "score", outcome, lambda c: _score(kit, settings, sync, c))
    if daily_data is None:
        outcome.code = NO_REPORT
        return outcome
    day = daily_data.as_of.date()
    _step(log, "alerts", outcome, lambda c: _record_alerts(kit, settings, daily_data, sync, c))
    outcome.report = _step(
        log, "report", outcome, lambda c: _report(settings, options, day, sync, c)
    )
    if outcome.report is not None:
        say(f"wrote {outcome.report}")
        if options.publish is not None:
            target = options.publish
            done = _step(log, "publish", outcome, lambda c: _publish(settings, target, day, c))
            if done is not None:
                say(f"published {settings.reports} to {target}")
    notices = Notices(kit, settings, daily_data, outcome.report)
    sent = _step(log, "notify", outcome, lambda c: send_notices(notices, log, outcome.failures, c))
    for line in sent or []:
        say(line)
    outcome.code = NO_REPORT if outcome.report is None else FAILURES if outcome.failures else OK
    return outcome


def _step(log: RunLog, name: str, outcome: DailyOutcome, work: Callable[[dict], Any]) -> Any:
    """Run one logged step; a failure is named in ``outcome`` (one line, no secret) and gives None."""
    try:
        with log.step(name) as counts:
            return work(counts)
    except Exception as exc:  # any step's failure is told in one line, never a traceback
        kind = "" if isinstance(exc, CityScoreError) else f"{type(exc).__name__}: "
        outcome.failures[name] = kind + log.text(exc)
        return None


def _score(kit: Kit, settings: Settings, sync: SyncOutcome, counts: dict) -> DailyData:
    from cityscore.apps.report.daily import daily_data

    keywords: dict[str, Any] = {
        "bands": f"{settings.bands.meeting},{settings.bands.near}",
        "cap": settings.cap,
    }
    if sync.stale_metrics:
        keywords["stale_metrics"] = list(sync.stale_metrics)
    data = daily_data(kit, "", **keywords)
    counts.update(as_of=str(data.as_of.date()), metrics=len(data.metrics))
    return data


def _rules(settings: Settings) -> AlertRules:
    return AlertRules(**settings.alerts.rules())  # type: ignore[arg-type]


def open_alerts_today(
    kit: Kit, settings: Settings, daily_data: DailyData, sync: SyncOutcome
) -> list:
    """The alerts the rules open on the report day (nothing recorded)."""
    return evaluate(
        daily_data.history,
        daily_data.metrics,
        daily_data.as_of.date(),
        _rules(settings),
        failed_sources=sync.failed,
        stale_metrics=sync.stale_metrics,
    )


def _record_alerts(
    kit: Kit, settings: Settings, daily_data: DailyData, sync: SyncOutcome, counts: dict
) -> None:
    now_open = open_alerts_today(kit, settings, daily_data, sync)
    started, _, cleared = changes(now_open, kit.open_alerts(), dt.date.today())
    kit.record_alerts(now_open, dt.date.today())
    counts.update(open=len(now_open), started=len(started), cleared=len(cleared))


def _report(
    settings: Settings, options: DailyOptions, day: dt.date, sync: SyncOutcome, counts: dict
) -> Path:
    from cityscore.apps.report.publish import publish
    from cityscore.pages.areas import load_geojson

    parameters: dict[str, Any] = {
        "report_date": day.isoformat(),
        "bands": f"{settings.bands.meeting},{settings.bands.near}",
    }
    if settings.city:
        parameters["city_name"] = settings.city
    if settings.cap:
        parameters["cap"] = settings.cap
    if settings.areas_map:
        load_geojson(settings.areas_map)  # a bad or missing file fails here, in one line
        parameters["areas_map"] = str(settings.areas_map.resolve())
    if sync.stale_metrics:
        parameters["stale_metrics"] = list(sync.stale_metrics)
    path = publish(settings.reports, parameters, db=options.db, secrets=options.secrets)
    counts.update(report=str(path))
    return path


def _publish(settings: Settings, target: Path, day: dt.date, counts: dict) -> list[Path]:
    written = publish_reports(settings.reports, target, day.isoformat())
    counts.update(files=len(written), target=str(target))
    return written


def dry_run(
    kit: Kit, settings: Settings, options: DailyOptions, say: Callable[[str], None] = print
) -> int:
    """Say what a run would do, writing and sending nothing (no sync: the sources are not read)."""
    for problem in settings.problems:
        say(f"would run without mail and webhook: {problem}")
    try:
        sources = plan(settings.sources)
    except CityScoreError as exc:
        sources = {}
        say(f"would fail to read {settings.sources}: {exc}")
    if not sources:
        say(f"would sync nothing: no sources in {settings.sources}")
    for name, metrics in sources.items():
        say(
            f"would sync source {name} ({len(metrics)} metric(s): {', '.join(metrics)}), "
            f"time limit {settings.daily.source_timeout:g} s"
        )
    day = kit.default_as_of()
    say(f"would score and write the report for {day} into {settings.reports}")
    if options.publish is not None:
        say(f"would publish {settings.reports} to {options.publish}")
    from cityscore.apps.daily.notify import plan_lines
    from cityscore.apps.report.daily import daily_data

    data = daily_data(
        kit,
        day.isoformat(),
        bands=f"{settings.bands.meeting},{settings.bands.near}",
        cap=settings.cap,
    )
    now_open = open_alerts_today(kit, settings, data, SyncOutcome())
    started, _, cleared = changes(now_open, kit.open_alerts(), dt.date.today())
    for alert in started:
        say(f"would open alert: {alert.message}")
    for alert in cleared:
        say(f"would clear alert: {alert.subject} ({alert.rule})")
    for line in plan_lines(settings, os.environ):
        say(line)
    say(f"would log each step to {options.folder / LOG_FILE}")
    return OK
