"""``cityscore areas import FILE | list | export``: the city's area catalog (areas.csv)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from cityscore.cli.options import add_import_action, terminal_text

if TYPE_CHECKING:
    from cityscore.kit import Kit

HEADERS = {
    "name": "area",
    "code": "code",
    "population": "population",
    "geometry": "map key",
    "parent": "parent",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = add_import_action(parser, "areas")
    actions.add_parser(
        "list", help="list the area catalog: name, code, population, map key, parent"
    )
    exporter = actions.add_parser("export", help="the area catalog as areas.csv")
    exporter.add_argument(
        "--out", type=Path, metavar="FILE", help="write to FILE (default: print it)"
    )


def run(kit: Kit, args: argparse.Namespace) -> int:
    if args.action == "import":
        print(kit.import_areas(args.file, dry_run=args.dry_run))
    elif args.action == "export":
        text = kit.export_areas(args.out)
        print(f"wrote {args.out}" if args.out else text, end="\n" if args.out else "")
    else:
        print(terminal_text(_listing(kit)))
    return 0


def _listing(kit: Kit) -> str:
    """The catalog as a plain table, or a line saying it is empty and how to fill it."""
    catalog = kit.area_catalog()
    if catalog.empty:
        return (
            "the area catalog is empty: import the city's areas.csv (`cityscore areas import "
            "areas.csv`), or values and targets that name areas add theirs"
        )
    shown = catalog.assign(
        population=[
            "" if p != p else f"{p:,.0f}" if float(p).is_integer() else f"{p:,}"
            for p in catalog["population"]
        ]
    ).rename(columns=HEADERS)
    return shown.to_string(index=False)
