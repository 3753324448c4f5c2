"""Check metric rows (metrics.csv, the metric editor) into the catalog and its fixed targets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cityscore.core.vocabulary import (
    AGGREGATIONS,
    ALLOW_NEGATIVE,
    BASELINES,
    DEFAULT_CATEGORY,
    DIRECTIONS,
    EARLIEST,
    HISTORY_BASELINES,
    KINDS,
    METRIC_FILE_COLUMNS,
    PER_RESIDENTS,
    SCHEDULE,
    SCHEDULES,
    STALE_AFTER,
    STALE_AFTER_DEFAULTS,
    STALE_AFTER_MAX,
    TEXT_LIMITS,
)
from cityscore.io.cells import FALSE_WORDS, LARGEST_WEIGHT, TRUE_WORDS, check_range, to_number
from cityscore.io.checks import canonical_names, check_text_cells, name_key
from cityscore.io.problems import Problems


def restate(
    rows: pd.DataFrame,
    existing: pd.DataFrame | None,
    catalog_targets: dict[str, float | None] | None = None,
) -> pd.DataFrame:
    """Fill the columns a file does not give (``rows.attrs["given"]``) from the stored metric.

    A file of ``name,direction,target`` changes only those columns of the metrics it names; new
    metrics get the defaults. Returns a copy with every metrics.csv column.
    """
    rows = rows.copy()
    given = rows.attrs.get("given", set(METRIC_FILE_COLUMNS))
    for column in METRIC_FILE_COLUMNS:
        if column not in rows:
            rows[column] = ""
    missing = [c for c in METRIC_FILE_COLUMNS if c not in given]
    if existing is None or existing.empty or not missing:
        return rows
    stored = _metrics_as_text(existing, catalog_targets or {})
    known = rows["name"].isin(stored.index)
    for column in missing:
        rows[column] = rows[column].where(~known, rows["name"].map(stored[column]))
    if "target" in missing and "baseline" not in missing:  # a switch to history drops the target
        own_past = rows["baseline"].str.strip().str.lower().isin(HISTORY_BASELINES)
        rows["target"] = rows["target"].where(~own_past, "")
    return rows


def _metrics_as_text(
    metrics: pd.DataFrame, catalog_targets: dict[str, float | None]
) -> pd.DataFrame:
    """The stored catalog as the metrics.csv cells that would restate it unchanged."""
    text = metrics.set_index("name").astype(object)
    text["trend"] = np.where(metrics["trend"].astype(bool), "true", "false")
    if ALLOW_NEGATIVE in metrics:
        text[ALLOW_NEGATIVE] = np.where(metrics[ALLOW_NEGATIVE].astype(bool), "true", "false")
    else:
        text[ALLOW_NEGATIVE] = "false"
    text["weight"] = [repr(float(w)) for w in metrics["weight"]]
    text["baseline"] = metrics["baseline"].to_numpy()
    text[SCHEDULE] = metrics[SCHEDULE].to_numpy() if SCHEDULE in metrics else "daily"
    stale = pd.to_numeric(metrics.get(STALE_AFTER, pd.Series(index=metrics.index)), errors="coerce")
    text[STALE_AFTER] = ["" if d != d else str(int(d)) for d in stale]
    targets = [catalog_targets.get(n) for n in text.index]
    text["target"] = ["" if t is None or t != t else repr(float(t)) for t in targets]
    return text.fillna("").astype(str)


def validate_metrics(
    rows: pd.DataFrame,
    name: str = "metrics.csv",
    existing: pd.DataFrame | None = None,
    catalog_targets: dict[str, float | None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check metric rows; return (metrics, targets) or raise listing every bad row.

    With ``existing`` (the stored catalog), columns the file does not give keep their stored values,
    and a name that differs from a stored one only by case, spaces or accent encoding is refused
    (never a second metric).
    """
    problems = Problems(name)
    rows = restate(rows, existing, catalog_targets)
    for column, default in [("category", DEFAULT_CATEGORY), ("kind", "value"), ("baseline", "")]:
        rows[column] = rows[column].where(rows[column] != "", default)
    typed = rows.copy()  # the cells as written, for messages
    for column in ["direction", "kind", "aggregation", "baseline", SCHEDULE]:
        rows[column] = rows[column].str.strip().str.lower()
    _check_metric_identity(problems, rows, existing)
    check_text_cells(problems, rows, "name", TEXT_LIMITS["name"], formula=True)
    check_text_cells(problems, rows, "category", TEXT_LIMITS["category"], formula=True)
    check_text_cells(problems, rows, "unit", TEXT_LIMITS["unit"])
    check_text_cells(problems, rows, "definition", multiline=True)
    new = ~rows["name"].isin(set(existing["name"]) if existing is not None else set())
    problems.add_where(
        rows, new & (rows["direction"] == ""), "direction",
        "a new metric needs a direction: higher or lower (is better)",
    )  # fmt: skip
    _check_choice(problems, rows, "direction", DIRECTIONS, typed, rows["direction"] != "")
    _check_choice(problems, rows, "kind", KINDS, typed)
    _check_choice(problems, rows, "baseline", ("", *BASELINES), typed)
    aggregation_ok = rows["aggregation"].isin(("", *AGGREGATIONS))
    problems.add_where(
        typed, ~aggregation_ok, "aggregation", f"must be one of {list(AGGREGATIONS)} or empty"
    )
    ratio_agg = (rows["kind"] == "ratio") & ~rows["aggregation"].isin(("",))
    problems.add_where(
        rows,
        ratio_agg & aggregation_ok,
        "aggregation",
        "ratio metrics are always sum(numerators)/sum(denominators); leave aggregation empty",
    )
    decimal_comma = rows.attrs.get("decimal_comma", False)
    target = to_number(rows["target"], decimal_comma, percent=True)  # 93% as values read it
    history = rows["baseline"].isin(HISTORY_BASELINES)  # scored against its own past
    has_target = rows["target"] != ""
    problems.add_where(rows, has_target & target.isna(), "target", "target is not a number")
    problems.add_where(
        rows,
        has_target & (target <= 0),
        "target",
        "target must be greater than 0; use baseline=history to score against the metric's own past",
    )
    check_range(problems, rows, "target", target, has_target & (target > 0))  # 1e309, 1e-320
    problems.add_where(
        rows,
        history & has_target,
        "target",
        "a metric with a baseline from its own past (history, weekday, last_year) has no fixed "
        "target; leave target empty",
    )
    problems.add_where(
        rows,
        ~history & ~has_target,
        "target",
        "give a target greater than 0, or set baseline=history",
    )
    trend = _check_flag(problems, rows, "trend")
    schedule, stale_after = _check_schedule(problems, rows, typed, decimal_comma)
    negative = _check_flag(problems, rows, ALLOW_NEGATIVE)
    problems.add_where(
        rows,
        negative & ((rows["kind"] != "value") | (rows["direction"] != "higher")),
        ALLOW_NEGATIVE,
        "only higher-is-better value metrics may allow negative values (a ratio counts cases; a "
        "lower-is-better score target/value has no meaning below 0); set allow_negative=false",
    )
    weight = to_number(rows["weight"], decimal_comma).where(rows["weight"] != "", 1.0)
    bad_weight = weight.isna() | ~(weight > 0)  # (an infinite one is too large: check_range)
    problems.add_where(
        rows, bad_weight, "weight", "weight must be a number greater than 0 (default 1)"
    )
    check_range(problems, rows, "weight", weight, ~bad_weight, LARGEST_WEIGHT)  # 1e308
    per_residents = _check_per_residents(problems, rows, decimal_comma)
    problems.raise_if_any(len(rows))

    metrics = pd.DataFrame(
        {
            "name": rows["name"],
            "definition": rows["definition"],
            "category": rows["category"],
            "unit": rows["unit"],
            "direction": rows["direction"],
            "kind": rows["kind"],
            "aggregation": rows["aggregation"].where(
                (rows["kind"] == "value") & (rows["aggregation"] != ""),
                np.where(rows["kind"] == "value", "mean", ""),
            ),
            "baseline": np.where(history, rows["baseline"], "target"),
            "trend": trend,
            "weight": weight.astype(float),
            ALLOW_NEGATIVE: negative,
            PER_RESIDENTS: per_residents,
            SCHEDULE: schedule,
            STALE_AFTER: stale_after,
        }
    ).reset_index(drop=True)
    targets = pd.DataFrame(
        {
            "metric": rows.loc[~history, "name"],
            "effective_from": pd.Timestamp(EARLIEST),
            "target": target[~history],
        }
    ).reset_index(drop=True)
    return metrics, targets


