"""The explorer's HTML: tables, charts as accessible figures, the legend, the live message line.

A chart is drawn as inline SVG (no scripts, no network) inside a figure whose caption gives its
headline numbers and whose "Data behind the chart" table gives every drawn row.
"""

from __future__ import annotations

import html
import re
from itertools import count

import pandas as pd
import vl_convert

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.pages import display

# Decimals per column in the explorer's tables (2 unless named: contributions are small, so 3).
PLACES = {"contribution": 3, "percentile": 1}
TABLE_ROWS = 60  # rows shown in a tab's table; the CSV download has every row
MORE_ROWS = "{n} more {rows} in the CSV download (Prepare CSV)."
SCORED = [s for s in display.STATUSES if s != "no score"]
_ids = count(1)


def legend_html(bands: Bands = DEFAULT_BANDS, cap: float | None = None) -> str:
    """The statuses with the band edges and the cap the scores follow, as the report's legend."""
    near, meeting = display.status_html("near"), display.status_html("meeting")
    below, none = display.status_html("below"), display.status_html("no score")
    stale = display.status_html("stale")
    capped = f"each metric's score is capped at {cap}" if cap else "scores are not capped"
    return (
        f'<p class="cityscore-legend">Status: {meeting} (score {bands.meeting} or more) · {near} '
        f"({bands.near} or more) · {below} (under {bands.near}) · {stale} (no recent data: its "
        f"score is kept but left out of the CityScore) · {none}; {capped}.</p>"
    )


def view_table_html(
    frame: pd.DataFrame, caption: str, max_rows: int = TABLE_ROWS, bands: Bands = DEFAULT_BANDS
) -> str:
    """A view's table: the kit's display step (``display.table_html``) with the explorer's decimals
    and note on the rows left out: escaped, captioned, scores half-to-even (never rounded across an
    edge of ``bands``), a status as symbol and word (also ``<period> status`` columns).
    """
    columns = [display.Column(str(c), fmt=_format(str(c))) for c in frame.columns]
    return display.table_html(
        frame,
        columns,
        caption=caption,
        max_rows=max_rows,
        more=MORE_ROWS,
        places=PLACES,
        bands=bands,
    )


# Columns of values and targets: numbers in the metric's unit, not scores (no band-edge decimals).
QUANTITIES = ("value", "target")


def _format(column: str) -> str | None:
    if column.endswith("status"):
        return "status"
    return "quantity" if column in QUANTITIES else None


def chart_svg(chart: object, label: str = "") -> str:
    """An Altair chart as inline SVG: no scripts and no network, so it draws anywhere.

    With ``label`` the drawing is one image named ``label`` for screen readers (Vega's per-mark
    roles are dropped: the figure's caption and data table carry the content instead).
    """
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


def chart_figure(
    chart: object, name: str, description: str, data: pd.DataFrame, bands: Bands = DEFAULT_BANDS
) -> str:
    """``chart`` as an SVG image named ``name``, with ``description`` and every row of ``data``."""
    table = view_table_html(data, max_rows=len(data), caption=name, bands=bands)
    return figure_html(chart_svg(chart, name), description, table, len(data), name)


def live_message_html(text: str, raw: bool = False) -> str:
    """A message in a live region (``role="status"``), so a screen reader announces it when it
    changes; ``text`` is escaped unless ``raw``."""
    body = text if raw else html.escape(text)
    return f'<p role="status">{body}</p>'
