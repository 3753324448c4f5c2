"""Time stamps as the city's days: an offset (``-05:00``) is read in the city's time zone.

A value belongs to a day of the city's calendar. A timestamp with an offset (from a file read with
a ``%z`` date format, or from a source database) is converted to the city's time zone (the
``timezone`` setting of cityscore.toml) and counted on that local day; a timestamp without an
offset is already local. With no time zone set, a timestamp with an offset counts on the day
written in it.

The zone in force is the city folder's ``timezone`` (cityscore.toml, found as every setting is),
unless ``city_zone`` sets another around a block of code (a notebook, a test); the date parsers of
the loaders read it once per parse, so their signatures stay as they are.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Iterator
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from cityscore.core.errors import ConfigError

_FROM_SETTINGS = "<settings>"  # no city_zone in force: the city folder's setting applies
_ZONE: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "city_zone", default=_FROM_SETTINGS
)


@cache
def zone_info(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; an unknown one is a ``ConfigError`` with an example."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        msg = (
            f"unknown time zone {name!r}; give an IANA name such as timezone = "
            '"America/New_York" or "Europe/Berlin"'
        )
        raise ConfigError(msg) from None


@contextlib.contextmanager
def city_zone(name: str | None) -> Iterator[None]:
    """Read timestamps with an offset in the zone ``name`` (None: on the day written in them)."""
    if name is not None:
        zone_info(name)  # an unknown zone fails here, before anything is read
    token = _ZONE.set(name)
    try:
        yield
    finally:
        _ZONE.reset(token)


def current_zone() -> str | None:
    """The time zone in force: ``city_zone``'s, else the city's ``timezone`` setting (or None)."""
    zone = _ZONE.get()
    if zone != _FROM_SETTINGS:
        return zone
    from cityscore.core.settings import load_settings  # read when an offset is met, not at import

    return load_settings().timezone


def local_day(value: dt.datetime, zone: str | None) -> dt.date:
    """The city's day of one timestamp: an aware one converted to ``zone`` (None: as written)."""
    if value.tzinfo is not None and zone is not None:
        value = value.astimezone(zone_info(zone))
    return value.date()


def local_day_text(text: str, zone: str | None) -> str | None:
    """``YYYY-MM-DD`` of an ISO timestamp text (``2025-03-09T02:30:00-05:00``); None if it is none."""
    if len(text) <= 10:
        return None
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return local_day(when, zone).isoformat()


def parse_offset_dates(text: pd.Series, date_format: str) -> pd.Series:
    """Days of timestamps written with an offset (a ``%z`` format), each read as ``local_day``.

    A text without the offset (a workbook's date cell, a local time) is local: it is read with the
    format less ``%z``. Parsed once per distinct text; a text that matches neither becomes NaT.
    """
    local_format = date_format.replace("%z", "")

    def day(cell: object) -> pd.Timestamp:
        for form in (date_format, local_format):
            try:
                when = dt.datetime.strptime(str(cell).strip(), form)
            except ValueError:
                continue
            return pd.Timestamp(local_day(when, zone))
        return pd.NaT

    _check_format(date_format)
    zone = current_zone()
    codes, uniques = pd.factorize(text.astype(object))
    days = pd.to_datetime(pd.Series([day(u) for u in uniques] + [pd.NaT], dtype=object))
    return pd.Series(days.dt.as_unit("us").to_numpy()[codes], index=text.index)


def _check_format(date_format: str) -> None:
    """A format ``strptime`` cannot read back what ``strftime`` writes is refused as the loaders do."""
    sample = dt.datetime(2025, 3, 9, 2, 30, tzinfo=dt.UTC)
    try:
        dt.datetime.strptime(sample.strftime(date_format), date_format)
    except ValueError as exc:
        msg = (
            f"date format {date_format!r} is not valid ({exc}); use strftime codes such as "
            "%Y-%m-%dT%H:%M:%S%z"
        )
        raise ConfigError(msg) from None
