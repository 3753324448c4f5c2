"""Files the kit writes: one atomic write, so a reader sees a whole file or none."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from cityscore.core.errors import ConfigError


def write_atomically(
    path: str | Path, content: str | Callable[[Path], None], example: str = ""
) -> Path:
    """Write ``content`` (UTF-8 text, or a callback ``write(partial)`` that writes the file it is
    given) to a private file beside ``path``, then rename it to ``path``.

    The file appears whole or not at all, with the permissions any new file of the user gets
    (the umask decides: ``umask 077`` keeps a report private). A folder, or a path that cannot be written, is a ``ConfigError`` naming it (``example`` is the
    file name suggested inside a folder).
    """
    path = Path(path)
    if path.is_dir():
        hint = f", e.g. {path / example}" if example else ""
        msg = f"{path} is a folder; give a file name to write to{hint}"
        raise ConfigError(msg)
    partial = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A private name per writer: two processes writing the same file never share a partial one.
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
        partial = Path(name)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            if isinstance(content, str):
                handle.write(content)
        if not isinstance(content, str):
            content(partial)
        os.chmod(partial, 0o666 & ~_umask())  # mkstemp made it 0600
        os.replace(partial, path)
    except BaseException as exc:
        if partial is not None:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            msg = f"cannot write {path}: {exc.strerror or exc}; choose a file in a folder you can write to"
            raise ConfigError(msg) from None
        raise
    return path


def _umask() -> int:
    """The process's umask (reading it means setting it: put it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
