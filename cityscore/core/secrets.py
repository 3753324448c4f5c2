"""Secrets in URLs: ``${VAR}`` expansion from the environment, and masking for messages and logs."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

from cityscore.core.errors import ConfigError

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


def has_literal_password(url: str) -> bool:
    """True if ``url`` has a password written in it (anything but a ``${VAR}`` reference).

    Both places count: the user-info part and the query string (``?password=``).
    """
    return any(not _ENV_REF.fullmatch(secret) for secret in url_secrets(url))
