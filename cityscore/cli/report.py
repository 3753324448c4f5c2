"""``cityscore report``: run the daily report notebook and publish it as one offline HTML file."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cityscore.cli.options import add_score_options
from cityscore.core.dates import date_argument
from cityscore.core.settings import DB_ENV, REPORTS_DIR, database_url

if TYPE_CHECKING:
    from cityscore.kit import Kit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--date",
        type=date_argument,
        metavar="D",
        help="report date (default: the latest date most metrics have data for)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPORTS_DIR,
        metavar="DIR",
        help="reports folder (default reports/)",
    )
    parser.add_argument(
        "--city", metavar="NAME", help="city name shown in the report (default: the notebook's)"
    )
    add_score_options(parser)
    parser.add_argument(
        "--areas-map",
        type=Path,
        metavar="FILE",
        help="the city's areas.geojson, for the map of its neighbourhoods (each feature's "
        "properties.name is an area; default: cityscore.toml's areas_map, the demo's own map "
        "for the demo, else a table)",
    )


def run(kit: Kit, args: argparse.Namespace) -> int:
    """Execute, convert and publish; a failure names the cell and keeps the failed notebook."""
    from cityscore.apps.report.publish import ReportError, output_secrets, publish
    from cityscore.pages.areas import load_geojson

    out = Path(args.out)
    # The date is checked here, before a kernel starts: a wrong one fails in a second, not in a cell.
    day = kit.check_as_of(args.date) if args.date else kit.default_as_of()
    parameters: dict[str, Any] = {"report_date": day.isoformat()}
    if args.city:
        parameters["city_name"] = args.city
    if args.bands:
        parameters["bands"] = args.bands
    if args.cap:
        parameters["cap"] = args.cap
    if getattr(args, "areas_map", None):
        load_geojson(args.areas_map)  # a bad or missing file fails here, in one line
        parameters["areas_map"] = str(Path(args.areas_map).resolve())
    db = args.db or os.environ.get(DB_ENV)
    try:
        path = publish(out, parameters, db=db, secrets=output_secrets(database_url(db)))
    except ReportError as exc:
        print(f"cityscore: report failed: {exc}", file=sys.stderr)
        return 1
    summary = json.loads((path.parent / "summary.json").read_text(encoding="utf-8"))
    print(f"CityScore {summary['as_of']}: {summary['cityscore']} ({summary['status']})")
    print(f"wrote {path}")
    print(f"updated {out / 'latest.html'} and {out / 'index.html'}")
    return 0
