"""``cityscore daily``: the morning run: sync, score, report, publish, alerts, digest and webhook, in one command."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cityscore.core.settings import DB_ENV, current_folder, database_url, load_settings

if TYPE_CHECKING:
    from cityscore.core.settings import Settings
    from cityscore.kit import Kit

HELP = "the morning run: sync every source, score, write and publish the report, send alerts and the digest"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="say what the run would do; write, sync and send nothing",
    )
    parser.add_argument(
        "--wait",
        type=seconds,
        metavar="SECONDS",
        help="how long to wait for a run already going (default: [daily] wait, else 600)",
    )
    parser.add_argument(
        "--publish",
        type=Path,
        metavar="DIR",
        help="copy the reports to DIR atomically, e.g. a web server's folder (default: [daily] publish)",
    )


def seconds(text: str) -> float:
    """A number of seconds, 0 or more (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        msg = f"{text!r} is not a number of seconds; give a number >= 0, e.g. 600"
        raise argparse.ArgumentTypeError(msg)
    return value


def run(kit: Kit, args: argparse.Namespace) -> int:
    from cityscore.apps.daily.lock import RunLockedError, run_lock
    from cityscore.apps.daily.run import NO_REPORT, DailyOptions, daily, dry_run

    settings = load_settings()
    folder = settings.file.parent if settings.file else current_folder()
    options = DailyOptions(
        folder=folder,
        publish=args.publish if args.publish is not None else settings.daily.publish,
        dry_run=args.dry_run,
        db=args.db or os.environ.get(DB_ENV),
        secrets=tuple(run_secrets(settings, args.db)),
    )
    if args.dry_run:
        return dry_run(kit, settings, options)
    wait = args.wait if args.wait is not None else settings.daily.wait
    try:
        with run_lock(folder, wait):
            outcome = daily(kit, settings, options)
    except RunLockedError as exc:
        print(f"cityscore: error: {exc}", file=sys.stderr)
        return NO_REPORT
    for step, why in outcome.failures.items():
        print(f"cityscore: failed: {step}: {why}", file=sys.stderr)
    if outcome.report is None:
        print(
            "cityscore: error: no report could be made; the previous report is unchanged",
            file=sys.stderr,
        )
    elif outcome.failures:
        print(
            f"cityscore: finished with {len(outcome.failures)} failure(s); the report is written",
            file=sys.stderr,
        )
    return outcome.code


def run_secrets(settings: Settings, db: str | None) -> list[str]:
    """Every secret a log line or message of the run must not show: the database's and the sources'
    passwords, the SMTP password and the webhook URL (from the environment)."""
    from cityscore.apps.report.publish import output_secrets
    from cityscore.core.mail_settings import PASSWORD_ENV, WEBHOOK_ENV
    from cityscore.core.secrets import expand_env, url_secrets

    found = output_secrets(database_url(db))
    found += [os.environ.get(PASSWORD_ENV, ""), os.environ.get(WEBHOOK_ENV, "")]
    try:
        from cityscore.io.sources import load_config

        for source in load_config(settings.sources).sources.values():
            found += url_secrets(expand_env(source.url)) + url_secrets(source.url)
    except Exception:  # a broken sources.yml is the sync step's to report
        pass
    return [s for s in found if len(s) >= 4]
