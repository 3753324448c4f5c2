"""The explorer's CSV downloads: a table as CSV text, a link that saves it, a safe file name."""

from __future__ import annotations

import base64
import html
import re

import pandas as pd

from cityscore.core.csvsafe import safe_frame


def selection_csv(frame: pd.DataFrame) -> str:
    """The frame as CSV at full precision, dates as ISO text, no cell a spreadsheet would run as a
    formula (``core.csvsafe``, as the exports)."""
    out = safe_frame(frame).copy()
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


def area_slug(text: str) -> str:
    """An area's name safe in a file name: letters, digits and dashes."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-") or "area"
