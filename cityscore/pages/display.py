"""One display step for every HTML table the kit shows (the daily report's and the explorer's).

Computation never rounds; this module does, once, the same way everywhere: numbers half-to-even
with the extra decimals that keep a score on its side of a band edge (``render.score_text``),
dates as ``YYYY-MM-DD``, a missing value as ``—``, and a status as a symbol *and* a word (never
colour alone). Every cell is HTML-escaped. Tables carry a caption and
``scope``'d headers so screen readers can announce each cell with its row and column.

    from cityscore.pages import display
    display.table_html(frame, {"metric": "Metric", "score": "Week score", "status": "Status"},
                       caption="Needs follow-up", max_rows=20)
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.vocabulary import CITYWIDE
from cityscore.pages.render import (
    NO_SCORE,
    is_capped,
    quantity_text,
    round_half_even,
    score_text,
    score_texts,
    value_target_text,
)

# Status words and the symbol shown before each, so a status reads without colour.
# A stale metric (its data stopped coming) keeps its score, shown greyed and left out of the CityScore.
STATUS_SYMBOLS = {"meeting": "✓", "near": "≈", "below": "✗", "stale": "◷", "no score": "–"}
STATUSES = tuple(STATUS_SYMBOLS)
DATE_FORMAT = "%Y-%m-%d"
# "number" is a score (more decimals where 2 would cross a band edge); "decimal" is any other
# number, always ``places`` decimals (a gap between areas); "quantity" a value or target as people
# write it (``render.quantity_text``: 1,250 or 6.5 or 0.85).
FORMATS = ("text", "number", "decimal", "quantity", "int", "percent", "date", "status")
# Formats whose cells are right-aligned and sort numerically.
NUMERIC_FORMATS = ("number", "decimal", "quantity", "int", "percent")


@dataclass(frozen=True)
class Column:
    """How one frame column is shown: its heading, its format and (for numbers) its decimals.

    ``fmt`` is one of ``FORMATS``; ``None`` picks one from the column's name and values (see
    ``infer_format``).
    """

    field: str
    heading: str = ""
    fmt: str | None = None
    places: int = 2

    def title(self) -> str:
        return self.heading or self.field.replace("_", " ").capitalize()


def escape(value: Any) -> str:
    """HTML-escape any value's text, quotes included (safe in text and in attributes)."""
    return html.escape(str(value), quote=True)


def status_word(status: Any) -> str:
    """``meeting``, ``near``, ``below``, ``stale`` or ``no score`` (anything else, e.g. NaN, is no
    score)."""
    return status if isinstance(status, str) and status in STATUS_SYMBOLS else "no score"


def status_class(status: Any) -> str:
    """The CSS class for a status: ``meeting``, ``near``, ``below``, ``stale`` or ``none``."""
    word = status_word(status)
    return "none" if word == "no score" else word


def status_text(status: Any) -> str:
    """A status as plain text with its symbol, e.g. ``✗ below``."""
    word = status_word(status)
    return f"{STATUS_SYMBOLS[word]} {word}"


def status_html(status: Any) -> str:
    """A status as a span: the symbol (hidden from screen readers, which read the word) and the word."""
    word = status_word(status)
    return (
        f'<span class="status {status_class(word)}"><span aria-hidden="true">'
        f"{STATUS_SYMBOLS[word]}</span> {escape(word)}</span>"
    )


def format_date(value: Any) -> str:
    """A date as ``YYYY-MM-DD``; ``—`` when missing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return NO_SCORE
    if isinstance(value, str):
        return value
    return pd.Timestamp(value).strftime(DATE_FORMAT)


def format_value(value: Any, fmt: str, places: int = 2, bands: Bands = DEFAULT_BANDS) -> str:
    """``value`` as display text (not escaped) in format ``fmt``; ``—`` when missing.

    A number shows as a score (``render.score_text``): ``places`` decimals, more only where rounding
    would carry it onto or across an edge of ``bands`` it has not reached.
    """
    if fmt == "status":
        return status_text(value)
    if fmt == "date":
        return format_date(value)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return NO_SCORE
    if fmt == "number":
        return score_text(float(value), bands, places)
    if fmt == "decimal":
        return round_half_even(float(value), places)
    if fmt == "quantity":
        return quantity_text(value)
    if fmt == "int":
        return str(int(value))
    if fmt == "percent":
        return round_half_even(float(value) * 100, places) + "%"
    return str(value)


def infer_format(name: str, values: pd.Series) -> str:
    """A column's format from its name and dtype: status, date, int, number or text."""
    if name == "status":
        return "status"
    if pd.api.types.is_datetime64_any_dtype(values) or (
        values.dtype == object
        and len(values.dropna())
        and all(isinstance(v, (dt.date, pd.Timestamp)) for v in values.dropna())
    ):
        return "date"
    if pd.api.types.is_bool_dtype(values):
        return "text"
    if pd.api.types.is_integer_dtype(values):
        return "int"
    if pd.api.types.is_numeric_dtype(values):
        return "number"
    return "text"


