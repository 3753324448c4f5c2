"""What an import warns about once written: baseline metrics that can never be scored."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd

from cityscore.core.vocabulary import HISTORY_BASELINES, PERIODS
from cityscore.engine.baseline_checks import never_scored
from cityscore.engine.score import score_range
from cityscore.store.batches import ImportResult
from cityscore.store.database import Store

# How many recent as-of dates the check scores (a quarter).
RECENT_DAYS = 90


def baseline_warnings(store: Store) -> tuple[str, ...]:
    """One sentence per baseline metric with no score in the last ``RECENT_DAYS`` of stored data
    because its baseline is never above 0 there (e.g. a net change that swings around 0)."""
    metrics = store.metrics()
    own = metrics[metrics["baseline"].isin(HISTORY_BASELINES)].reset_index(drop=True)
    last = store.date_range()[1]
    if own.empty or last is None:
        return ()
    first = last - dt.timedelta(days=RECENT_DAYS - 1)
    observations = store.scoring_observations(first, last, citywide=True)
    observations = observations[observations["metric"].isin(own["name"])]
    no_targets = pd.DataFrame({"metric": [], "effective_from": [], "target": []})
    scores = score_range(observations, own, no_targets, first, last, periods=PERIODS)
    return tuple(never_scored(scores, own).values())


def warned(store: Store, result: ImportResult) -> ImportResult:
    """``result`` with ``baseline_warnings`` when the import changed something."""
    if not (result.inserted or result.updated):
        return result
    return replace(result, warnings=baseline_warnings(store))
