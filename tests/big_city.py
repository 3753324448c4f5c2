"""A city of real size (hundreds to thousands of metrics, two years of daily data) written through
the kit's own Store, built once per test process: `big_city_db(300)`.

The data come from the benchmarks' deterministic generator (every scoring rule occurs in it), written
by the same function the report benchmark uses (``benchmarks.bench_report.load_synthetic``).
"""

from __future__ import annotations

import datetime as dt
import functools
import tempfile
from pathlib import Path

from benchmarks.bench_report import load_synthetic

END = dt.date(2026, 10, 31)
_scratch = tempfile.TemporaryDirectory(prefix="cityscore-big-city-")


@functools.cache
def big_city_db(metrics: int, years: int = 2) -> Path:
    """A SQLite file holding a synthetic city of ``metrics`` metrics (read it; copy it to write)."""
    path = Path(_scratch.name) / f"city-{metrics}x{years}.db"
    load_synthetic(f"sqlite:///{path}", metrics, years, END)
    return path
