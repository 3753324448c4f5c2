"""``cityscore targets import FILE``: validate and import target changes."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cityscore.cli.options import add_import_action

if TYPE_CHECKING:
    from cityscore.kit import Kit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_import_action(parser, "targets")


def run(kit: Kit, args: argparse.Namespace) -> int:
    print(
        kit.import_targets(
            args.file, date_format=args.date_format, dry_run=args.dry_run, add_areas=args.add_areas
        )
    )
    return 0