def resolve_columns(
    frame: pd.DataFrame,
    columns: Mapping[str, str] | Sequence[Column | str] | None = None,
    places: Mapping[str, int] | None = None,
) -> list[Column]:
    """Columns to show: a mapping field -> heading, ``Column``s, field names, or every column."""
    places = places or {}
    if columns is None:
        columns = list(frame.columns)
    if isinstance(columns, Mapping):
        columns = [Column(str(field), heading) for field, heading in columns.items()]
    resolved = []
    for column in columns:
        col = column if isinstance(column, Column) else Column(str(column))
        if col.field not in frame.columns:
            msg = f"table column {col.field!r} is not in the frame; it has {list(frame.columns)}"
            raise KeyError(msg)
        fmt = col.fmt or infer_format(col.field, frame[col.field])
        if fmt not in FORMATS:
            msg = f"unknown column format {fmt!r} for {col.field!r}; choose from {list(FORMATS)}"
            raise ValueError(msg)
        resolved.append(Column(col.field, col.title(), fmt, places.get(col.field, col.places)))
    return resolved


_NUM = ' class="num"'


def _cell(value: Any, column: Column, header: bool, bands: Bands = DEFAULT_BANDS) -> str:
    if column.fmt == "status":
        content = status_html(value)
        css = f"status-cell {status_class(value)}"
    else:
        content = escape(format_value(value, column.fmt or "text", column.places, bands))
        css = "num" if column.fmt in NUMERIC_FORMATS else ""
    attrs = f' class="{css}"' if css else ""
    if header:
        return f'<th scope="row"{attrs}>{content}</th>'
    return f"<td{attrs}>{content}</td>"


def table_html(
    frame: pd.DataFrame,
    columns: Mapping[str, str] | Sequence[Column | str] | None = None,
    *,
    caption: str,
    empty: str = "Nothing to show.",
    max_rows: int | None = None,
    more: str = "{n} more {rows} not shown.",
    places: Mapping[str, int] | None = None,
    row_header: bool = True,
    css_class: str = "cityscore-table",
    table_id: str | None = None,
    bands: Bands = DEFAULT_BANDS,
) -> str:
    """An escaped, accessible HTML table of ``frame``.

    Parameters
    ----------
    columns
        Which columns, in order: a mapping field -> heading, ``Column`` objects (to choose a
        format or decimals), or field names; default every column, headed by its name.
    caption
        The table's caption (also its accessible name); shown above an empty table's message too.
    max_rows
        Show at most this many rows, then the note ``more``: ``{n}`` is how many rows were left
        out and ``{rows}`` the word "row" or "rows".
    places
        Decimals per field for numbers (default 2), e.g. ``{"contribution": 3}``.
    row_header
        Make the first column the row's header (``<th scope="row">``), e.g. the metric name.
    bands
        The status bands numbers are shown against (see ``format_value``).
    """
    cols = resolve_columns(frame, columns, places)
    if frame.empty:
        return f'<p class="empty"><b>{escape(caption)}:</b> {escape(empty)}</p>'
    shown = frame if max_rows is None else frame.head(max_rows)
    head = "".join(
        f'<th scope="col"{_NUM if c.fmt in NUMERIC_FORMATS else ""}>{escape(c.title())}</th>'
        for c in cols
    )
    body = "".join(
        "<tr>"
        + "".join(_cell(row[c.field], c, row_header and i == 0, bands) for i, c in enumerate(cols))
        + "</tr>"
        for row in shown.to_dict("records")
    )
    left_out = len(frame) - len(shown)
    words = more.format(n=left_out, rows="row" if left_out == 1 else "rows")
    note = f'<p class="more">{escape(words)}</p>' if left_out > 0 else ""
    ident = f' id="{escape(table_id)}"' if table_id else ""
    return (
        f'<table class="{escape(css_class)}"{ident}><caption>{escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"
    )


def board_cell(text: str, status: Any, note: Any, detail: str = "", capped: str = "") -> str:
    """One board cell: symbol and score ``text`` (``score_texts``), then ``detail`` (the period's
    value and target) and ``capped`` (e.g. "capped at 1.5") on lines of their own; no score: — with
    the reason."""
    word = status_word(status)
    css = status_class(word)
    if word == "no score":
        reason = escape(note) if isinstance(note, str) and note else "no score"
        return (
            f'<td class="cell none" title="{reason}"><span aria-hidden="true">{NO_SCORE}</span>'
            f'<span class="visually-hidden">no score: {reason}</span></td>'
        )
    extra = f'<span class="vt">{escape(detail)}</span>' if detail else ""
    extra += f'<span class="capped">{escape(capped)}</span>' if capped else ""
    return (
        f'<td class="cell {css}"><span class="sym" aria-hidden="true">{STATUS_SYMBOLS[word]}</span>'
        f' {escape(text)}<span class="visually-hidden"> {word}</span>{extra}</td>'
    )


