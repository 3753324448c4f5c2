"""``cityscore metrics import FILE``: validate and import metric definitions."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cityscore.cli.options import add_import_action

if TYPE_CHECKING:
    from cityscore.kit import Kit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_import_action(parser, "metrics")


def run(kit: Kit, args: argparse.Namespace) -> int:
    print(kit.import_metrics(args.file, fmt=args.fmt, dry_run=args.dry_run))
    return 0
