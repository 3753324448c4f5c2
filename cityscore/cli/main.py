"""The ``cityscore`` command line: init, demo, imports and scoring.

Every user error prints one line ``cityscore: error: ...`` on stderr and exits with status 1; nothing
is half-written. Bad arguments exit with status 2 (argparse). An unexpected internal error prints a
short message; ``CITYSCORE_DEBUG=1`` shows its full traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import numbers
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cityscore.apps.city import add_score_options, apply_settings, city_settings, defer_defaults
from cityscore.core.bands import Bands
from cityscore.core.dates import date_argument
from cityscore.core.errors import CityScoreError, ConfigError, ValidationError
from cityscore.core.runtime import settle_imports
from cityscore.core.secrets import redact_url, scrub, url_secrets
from cityscore.core.settings import database_url

# Loaded where used: `--help` and argument errors need neither pandas nor SQLAlchemy.
if TYPE_CHECKING:
    import pandas as pd

    from cityscore.kit import Kit

DEBUG_ENV = "CITYSCORE_DEBUG"
# NumPy asks the kernel for huge pages for big arrays; where the kernel then compacts memory on
# each fault (Debian's default "madvise" defrag), scoring 2,000 metrics x 10 years spent about 5 s
# of system time on it (benchmarks/README.md). A user's own setting wins. Set before NumPy loads.
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")


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
        help="SQLAlchemy database URL, or a SQLite file's path "
        "(default: $CITYSCORE_DB, else cityscore.toml, else data/cityscore.db)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("init", help="create the database tables (safe to repeat)")
    demo = commands.add_parser(
        "demo", help="load the demo city (about 20 metrics, 3 years ending yesterday)"
    )
    demo.add_argument(
        "--end",
        type=date_argument,
        metavar="DATE",
        help="last day of demo data (default: yesterday)",
    )
    demo.add_argument(
        "--areas",
        action="store_true",
        help="add ten invented neighbourhoods (citywide numbers unchanged); see `score --by area`",
    )

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
        importer = actions.add_parser(
            "import",
            help=f"validate and import a {noun} CSV file (or .xlsx/.ods workbook: its first sheet)",
        )
        importer.add_argument("file", type=Path)
        importer.add_argument(
            "--problems",
            type=Path,
            metavar="FILE",
            help="on bad rows, write every problem to FILE (CSV)",
        )
        importer.add_argument(
            "--dry-run",
            action="store_true",
            help="check the file, show what would change, write nothing",
        )
        if noun in ("values", "targets"):
            importer.add_argument(
                "--date-format",
                type=date_format,
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
    history.add_argument(
        "--date", type=date_argument, metavar="D", help="the day whose versions to show"
    )
    undo = commands.add_parser(
        "undo", help="revert a whole import batch (recorded as a batch itself)"
    )
    undo.add_argument("batch", type=int, help="batch id, as `cityscore history` lists them")

    score = commands.add_parser("score", help="compute scores for a date or a range of dates")
    score.add_argument(
        "--date",
        type=date_argument,
        metavar="D",
        help="as-of date (default: the latest date most metrics have data for)",
    )
    score.add_argument(
        "--from", dest="start", type=date_argument, metavar="D1", help="first as-of date of a range"
    )
    score.add_argument(
        "--to", dest="end", type=date_argument, metavar="D2", help="last as-of date of a range"
    )
    score.add_argument(
        "--format",
        choices=["table", "csv", "json", "parquet"],
        default="table",
        help="table (terminal), csv, json, or parquet (needs --out); see README, file formats",
    )
    score.add_argument(
        "--out", type=Path, metavar="FILE", help="write to FILE instead of the terminal"
    )
    add_score_options(score)
    score.add_argument(
        "--by",
        choices=["area"],
        help="also score each area (neighbourhood): adds an area column; citywide rows have none",
    )
    _add_command_modules(commands)
    defer_defaults(commands)  # options a city's settings fill in when not given
    return parser


# Commands that live in their own module: each has HELP, add_arguments(parser) and run(kit, args) -> int.
# Keep their top-level imports light: every `cityscore` call builds the whole parser.
COMMAND_MODULES = {
    "report": "cityscore.pages.report",
    "sync": "cityscore.apps.sync",
    "export": "cityscore.io.export",
    "serve": "cityscore.apps.serve",
    "new": "cityscore.apps.city",
    "training": "cityscore.apps.course",
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


def date_format(text: str) -> str:
    """A strftime format for ``--date-format`` that can write and read back a date (argparse type)."""
    day = dt.datetime(2026, 12, 31)
    try:
        ok = dt.datetime.strptime(day.strftime(text), text).date() == day.date()
    except ValueError as exc:
        bad = re.match(r"'(.*?)' is a bad directive", str(exc))
        why = f"%{bad.group(1)} is not a date code" if bad else "it cannot read back a date"
        msg = f"{text!r} is not a date format ({printable(why)}); use codes such as %d/%m/%Y or %Y-%m-%d"
        raise argparse.ArgumentTypeError(msg) from None
    if not ok:
        msg = f"{text!r} does not give the day, month and year; use codes such as %d/%m/%Y"
        raise argparse.ArgumentTypeError(msg)
    return text


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with city_settings(args.city_config) as settings:
            code = _run(apply_settings(args, settings))
        sys.stdout.flush()  # a closed pipe shows up here, inside the handler, not at exit
        return code
    except CityScoreError as exc:
        code = _fail(str(exc), args)
        if isinstance(exc, ValidationError) and getattr(args, "problems", None):
            try:
                print(
                    f"cityscore: all problems: {exc.write_problems(args.problems)}", file=sys.stderr
                )
            except CityScoreError as error:
                code = _fail(str(error), args)
        return code
    except BrokenPipeError:
        # `cityscore history | head`: the reader has all it wanted; stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as other commands cut off by a closed pipe
    except KeyboardInterrupt:
        return _fail("interrupted; nothing more was written", args, code=130)
    except OSError as exc:  # a file or folder the system refused: say which and why
        where = f" {exc.filename}" if exc.filename else ""
        return _fail(f"cannot use{where}: {exc.strerror or exc}", args)
    except Exception as exc:
        if os.environ.get(DEBUG_ENV) == "1":
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        message = (
            f"unexpected internal error ({type(exc).__name__}: {first}). This is a bug in CityScore "
            f"Kit, not in your input: please report it to the kit's maintainers (its repository's "
            f"issue tracker) with the command you ran and the output of {DEBUG_ENV}=1 cityscore ..."
        )
        return _fail(message, args)


def _fail(message: str, args: argparse.Namespace, code: int = 1) -> int:
    """Print ``cityscore: error: message`` (no secret, no raw control character); return ``code``."""
    secrets: list[str] = []
    try:
        secrets = url_secrets(database_url(args.db))
    except Exception:  # the URL may be what failed; the message is still printed
        secrets = url_secrets(args.db or "")
    print(f"cityscore: error: {printable(scrub(message, secrets))}", file=sys.stderr)
    return code


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with control characters (terminal escapes, NUL, CR) shown as ``\\xNN``; newlines kept."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def _run(args: argparse.Namespace) -> int:
    if args.command == "history" and bool(args.metric) != bool(args.date):
        msg = (
            "history --metric NAME --date D shows every version of one value; give both "
            "(or neither, to list the import batches)"
        )
        raise ConfigError(msg)
    from cityscore.kit import Kit

    settle_imports()  # out of the collector's walks: a one-date score at 2,000 metrics 0.2-0.35 s faster
    kit = Kit(args.db) if getattr(args, "needs_kit", True) else None
    if getattr(args, "handler", None) is not None:
        return int(args.handler(kit, args) or 0)
    if args.command == "init":
        kit.init()
        print(f"database ready: {redact_url(kit.store.url)}")
    elif args.command == "demo":
        for result in kit.load_demo(args.end, areas=args.areas):
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
        if args.metric:
            print(text_table(kit.history(args.metric, args.date), HISTORY_HEADERS), end="")
        else:
            print(text_table(kit.batches(), BATCH_HEADERS), end="")
    elif args.command == "undo":
        print(kit.undo(args.batch))
    elif args.command == "score":
        _score(kit, args)
    return 0


BATCH_HEADERS = {
    "id": "batch",
    "kind": "kind",
    "source": "source",
    "created_at": "imported (UTC)",
    "inserted": "inserted",
    "updated": "updated",
    "unchanged": "unchanged",
    "undone_at": "undone (UTC)",
}
HISTORY_HEADERS = {
    "status": "version",
    "value": "value",
    "numerator": "numerator",
    "denominator": "denominator",
    "source": "source",
    "batch_id": "batch",
    "written_at": "written (UTC)",
    "superseded_at": "replaced (UTC)",
    "superseded_by": "by batch",
}


def text_table(frame: pd.DataFrame, headers: dict[str, str]) -> str:
    """``frame``'s columns named in ``headers`` as aligned text: numbers right, text left, blanks for none."""
    from cityscore.io.export import number_text

    columns = [c for c in headers if c in frame.columns]
    if frame.empty:
        return "(none)\n"
    cells = [[_cell_text(v, number_text) for v in frame[c]] for c in columns]
    numeric = [all(_is_number(v) for v in frame[c] if _present(v)) for c in columns]
    widths = [max(len(headers[c]), *map(len, col)) for c, col in zip(columns, cells, strict=True)]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rows = [line([headers[c] for c in columns])]
    rows += [line([col[i] for col in cells]) for i in range(len(frame))]
    return "\n".join(rows) + "\n"


