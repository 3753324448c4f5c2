"""The facade: one object that ties the store, the loaders and the engine together.

``Kit(db_url)`` is what notebooks, widgets and the CLI call; it holds no scoring logic of its own.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from . import demo, load
from .catalog import BASELINE_DAYS, PERIODS
from .config import DEFAULT_BANDS, Bands, redact_url
from .errors import ConfigError
from .score import DateLike, as_date, score_range
from .store import ImportResult, Store

# Days of data before the first as-of date that a score can depend on: the baseline's year (which
# also covers the longest window, a quarter).
LOOKBACK_DAYS = max(BASELINE_DAYS, max(PERIODS.values()) - 1)


class Kit:
    """A city's CityScore database and everything you can do with it."""

    def __init__(self, db: str | None = None) -> None:
        self.store = Store(db)

    def __repr__(self) -> str:
        return f"Kit({redact_url(self.store.url)!r})"

    def init(self) -> None:
        """Create the schema if it is missing (safe to repeat)."""
        self.store.init()

    # --- reading ---------------------------------------------------------------------------

    def metrics(self) -> pd.DataFrame:
        return self.store.metrics()

    def targets(self) -> pd.DataFrame:
        return self.store.targets()

    def observations(self, start: DateLike | None = None, end: DateLike | None = None) -> pd.DataFrame:
        start = as_date(start).date() if start is not None else None
        end = as_date(end).date() if end is not None else None
        return self.store.observations(start, end)

    def latest_date(self) -> dt.date:
        """The latest date with data; a clear error for an empty database."""
        _, last = self.store.date_range()
        if last is None:
            msg = "the database has no values yet; import some (`cityscore values import FILE`) or run `cityscore demo`"
            raise ConfigError(msg)
        return last

    # --- writing ---------------------------------------------------------------------------

    def import_metrics(self, source: load.Source) -> ImportResult:
        metrics, targets = load.load_metrics(source)
        return self.store.write_metrics(metrics, targets, load.source_name(source))

    def import_targets(self, source: load.Source) -> ImportResult:
        targets = load.load_targets(source, self.metrics())
        return self.store.write_targets(targets, load.source_name(source))

    def import_values(self, source: load.Source, date_format: str = "%Y-%m-%d") -> ImportResult:
        values = load.load_values(source, self.metrics(), date_format=date_format)
        return self.store.write_observations(values, load.source_name(source))

    def load_demo(self, end: dt.date | None = None) -> list[ImportResult]:
        """Load the demo city (idempotent: loading it twice changes nothing)."""
        end = end or dt.date.today() - dt.timedelta(days=1)
        self.init()
        metrics, targets = demo.demo_metrics()
        results = [self.store.write_metrics(metrics, targets, "demo city metrics", today=end)]
        results.append(self.store.write_targets(demo.demo_target_change(end), "demo city targets"))
        values = demo.demo_observations(end)
        results.append(self.store.write_observations(values, "demo city values", kind="demo"))
        return results

    # --- scoring ---------------------------------------------------------------------------

    def scores(
        self,
        as_of: DateLike | None = None,
        *,
        start: DateLike | None = None,
        end: DateLike | None = None,
        bands: Bands = DEFAULT_BANDS,
    ) -> pd.DataFrame:
        """Scores for one date (default: the latest date with data) or for every date ``start..end``."""
        if start is not None or end is not None:
            if start is None or end is None:
                msg = "give both the start and the end of the range (--from and --to)"
                raise ConfigError(msg)
            first, last = as_date(start), as_date(end)
        else:
            first = last = as_date(as_of) if as_of is not None else pd.Timestamp(self.latest_date())
        observations = self.observations(first - pd.Timedelta(days=LOOKBACK_DAYS), last)
        return score_range(observations, self.metrics(), self.targets(), first, last, bands=bands)
