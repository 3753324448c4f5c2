"""CityScore Kit: score the health of a city's services every day, the way Boston's CityScore does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cityscore.core import moved
from cityscore.core.bands import Bands
from cityscore.core.errors import (
    CatalogError,
    CityScoreError,
    ConfigError,
    StoreError,
    ValidationError,
)
from cityscore.core.lazy import lazy_exports

if TYPE_CHECKING:
    from cityscore.engine.score import score_date, score_range
    from cityscore.kit import Kit

__all__ = [
    "Bands",
    "CatalogError",
    "CityScoreError",
    "ConfigError",
    "Kit",
    "StoreError",
    "ValidationError",
    "score_date",
    "score_range",
]
__version__ = "0.1.0"

moved.install()  # old module paths (cityscore.explore, cityscore.config, ...) keep importing

# Loaded on first use: importing any part of the kit (the CLI's --help, its error paths) should
# not pay for pandas and SQLAlchemy until something needs them.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Kit": "cityscore.kit",
        "score_date": "cityscore.engine.score",
        "score_range": "cityscore.engine.score",
    },
)
