"""A city of real size (hundreds to thousands of metrics, two years of daily data) written through
the kit's own Store; the ``big_city`` fixture (conftest.py) builds each size once per session.

The data come from the benchmarks' deterministic generator (every scoring rule occurs in it), written
by the same function the report benchmark uses (``benchmarks.bench_report.load_synthetic``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from benchmarks.bench_report import load_synthetic

END = dt.date(2026, 10, 31)


def write_big_city(folder: Path, metrics: int, years: int = 2) -> Path:
    """Write a SQLite file holding a synthetic city of ``metrics`` metrics into ``folder``."""
    path = folder / f"city-{metrics}x{years}.db"
    load_synthetic(f"sqlite:///{path}", metrics, years, END)
    return path
