"""The metric catalog: what a metric is, the allowed settings, and the canonical frames the engine reads.

A metric frame has one row per metric with the columns in ``METRIC_COLUMNS`` (without ``target``);
a targets frame has ``metric, effective_from, target`` rows, one per target change.
"""

from __future__ import annotations

import pandas as pd

from cityscore.core.errors import CatalogError
from cityscore.core.vocabulary import (
    AGGREGATIONS,
    ALLOW_NEGATIVE,
    BASELINES,
    DIRECTIONS,
    KINDS,
    PER_RESIDENTS,
    SCHEDULE,
    SCHEDULES,
    STALE_AFTER,
    STALE_AFTER_MAX,
)


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
            PER_RESIDENTS: pd.Series(dtype=float),
            SCHEDULE: pd.Series(dtype=object),
            STALE_AFTER: pd.Series(dtype=float),
        }
    )


def check_metrics(metrics: pd.DataFrame) -> None:
    """Raise ``CatalogError`` if a metrics frame breaks a catalog rule (the engine's precondition)."""
    # default false; not a rate; daily; the schedule's default
    optional = (ALLOW_NEGATIVE, PER_RESIDENTS, SCHEDULE, STALE_AFTER)
    needed = [c for c in empty_metrics().columns if c not in optional]
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
    _check_rates(metrics)
    _check_schedules(metrics)


def _check_schedules(metrics: pd.DataFrame) -> None:
    """``schedule`` one of SCHEDULES (empty: daily); ``stale_after`` a whole number of days from 1 to
    STALE_AFTER_MAX (empty: the schedule's default)."""
    if SCHEDULE in metrics:
        given = metrics[SCHEDULE].notna() & (metrics[SCHEDULE] != "")
        _check_allowed(metrics[given], SCHEDULE, SCHEDULES)
    if STALE_AFTER in metrics:
        days = pd.to_numeric(metrics[STALE_AFTER], errors="coerce")
        given = metrics[STALE_AFTER].notna() & (metrics[STALE_AFTER] != "")
        bad = given & ~((days >= 1) & (days <= STALE_AFTER_MAX) & (days % 1 == 0))
        if bad.any():
            msg = (
                f"stale_after must be a whole number of days from 1 to {STALE_AFTER_MAX}; not so "
                f"for {metrics.loc[bad, 'name'].tolist()}"
            )
            raise CatalogError(msg)


def _check_rates(metrics: pd.DataFrame) -> None:
    """A rate per resident is a value metric's, per a number of residents above 0."""
    if PER_RESIDENTS not in metrics:
        return
    per = pd.to_numeric(metrics[PER_RESIDENTS], errors="coerce")
    given = metrics[PER_RESIDENTS].notna()
    bad = given & ~((per > 0) & (per < float("inf")) & (metrics["kind"] == "value"))
    if bad.any():
        msg = (
            f"per_residents must be a number of residents above 0 (e.g. 1000), for value metrics "
            f"only; not so for {metrics.loc[bad, 'name'].tolist()}"
        )
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
