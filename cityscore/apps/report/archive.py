"""The archive of published reports: each date folder's summary, and the index.html and latest.html made from them.

A date folder whose summary cannot be read (damaged, hand-edited, written by an older kit with a
non-finite number) is still listed, by its date, with no CityScore: one bad entry never stops a
later run from rebuilding the index. Every summary written is strict JSON (``summary_json``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from cityscore.pages.report_index import index_html

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NO_SCORE = "—"


def finite(value: Any) -> Any:
    """``value`` (JSON-like lists and dicts) with every non-finite number replaced by ``None``."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


def summary_json(summary: dict[str, Any]) -> str:
    """A report's summary as strict JSON: no ``NaN`` or ``Infinity`` (they are not JSON)."""
    return json.dumps(finite(summary), indent=1, allow_nan=False)


def read_entry(folder: Path) -> dict[str, Any]:
    """One date folder's index entry: its summary, checked; a bare entry (the date, no CityScore)
    when the summary is damaged or not what the kit writes."""
    day = folder.name
    bare: dict[str, Any] = {
        "as_of": day,
        "city_name": "",
        "cityscore": NO_SCORE,
        "status": "",
        "spark": [],
    }
    try:
        text = (folder / "summary.json").read_text(encoding="utf-8")
        summary = json.loads(text, parse_constant=lambda _name: None)  # NaN, Infinity: no number
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return bare
    if not isinstance(summary, dict):
        return bare
    spark = summary.get("spark", [])
    return {
        "as_of": day,  # the folder's own date: the page it links to
        "city_name": _text(summary.get("city_name"), ""),
        "cityscore": _text(summary.get("cityscore"), NO_SCORE),
        "status": _text(summary.get("status"), ""),
        "share_below_one": _number(summary.get("share_below_one")),
        "scored": summary.get("scored") if isinstance(summary.get("scored"), int) else None,
        "spark": [_number(v) for v in spark] if isinstance(spark, list) else [],
    }


def _text(value: Any, default: str) -> str:
    return value if isinstance(value, str) else default


def _number(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok and math.isfinite(value) else None


def archive(out: Path) -> list[dict[str, Any]]:
    """Every published report in ``out`` (newest first), from each date folder's summary.json."""
    entries = []
    for folder in sorted(out.iterdir(), reverse=True) if out.exists() else []:
        if (
            _DAY.match(folder.name)
            and (folder / "summary.json").exists()
            and (folder / f"cityscore-{folder.name}.html").exists()
        ):
            entries.append(read_entry(folder))
    return entries


def update_archive(out: Path) -> None:
    """Rewrite index.html and latest.html (the newest date's report) from what is on disk: both
    written in full beside their old versions first, then renamed over them, so a full disk leaves
    both as they were."""
    entries = archive(out)
    pages = {"index.html": index_html(entries)}
    if entries:
        newest = entries[0]["as_of"]
        page = out / newest / f"cityscore-{newest}.html"
        pages["latest.html"] = page.read_text(encoding="utf-8", errors="replace")
    staged: list[tuple[Path, Path]] = []
    try:
        for name, text in pages.items():
            fd, made = tempfile.mkstemp(prefix=f".{name}.", suffix=".partial", dir=out)
            staged.append((Path(made), out / name))
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(made, 0o666 & ~_umask())  # mkstemp made it 0600; the umask decides
        for partial, final in staged:
            os.replace(partial, final)
    finally:
        for partial, _ in staged:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
