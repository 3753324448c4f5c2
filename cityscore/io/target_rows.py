"""Check target-change rows (targets.csv, a target set by hand) against the catalog."""

from __future__ import annotations

import pandas as pd

from cityscore.core.vocabulary import HISTORY_BASELINES
from cityscore.io.cells import check_range, to_number
from cityscore.io.checks import (
    StoredAreas,
    check_conflicts,
    check_dates,
    check_metric_names,
    with_checked_areas,
)
from cityscore.io.problems import Problems


def validate_targets(
    rows: pd.DataFrame,
    metrics: pd.DataFrame,
    name: str = "targets.csv",
    date_format: str = "%Y-%m-%d",
    *,
    stored_areas: StoredAreas = None,
) -> pd.DataFrame:
    """Check target-change rows; return ``metric, effective_from, target`` or raise.

    ``stored_areas`` (e.g. ``Store.areas``) gives the area names already stored: a name that
    differs from one of them (or from another name in the file) only in capitals is refused.
    """
    problems = Problems(name)
    metric = check_metric_names(problems, rows, metrics)
    history = set(metrics.loc[metrics["baseline"].isin(HISTORY_BASELINES), "name"])
    problems.add_where(
        rows,
        metric.isin(history),
        "metric",
        "this metric is scored against its own past (baseline history, weekday or last_year); it "
        "takes no target",
    )
    when = check_dates(problems, rows, "effective_from", date_format)
    # A percentage (93%) reads as values do: 0.93.
    target = to_number(rows["target"], rows.attrs.get("decimal_comma", False), percent=True)
    problems.add_where(rows, target.isna(), "target", "target is not a number")
    problems.add_where(
        rows, ~(target > 0) & target.notna(), "target", "target must be greater than 0"
    )
    check_range(problems, rows, "target", target, target > 0)  # 1e309, 1e-320, 20 digits
    frame = pd.DataFrame({"metric": metric, "effective_from": when, "target": target})
    frame, keys = with_checked_areas(
        problems, rows, frame, ["metric", "effective_from"], stored_areas
    )
    check_conflicts(problems, frame, rows["line"], keys, ["target"])
    problems.raise_if_any(len(rows))
    return frame.drop_duplicates().reset_index(drop=True)
