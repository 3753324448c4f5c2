"""The ``cityscore`` command line: init, demo, imports and scoring.

Every user error prints one clear message on stderr and exits with status 1; nothing half-written.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from .city import apply_settings, city_settings, defer_defaults
from .config import Bands, redact_url
from .errors import CityScoreError
from .kit import Kit
from .render import scores_csv, scores_json, scores_table
from .score import as_date


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cityscore",
        description="Score the health of a city's services against targets, every day.",
        epilog="Each setting comes from a flag, else the environment ($CITYSCORE_DB, ...), else the "
        "city folder's cityscore.toml (--config, else found in this folder or above), else defaults.",
    )
    parser.add_argument(
        "--config", dest="city_config", type=Path, metavar="FILE", help="a city's cityscore.toml"
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="SQLAlchemy database URL (default: $CITYSCORE_DB, else cityscore.toml, else data/cityscore.db)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("init", help="create the database tables (safe to repeat)")
    demo = commands.add_parser(
        "demo", help="load the demo city (about 20 metrics, 3 years ending yesterday)"
    )
    demo.add_argument("--end", metavar="DATE", help="last day of demo data (default: yesterday)")

    for noun, help_text in [
        (
            "metrics",
            "metric definitions: name,definition,category,unit,direction,kind,aggregation,target,baseline,trend,weight",
        ),
        ("targets", "target changes: metric,effective_from,target"),
        ("values", "daily values: metric,date,value or metric,date,numerator,denominator"),
    ]:
        group = commands.add_parser(noun, help=f"import {noun} ({help_text})")
        actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
        importer = actions.add_parser("import", help=f"validate and import a {noun} CSV file")
        importer.add_argument("file", type=Path)
        importer.add_argument(
            "--dry-run",
            action="store_true",
            help="check the file, show what would change, write nothing",
        )
        if noun in ("values", "targets"):
            importer.add_argument(
                "--date-format",
                default="%Y-%m-%d",
                help="strftime format of the date column (default ISO: %%Y-%%m-%%d)",
            )
        if noun in ("values", "metrics"):
            importer.add_argument(
                "--format",
                dest="fmt",
                choices=["auto", "kit", "boston", "json"],
                default="auto",
                help="kit CSV, Boston toolkit CSV or JSON fixture (default: detect)",
            )

    history = commands.add_parser(
        "history", help="list import batches, or every version of one metric's value on a date"
    )
    history.add_argument("--metric", help="metric name (with --date)")
    history.add_argument("--date", metavar="D", help="the day whose versions to show")
    undo = commands.add_parser(
        "undo", help="revert a whole import batch (recorded as a batch itself)"
    )
    undo.add_argument("batch", type=int, help="batch id, as `cityscore history` lists them")

    score = commands.add_parser("score", help="compute scores for a date or a range of dates")
    score.add_argument(
        "--date", metavar="D", help="as-of date (default: the latest date with data)"
    )
    score.add_argument("--from", dest="start", metavar="D1", help="first as-of date of a range")
    score.add_argument("--to", dest="end", metavar="D2", help="last as-of date of a range")
    score.add_argument("--format", choices=["table", "csv", "json"], default="table")
    score.add_argument(
        "--out", type=Path, metavar="FILE", help="write to FILE instead of the terminal"
    )
    score.add_argument(
        "--cap",
        type=float,
        metavar="X",
        help="cap each metric's score at X (default: no cap)",
    )
    score.add_argument(
        "--bands", default="1.0,0.9", metavar="MEETING,NEAR", help="status bands (default 1.0,0.9)"
    )
    _add_command_modules(commands)
    defer_defaults(commands)  # options a city's settings fill in when not given
    return parser


# Commands that live in their own module: each has HELP, add_arguments(parser) and run(kit, args) -> int.
# Keep their top-level imports light: every `cityscore` call builds the whole parser.
COMMAND_MODULES = {
    "report": "cityscore.report",
    "sync": "cityscore.sync",
    "export": "cityscore.export",
    "serve": "cityscore.serve",
    "new": "cityscore.city",
    "training": "cityscore.course",
}


def _add_command_modules(commands: argparse._SubParsersAction) -> None:
    for name, module_name in COMMAND_MODULES.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # that part of the kit is not installed in this build
            raise
        sub = commands.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.run)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with city_settings(args.city_config) as settings:
            return _run(apply_settings(args, settings))
    except CityScoreError as exc:
        print(f"cityscore: error: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    kit = Kit(args.db) if getattr(args, "needs_kit", True) else None
    if getattr(args, "handler", None) is not None:
        return int(args.handler(kit, args) or 0)
    if args.command == "init":
        kit.init()
        print(f"database ready: {redact_url(kit.store.url)}")
    elif args.command == "demo":
        end = as_date(args.end).date() if args.end else None
        for result in kit.load_demo(end):
            print(result)
    elif args.command == "metrics":
        print(kit.import_metrics(args.file, fmt=args.fmt, dry_run=args.dry_run))
    elif args.command == "targets":
        print(kit.import_targets(args.file, date_format=args.date_format, dry_run=args.dry_run))
    elif args.command == "values":
        print(
            kit.import_values(
                args.file, date_format=args.date_format, fmt=args.fmt, dry_run=args.dry_run
            )
        )
    elif args.command == "history":
        frame = kit.history(args.metric, args.date) if args.metric else kit.batches()
        print(frame.to_string(index=False))
    elif args.command == "undo":
        print(kit.undo(args.batch))
    elif args.command == "score":
        _score(kit, args)
    return 0


def _score(kit: Kit, args: argparse.Namespace) -> None:
    bands = Bands.parse(args.bands)
    if args.start or args.end:
        scores = kit.scores(start=args.start, end=args.end, bands=bands, cap=args.cap)
    else:
        scores = kit.scores(args.date, bands=bands, cap=args.cap)
    render = {"table": scores_table, "csv": scores_csv, "json": scores_json}[args.format]
    text = render(scores)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {len(scores)} score rows to {args.out}")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    sys.exit(main())
