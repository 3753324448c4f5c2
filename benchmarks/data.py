"""A synthetic city of any size for benchmarks: deterministic, and covering every scoring rule.

The mix: value and ratio metrics; mean, median and sum aggregation; higher and lower is better; fixed
targets (some changing part-way, effective-dated) and history baselines; sparse trend counts with zero
days; ratio days with a zero denominator; missing days and one gap per metric. The ``metric`` column is
a Categorical so that ten years of two thousand metrics stay small in memory.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cityscore.core.vocabulary import EARLIEST

SEED = 20261125
END = dt.date(2025, 12, 31)
CATEGORIES = [
    "Basic City Services",
    "Public Safety",
    "Community & Culture",
    "Economic Development",
    "Government Operations",
    "Health & Human Services",
    "Streets & Transportation",
]
MISSING_SHARE = 0.03  # share of days with no value at all
GAP_DAYS = 20  # each metric also has one run of missing days this long
ZERO_SHARE = 0.005  # share of days with a value of 0, or a denominator of 0


@dataclass(frozen=True)
class Size:
    """A benchmark size: how many metrics and how many years of daily data."""

    name: str
    metrics: int
    years: int

    @property
    def days(self) -> int:
        return 365 * self.years


SIZES = {
    "XS": Size("XS", 12, 2),  # for the smoke test: every kind of metric, quickly
    "S": Size("S", 20, 3),
    "M": Size("M", 200, 10),
    # The "1.46 M rows": 417 metrics x 10 years give 1,465,182 importable rows.
    "M2": Size("M2", 417, 10),
    "L": Size("L", 2000, 10),
}


@dataclass(frozen=True)
class City:
    """The three frames the engine reads, plus the range of days the observations cover."""

    metrics: pd.DataFrame
    targets: pd.DataFrame
    observations: pd.DataFrame
    first_day: pd.Timestamp
    last_day: pd.Timestamp


def make_city(size: Size, seed: int = SEED, end: dt.date = END) -> City:
    """A city of ``size.metrics`` metrics with ``size.years`` years of daily data ending ``end``."""
    rng = np.random.default_rng([seed, size.metrics, size.years])
    days = pd.date_range(end=pd.Timestamp(end), periods=size.days, freq="D")
    metrics, counts = _catalog(size.metrics, rng)
    level = np.exp(rng.uniform(np.log(1.0), np.log(5000.0), size.metrics))
    level[(metrics["kind"] == "ratio").to_numpy()] = 0.85
    level[counts] = 0.4
    targets = _targets(metrics, level, days, rng)
    observations = _observations(metrics, counts, level, days, rng)
    return City(metrics, targets, observations, days[0], days[-1])


# Metrics that every size starts with, so even the smallest one meets every rule of the DuckDB SQL:
# kind, aggregation, baseline, direction, trend, counts (sparse Poisson counts with many zero days).
COVERAGE = [
    ("ratio", "", "target", "higher", False, False),
    ("value", "mean", "target", "lower", False, False),
    ("value", "median", "target", "higher", False, False),
    ("value", "sum", "target", "lower", False, False),
    ("ratio", "", "history", "lower", False, False),
    ("value", "mean", "history", "higher", False, False),
    ("value", "median", "history", "lower", False, False),
    ("value", "sum", "history", "higher", False, False),
    ("value", "mean", "history", "lower", True, True),  # a trend metric: zero days have no score
    ("value", "mean", "history", "higher", False, True),  # mean - std of sparse counts is below 0
    ("value", "median", "target", "lower", False, False),
    ("ratio", "", "target", "lower", False, False),
]
LATE_TARGET_SHARE = 0.1  # fixed-target metrics whose first target starts inside the data range


def _catalog(m: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """(metrics frame, which metrics are sparse counts)."""
    kind = np.where(rng.random(m) < 0.4, "ratio", "value")
    aggregation = np.where(
        kind == "ratio", "", rng.choice(["mean", "median", "sum"], m, p=[0.5, 0.25, 0.25])
    )
    baseline = np.where(rng.random(m) < 0.25, "history", "target")
    direction = np.where(rng.random(m) < 0.5, "higher", "lower")
    trend = (kind == "value") & (aggregation == "mean") & (rng.random(m) < 0.1)
    baseline[trend], direction[trend] = "history", "lower"
    counts = trend.copy()
    k = min(m, len(COVERAGE))
    for column, values in zip(
        (kind, aggregation, baseline, direction, trend, counts),
        zip(*COVERAGE[:k], strict=True),
        strict=True,
    ):
        column[:k] = values
    return pd.DataFrame(
        {
            "name": [f"Metric {i:04d}" for i in range(m)],
            "definition": "A synthetic metric for benchmarks.",
            "category": np.asarray(CATEGORIES)[np.arange(m) % len(CATEGORIES)],
            "unit": np.where(kind == "ratio", "share", "units"),
            "direction": direction,
            "kind": kind,
            "aggregation": aggregation,
            "baseline": baseline,
            "trend": trend,
            "weight": rng.choice([0.5, 1.0, 1.0, 1.0, 2.0], m),
        }
    ), counts


def _targets(
    metrics: pd.DataFrame, level: np.ndarray, days: pd.DatetimeIndex, rng: np.random.Generator
) -> pd.DataFrame:
    """A fixed target near each metric's level; a third change part-way, a few start late."""
    m = len(metrics)
    fixed = (metrics["baseline"] == "target").to_numpy()
    typical = level * rng.uniform(0.9, 1.1, m)
    names = metrics["name"].to_numpy()
    late = rng.random(m) < LATE_TARGET_SHARE
    late[: len(COVERAGE)] = np.arange(min(m, len(COVERAGE))) == len(COVERAGE) - 1
    starts = np.where(late, days[rng.integers(0, len(days) // 2, m)], pd.Timestamp(EARLIEST))
    first = pd.DataFrame({"metric": names, "effective_from": starts, "target": typical})[fixed]
    changes = fixed & (rng.random(m) < 0.33)
    changes[: len(COVERAGE)] = fixed[: len(COVERAGE)]
    when = days[rng.integers(len(days) // 2, len(days), m)]
    later = pd.DataFrame(
        {"metric": names, "effective_from": when, "target": typical * rng.uniform(0.85, 1.15, m)}
    )[changes]
    return pd.concat([first, later], ignore_index=True)


def _observations(
    metrics: pd.DataFrame,
    counts: np.ndarray,
    level: np.ndarray,
    days: pd.DatetimeIndex,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Daily values on a (metrics x days) grid with missing days and gaps dropped, metric-major."""
    m, n = len(metrics), len(days)
    is_ratio = (metrics["kind"] == "ratio").to_numpy()
    weekday = np.array([1.1, 1.05, 1.0, 1.0, 0.95, 0.6, 0.5])[days.day_of_week.to_numpy()]
    shape = weekday * (1 + 0.1 * np.sin(2 * np.pi * days.day_of_year.to_numpy() / 365.25))

    value = level[:, None] * shape * (1 + 0.15 * rng.standard_normal((m, n)))
    value = np.maximum(value, 0).round(2)
    value[rng.random((m, n)) < ZERO_SHARE] = 0.0
    value[counts] = rng.poisson(0.4 * shape, (int(counts.sum()), n))
    denominator = rng.poisson(30 * shape, (m, n)).astype(float)
    denominator[rng.random((m, n)) < ZERO_SHARE] = 0.0
    share = np.clip(0.85 + 0.08 * rng.standard_normal((m, n)), 0, 1)
    numerator = np.floor(denominator * share + 0.5)
    del share

    keep = rng.random((m, n)) >= MISSING_SHARE
    gap_start = rng.integers(0, max(n - GAP_DAYS, 1), m)
    offsets = np.arange(n)
    keep &= (offsets < gap_start[:, None]) | (offsets >= gap_start[:, None] + GAP_DAYS)
    cols, rows = np.nonzero(keep)
    ratio_row = is_ratio[cols]
    return pd.DataFrame(
        {
            "metric": pd.Categorical.from_codes(cols, categories=metrics["name"]),
            "date": days.values[rows],
            "value": np.where(ratio_row, np.nan, value[keep]),
            "numerator": np.where(ratio_row, numerator[keep], np.nan),
            "denominator": np.where(ratio_row, denominator[keep], np.nan),
        }
    )
