"""Paths, settings and secrets in one place.

The database URL comes from ``--db`` or the ``CITYSCORE_DB`` environment variable, never from a notebook
or a report parameter, so credentials are never written into executed notebooks.
"""

from __future__ import annotations

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


def expand_env(text: str) -> str:
    """Replace each ``${VAR}`` with the environment variable VAR; a missing variable is an error."""

    def _sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            msg = f"environment variable {name} is not set (it is referenced as ${{{name}}}); set it and retry"
            raise ConfigError(msg)
        return os.environ[name]

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
    """The URL with any password replaced by ``***``, safe to print or log."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


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
