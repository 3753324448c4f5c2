"""``cityscore sync``: pull daily values from the SQL sources that sources.yml lists."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from cityscore.cli.options import add_areas_option
from cityscore.core.dates import date_argument

if TYPE_CHECKING:
    from cityscore.kit import Kit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        default="sources.yml",
        type=Path,
        help="sync configuration (default sources.yml)",
    )
    parser.add_argument("--metric", action="append", help="sync only this metric (repeatable)")
    parser.add_argument(
        "--lookback",
        type=days,
        metavar="DAYS",
        help="re-read this many stored days (late corrections)",
    )
    parser.add_argument(
        "--end", type=date_argument, metavar="DATE", help="last day to read (default: yesterday)"
    )
    parser.add_argument(
        "--test", action="store_true", help="only test the connection to each source"
    )
    add_areas_option(parser)


def days(text: str) -> int:
    """A number of days, 0 or more (argparse type)."""
    if not text.strip().isdigit():
        msg = f"{text!r} is not a number of days; give a whole number >= 0, e.g. 7"
        raise argparse.ArgumentTypeError(msg)
    return int(text)


def run(kit: Kit, args: argparse.Namespace) -> int:
    from cityscore.io.sources import load_config

    if args.test:
        for source in load_config(args.config).sources.values():
            print(f"{source.name}: {kit.test_connection(source.url, password=source.password)}")
        return 0
    results = kit.sync(
        args.config,
        metrics=args.metric,
        lookback_days=args.lookback,
        end=args.end,
        add_areas=args.add_areas,
    )
    for result in results:
        print(result)
    if not results:
        print("nothing to sync: every metric is up to date")
    return 0
