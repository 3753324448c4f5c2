"""What the explorer's views share: the check of a chosen value, and the HTML they are shown in
(tables, charts as accessible figures, the status line, CSV downloads).

A chart is drawn as inline SVG (no scripts, no network) inside a figure whose caption gives its
headline numbers and whose "Data behind the chart" table gives every drawn row.
"""

from __future__ import annotations

import base64
import html
import re
from itertools import count

import pandas as pd

from . import display
from .errors import ConfigError
from .render import round_half_even, score_text

# Decimals per column in the explorer's tables (2 unless named: contributions are small, so 3).
PLACES = {"contribution": 3, "percentile": 1}
TABLE_ROWS = 60  # rows shown in a tab's table; the CSV download has every row
MORE_ROWS = "{n} more {rows} in the CSV download (Prepare CSV)."
SCORED = [s for s in display.STATUSES if s != "no score"]
_ids = count(1)


def check_choice(label: str, value: str, allowed: list[str]) -> None:
    """A clear error for a value that is not one of the allowed choices."""
    if value not in allowed:
        shown = ", ".join(allowed[:10]) + (" ..." if len(allowed) > 10 else "")
        msg = f"unknown {label} {value!r}; choose one of: {shown}"
        raise ConfigError(msg)


def table_html(frame: pd.DataFrame, caption: str, max_rows: int = TABLE_ROWS) -> str:
    """The kit's display step (``display.table_html``) with the explorer's decimals: escaped,
    captioned, scores half-to-even, a status as symbol and word (also ``<period> status`` columns).
    """
    columns = [
        display.Column(str(c), fmt="status" if str(c).endswith("status") else None)
        for c in frame.columns
    ]
    return display.table_html(
        frame, columns, caption=caption, max_rows=max_rows, more=MORE_ROWS, places=PLACES
    )


def chart_svg(chart: object, label: str = "") -> str:
    """An Altair chart as inline SVG: no scripts and no network, so it draws anywhere.

    With ``label`` the drawing is one image named ``label`` for screen readers (Vega's per-mark
    roles are dropped: the figure's caption and data table carry the content instead).
    """
    import vl_convert

    svg = vl_convert.vegalite_to_svg(chart.to_dict())  # type: ignore[attr-defined]
    if not label:
        return svg
    svg = re.sub(r'\s(?:role|aria-roledescription|aria-label)="[^"]*"', "", svg)
    name = html.escape(label, quote=True)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{name}" focusable="false" ', 1)


def figure_html(svg: str, description: str, data: str, rows: int, name: str) -> str:
    """A chart with its text alternative: a caption with the headline numbers, then the data behind
    it as a table under a disclosure (keyboard: Tab to it, Enter opens it; the table scrolls in a
    focusable region so arrow keys reach every row).
    """
    ident = f"cityscore-figure-{next(_ids)}"
    region = html.escape(f"Data behind the chart: {name}", quote=True)
    return (
        f'<figure class="cityscore-figure" aria-labelledby="{ident}">'
        f'<figcaption id="{ident}" class="cityscore-description">{html.escape(description)}</figcaption>'
        f"{svg}<details><summary>Data behind the chart ({rows} rows)</summary>"
        f'<div class="cityscore-scroll" role="region" tabindex="0" aria-label="{region}">{data}</div>'
        "</details></figure>"
    )


def chart_figure(chart: object, name: str, description: str, data: pd.DataFrame) -> str:
    """``chart`` as an SVG image named ``name``, with ``description`` and every row of ``data``."""
    table = table_html(data, max_rows=len(data), caption=name)
    return figure_html(chart_svg(chart, name), description, table, len(data), name)


def status_html(text: str, raw: bool = False) -> str:
    """A message in a live region, so a screen reader announces it when it changes."""
    body = text if raw else html.escape(text)
    return f'<p role="status">{body}</p>'


def fmt_number(value: object, places: int = 2) -> str:
    """A number as the explorer's texts write it: rounded half to even."""
    return round_half_even(value, places)  # type: ignore[arg-type]


def fmt_score(value: object) -> str:
    """A score as every page writes it (``render.score_text``): never rounded into another band."""
    return score_text(value)  # type: ignore[arg-type]


def fmt_day(value: object) -> str:
    """A date as ISO text."""
    return pd.Timestamp(value).strftime("%Y-%m-%d")  # type: ignore[arg-type]


def selection_csv(frame: pd.DataFrame) -> str:
    """The frame as CSV at full precision, dates as ISO text."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d")
    return out.to_csv(index=False, lineterminator="\n")


def download_link(csv_text: str, filename: str) -> str:
    """An HTML link that saves ``csv_text`` as ``filename`` without a server round trip."""
    payload = base64.b64encode(csv_text.encode("utf-8")).decode("ascii")
    name = html.escape(filename, quote=True)
    rows = max(csv_text.count("\n") - 1, 0)
    return f'<a download="{name}" href="data:text/csv;charset=utf-8;base64,{payload}">Save {name} ({rows} rows)</a>'
