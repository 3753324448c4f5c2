"""``cityscore score``: scores for a date or a range, as a terminal table, CSV, JSON or Parquet."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cityscore.cli.options import add_score_options, terminal_text
from cityscore.core.bands import Bands
from cityscore.core.dates import date_argument
from cityscore.core.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from cityscore.kit import Kit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--date",
        type=date_argument,
        metavar="D",
        help="as-of date (default: the latest date most metrics have data for)",
    )
    parser.add_argument(
        "--from", dest="start", type=date_argument, metavar="D1", help="first as-of date of a range"
    )
    parser.add_argument(
        "--to", dest="end", type=date_argument, metavar="D2", help="last as-of date of a range"
    )
    parser.add_argument(
        "--format",
        choices=["table", "csv", "json", "parquet"],
        default="table",
        help="table (terminal), csv, json, or parquet (needs --out); see README, file formats",
    )
    parser.add_argument(
        "--out", type=Path, metavar="FILE", help="write to FILE instead of the terminal"
    )
    add_score_options(parser)
    parser.add_argument(
        "--by",
        choices=["area"],
        help="also score each area (neighbourhood): adds an area column; citywide rows have none",
    )


def run(kit: Kit, args: argparse.Namespace) -> int:
    from cityscore.engine.as_of import day_text
    from cityscore.io import export
    from cityscore.io.score_files import write_scores
    from cityscore.pages.render import scores_json

    if args.format == "parquet" and not args.out:
        msg = "--format parquet writes a binary file: give it one with --out FILE.parquet"
        raise ConfigError(msg)
    bands = Bands.parse(args.bands)
    note = why = ""
    options = {"bands": bands, "cap": args.cap, "by": args.by}
    if args.start or args.end:
        scores = kit.scores(start=args.start, end=args.end, **options)
    elif args.date:
        scores = kit.scores(args.date, **options)
        why = f"{day_text(args.date)}: the date asked for"
    else:
        choice = kit.as_of_choice()  # the default date, why, and what its board leaves out
        scores = kit.scores(choice.as_of, **options)
        why, note = choice.why(), choice.note()
    if args.out and args.format != "table":  # streamed to the file, never one string in memory
        if args.format == "csv":
            scores = export.safe_text_columns(scores, ["metric", "status", "note"])
        write_scores(scores, args.out, args.format)
        print(f"wrote {len(scores)} score rows to {args.out}")
        return 0
    if args.format == "table":
        text = area_tables(scores, kit.metrics(), bands, args.cap, terminal_text(why))
        text += f"\n{terminal_text(note)}\n" if note else ""
    elif args.format == "csv":
        text = export.scores_csv(scores, kit.metrics())
    else:
        text = scores_json(scores)
    if args.out:
        export.write(text, args.out)
        print(f"wrote {len(scores)} score rows to {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def area_tables(
    scores: pd.DataFrame,
    metrics: pd.DataFrame,
    bands: Bands,
    cap: float | None = None,
    why: str = "",
) -> str:
    """The terminal scoreboard (``pages.terminal.board_text``); by area, one titled board per area
    after the citywide one."""
    from cityscore.pages.terminal import board_text

    metrics = metrics.assign(
        name=metrics["name"].map(terminal_text),
        category=metrics["category"].astype(str).map(terminal_text),
        unit=metrics["unit"].fillna("").astype(str).map(terminal_text),
    )
    if "area" not in scores:
        shown = scores.assign(metric=scores["metric"].astype(str).map(terminal_text))
        return board_text(shown, metrics, bands, cap, why)
    blocks = []
    for area, rows in scores.groupby("area", observed=True, sort=False):
        title = f"== {terminal_text(area)} ==" if area else "== Citywide =="
        shown = rows.drop(columns="area").assign(
            metric=rows["metric"].astype(str).map(terminal_text)
        )
        blocks.append(f"{title}\n{board_text(shown, metrics, bands, cap, why if not area else '')}")
    return "\n".join(blocks)
