"""CityScore Kit: score the health of a city's services every day, the way Boston's CityScore does."""

from .config import Bands
from .errors import CatalogError, CityScoreError, ConfigError, StoreError, ValidationError
from .kit import Kit
from .score import score_date, score_range

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
