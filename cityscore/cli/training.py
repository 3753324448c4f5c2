"""``cityscore training DIR``: a course folder (the folder itself is ``apps.course``'s job)."""

from __future__ import annotations

import argparse
from pathlib import Path

from cityscore.core.dates import date_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, metavar="DIR", help="the course folder (new or empty)")
    parser.add_argument(
        "--end",
        type=date_argument,
        metavar="DATE",
        help="last day of the course's demo data (default: the day the lessons' numbers are for)",
    )
    parser.add_argument(
        "--solutions",
        action="store_true",
        help="also copy solutions.yml (for the trainer; leave it out of learners' folders)",
    )
    parser.set_defaults(needs_kit=False)


def run(_kit: object, args: argparse.Namespace) -> int:
    from cityscore.apps.course import COURSE_END, lessons, make_course  # the Kit, pandas

    folder = make_course(args.folder, args.end or COURSE_END, args.solutions)
    print(f"copied {len(lessons())} lessons and the course database to {folder}")
    print(f"start the course: cd {folder} && jupyter lab")
    return 0
