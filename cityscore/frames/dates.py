"""Dates as the engine and the pages read them: one ``as_date`` for every layer above the core."""

from __future__ import annotations

import datetime as dt
from typing import TypeAlias

import pandas as pd

from cityscore.core.errors import ConfigError

DateLike: TypeAlias = dt.date | str | pd.Timestamp


def as_date(value: DateLike) -> pd.Timestamp:
    """A midnight Timestamp from a date, ISO string or Timestamp; a clear error otherwise."""
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        msg = f"not a date: {value!r}; use YYYY-MM-DD"
        raise ConfigError(msg) from None
    if pd.isna(stamp):
        msg = f"not a date: {value!r}; use YYYY-MM-DD"
        raise ConfigError(msg)
    return stamp.normalize()
