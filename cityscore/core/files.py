"""Files the kit writes: one atomic write, so a reader sees a whole file or none."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from cityscore.core.errors import ConfigError


def write_atomically(path: str | Path, write: Callable[[Path], None], example: str) -> Path:
    """Call ``write(partial)`` on a file beside ``path``, then rename it to ``path``.

    The file appears whole or not at all; a folder, or a path that cannot be written, is a
    ``ConfigError`` naming it (``example`` is the file name suggested inside a folder).
    """
    path = Path(path)
    if path.is_dir():
        msg = f"{path} is a folder; give a file name to write to, e.g. {path / example}"
        raise ConfigError(msg)
    partial = path.with_name(f".{path.name}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(partial)
        os.replace(partial, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        msg = f"cannot write {path}: {exc.strerror or exc}; choose a file in a folder you can write to"
        raise ConfigError(msg) from None
    return path
