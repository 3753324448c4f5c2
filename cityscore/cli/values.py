"""``cityscore values import FILE``: validate and import daily values."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cityscore.cli.options import add_import_action

if TYPE_CHECKING:
    from cityscore.kit import Kit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_import_action(parser, "values")


def run(kit: Kit, args: argparse.Namespace) -> int:
    result = kit.import_values(
        args.file,
        date_format=args.date_format,
        fmt=args.fmt,
        dry_run=args.dry_run,
        add_areas=args.add_areas,
    )
    print(result)
    return 0
