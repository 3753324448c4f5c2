"""``cityscore export values|scores``: the stored values as values.csv, or scores as CSV."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cityscore.core.dates import date_argument

if TYPE_CHECKING:
    from cityscore.kit import Kit

# io.export.LAYOUTS, named here so that `--help` need not load pandas (a test keeps them equal).
LAYOUTS = ("kit", "boston")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=["values", "scores"], help="what to export")
    parser.add_argument(
        "--out", type=Path, metavar="FILE", help="write to FILE instead of the terminal"
    )
    parser.add_argument(
        "--from", dest="start", type=date_argument, metavar="D1", help="scores: first as-of date"
    )
    parser.add_argument(
        "--to",
        dest="end",
        type=date_argument,
        metavar="D2",
        help="scores: last as-of date (default: the latest date most metrics have data for)",
    )
    parser.add_argument(
        "--layout", choices=LAYOUTS, default="kit", help="scores: kit columns or Boston's open data"
    )


def run(kit: Kit, args: argparse.Namespace) -> int:
    from cityscore.io.export import values_chunks, write_values

    if args.what == "values":  # streamed: a 2,000-metric city's values never one string
        observations = kit.observations(areas=True, with_source=True)
        if args.out is None:
            sys.stdout.flush()
            for chunk in values_chunks(observations):
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
        else:
            print(f"wrote {write_values(observations, args.out)} rows to {args.out}")
        return 0
    text = kit.export_scores(args.out, start=args.start, end=args.end, layout=args.layout)
    if args.out is None:
        sys.stdout.write(text)
    else:
        rows = sum(1 for _ in csv.reader(io.StringIO(text))) - 1
        print(f"wrote {rows} rows to {args.out}")
    return 0
