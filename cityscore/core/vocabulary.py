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


# Optional metrics.csv columns: the days a metric reports on (default daily), and how long it may go
# without a value before it is stale (default per schedule). See docs/methodology.md, "Schedules".
SCHEDULE = "schedule"
STALE_AFTER = "stale_after"


# An optional metrics.csv column (empty: not a rate): a value metric scored per this many residents
# (e.g. 1000) of the city and of each area. See docs/methodology.md, "Rates per resident".
PER_RESIDENTS = "per_residents"


METRIC_FILE_COLUMNS = [*METRIC_COLUMNS, ALLOW_NEGATIVE, SCHEDULE, STALE_AFTER, PER_RESIDENTS]


# The longest text the store keeps in each metric field (the store schema's String(n) lengths).
TEXT_LIMITS = {"name": 200, "category": 200, "unit": 100}


# A cell starting with one of these is run as a formula by spreadsheets: never a metric or category name.
FORMULA_STARTS = ("=", "+", "-", "@")


DIRECTIONS = ("higher", "lower")


KINDS = ("value", "ratio")


AGGREGATIONS = ("mean", "median", "sum")


# ``history``: the past year's mean -/+ one standard deviation (Boston's rule); ``weekday``: the same,
# of the same weekday over the past weeks; ``last_year``: the same window 52 weeks earlier.
BASELINES = ("target", "history", "weekday", "last_year")


# The baselines computed from a metric's own past values (no fixed target).
HISTORY_BASELINES = ("history", "weekday", "last_year")


# The days a metric reports on: every day; Monday to Friday; Monday to Friday except the city's
# holidays and closures; one report a week (Monday to Sunday); one report a calendar month.
SCHEDULES = ("daily", "weekdays", "business_days", "weekly", "monthly")


# How long a metric may go without a value before it is stale: reporting days for the daily
# schedules; calendar days after the end of the last week or month reported for the others.
STALE_AFTER_DEFAULTS = {"daily": 7, "weekdays": 7, "business_days": 7, "weekly": 14, "monthly": 45}


# The longest ``stale_after`` a metric may set (a year).
STALE_AFTER_MAX = 365


DEFAULT_CATEGORY = "General"


# A target given in metrics.csv applies from the beginning of time; later changes come from targets.csv.
EARLIEST = dt.date(1900, 1, 1)


# Scoring windows: period name -> number of calendar days ending on the as-of date.
PERIODS: dict[str, int] = {"day": 1, "week": 7, "month": 30, "quarter": 90}


BASELINE_DAYS = 365


BASELINE_MIN_DAYS = 90


# The ``weekday`` baseline: the same weekday in the past 52 weeks, at least 13 of them with data.
WEEKDAY_BASELINE_WEEKS = 52
WEEKDAY_BASELINE_MIN_WEEKS = 13


# The ``last_year`` baseline: the same window this many days earlier (52 weeks: the same weekdays).
LAST_YEAR_DAYS = 364


CITYWIDE = "CityScore"


# The columns of a frame of scores (``score_range``), and of scores by area (``score_by_area``).
SCORE_COLUMNS = ["as_of", "metric", "period", "value", "target", "score", "status", "note"]
AREA_SCORE_COLUMNS = ["as_of", "area", *SCORE_COLUMNS[1:]]
