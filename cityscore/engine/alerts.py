"""Alert rules: which metrics, sources and CityScore movements need someone's attention today.
Pure functions on score frames; the alert state (sent once when it starts, once when it clears)
is kept by the store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace

import pandas as pd

from cityscore.core.errors import ConfigError
from cityscore.core.vocabulary import CITYWIDE

STALE_STATUS = "stale"  # the status a stale metric's rows carry (``engine.statuses.STALE``)
RULES = ("below_target", "cityscore_drop", "stale", "source_failing")


@dataclass(frozen=True)
class Alert:
    rule: str  # "below_target" | "cityscore_drop" | "stale" | "source_failing"
    subject: str  # metric name, source name, or "CityScore"
    category: str | None  # the metric's category, for per-category recipients
    started: dt.date
    message: str  # one plain-text sentence a reader understands
    state: str  # "open" | "cleared"

    @property
    def key(self) -> tuple[str, str]:
        """What makes two days' alerts the same alert: the rule and its subject."""
        return (self.rule, self.subject)


@dataclass(frozen=True)
class AlertRules:
    """When an alert opens (``cityscore.toml`` ``[alerts]``); 0 switches a count or drop rule off."""

    below_days: int = 5  # a metric's day score below 1 on this many reporting days in a row
    below_weeks: int = 2  # a metric's week score below 1 this many weeks in a row
    cityscore_drop: float = 0.1  # the day CityScore down by more than this since a week before
    stale: bool = True  # a metric whose data is stale
    source_failing: bool = True  # a source the morning run could not read

    def __post_init__(self) -> None:
        for name in ("below_days", "below_weeks"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                msg = f"[alerts] {name} must be a whole number >= 0 (0 = off), e.g. {name} = 5; got {value!r}"
                raise ConfigError(msg)
        drop = self.cityscore_drop
        if isinstance(drop, bool) or not isinstance(drop, int | float) or not drop >= 0:
            msg = f"[alerts] cityscore_drop must be a number >= 0 (0 = off), e.g. cityscore_drop = 0.1; got {drop!r}"
            raise ConfigError(msg)


def evaluate(
    history: pd.DataFrame,
    metrics: pd.DataFrame,
    as_of: dt.date,
    rules: AlertRules = AlertRules(),
    *,
    failed_sources: Mapping[str, str] | None = None,
    stale_metrics: Collection[str] = (),
) -> list[Alert]:
    """Every alert open on ``as_of``, from a score frame of the days up to it.

    ``history`` holds ``SCORE_COLUMNS`` for enough days before ``as_of`` to see the runs the rules
    count (``below_days`` reporting days, ``below_weeks`` weeks, a week for the drop);
    ``failed_sources`` maps a source's name to why it failed; ``stale_metrics`` are stale whatever
    their status says (the metrics of a failed source).
    """
    day = pd.Timestamp(as_of)
    rows = history[history["as_of"] <= day]
    categories = dict(
        zip(metrics["name"].astype(str), metrics["category"].astype(str), strict=True)
    )
    stale = _stale(rows, day, stale_metrics) if rules.stale or stale_metrics else set()
    alerts: list[Alert] = []
    if rules.source_failing:
        alerts += [
            Alert("source_failing", name, None, as_of, f"Source {name} failed: {why}", "open")
            for name, why in sorted((failed_sources or {}).items())
        ]
    if rules.stale:
        alerts += [
            Alert(
                "stale",
                m,
                categories.get(m),
                as_of,
                f"{m} has no fresh data: its scores are stale.",
                "open",
            )
            for m in sorted(stale)
        ]
    alerts += _below(rows, categories, day, rules, skip=stale)
    alerts += _drop(rows, day, rules.cityscore_drop)
    return alerts


def _stale(rows: pd.DataFrame, day: pd.Timestamp, extra: Collection[str]) -> set[str]:
    today = rows[(rows["as_of"] == day) & (rows["metric"] != CITYWIDE)]
    marked = today.loc[today["status"].astype(str) == STALE_STATUS, "metric"].astype(str)
    return set(marked) | set(extra)


def _below(
    rows: pd.DataFrame,
    categories: Mapping[str, str],
    day: pd.Timestamp,
    rules: AlertRules,
    skip: set[str],
) -> list[Alert]:
    """Metrics below 1 for ``below_days`` reporting days (day scores that exist) or ``below_weeks``
    weeks in a row (week scores on the report date and each 7 days before), up to ``day``."""
    out: list[Alert] = []
    metric_rows = rows[(rows["metric"] != CITYWIDE) & rows["score"].notna()]
    for (metric, period), group in metric_rows.groupby(["metric", "period"], observed=True):
        metric = str(metric)
        if metric in skip:
            continue
        if period == "day" and rules.below_days:
            found = _run(group.sort_values("as_of"), rules.below_days, day, step=None)
            unit = "reporting days"
        elif period == "week" and rules.below_weeks:
            found = _run(group.sort_values("as_of"), rules.below_weeks, day, step=7)
            unit = "weeks"
        else:
            continue
        if found is not None:
            started, count, latest = found
            message = (
                f"{metric} has been below target for {count} {unit} in a row "
                f"({period} score {latest:.2f} on {day.date()})."
            )
            out.append(
                Alert("below_target", metric, categories.get(metric), started, message, "open")
            )
    # One alert per metric: the day rule's when both hold (it names the shorter, sharper run).
    first: dict[str, Alert] = {}
    for alert in out:
        first.setdefault(alert.subject, alert)
    return sorted(first.values(), key=lambda a: a.subject)


def _run(
    group: pd.DataFrame, needed: int, day: pd.Timestamp, step: int | None
) -> tuple[dt.date, int, float] | None:
    """(the day the run reached ``needed``, its length, the latest score) when the trailing scores
    below 1 number at least ``needed``; ``step`` days apart (weeks) or consecutive scored rows."""
    if step is not None:
        group = group[((day - group["as_of"]).dt.days % step) == 0]
    if group.empty or (step is not None and group["as_of"].iloc[-1] != day):
        return None
    below = (group["score"] < 1).to_numpy()[::-1]
    count = int(below.argmin()) if not below.all() else len(below)
    if count < needed:
        return None
    dates = group["as_of"].to_numpy()[::-1]
    started = pd.Timestamp(dates[count - needed]).date()  # the run's Nth day: the rule first held
    return started, count, float(group["score"].iloc[-1])


def _drop(rows: pd.DataFrame, day: pd.Timestamp, limit: float) -> list[Alert]:
    """The day CityScore down by more than ``limit`` from seven days before."""
    if not limit:
        return []
    city = rows[(rows["metric"] == CITYWIDE) & (rows["period"] == "day")].set_index("as_of")[
        "score"
    ]
    now, before = city.get(day), city.get(day - pd.Timedelta(days=7))
    if now is None or before is None or pd.isna(now) or pd.isna(before) or not before - now > limit:
        return []
    message = (
        f"The CityScore fell from {before:.2f} to {now:.2f} since last week "
        f"(down {before - now:.2f}, more than {limit:g})."
    )
    return [Alert("cityscore_drop", CITYWIDE, None, day.date(), message, "open")]


def changes(
    now: Iterable[Alert], stored: Iterable[Alert], today: dt.date
) -> tuple[list[Alert], list[Alert], list[Alert]]:
    """(alerts that start today, alerts still open, alerts that cleared today) from today's open
    alerts and the ones stored as open; the same rule and subject is the same alert."""
    current = {alert.key: alert for alert in now}
    before = {alert.key: alert for alert in stored}
    started = [a for key, a in current.items() if key not in before]
    still = [replace(a, started=before[key].started) for key, a in current.items() if key in before]
    cleared = [
        replace(a, state="cleared", message=f"Cleared on {today}: {a.message}")
        for key, a in before.items()
        if key not in current
    ]
    return started, still, cleared


def recipients(alert: Alert, by_category: Mapping[str, Collection[str]]) -> list[str]:
    """The addresses ``[alerts.recipients]`` gives the alert's category (none for a source or the
    CityScore, which go to the digest's own readers)."""
    if alert.category is None:
        return []
    return list(by_category.get(alert.category, ()))
