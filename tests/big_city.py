"""A city of real size (hundreds to thousands of metrics, two years of daily data) written through
the kit's own Store, built once per test process: `big_city_db(300)`.

The data come from the benchmarks' deterministic generator (every scoring rule occurs in it).
"""

from __future__ import annotations

import datetime as dt
import functools
import tempfile
from pathlib import Path

import pandas as pd

from benchmarks.data import Size, make_city
from cityscore import Kit
from cityscore.catalog import EARLIEST

END = dt.date(2026, 10, 31)
_scratch = tempfile.TemporaryDirectory(prefix="cityscore-big-city-")


def write_city(kit: Kit, metrics: int, years: int = 2, end: dt.date = END) -> None:
    """Write a synthetic city into ``kit``: catalog, target changes, then every daily value."""
    city = make_city(Size(f"{metrics}x{years}", metrics, years), end=end)
    kit.init()
    when = pd.to_datetime(city.targets["effective_from"])
    first = city.targets[when == pd.Timestamp(EARLIEST)]
    later = city.targets[when != pd.Timestamp(EARLIEST)]
    kit.store.write_metrics(city.metrics, first, "synthetic metrics", today=end)
    kit.store.write_targets(later.assign(effective_from=when[later.index].dt.date), "targets")
    obs = city.observations
    values = obs.assign(metric=obs["metric"].astype(str), date=obs["date"].dt.date)
    kit.store.write_observations(values, "synthetic values")


@functools.cache
def big_city_db(metrics: int, years: int = 2) -> Path:
    """A SQLite file holding a synthetic city of ``metrics`` metrics (read it; copy it to write)."""
    path = Path(_scratch.name) / f"city-{metrics}x{years}.db"
    kit = Kit(f"sqlite:///{path}")
    write_city(kit, metrics, years)
    kit.store.engine.dispose()  # close connections so SQLite folds its WAL into the file
    return path
