"""``cityscore history``: the import batches, or every version of one metric's value on a date."""

from __future__ import annotations

import argparse
import datetime as dt
import numbers
from collections.abc import Callable
from typing import TYPE_CHECKING

from cityscore.cli.options import terminal_text
from cityscore.core.dates import date_argument
from cityscore.core.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from cityscore.kit import Kit

BATCH_HEADERS = {
    "id": "batch",
    "kind": "kind",
    "source": "source",
    "created_at": "imported (UTC)",
    "inserted": "inserted",
    "updated": "updated",
    "unchanged": "unchanged",
    "undone_at": "undone (UTC)",
}
HISTORY_HEADERS = {
    "status": "version",
    "value": "value",
    "numerator": "numerator",
    "denominator": "denominator",
    "source": "source",
    "batch_id": "batch",
    "written_at": "written (UTC)",
    "superseded_at": "replaced (UTC)",
    "superseded_by": "by batch",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--metric", help="metric name (with --date)")
    parser.add_argument(
        "--date", type=date_argument, metavar="D", help="the day whose versions to show"
    )


def run(kit: Kit, args: argparse.Namespace) -> int:
    if bool(args.metric) != bool(args.date):
        msg = (
            "history --metric NAME --date D shows every version of one value; give both "
            "(or neither, to list the import batches)"
        )
        raise ConfigError(msg)
    from cityscore.io.export import number_text

    if args.metric:
        print(text_table(kit.history(args.metric, args.date), HISTORY_HEADERS, number_text), end="")
    else:
        print(text_table(kit.batches(), BATCH_HEADERS, number_text), end="")
    return 0


def text_table(
    frame: pd.DataFrame, headers: dict[str, str], number_text: Callable[[object], str]
) -> str:
    """``frame``'s columns named in ``headers`` as aligned text: numbers right, text left, blanks for none."""
    columns = [c for c in headers if c in frame.columns]
    if frame.empty:
        return "(none)\n"
    # None for every missing cell (None, NaN, NaT, NA), whatever the column's type.
    values = [
        [None if missing else v for v, missing in zip(frame[c], frame[c].isna(), strict=True)]
        for c in columns
    ]
    cells = [[_cell_text(v, number_text) for v in column] for column in values]
    numeric = [all(_is_number(v) for v in column if v is not None) for column in values]
    widths = [max(len(headers[c]), *map(len, col)) for c, col in zip(columns, cells, strict=True)]

    def line(texts: list[str]) -> str:
        parts = [
            t.rjust(w) if right else t.ljust(w)
            for t, w, right in zip(texts, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rows = [line([headers[c] for c in columns])]
    rows += [line([col[i] for col in cells]) for i in range(len(frame))]
    return "\n".join(rows) + "\n"


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _cell_text(value: object, number_text: Callable[[object], str]) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if _is_number(value):
        return number_text(value)
    return terminal_text(str(value)).replace("\n", "\\n")