def board_html(
    scores: pd.DataFrame,
    metrics: pd.DataFrame,
    periods: Sequence[str],
    *,
    open_up_to: int = 60,
    bands: Bands = DEFAULT_BANDS,
    cap: float | None = None,
) -> str:
    """The scoreboard as HTML: one collapsible section per category, a table of metrics x periods.

    ``scores`` are one date's score rows (citywide rows are left out). Each cell gives the score
    with its status, and under it the period's value and target in the metric's unit (the
    catalog's ``unit``); a score at ``cap`` is marked "capped at ...". Each section's summary
    counts its metrics by status (of the first period) so a closed section still tells its story;
    sections start open when the city has at most ``open_up_to`` metrics. Rows carry
    ``data-name`` (the lower-case metric name) for the page's search box.
    """
    rows = scores[scores["metric"].astype(str) != CITYWIDE]
    rows = rows.assign(metric=rows["metric"].astype(str), period=rows["period"].astype(str))
    info = metrics.set_index("name")["category"].astype(str)
    categories = rows["metric"].map(info).fillna("Other")
    units = rows["metric"].map(metrics.set_index("name")["unit"]) if "unit" in metrics else None
    details = [
        value_target_text(v, t, u)
        for v, t, u in zip(
            rows["value"] if "value" in rows else [None] * len(rows),
            rows["target"] if "target" in rows else [None] * len(rows),
            units if units is not None else [""] * len(rows),
            strict=True,
        )
    ]
    capped = f"capped at {cap:g}" if cap else ""
    by_metric = {
        (m, p): (text, st, n, d, capped if is_capped(s, cap) else "")
        for m, p, text, st, n, d, s in zip(
            rows["metric"],
            rows["period"],
            score_texts(rows["score"], bands),
            rows["status"],
            rows["note"],
            details,
            rows["score"],
            strict=True,
        )
    }
    names = pd.Series(rows["metric"].unique())
    total = len(names)
    is_open = " open" if total <= open_up_to else ""
    head = '<th scope="col">Metric</th>' + "".join(
        f'<th scope="col">{escape(p.capitalize())}</th>' for p in periods
    )
    first = periods[0] if periods else "day"
    sections = []
    grouped = pd.DataFrame({"metric": rows["metric"], "category": categories}).drop_duplicates()
    for category, group in sorted(grouped.groupby("category"), key=lambda kv: str(kv[0])):
        body = []
        counts = dict.fromkeys(STATUSES, 0)
        for metric in sorted(group["metric"]):
            cells = []
            for period in periods:
                cell = by_metric.get((metric, period), (NO_SCORE, None, "no row", "", ""))
                cells.append(board_cell(*cell))
            counts[status_word(by_metric.get((metric, first), (None, None, ""))[1])] += 1
            body.append(
                f'<tr data-name="{escape(metric.lower())}"><th scope="row">{escape(metric)}</th>'
                + "".join(cells)
                + "</tr>"
            )
        tally = ", ".join(
            f'<span class="status {status_class(s)}"><span aria-hidden="true">{STATUS_SYMBOLS[s]}</span> {n} {s}</span>'
            for s, n in counts.items()
            if n
        )
        n_metrics = len(body)
        sections.append(
            f'<details class="category"{is_open}><summary><span class="cat-name">{escape(category)}</span>'
            f' <span class="cat-count">{n_metrics} metric{"s" if n_metrics != 1 else ""}'
            f" · {escape(first)}: {tally}</span></summary>"
            f'<div class="table-wrap"><table class="board-table"><caption class="visually-hidden">'
            f"{escape(category)}: scores by period</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div></details>"
        )
    legend = " · ".join(
        f'<span class="status {status_class(s)}"><span aria-hidden="true">{STATUS_SYMBOLS[s]}</span> {s}</span>'
        for s in STATUSES
    )
    return (
        f'<div class="board" data-metrics="{total}">'
        '<div class="board-tools" hidden><label for="board-search">Find a metric</label> '
        '<input type="search" id="board-search" autocomplete="off" aria-describedby="board-count">'
        ' <span id="board-count" role="status"></span></div>'
        f'<p class="legend">Status: {legend} (meeting: {bands.meeting} or more; '
        f"near: {bands.near} or more; stale: no recent data, left out of the CityScore). "
        "Under each score: the period's value and its target, in the metric's unit"
        f"{f'; scores are capped at {cap:g}' if cap else ''}. "
        f"{total} metrics in {len(sections)} categories.</p>" + "".join(sections) + "</div>"
    )


__all__ = [
    "DATE_FORMAT",
    "FORMATS",
    "STATUS_SYMBOLS",
    "Column",
    "board_html",
    "escape",
    "format_date",
    "format_value",
    "infer_format",
    "resolve_columns",
    "status_class",
    "status_html",
    "status_text",
    "status_word",
    "table_html",
]
