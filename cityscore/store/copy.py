"""A consistent file copy of a SQLite database (the backup API: what sits in the WAL comes too)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def copy_sqlite(source: Path, target: Path) -> Path:
    """A consistent copy of a SQLite database, including what still sits in its WAL file."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    return target
