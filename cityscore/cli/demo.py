"""``cityscore demo``: load the demo city into the database."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cityscore.core.dates import date_argument

if TYPE_CHECKING:
    from cityscore.kit import Kit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--end",
        type=date_argument,
        metavar="DATE",
        help="last day of demo data (default: yesterday)",
    )
    parser.add_argument(
        "--areas",
        action="store_true",
        help="add ten invented neighbourhoods (citywide numbers unchanged); see `score --by area`",
    )


def run(kit: Kit, args: argparse.Namespace) -> int:
    for result in kit.load_demo(args.end, areas=args.areas):
        print(result)
    return 0
