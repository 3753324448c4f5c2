"""One morning run at a time: a lock file in the city folder, held with ``fcntl.flock``.

A second run waits a bounded time, then says which run holds the lock (its pid, start time and
host, which the holder writes into the lock file). The kernel drops the lock when the holder's
process ends, however it ends, so a crashed run never blocks the next one.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from cityscore.core.errors import CityScoreError

LOCK_FILE = ".cityscore-daily.lock"
POLL_SECONDS = 0.2


class RunLockedError(CityScoreError):
    """Raised when another morning run still holds the city folder's lock after the wait."""


@contextmanager
def run_lock(folder: Path, wait: float) -> Iterator[dict[str, object]]:
    """Hold the city folder's run lock for the block; wait up to ``wait`` seconds for it.

    Yields what this run wrote into the lock file (``pid``, ``started``, ``host``).
    """
    path = folder / LOCK_FILE
    with open(path, "a+", encoding="utf-8") as handle:
        _acquire(handle, path, wait)
        holder: dict[str, object] = {
            "pid": os.getpid(),
            "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "host": socket.gethostname(),
        }
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(holder))
        handle.flush()
        try:
            yield holder
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _acquire(handle: IO[str], path: Path, wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                msg = (
                    f"another `cityscore daily` is running ({holder_text(path)}) and still held "
                    f"{path} after {wait:g} s; let it finish, or give --wait SECONDS to wait longer"
                )
                raise RunLockedError(msg) from None
            time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))


def holder_text(path: Path) -> str:
    """Who holds the lock, as its holder wrote it: ``pid 123 on host, started 2026-12-08T06:30``."""
    try:
        found = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        found = {}
    if not isinstance(found, dict) or "pid" not in found:
        return "its pid is not recorded yet"
    return (
        f"pid {found.get('pid')} on {found.get('host', '?')}, started {found.get('started', '?')}"
    )
