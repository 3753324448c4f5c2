"""A city's closed days: public holidays from the ``holidays`` library and its own closures CSV.

``cityscore.toml``'s ``[calendar]`` names the country and subdivision (``country = "US"``,
``subdivision = "MA"``) and optionally ``closures``, a CSV with a ``date`` column (ISO dates, one
closure a row; other columns such as ``name`` are kept for people and ignored here). The engine
receives the closed days as plain dates: they are not reporting days of a ``business_days`` metric.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from cityscore.core.errors import ConfigError
from cityscore.io.checks import check_dates
from cityscore.io.csvtext import read_rows
from cityscore.io.problems import Problems


def holidays_of(country: str, subdivision: str | None, years: Iterable[int]) -> list[dt.date]:
    """The public holidays of ``country`` (ISO code, e.g. "US") and ``subdivision`` (e.g. "MA");
    the codes are read in any case."""
    import holidays

    supported = holidays.list_supported_countries()
    code = country.strip().upper()
    if code not in supported:
        msg = (
            f"[calendar] country {country!r} is not a country code the holidays library knows; "
            "use a two-letter ISO code such as US, CA, GB or DE"
        )
        raise ConfigError(msg)
    subdiv = None
    if subdivision:
        known = {s.upper(): s for s in supported[code]}
        subdiv = known.get(subdivision.strip().upper())
        if subdiv is None:
            shown = ", ".join(supported[code][:15]) + (", ..." if len(supported[code]) > 15 else "")
            msg = (
                f"[calendar] subdivision {subdivision!r} is not one of {code}'s ({shown}); fix it "
                "or leave subdivision out for the national holidays only"
            )
            raise ConfigError(msg)
    return sorted(holidays.country_holidays(code, subdiv=subdiv, years=list(years)))


def read_closures(path: Path) -> list[dt.date]:
    """The dates of a closures CSV (a ``date`` column, ``YYYY-MM-DD``); bad rows are refused with
    their line numbers."""
    if not path.is_file():
        msg = f"[calendar] closures: no file {path}; give a CSV with a date column (path relative to cityscore.toml)"
        raise ConfigError(msg)
    rows = read_rows(path, required=["date"], optional=["name"])
    problems = Problems(path.name)
    when = check_dates(problems, rows, "date", "%Y-%m-%d")
    problems.raise_if_any(len(rows))
    return sorted({day.date() for day in when})


def closed_days(
    country: str | None,
    subdivision: str | None,
    closures: Path | None,
    years: Iterable[int],
) -> list[dt.date]:
    """Holidays (if a country is set) and closures (if a file is set) in ``years``, sorted."""
    years = list(years)
    days = set(holidays_of(country, subdivision, years)) if country else set()
    if closures is not None:
        days |= {d for d in read_closures(closures) if d.year in years}
    return sorted(days)
