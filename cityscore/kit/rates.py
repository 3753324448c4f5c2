"""The populations rates per resident are scored with: the area catalog's and the city's own figure."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from cityscore.core.settings import load_settings
from cityscore.core.vocabulary import PER_RESIDENTS


def rate_populations(
    metrics: pd.DataFrame, area_catalog: Callable[[], pd.DataFrame]
) -> dict[str, float | None] | None:
    """Residents by area for the metrics scored per ``per_residents`` residents: each catalog
    area's population (None where unknown), and the city's own figure under ``""`` (``population``
    in cityscore.toml; without it the engine takes the sum of its areas'). None, and nothing read,
    when no metric of ``metrics`` is a rate."""
    if PER_RESIDENTS not in metrics or metrics[PER_RESIDENTS].isna().all():
        return None
    catalog = area_catalog()
    people: dict[str, float | None] = {
        str(name): None if pd.isna(count) else float(count)
        for name, count in zip(catalog["name"], catalog["population"], strict=True)
    }
    city = load_settings().population
    if city is not None:
        people[""] = city
    return people
