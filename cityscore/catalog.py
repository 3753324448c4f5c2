"""The metric catalog: what a metric is, the allowed settings, and the canonical frames the engine reads.

A metric frame has one row per metric with the columns in ``METRIC_COLUMNS`` (without ``target``);
a targets frame has ``metric, effective_from, target`` rows, one per target change.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from .errors import CatalogError

METRIC_COLUMNS = [
    "name",
    "definition",
    "category",
    "unit",
    "direction",
    "kind",
    "aggregation",
    "target",
    "baseline",
    "trend",
    "weight",
]
TARGET_COLUMNS = ["metric", "effective_from", "target"]
# An optional metrics.csv column (default false): a value metric whose days may be negative (a net
# change, a balance). Only higher-is-better value metrics may allow it; see docs/data-entry.md.
ALLOW_NEGATIVE = "allow_negative"
# The longest text the store keeps in each metric field (the store schema's String(n) lengths).
TEXT_LIMITS = {"name": 200, "category": 200, "unit": 100}
# A cell starting with one of these is run as a formula by spreadsheets: never a metric or category name.
FORMULA_STARTS = ("=", "+", "-", "@")
DIRECTIONS = ("higher", "lower")
KINDS = ("value", "ratio")
AGGREGATIONS = ("mean", "median", "sum")
BASELINES = ("target", "history")
DEFAULT_CATEGORY = "General"

# A target given in metrics.csv applies from the beginning of time; later changes come from targets.csv.
EARLIEST = dt.date(1900, 1, 1)

# Scoring windows: period name -> number of calendar days ending on the as-of date.
PERIODS: dict[str, int] = {"day": 1, "week": 7, "month": 30, "quarter": 90}
BASELINE_DAYS = 365
BASELINE_MIN_DAYS = 90
CITYWIDE = "CityScore"


def empty_metrics() -> pd.DataFrame:
    """A metrics frame with no rows and the canonical columns and dtypes."""
    return pd.DataFrame(
        {
            "name": pd.Series(dtype=object),
            "definition": pd.Series(dtype=object),
            "category": pd.Series(dtype=object),
            "unit": pd.Series(dtype=object),
            "direction": pd.Series(dtype=object),
            "kind": pd.Series(dtype=object),
            "aggregation": pd.Series(dtype=object),
            "baseline": pd.Series(dtype=object),
            "trend": pd.Series(dtype=bool),
            "weight": pd.Series(dtype=float),
            ALLOW_NEGATIVE: pd.Series(dtype=bool),
        }
    )


def check_metrics(metrics: pd.DataFrame) -> None:
    """Raise ``CatalogError`` if a metrics frame breaks a catalog rule (the engine's precondition)."""
    needed = [c for c in empty_metrics().columns if c != ALLOW_NEGATIVE]  # optional: default false
    missing = [c for c in needed if c not in metrics.columns]
    if missing:
        msg = f"metrics frame lacks column(s) {missing}; expected {needed}"
        raise CatalogError(msg)
    _check_allowed(metrics, "direction", DIRECTIONS)
    _check_allowed(metrics, "kind", KINDS)
    _check_allowed(metrics[metrics["kind"] == "value"], "aggregation", AGGREGATIONS)
    _check_allowed(metrics, "baseline", BASELINES)
    dupes = metrics["name"][metrics["name"].duplicated()].tolist()
    if dupes:
        msg = f"metric names must be unique; repeated: {dupes}"
        raise CatalogError(msg)
    not_positive = ~(metrics["weight"] > 0)  # NaN included
    if not_positive.any():
        bad = metrics.loc[not_positive, "name"].tolist()
        msg = f"weights must be greater than 0; not so for {bad}"
        raise CatalogError(msg)


def check_targets(targets: pd.DataFrame) -> None:
    """Raise ``CatalogError`` if any target is 0 or below (a score against it would be meaningless)."""
    bad = targets[~(targets["target"] > 0)]
    if len(bad):
        first = bad.iloc[0]
        msg = (
            f"target must be greater than 0; got {first['target']} for {first['metric']!r} "
            f"({len(bad)} such target(s)). Use a positive target, or baseline=history"
        )
        raise CatalogError(msg)


def _check_allowed(frame: pd.DataFrame, column: str, allowed: tuple[str, ...]) -> None:
    bad = sorted(set(frame[column]) - set(allowed))
    if bad:
        msg = f"{column} must be one of {list(allowed)}; got {bad}"
        raise CatalogError(msg)