def _check_per_residents(problems: Problems, rows: pd.DataFrame, decimal_comma: bool) -> pd.Series:
    """``per_residents`` as numbers (NaN: not a rate): above 0, for value metrics only."""
    given = rows[PER_RESIDENTS].astype(str).str.strip() != ""
    per = to_number(rows[PER_RESIDENTS].astype(str).str.strip(), decimal_comma)
    bad = given & ~((per > 0) & np.isfinite(per.fillna(0)))
    problems.add_where(
        rows, bad, PER_RESIDENTS,
        "per_residents must be a number of residents above 0 (e.g. 1000 for a rate per 1,000 "
        "residents), or empty for a metric that is not a rate",
    )  # fmt: skip
    problems.add_where(
        rows, given & ~bad & (rows["kind"] != "value"), PER_RESIDENTS,
        "only value metrics (counts, sums) can be rates per resident; a ratio is already a "
        "share: leave per_residents empty",
    )  # fmt: skip
    return per.where(given & ~bad).astype(float)


def _check_metric_identity(
    problems: Problems, rows: pd.DataFrame, existing: pd.DataFrame | None
) -> None:
    """Names are compared ignoring case, surrounding spaces and accent encoding (``name_key``): one
    file, one row per metric; a name that differs from a stored metric only so is refused rather
    than made a second metric."""
    problems.add_where(rows, rows["name"] == "", "name", "metric name is empty")
    key = name_key(rows["name"])
    dupes = key.duplicated(keep=False) & (rows["name"] != "")
    problems.add_where(
        rows, dupes, "name",
        "metric name appears more than once in the file (names are compared ignoring case); keep one row",
    )  # fmt: skip
    if existing is None or existing.empty:
        return
    stored = canonical_names(rows["name"], existing["name"])
    for index in rows.index[stored.notna() & (stored != rows["name"])]:
        problems.add(
            rows.at[index, "line"], "name", rows.at[index, "name"],
            f"differs from the existing metric {stored[index]!r} only by case, spaces or accents; write "
            f"{stored[index]!r} exactly (a file cannot rename a metric or add a second one like it)",
        )  # fmt: skip


