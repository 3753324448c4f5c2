"""The kit's vocabulary: metric columns, allowed settings, scoring periods and fixed names."""

from __future__ import annotations

import datetime as dt

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


VALUE_COLUMNS = ["metric", "date", "value", "numerator", "denominator"]


# An optional column of values.csv and targets.csv: the area (neighbourhood) a row belongs to; empty = citywide.
AREA = "area"


# An optional metrics.csv column (default false): a value metric whose days may be negative (a net
# change, a balance). Only higher-is-better value metrics may allow it; see docs/data-entry.md.
ALLOW_NEGATIVE = "allow_negative"


METRIC_FILE_COLUMNS = [*METRIC_COLUMNS, ALLOW_NEGATIVE]


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


# The columns of a frame of scores (``score_range``), and of scores by area (``score_by_area``).
SCORE_COLUMNS = ["as_of", "metric", "period", "value", "target", "score", "status", "note"]
AREA_SCORE_COLUMNS = ["as_of", "area", *SCORE_COLUMNS[1:]]
