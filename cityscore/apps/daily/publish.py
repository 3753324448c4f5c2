"""Publishing the reports folder to another folder (a web server's) so a reader never sees half a page.

Each file is copied to a private temporary name beside its destination, then renamed over it
(``os.replace``, atomic on one filesystem): a reader opens the old file or the new one, whole. The
day's report goes first and the archive's pages (``index.html``, ``latest.html``) last, so a link on
them never points at a page that is not there yet. Files already the same are left alone.
"""

from __future__ import annotations

import filecmp
import functools
import os
import shutil
from pathlib import Path

from cityscore.core.errors import ConfigError
from cityscore.core.files import write_atomically

LAST = ("latest.html", "index.html")  # the archive's entry pages: published after what they link to
SKIPPED = ("failed", ".lock")  # a failed run's notebooks and the report run's lock stay private


def publish_reports(reports: Path, target: Path, day: str | None = None) -> list[Path]:
    """Copy ``reports`` into ``target`` (the ``day`` folder first, the entry pages last); returns
    the files written. A file that is already the same is not rewritten."""
    if not reports.is_dir():
        msg = f"no reports folder {reports} to publish; run `cityscore report` first"
        raise ConfigError(msg)
    if target.resolve() == reports.resolve() or reports.resolve() in target.resolve().parents:
        msg = f"cannot publish {reports} into {target}, which is the same folder or inside it; choose another folder"
        raise ConfigError(msg)
    files = [p for p in sorted(reports.rglob("*")) if p.is_file() and _published(p, reports)]
    first = [p for p in files if day and p.relative_to(reports).parts[0] == day]
    last = [reports / name for name in LAST if (reports / name) in files]
    order = first + [p for p in files if p not in first and p not in last] + last
    written = []
    for source in order:
        destination = target / source.relative_to(reports)
        if destination.is_file() and filecmp.cmp(source, destination, shallow=False):
            continue
        write_atomically(destination, functools.partial(_copy, source))
        written.append(destination)
    return written


def _copy(source: Path, partial: Path) -> None:
    shutil.copyfile(source, partial)


def _published(path: Path, reports: Path) -> bool:
    parts = path.relative_to(reports).parts
    hidden = any(part.startswith(".") for part in parts)  # partial files and locks of other writers
    return not hidden and parts[0] not in SKIPPED and os.access(path, os.R_OK)