def _check_flag(problems: Problems, rows: pd.DataFrame, column: str) -> pd.Series:
    """A true/false column (empty = false); records anything else and returns the booleans.

    The usual spellings in any case: true/false, yes/no, y/n, t/f, 1/0.
    """
    flag = rows[column].astype(str).str.strip().str.lower()
    problems.add_where(
        rows, ~flag.isin(TRUE_WORDS | FALSE_WORDS), column,
        f"{column} must be true or false (or yes/no, y/n, 1/0; empty is false)",
    )  # fmt: skip
    return flag.isin(TRUE_WORDS)


def _check_schedule(
    problems: Problems, rows: pd.DataFrame, typed: pd.DataFrame, decimal_comma: bool
) -> tuple[pd.Series, pd.Series]:
    """(schedule, stale_after): a schedule from SCHEDULES (empty: daily), and a whole number of
    days from 1 to STALE_AFTER_MAX (empty: NaN, the schedule's default)."""
    schedule = rows[SCHEDULE].where(rows[SCHEDULE] != "", "daily")
    _check_choice(problems, rows.assign(**{SCHEDULE: schedule}), SCHEDULE, SCHEDULES, typed)
    problems.add_where(
        rows, schedule.isin(("weekly", "monthly")) & rows["baseline"].isin(("history", "weekday")),
        "baseline",
        "a weekly or monthly metric has too few values a year for a history or weekday baseline "
        "(they need 90 days, or 13 weeks of one weekday); use baseline=last_year or a fixed target",
    )  # fmt: skip
    text = rows[STALE_AFTER].astype(str).str.strip()
    given = text != ""
    days = to_number(text, decimal_comma)
    bad = given & ~((days >= 1) & (days <= STALE_AFTER_MAX) & (days % 1 == 0))
    problems.add_where(
        typed, bad, STALE_AFTER,
        f"stale_after must be a whole number of days from 1 to {STALE_AFTER_MAX}, or empty for "
        f"the schedule's default ({', '.join(f'{k} {v}' for k, v in STALE_AFTER_DEFAULTS.items())})",
    )  # fmt: skip
    return schedule, days.where(given & ~bad).astype(float)


def _check_choice(
    problems: Problems,
    rows: pd.DataFrame,
    column: str,
    allowed: tuple[str, ...],
    typed: pd.DataFrame,
    where: pd.Series | None = None,
) -> None:
    """Record a cell of ``rows`` (lower-cased) not in ``allowed``, echoing it as ``typed``."""
    shown = [a for a in allowed if a]
    bad = ~rows[column].isin(allowed)
    if where is not None:
        bad &= where
    problems.add_where(typed, bad, column, f"must be one of {shown}")
