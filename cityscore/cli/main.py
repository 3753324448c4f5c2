"""The ``cityscore`` command line: the parser, built from one module per command, and its exit codes.

Every user error prints one line ``cityscore: error: ...`` on stderr and exits with status 1; nothing
is half-written. Bad arguments exit with status 2 (argparse). An unexpected internal error prints a
short message; ``CITYSCORE_DEBUG=1`` shows its full traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from cityscore.cli.options import apply_settings, city_settings, defer_defaults, terminal_text
from cityscore.core.errors import CityScoreError, ValidationError
from cityscore.core.runtime import settle_imports
from cityscore.core.secrets import scrub, url_secrets
from cityscore.core.settings import database_url

DEBUG_ENV = "CITYSCORE_DEBUG"
# NumPy asks the kernel for huge pages for big arrays; where the kernel then compacts memory on
# each fault (Debian's default "madvise" defrag), scoring 2,000 metrics x 10 years spent about 5 s
# of system time on it (benchmarks/README.md). A user's own setting wins. Set before NumPy loads.
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")

# The commands, in the order `cityscore --help` lists them: name -> (module, one-line help). Each
# module has add_arguments(parser) and run(kit, args) -> int, light top-level imports, and its heavy
# ones (pandas, the Kit, SQLAlchemy) inside `run`. Only the module of the command being run is
# imported, so `cityscore --help` loads none and each command loads its own alone.
COMMANDS = {
    "init": (
        "cityscore.cli.init",
        "create the database tables (safe to repeat)",
    ),
    "demo": (
        "cityscore.cli.demo",
        "load the demo city (about 20 metrics, 3 years ending yesterday)",
    ),
    "metrics": (
        "cityscore.cli.metrics",
        "import metrics (metric definitions: name,definition,category,unit,direction,kind,aggregation,target,baseline,trend,weight)",
    ),
    "targets": (
        "cityscore.cli.targets",
        "import targets (target changes: metric,effective_from,target)",
    ),
    "values": (
        "cityscore.cli.values",
        "import values (daily values: metric,date,value or metric,date,numerator,denominator)",
    ),
    "areas": (
        "cityscore.cli.areas",
        "import, list or export the area catalog (areas.csv: name,code,population,geometry,parent)",
    ),
    "history": (
        "cityscore.cli.history",
        "list import batches, or every version of one metric's value on a date",
    ),
    "undo": (
        "cityscore.cli.undo",
        "revert a whole import batch (recorded as a batch itself)",
    ),
    "score": (
        "cityscore.cli.score",
        "compute scores for a date or a range of dates",
    ),
    "report": (
        "cityscore.cli.report",
        "run the daily report notebook and write reports/<date>/cityscore-<date>.html (one offline file)",
    ),
    "sync": (
        "cityscore.cli.sync",
        "pull daily values from SQL databases listed in sources.yml (aggregation runs in the source)",
    ),
    "export": (
        "cityscore.cli.export",
        "export stored values (values.csv) or scores (kit or Boston open-data layout) as CSV",
    ),
    "serve": (
        "cityscore.cli.serve",
        "show the exploration notebook as a web app (Voilà, no code shown) on 127.0.0.1",
    ),
    "daily": (
        "cityscore.cli.daily",
        "the morning run: sync, score, write and publish the report, send alerts, the digest and the webhook",
    ),
    "new": (
        "cityscore.cli.new",
        "make a city folder: cityscore.toml, starter CSV files, sources.yml and a README",
    ),
    "training": (
        "cityscore.cli.training",
        "copy the five training lessons and a demo course database into a new folder",
    ),
}


GLOBAL_OPTIONS = ("--config", "--db")  # the options before the command that take a value


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser; given the command line ``argv``, only the command it names gets its options."""
    chosen = chosen_command(argv) if argv is not None else None
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
    for name, (module_name, help_text) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if argv is None or name == chosen:
            module = importlib.import_module(module_name)
            module.add_arguments(sub)
            sub.set_defaults(handler=module.run)
    defer_defaults(commands)  # options a city's settings fill in when not given
    return parser


def chosen_command(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names: its first word that is not a global option or an option's value."""
    words = iter(argv)
    for word in words:
        if word in GLOBAL_OPTIONS:
            next(words, None)  # the option's value
        elif word in COMMANDS:
            return word
    return None


def _inputs(args: argparse.Namespace) -> tuple[Path, ...]:
    """The file an import command reads (a problems file must never replace it)."""
    given = getattr(args, "file", None)
    return (Path(given),) if given is not None else ()


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    if not hasattr(args, "handler"):  # chosen_command misread the line: parse with every command
        args = build_parser().parse_args(argv)
    try:
        with city_settings(args.city_config, args.command) as settings:
            code = _run(apply_settings(args, settings))
        sys.stdout.flush()  # a closed pipe shows up here, inside the handler, not at exit
        return code
    except CityScoreError as exc:
        code = _fail(str(exc), args)
        if isinstance(exc, ValidationError) and getattr(args, "problems", None):
            try:
                print(
                    f"cityscore: all problems: {exc.write_problems(args.problems, _inputs(args))}",
                    file=sys.stderr,
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


def _run(args: argparse.Namespace) -> int:
    """Run the command's module with a Kit on the database (none for commands that make folders)."""
    from cityscore.kit import Kit  # the first heavy import: pandas and SQLAlchemy load here

    settle_imports()  # out of the collector's walks: a one-date score at 2,000 metrics 0.2-0.35 s faster
    kit = Kit(args.db) if getattr(args, "needs_kit", True) else None
    return int(args.handler(kit, args) or 0)


def _fail(message: str, args: argparse.Namespace, code: int = 1) -> int:
    """Print ``cityscore: error: message`` (no secret, no raw control character); return ``code``."""
    secrets: list[str] = []
    try:
        secrets = url_secrets(database_url(args.db))
    except Exception:  # the URL may be what failed; the message is still printed
        secrets = url_secrets(args.db or "")
    print(f"cityscore: error: {terminal_text(scrub(message, secrets))}", file=sys.stderr)
    return code
