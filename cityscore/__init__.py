"""CityScore Kit: score the health of a city's services every day, the way Boston's CityScore does."""

from __future__ import annotations

import importlib
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
_LAZY = {"Kit": ".kit", "score_date": ".engine.score", "score_range": ".engine.score"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
