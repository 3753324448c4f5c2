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

# The commands, in the order `cityscore --help` lists them. Each module has HELP, add_arguments(parser)
# and run(kit, args) -> int; its top-level imports stay light (every `cityscore` call builds the whole
# parser), its heavy ones (pandas, the Kit, SQLAlchemy) wait inside its `run`.
COMMAND_MODULES = {
    "init": "cityscore.cli.init",
    "demo": "cityscore.cli.demo",
    "metrics": "cityscore.cli.metrics",
    "targets": "cityscore.cli.targets",
    "values": "cityscore.cli.values",
    "history": "cityscore.cli.history",
    "undo": "cityscore.cli.undo",
    "score": "cityscore.cli.score",
    "report": "cityscore.cli.report",
    "sync": "cityscore.cli.sync",
    "export": "cityscore.cli.export",
    "serve": "cityscore.cli.serve",
    "new": "cityscore.cli.new",
    "training": "cityscore.cli.training",
}


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
    for name, module_name in COMMAND_MODULES.items():
        module = importlib.import_module(module_name)
        sub = commands.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.run)
    defer_defaults(commands)  # options a city's settings fill in when not given
    return parser


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
