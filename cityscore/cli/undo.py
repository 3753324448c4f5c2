"""``cityscore undo BATCH``: revert a whole import batch."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cityscore.kit import Kit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("batch", type=int, help="batch id, as `cityscore history` lists them")


def run(kit: Kit, args: argparse.Namespace) -> int:
    print(kit.undo(args.batch))
    return 0
