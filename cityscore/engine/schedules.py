"""Reporting schedules: the days each schedule reports on, where a weekly or monthly report lands,
and a metric's freshness counted in its own reporting days.

``daily`` reports every day, ``weekdays`` Monday to Friday, ``business_days`` Monday to Friday except
the city's closed days (holidays and closures, given as data). ``weekly`` and ``monthly`` metrics
report once a week (Monday to Sunday) or once a calendar month, dated any day of it: each report
lands on the last day of its week or month (several reports in one are combined), and that last day
is the schedule's one reporting day. So a window holds the weeks or months that ended in it, and a
report of the week or month still running counts once it has ended.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

from cityscore.core.vocabulary import SCHEDULE, SCHEDULES, STALE_AFTER, STALE_AFTER_DEFAULTS
from cityscore.frames.dates import DateLike

DAILY = SCHEDULES.index("daily")
PERIODIC = ("weekly", "monthly")


def closed_days(closed: Collection[DateLike]) -> np.ndarray:
    """The closed days as sorted ``datetime64[D]`` (no closed day: empty)."""
    if not len(closed):
        return np.array([], dtype="datetime64[D]")
    return np.unique(pd.to_datetime(pd.Series(list(closed))).to_numpy().astype("datetime64[D]"))


def reporting_days(schedule: str, dates: pd.DatetimeIndex, closed: np.ndarray) -> np.ndarray:
    """Whether each of ``dates`` is a reporting day of ``schedule`` (``closed``: ``closed_days``)."""
    if schedule == "daily":
        return np.ones(len(dates), dtype=bool)
    if schedule == "weekly":
        return np.asarray(dates.day_of_week == 6)
    if schedule == "monthly":
        return np.asarray(dates.is_month_end)
    open_days = np.asarray(dates.day_of_week < 5)
    if schedule == "business_days" and len(closed):
        open_days &= ~np.isin(dates.to_numpy().astype("datetime64[D]"), closed)
    return open_days


def schedules_of(metrics: pd.DataFrame) -> pd.Series:
    """Each metric's schedule (``daily`` where the catalog has no ``schedule`` column or cell)."""
    if SCHEDULE not in metrics:
        return pd.Series("daily", index=metrics.index, dtype=object)
    return metrics[SCHEDULE].where(metrics[SCHEDULE].notna() & (metrics[SCHEDULE] != ""), "daily")


def stale_limits(metrics: pd.DataFrame) -> np.ndarray:
    """Each metric's ``stale_after`` (its schedule's default where none is given)."""
    default = schedules_of(metrics).map(STALE_AFTER_DEFAULTS).astype(float)
    if STALE_AFTER not in metrics:
        return default.to_numpy()
    given = pd.to_numeric(metrics[STALE_AFTER], errors="coerce")
    return given.where(given.notna(), default).to_numpy(dtype=float)


def report_day(dates: pd.Series, schedule: str) -> pd.Series:
    """The day a weekly or monthly report lands on: the last day of its week (Sunday) or month."""
    days = pd.to_datetime(dates).dt.normalize()
    if schedule == "weekly":
        return days + pd.to_timedelta(6 - days.dt.day_of_week, unit="D")
    return days + pd.to_timedelta(days.dt.days_in_month - days.dt.day, unit="D")


def place_reports(observations: pd.DataFrame, metrics: pd.DataFrame) -> pd.DataFrame:
    """Observations with each weekly or monthly metric's reports on their week's or month's last day.

    Several reports of one week or month (per area) become one: added up for sum metrics and for a
    ratio's numerators and denominators, averaged for mean and median metrics. A row without the
    numbers its metric needs is no data and is dropped first. Other metrics' rows are untouched.
    """
    schedule = schedules_of(metrics)
    periodic = metrics.loc[schedule.isin(PERIODIC).to_numpy()]
    if periodic.empty:
        return observations
    moved = observations["metric"].isin(periodic["name"]).to_numpy()
    if not moved.any():
        return observations
    rows = observations[moved]
    parts = [observations[~moved]]
    for metric in periodic.itertuples(index=False):
        mine = rows[rows["metric"] == metric.name]
        if len(mine):
            parts.append(
                _combined(mine, metric, str(schedule[metrics["name"] == metric.name].iloc[0]))
            )
    return pd.concat(parts, ignore_index=True)


def _combined(rows: pd.DataFrame, metric: Any, schedule: str) -> pd.DataFrame:
    ratio = metric.kind == "ratio"
    needed = ["numerator", "denominator"] if ratio else ["value"]
    rows = rows.dropna(subset=needed)
    area = (
        rows["area"].fillna("").astype(str) if "area" in rows else pd.Series("", index=rows.index)
    )
    keys = pd.DataFrame({"area": area, "date": report_day(rows["date"], schedule)})
    numbers = rows[["value", "numerator", "denominator"]].astype(float)
    grouped = numbers.groupby([keys["area"], keys["date"]], sort=True)
    adds = ratio or metric.aggregation == "sum"
    out = grouped.sum(min_count=1) if adds else grouped.mean()
    out = out.reset_index().assign(metric=metric.name)
    if "area" not in rows:
        out = out.drop(columns="area")
    return out


def freshness_axes(dates: pd.DatetimeIndex, closed: np.ndarray) -> np.ndarray:
    """(schedules x days) running counts: a value on day ``j`` is ``A[s, i] - A[s, j]`` days old on
    day ``i`` in schedule ``s``'s own count.

    Daily schedules count their reporting days after ``j`` up to ``i``; weekly and monthly ones the
    calendar days after the last day of the week or month reported (where their values lie).
    """
    a = np.empty((len(SCHEDULES), len(dates)))
    for s, schedule in enumerate(SCHEDULES):
        days = "daily" if schedule in PERIODIC else schedule
        a[s] = np.cumsum(reporting_days(days, dates, closed))
    return a
