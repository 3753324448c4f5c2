"""What the explorer's views share: the check of a chosen value, and the HTML they are shown in
(tables, charts as accessible figures, the status line, CSV downloads), and the status bands and
score cap it scores with (the city's settings, as the command line and the daily report use them).

A chart is drawn as inline SVG (no scripts, no network) inside a figure whose caption gives its
headline numbers and whose "Data behind the chart" table gives every drawn row.
"""

from __future__ import annotations

import base64
import html
import re
from itertools import count

import pandas as pd

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.errors import ConfigError
from cityscore.core.settings import load_settings
from cityscore.pages import display
from cityscore.pages.render import round_half_even, score_text

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


def scoring(
    bands: Bands | str | None = None, cap: float | None = None
) -> tuple[Bands, float | None]:
    """(bands, cap) to score with: the given ones, else the city's settings (``load_settings()``:
    ``$CITYSCORE_CONFIG``, else ``cityscore.toml`` here or in a folder above, then the environment).

    ``bands`` may be written ``"1.0,0.9"`` (meeting, near); ``cap=0`` scores without a cap whatever
    the city sets (as the report's ``cap`` parameter). A bad file or value is a ``ConfigError``.
    """
    if bands is None or cap is None:
        settings = load_settings()
        bands = settings.bands if bands is None else bands
        cap = settings.cap if cap is None else cap
    if isinstance(bands, str):
        bands = Bands.parse(bands)
    if not isinstance(bands, Bands):
        msg = f"bands must be Bands(meeting, near) or text such as '1.0,0.9'; got {bands!r}"
        raise ConfigError(msg)
    cap = 0.0 if cap is None else cap  # the city sets no cap
    if isinstance(cap, bool) or not isinstance(cap, int | float) or not cap >= 0:
        msg = f"cap must be a number above 0 (e.g. 1.5), or 0 for no cap; got {cap!r}"
        raise ConfigError(msg)
    return bands, float(cap) or None


def legend_html(bands: Bands = DEFAULT_BANDS, cap: float | None = None) -> str:
    """The statuses with the band edges and the cap the scores follow, as the report's legend."""
    near, meeting = display.status_html("near"), display.status_html("meeting")
    below, none = display.status_html("below"), display.status_html("no score")
    capped = f"each metric's score is capped at {cap}" if cap else "scores are not capped"
    return (
        f'<p class="cityscore-legend">Status: {meeting} (score {bands.meeting} or more) · {near} '
        f"({bands.near} or more) · {below} (under {bands.near}) · {none}; {capped}.</p>"
    )


def table_html(
    frame: pd.DataFrame, caption: str, max_rows: int = TABLE_ROWS, bands: Bands = DEFAULT_BANDS
) -> str:
    """The kit's display step (``display.table_html``) with the explorer's decimals: escaped,
    captioned, scores half-to-even (never rounded across an edge of ``bands``), a status as symbol
    and word (also ``<period> status`` columns).
    """
    columns = [
        display.Column(str(c), fmt="status" if str(c).endswith("status") else None)
        for c in frame.columns
    ]
    return display.table_html(
        frame,
        columns,
        caption=caption,
        max_rows=max_rows,
        more=MORE_ROWS,
        places=PLACES,
        bands=bands,
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


def chart_figure(
    chart: object, name: str, description: str, data: pd.DataFrame, bands: Bands = DEFAULT_BANDS
) -> str:
    """``chart`` as an SVG image named ``name``, with ``description`` and every row of ``data``."""
    table = table_html(data, max_rows=len(data), caption=name, bands=bands)
    return figure_html(chart_svg(chart, name), description, table, len(data), name)


def status_html(text: str, raw: bool = False) -> str:
    """A message in a live region, so a screen reader announces it when it changes."""
    body = text if raw else html.escape(text)
    return f'<p role="status">{body}</p>'


def fmt_number(value: object, places: int = 2) -> str:
    """A number as the explorer's texts write it: rounded half to even."""
    return round_half_even(value, places)  # type: ignore[arg-type]


def fmt_score(value: object, bands: Bands = DEFAULT_BANDS) -> str:
    """A score as every page writes it (``render.score_text``): never rounded into another band."""
    return score_text(value, bands)  # type: ignore[arg-type]


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
