"""Paths, settings and secrets in one place.

The database URL comes from ``--db`` or the ``CITYSCORE_DB`` environment variable, never from a notebook
or a report parameter, so credentials are never written into executed notebooks.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
DATA_DIR = PROJECT_DIR / "data"
REPORTS_DIR = PROJECT_DIR / "reports"
TEMPLATES_DIR = PROJECT_DIR / "templates"
NOTEBOOKS_DIR = PROJECT_DIR / "notebooks"

DEFAULT_DB_URL = f"sqlite:///{DATA_DIR / 'cityscore.db'}"
DB_ENV = "CITYSCORE_DB"


def database_url(explicit: str | None = None) -> str:
    """The database URL: ``explicit`` if given, else ``$CITYSCORE_DB``, else the SQLite file in data/.

    ``${VAR}`` in the URL is replaced by the environment variable VAR, so passwords stay out of files.
    """
    url = explicit or os.environ.get(DB_ENV) or DEFAULT_DB_URL
    return expand_env(url)


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# scheme://[user-info@]rest: the user-info runs to the last "@" (a password may hold "@" or "/");
# "sqlite:///path" has none (what follows "://" is a path, which may hold an "@" of its own).
_URL = re.compile(
    r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?:(?P<userinfo>(?!/).*)@)?(?P<rest>[^@]*)$", re.S
)


def expand_env(text: str) -> str:
    """Replace each ``${VAR}`` with the environment variable VAR; a missing variable is an error.

    In a URL, a value put into the user-info part (``user:${PASSWORD}@``) or into a query value
    (``?password=${PASSWORD}``) is percent-encoded, so a password holding ``@ / : # %`` works as it is:
    set the variable to the plain password, not an encoded one.
    """
    match = _URL.match(text)
    if match is None:
        return _expand(text)
    scheme, userinfo, rest = match.group("scheme", "userinfo", "rest")
    path, mark, query = rest.partition("?")
    out = scheme + (_expand(userinfo, encode=True) + "@" if userinfo is not None else "")
    out += _expand(path)
    if mark:
        pairs = (key + eq + _expand(value, encode=True) for key, eq, value in _pairs(query))
        out += "?" + "&".join(pairs)
    return out


def _pairs(query: str) -> list[tuple[str, str, str]]:
    return [pair.partition("=") for pair in query.split("&")]


def _expand(text: str, encode: bool = False) -> str:
    from urllib.parse import quote

    def _sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            msg = f"environment variable {name} is not set (it is referenced as ${{{name}}}); set it and retry"
            raise ConfigError(msg)
        return quote(os.environ[name], safe="") if encode else os.environ[name]

    return _ENV_REF.sub(_sub, text)


@contextmanager
def environment(name: str, value: str | None) -> Iterator[None]:
    """Set one environment variable (kernels started inside inherit it), restoring it afterwards.

    This is how the database URL reaches a notebook kernel without ever being written into it.
    """
    old = os.environ.get(name)
    if value is not None:
        os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***``, safe to print or log.

    Both places a driver reads a password from are masked: the user-info part (``user:***@``) and
    the query string (``?password=***``, also ``passwd`` and ``pwd``).
    """
    match = _URL.match(url)
    if match and match.group("userinfo") and ":" in match.group("userinfo"):
        user = match.group("userinfo").split(":", 1)[0]
        url = f"{match.group('scheme')}{user}:***@{match.group('rest')}"
    return _QUERY_SECRET.sub(r"\1***", url)


_QUERY_SECRET = re.compile(r"([?&](?:password|passwd|pwd)=)[^&#\s]*", re.I)


def url_secrets(url: str) -> list[str]:
    """Every password in ``url`` (user-info and query), as written and decoded, longest first.

    The text that must never appear in a message, a log, a notebook or a report.
    """
    from urllib.parse import unquote

    found = []
    match = _URL.match(url)
    if match and match.group("userinfo") and ":" in match.group("userinfo"):
        found.append(match.group("userinfo").split(":", 1)[1])
    found += [m.group(0).split("=", 1)[1] for m in _QUERY_SECRET.finditer(url)]
    forms = {form for secret in found for form in (secret, unquote(secret)) if form}
    return sorted(forms, key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with each secret replaced by ``***``."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text


EARLIEST_DATE = dt.date(1900, 1, 1)  # as the catalog's EARLIEST: no value is dated before it


def date_argument(text: str) -> dt.date:
    """A command-line date: ISO ``YYYY-MM-DD``, from 1900-01-01 up to today (argparse ``type=``)."""
    import argparse

    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        msg = f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. {dt.date.today()}"
        raise argparse.ArgumentTypeError(msg) from None
    if day < EARLIEST_DATE:
        msg = f"{day} is before {EARLIEST_DATE}, the earliest date the kit stores"
        raise argparse.ArgumentTypeError(msg)
    if day > dt.date.today():
        msg = f"{day} is in the future; give a date up to today ({dt.date.today()})"
        raise argparse.ArgumentTypeError(msg)
    return day


@dataclass(frozen=True)
class Bands:
    """Status bands: a score >= ``meeting`` is meeting target, >= ``near`` is near, else below."""

    meeting: float = 1.0
    near: float = 0.9

    def __post_init__(self) -> None:
        if not (0 < self.near <= self.meeting):
            msg = f"status bands need 0 < near <= meeting; got near={self.near}, meeting={self.meeting}"
            raise ConfigError(msg)

    @classmethod
    def parse(cls, text: str) -> Bands:
        """Parse ``"1.0,0.9"`` (meeting, near) as given to ``--bands``."""
        try:
            meeting, near = (float(part) for part in text.split(","))
        except ValueError:
            msg = f"--bands takes two numbers 'meeting,near' such as '1.0,0.9'; got {text!r}"
            raise ConfigError(msg) from None
        return cls(meeting=meeting, near=near)


DEFAULT_BANDS = Bands()