def _present(value: object) -> bool:
    import pandas as pd

    return not (value is None or (not isinstance(value, str) and pd.isna(value)))


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _cell_text(value: object, number_text: Callable[[object], str]) -> str:
    if not _present(value):
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if _is_number(value):
        return number_text(value)
    return printable(str(value)).replace("\n", "\\n")


def _score(kit: Kit, args: argparse.Namespace) -> None:
    from cityscore.io import export
    from cityscore.io.score_files import write_scores
    from cityscore.pages.render import scores_json

    if args.format == "parquet" and not args.out:
        msg = "--format parquet writes a binary file: give it one with --out FILE.parquet"
        raise ConfigError(msg)
    bands = Bands.parse(args.bands)
    note = ""
    options = {"bands": bands, "cap": args.cap, "by": args.by}
    if args.start or args.end:
        scores = kit.scores(start=args.start, end=args.end, **options)
    elif args.date:
        scores = kit.scores(args.date, **options)
    else:
        choice = kit.as_of_choice()  # the default date, and what a board for it leaves out
        scores = kit.scores(choice.as_of, **options)
        note = choice.note()
    if args.out and args.format != "table":  # streamed to the file, never one string in memory
        if args.format == "csv":
            scores = export.safe_text_columns(scores, ["metric", "status", "note"])
        write_scores(scores, args.out, args.format)
        print(f"wrote {len(scores)} score rows to {args.out}")
        return
    if args.format == "table":
        text = _area_tables(scores, bands) + (f"\n{printable(note)}\n" if note else "")
    elif args.format == "csv":
        text = export.scores_csv(scores, kit.metrics())
    else:
        text = scores_json(scores)
    if args.out:
        export.write(text, args.out)
        print(f"wrote {len(scores)} score rows to {args.out}")
    else:
        sys.stdout.write(text)


def _area_tables(scores: pd.DataFrame, bands: Bands) -> str:
    """The terminal scoreboard; by area, one titled board per area after the citywide one."""
    from cityscore.pages.render import scores_table

    if "area" not in scores:
        return scores_table(scores.assign(metric=scores["metric"].map(printable)), bands)
    blocks = []
    for area, rows in scores.groupby("area", observed=True, sort=False):
        title = f"== {printable(area)} ==" if area else "== Citywide =="
        shown = rows.drop(columns="area").assign(metric=rows["metric"].map(printable))
        blocks.append(f"{title}\n{scores_table(shown, bands)}")
    return "\n".join(blocks)


if __name__ == "__main__":
    sys.exit(main())
