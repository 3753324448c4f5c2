"""Report files on disk: a date folder staged whole then swapped in, full disks named, dead runs' leftovers cleared.

A report's files (notebook, page, summary) are written into a staging folder inside the reports
folder and renamed into place with the index, so a full disk or a killed run leaves the archive as it
was: never a notebook without its page, nor a page missing from the index. A full folder (no space,
over quota, or over the process's file-size limit) is named in one message. Each run's temp folder
records its process id; the next run removes the temp folders of runs that died (a kill leaves them).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from cityscore.core.errors import CityScoreError

FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
TEMP_PREFIX = "cityscore-report-"
STALE_DAYS = 1  # a temp folder without a process id is an old kit's after this long
_OWNER = "pid"  # a run's temp folder: the file holding its process id
_STAGED, _OLD = ".partial", ".old"


class DiskFullError(CityScoreError):
    """Raised when a folder the report writes to is full; the message names it."""


def full_error(exc: BaseException) -> OSError | None:
    """The "disk full" ``OSError`` (ENOSPC, EDQUOT, EFBIG) in ``exc`` or what caused it, else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in FULL:
            return current
        current = current.__cause__ or current.__context__
    return None


def full_message(folder: Path, what: str, exc: OSError | None) -> str:
    why = f" ({exc.strerror})" if exc is not None and exc.strerror else ""
    return (
        f"the {what} {folder} is full{why}: free some space there (or give it more room) and run "
        "the report again; the published reports are as they were"
    )


def is_full(folder: Path, least: int = 1 << 20) -> bool:
    """Whether ``folder`` has less than ``least`` bytes free (a write there failed for lack of room)."""
    try:
        return shutil.disk_usage(folder).free < least
    except OSError:
        return False


@contextlib.contextmanager
def run_folder() -> Iterator[Path]:
    """A private temp folder for one run (removed on exit), after removing dead runs' folders."""
    clear_dead_runs(Path(tempfile.gettempdir()))
    tmp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
    try:
        (tmp / _OWNER).write_text(str(os.getpid()), encoding="ascii")
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if exc.errno in FULL:
            raise DiskFullError(full_message(tmp.parent, "temp folder", exc)) from None
        raise
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def clear_dead_runs(temp: Path) -> list[Path]:
    """Remove the temp folders (``cityscore-report-*``) of report runs whose process is gone, and
    those without a process id (an older kit's) untouched for ``STALE_DAYS``."""
    removed = []
    for folder in temp.glob(f"{TEMP_PREFIX}*"):
        try:
            if folder.is_symlink() or not folder.is_dir() or folder.stat().st_uid != os.getuid():
                continue
            owner = folder / _OWNER
            if not owner.exists():
                pid = -1 if time.time() - folder.stat().st_mtime > STALE_DAYS * 86400 else 0
            else:
                pid = int(owner.read_text(encoding="ascii").strip() or "0")
        except (OSError, ValueError):
            continue  # not one of ours, or still being made
        if pid < 0 or (pid > 0 and not _alive(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def publish_folder(
    out: Path, day: str, files: dict[str, str], update: Callable[[Path], None]
) -> Path:
    """Write ``files`` (name -> text) as the date folder ``out/day``, replacing any earlier one,
    then ``update(out)`` (the index); all or nothing. Returns the date folder."""
    recover(out)
    folder = out / day
    staging = Path(tempfile.mkdtemp(prefix=f".{day}.", suffix=_STAGED, dir=out))
    old: Path | None = None
    try:
        os.chmod(staging, 0o777 & ~umask())  # mkdtemp makes it 0700; the umask decides
        for name, text in files.items():
            with open(staging / name, "w", encoding="utf-8") as handle:  # follows the umask
                handle.write(text)
        if folder.exists():
            old = staging.with_name(staging.name[: -len(_STAGED)] + _OLD)
            folder.rename(old)
        staging.rename(folder)
        try:
            update(out)
        except BaseException:
            folder.rename(staging)
            if old is not None:
                old.rename(folder)
                old = None
            raise
    except OSError as exc:
        if exc.errno in FULL or is_full(out):
            raise DiskFullError(full_message(out, "reports folder", exc)) from None
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return folder


def recover(out: Path) -> None:
    """Undo what a run killed mid-publish left in ``out``: a date folder moved aside comes back
    if its replacement never arrived; staging folders are removed."""
    for moved in out.glob(f".*{_OLD}"):
        day = moved.name[1:].split(".", 1)[0]
        target = out / day
        if moved.is_dir() and not target.exists():
            moved.rename(target)
        else:
            shutil.rmtree(moved, ignore_errors=True)
    for staged in out.glob(f".*{_STAGED}"):
        if staged.is_dir():
            shutil.rmtree(staged, ignore_errors=True)
