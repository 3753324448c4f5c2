"""What several commands share: import and scoring options, city settings under flags, terminal text."""

from __future__ import annotations

import argparse
import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cityscore.core.errors import ConfigError
from cityscore.core.secrets import environment
from cityscore.core.settings import CONFIG_ENV, LENIENT_ENV, Settings, load_settings

# Options whose default comes from the city's settings: command -> {argument: Settings attribute}.
SETTING_OPTIONS = {
    "report": {
        "out": "reports",
        "city": "city",
        "bands": "bands_text",
        "cap": "cap",
        "areas_map": "areas_map",
    },
    "score": {"bands": "bands_text", "cap": "cap"},
    "sync": {"config": "sources"},
}


@contextmanager
def city_settings(config: Path | None = None, command: str | None = None) -> Iterator[Settings]:
    """The settings for one command; ``--config FILE`` reaches child processes as $CITYSCORE_CONFIG
    (and ``LENIENT_SECTIONS`` of the command as $CITYSCORE_LENIENT_SECTIONS, the report's kernel too)."""
    if config is not None and not config.is_file():
        msg = f"--config {config}: no such file; give the path of a cityscore.toml (`cityscore new DIR` makes one)"
        raise ConfigError(msg)
    with (
        environment(CONFIG_ENV, str(config.resolve()) if config else None),
        environment(LENIENT_ENV, LENIENT_SECTIONS.get(command or "")),
    ):
        yield load_settings()


# Sections whose errors a command notes and goes on without: the morning run still makes its report
# when [mail] or [webhook] is wrong, and names the problem (``Settings.problems``).
LENIENT_SECTIONS = {"daily": "mail,webhook"}


def add_score_options(parser: argparse.ArgumentParser) -> None:
    """``--cap`` and ``--bands``, the scoring options ``score`` and ``report`` share (their defaults
    come from the city's settings: see ``SETTING_OPTIONS``)."""
    parser.add_argument(
        "--cap", type=float, metavar="X", help="cap each metric's score at X (default: no cap)"
    )
    parser.add_argument(
        "--bands",
        metavar="MEETING,NEAR",
        help="status bands (default 1.0,0.9, or cityscore.toml's)",
    )


def defer_defaults(commands: argparse._SubParsersAction) -> None:
    """Make the options the settings can give default to None, so ``apply_settings`` sees a flag."""
    for command, options in SETTING_OPTIONS.items():
        if command in commands.choices:
            commands.choices[command].set_defaults(**dict.fromkeys(options))


def apply_settings(args: argparse.Namespace, settings: Settings) -> argparse.Namespace:
    """Fill every option the user did not give from ``settings`` (the environment, then the file)."""
    if getattr(args, "db", None) is None:
        args.db = settings.database
    values = {"bands_text": f"{settings.bands.meeting},{settings.bands.near}"}
    for dest, name in SETTING_OPTIONS.get(args.command, {}).items():
        if getattr(args, dest, None) is None:
            setattr(args, dest, values[name] if name in values else getattr(settings, name))
    return args


# --- the import action of metrics, targets and values ---------------------------------------------


def add_import_action(
    parser: argparse.ArgumentParser, noun: str
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """``cityscore NOUN import FILE`` with ``--problems`` and ``--dry-run``; ``--date-format`` and
    ``--add-areas`` for values and targets, ``--format`` for values and metrics. Returns the
    actions, for a command with more than ``import``."""
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    importer = actions.add_parser(
        "import",
        help=f"validate and import {'an' if noun == 'areas' else 'a'} {noun} CSV file (or "
        ".xlsx/.ods workbook: its first sheet)",
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
        add_areas_option(importer)
    if noun in ("values", "metrics"):
        importer.add_argument(
            "--format",
            dest="fmt",
            choices=["auto", "kit", "boston", "json"],
            default="auto",
            help="kit CSV, Boston toolkit CSV or JSON fixture (default: detect)",
        )
    return actions


def add_areas_option(parser: argparse.ArgumentParser) -> None:
    """``--add-areas``: areas not in the city's area catalog are added to it, not refused."""
    parser.add_argument(
        "--add-areas",
        action="store_true",
        help="add areas that are not in the area catalog (areas.csv) instead of refusing them; "
        "the import says which it added",
    )


def date_format(text: str) -> str:
    """A strftime format for ``--date-format`` that can write and read back a date (argparse type)."""
    day = dt.datetime(2026, 12, 31, tzinfo=dt.UTC)  # aware: %z (an offset) reads back
    try:
        ok = dt.datetime.strptime(day.strftime(text), text).date() == day.date()
    except ValueError as exc:
        bad = re.match(r"'(.*?)' is a bad directive", str(exc))
        why = f"%{bad.group(1)} is not a date code" if bad else "it cannot read back a date"
        msg = f"{text!r} is not a date format ({terminal_text(why)}); use codes such as %d/%m/%Y or %Y-%m-%d"
        raise argparse.ArgumentTypeError(msg) from None
    if not ok:
        msg = f"{text!r} does not give the day, month and year; use codes such as %d/%m/%Y"
        raise argparse.ArgumentTypeError(msg)
    return text


# --- terminal text ---------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


# Bidi overrides, embeddings, isolates and marks: one reverses the rest of a terminal line (a name
# stored by an older kit, which did not refuse them, could make 0.67 read 76.0).
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_text(text: str) -> str:
    """``text`` with control characters (terminal escapes, NUL, CR) shown as ``\\xNN`` and bidi
    controls as ``\\uNNNN``; newlines and tabs kept, so a message of several lines prints as lines
    (``core.errors.printable`` escapes them)."""
    text = _BIDI.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)
