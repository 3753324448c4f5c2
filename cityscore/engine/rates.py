"""Rates per resident: a metric's values per ``per_residents`` residents of the city or of an area.

A rate metric's daily values are scaled by ``per_residents / population`` of the column's city or
area, after the city's days are added up from its areas, so a window's value is the count or sum
the metric has without a rate (or its mean or median), divided by the population, times
``per_residents``. Its target is a rate too: the same target applies to the city and to every area
(a sum metric's city target is otherwise no area's). The city's population is its own figure
(``""`` in ``populations``), else the sum of its areas'; a column without one has no score.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cityscore.core.vocabulary import PER_RESIDENTS
from cityscore.engine.grid import Grid
from cityscore.engine.statuses import AREA_NOTES, NO_POPULATION

NOT_POPULATED = AREA_NOTES.index(NO_POPULATION)


def rate_per(metrics: pd.DataFrame) -> np.ndarray:
    """Each catalog metric's ``per_residents`` (NaN: not a rate)."""
    if PER_RESIDENTS not in metrics:
        return np.full(len(metrics), np.nan)
    return pd.to_numeric(metrics[PER_RESIDENTS], errors="coerce").to_numpy(dtype=float)


def city_population(populations: Mapping[str, float | None]) -> float:
    """The city's residents: its own figure (key ``""``), else the sum of its areas' (NaN if an
    area has none, or there are no areas)."""
    own = populations.get("")
    if own is not None and own == own and own > 0:
        return float(own)
    areas = [p for name, p in populations.items() if name != ""]
    if not areas or any(p is None or p != p or not p > 0 for p in areas):
        return float("nan")
    return float(sum(areas))  # type: ignore[arg-type]


def column_scales(grid: Grid, populations: Mapping[str, float | None]) -> np.ndarray:
    """Per grid column: ``per_residents / population`` for a rate's column (NaN: no population),
    1 for every other column."""
    layout = grid.layout
    per = np.append(rate_per(layout.metrics), np.nan)[layout.column_metric]
    known = {str(k): v for k, v in populations.items()}
    by_area = [known.get(str(a)) for a in layout.areas]
    people = np.array(
        [np.nan if p is None or not p > 0 else float(p) for p in by_area] + [city_population(known)]
    )[layout.column_area]  # column_area -1 (the city) reads the last entry
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.isnan(per), 1.0, per / people)


def apply_rates(grid: Grid, populations: Mapping[str, float | None] | None) -> np.ndarray:
    """Scale the filled grid's rate columns in place; return the columns without a population.

    Call after ``Grid.fill`` (the city's days are its areas' counts, before any scaling) and before
    the windows are read. A rate's area columns take the city's target when they have none.
    """
    per = rate_per(grid.metrics)
    if np.isnan(per).all():
        return np.zeros(grid.layout.width, dtype=bool)  # no rate: nothing changes
    scale = column_scales(grid, populations or {})
    grid.primary = grid.primary * scale
    rate = ~np.isnan(np.append(per, np.nan)[grid.layout.column_metric])
    grid.area_sum = grid.area_sum & ~rate
    return np.isnan(scale)


def note_missing_populations(target_note: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """The target notes with "no population" on the columns that have none."""
    if not missing.any():
        return target_note
    note = target_note.copy()
    note[:, missing] = NOT_POPULATED
    return note


def rate_words(per_residents: float) -> str:
    """How a rate reads: ``per 1,000 residents`` (``per resident`` for 1)."""
    if per_residents == 1:
        return "per resident"
    return f"per {per_residents:,.10g} residents"


def metric_rates(metrics: pd.DataFrame) -> dict[str, str]:
    """The rate metrics of a catalog, each with how its rate reads (``rate_words``)."""
    if PER_RESIDENTS not in metrics:
        return {}
    per = rate_per(metrics)
    names = metrics["name"].astype(str).tolist()
    return {n: rate_words(float(p)) for n, p in zip(names, per, strict=True) if not np.isnan(p)}
