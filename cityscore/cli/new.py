"""``cityscore new DIR``: make a city folder (the folder itself is ``apps.city``'s job)."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from cityscore.apps.city import city_name, new_city


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "folder", type=Path, metavar="DIR", help="the new city folder (new or empty)"
    )
    parser.add_argument(
        "--city", dest="city_name", metavar="NAME", help="the city's name (default: from DIR)"
    )
    parser.set_defaults(needs_kit=False)


def run(_kit: object, args: argparse.Namespace) -> int:
    folder = new_city(args.folder, args.city_name)
    print(f"made the city folder {folder} for {city_name(folder, args.city_name)}")
    print(
        f"next: cd {shlex.quote(str(folder))} and follow README.md (cityscore demo, then cityscore report)"
    )
    print(
        f"every morning: `cityscore daily`; schedule it with {folder / 'schedule'} (cron or systemd)"
    )
    return 0
