"""The archive of published reports: each date folder's summary, and the index.html and latest.html made from them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cityscore.core.files import write_atomically
from cityscore.pages.report_index import index_html

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def archive(out: Path) -> list[dict[str, Any]]:
    """Every published report in ``out`` (newest first), from each date folder's summary.json."""
    entries = []
    for folder in sorted(out.iterdir(), reverse=True) if out.exists() else []:
        summary = folder / "summary.json"
        if (
            _DAY.match(folder.name)
            and summary.exists()
            and (folder / f"cityscore-{folder.name}.html").exists()
        ):
            entries.append(json.loads(summary.read_text(encoding="utf-8")))
    return entries


def update_archive(out: Path) -> None:
    """Rewrite index.html and latest.html (the newest date's report) from what is on disk."""
    entries = archive(out)
    if entries:
        newest = entries[0]["as_of"]
        page = (out / newest / f"cityscore-{newest}.html").read_text(encoding="utf-8")
        write_atomically(out / "latest.html", page)
    write_atomically(out / "index.html", index_html(entries))
