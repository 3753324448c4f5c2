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
    KINDS,
    METRIC_FILE_COLUMNS,
    TEXT_LIMITS,
)
from cityscore.io.cells import FALSE_WORDS, TRUE_WORDS, to_number
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
        rows["target"] = rows["target"].where(rows["baseline"].str.lower() != "history", "")
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
    for column in ["direction", "kind", "aggregation", "baseline"]:
        rows[column] = rows[column].str.lower()
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
    _check_choice(problems, rows[rows["direction"] != ""], "direction", DIRECTIONS)
    _check_choice(problems, rows, "kind", KINDS)
    _check_choice(problems, rows, "baseline", ("", *BASELINES))
    aggregation_ok = rows["aggregation"].isin(("", *AGGREGATIONS))
    problems.add_where(
        rows, ~aggregation_ok, "aggregation", f"must be one of {list(AGGREGATIONS)} or empty"
    )
    ratio_agg = (rows["kind"] == "ratio") & ~rows["aggregation"].isin(("",))
    problems.add_where(
        rows,
        ratio_agg & aggregation_ok,
        "aggregation",
        "ratio metrics are always sum(numerators)/sum(denominators); leave aggregation empty",
    )
    decimal_comma = rows.attrs.get("decimal_comma", False)
    target = to_number(rows["target"], decimal_comma)
    history = rows["baseline"] == "history"
    has_target = rows["target"] != ""
    problems.add_where(rows, has_target & target.isna(), "target", "target is not a number")
    problems.add_where(
        rows,
        has_target & (target <= 0),
        "target",
        "target must be greater than 0; use baseline=history to score against the metric's own past",
    )
    problems.add_where(
        rows,
        has_target & ~np.isfinite(target.fillna(0)),
        "target",
        "target must be a finite number",
    )
    problems.add_where(
        rows,
        history & has_target,
        "target",
        "a metric with baseline=history has no fixed target; leave target empty",
    )
    problems.add_where(
        rows,
        ~history & ~has_target,
        "target",
        "give a target greater than 0, or set baseline=history",
    )
    trend = _check_flag(problems, rows, "trend")
    negative = _check_flag(problems, rows, ALLOW_NEGATIVE)
    problems.add_where(
        rows,
        negative & ((rows["kind"] != "value") | (rows["direction"] != "higher")),
        ALLOW_NEGATIVE,
        "only higher-is-better value metrics may allow negative values (a ratio counts cases; a "
        "lower-is-better score target/value has no meaning below 0); set allow_negative=false",
    )
    weight = to_number(rows["weight"], decimal_comma).where(rows["weight"] != "", 1.0)
    bad_weight = weight.isna() | ~(weight > 0) | ~np.isfinite(weight.fillna(1))
    problems.add_where(
        rows, bad_weight, "weight", "weight must be a number greater than 0 (default 1)"
    )
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
            "baseline": np.where(history, "history", "target"),
            "trend": trend,
            "weight": weight.astype(float),
            ALLOW_NEGATIVE: negative,
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
    """A true/false column (empty = false); records anything else and returns the booleans."""
    flag = rows[column].astype(str).str.lower()
    problems.add_where(
        rows, ~flag.isin(TRUE_WORDS | FALSE_WORDS), column, f"{column} must be true or false"
    )
    return flag.isin(TRUE_WORDS)


def _check_choice(
    problems: Problems, rows: pd.DataFrame, column: str, allowed: tuple[str, ...]
) -> None:
    shown = [a for a in allowed if a]
    problems.add_where(rows, ~rows[column].isin(allowed), column, f"must be one of {shown}")
