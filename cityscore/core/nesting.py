"""Nested documents (YAML, TOML, GeoJSON) read with their depth refused past what Python can walk.

A parser that meets lists or tables nested thousands of levels deep runs out of Python's stack
(``RecursionError``). No file the kit reads nests more than a few levels, so such a file is a
user's error: one message naming the file, never an internal error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from cityscore.core.errors import ConfigError


def too_deep(what: str) -> str:
    """The message for ``what`` (a file's name or path) nested too deeply to be read."""
    return (
        f"{what} is nested too deeply to be read (lists or tables inside each other hundreds of "
        "levels down); the kit's files nest a few levels at most: check that it is the right file "
        "and that every bracket opened is closed"
    )


@contextmanager
def refusing_deep_nesting(what: str) -> Iterator[None]:
    """Run a parse (and any walk of its result) and raise ``ConfigError`` naming ``what`` if it
    nests too deeply for Python's stack."""
    try:
        yield
    except RecursionError:
        raise ConfigError(too_deep(what)) from None
