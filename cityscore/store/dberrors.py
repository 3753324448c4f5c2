"""Database failures a user can fix, told in one line: no driver text, no password, what to do.

``store_error`` turns SQLAlchemy's OperationalError / DatabaseError (a lock timeout, a file that is not
a database, a refused connection or password) into a ``StoreError``; anything else is left alone.
``check_sqlite_path`` refuses a SQLite URL that names a folder, or a file in a folder that does not
exist, before SQLite is asked to open it.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from cityscore.core.errors import StoreError
from cityscore.core.secrets import redact_url, scrub, url_secrets
from cityscore.core.settings import DATA_DIR, DEFAULT_DB_URL

# The driver logs what it cannot raise ("error ignored terminating <psycopg.Copy>: the connection
# is lost" when a server restarts mid-import); with no logging set up Python prints such a record
# on stderr beside the kit's own message. A library's null handler keeps it off; an application
# that sets up logging still receives it.
logging.getLogger("psycopg").addHandler(logging.NullHandler())

LOCK_TIMEOUT_ENV = "CITYSCORE_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 60.0  # seconds a writer waits for another one to finish


def lock_timeout() -> float:
    """Seconds a SQLite writer waits for the write lock: ``$CITYSCORE_LOCK_TIMEOUT``, else 60."""
    text = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_LOCK_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < 1e6:
        msg = f"{LOCK_TIMEOUT_ENV}={text!r} is not a number of seconds; set it to e.g. 60"
        raise StoreError(msg)
    return seconds


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///FILE`` URL; None for other databases and in-memory SQLite."""
    if not url.startswith("sqlite:///") or url.startswith("sqlite:///:memory:"):
        return None
    return Path(url.removeprefix("sqlite:///").split("?", 1)[0])


def check_sqlite_path(url: str) -> None:
    """A SQLite URL must name a file in an existing folder (only the default data/ folder is made).

    A folder that does not exist is most likely a typo: creating it would hide the mistake.
    """
    path = sqlite_path(url)
    if path is None:
        return
    if path.is_dir():
        msg = f"{path} is a folder, not a database file; give a file name, e.g. sqlite:///{path / 'cityscore.db'}"
        raise StoreError(msg)
    if not path.parent.is_dir():
        if _default_folder(url, path):
            return  # made by ``make_data_folder`` when a database is created, never by a read
        msg = (
            f"the folder {path.parent} does not exist; check the path in the database URL, "
            "or create the folder first (mkdir -p)"
        )
        raise StoreError(msg)


def _default_folder(url: str, path: Path) -> bool:
    return url == DEFAULT_DB_URL or path.parent.resolve() == DATA_DIR.resolve()


def make_data_folder(url: str) -> None:
    """Create the default data/ folder of a SQLite URL that names a file in it: only when the
    database is created (``Store.init``), so a command that fails leaves no empty folder behind."""
    path = sqlite_path(url)
    if path is not None and not path.parent.is_dir() and _default_folder(url, path):
        path.parent.mkdir(parents=True, exist_ok=True)


def missing_sqlite_file(url: str) -> StoreError | None:
    """For a command that reads: an error when the SQLite file is not there (SQLite would create it)."""
    path = sqlite_path(url)
    if path is None or path.exists():
        return None
    msg = f"there is no database at {path}; run `cityscore init` (or `cityscore demo`) to create it, or fix the path"
    return StoreError(msg)


@contextmanager
def mapped_errors(url: str) -> Iterator[None]:
    """Turn a known database failure inside the block into a clear ``StoreError``."""
    try:
        yield
    except (sa.exc.DatabaseError, sqlite3.DatabaseError) as exc:  # (columnar reads: the driver's)
        error = store_error(exc, url)
        if error is None:
            raise
        raise error from exc


def store_error(exc: Exception, url: str) -> StoreError | None:
    """A clear ``StoreError`` for a known database failure, or None to let ``exc`` through.

    Unknown OperationalErrors (the database's operation, not the kit's SQL) get a generic message;
    other unknown errors (a bug's ProgrammingError, say) pass through as they are.
    """
    if not isinstance(exc, sa.exc.DatabaseError | sqlite3.DatabaseError):
        return None
    orig = getattr(exc, "orig", None) or exc
    reason = str(orig).strip()
    shown = redact_url(url)
    for pattern, message in _KNOWN:
        match = re.search(pattern, reason, re.I)
        if match:
            where = sqlite_path(url) or shown
            damaged = _not_a_database_hint(sqlite_path(url))
            text = message.format(url=shown, path=where, timeout=lock_timeout(), damaged=damaged)
            return StoreError(text)
    if not isinstance(exc, sa.exc.OperationalError):
        return None
    first = reason.splitlines()[0] if reason else type(orig).__name__
    return StoreError(f"database {shown} failed: {scrub(first, url_secrets(url))}")


DAMAGED = (
    "the database file {path} is damaged (cut short or overwritten: SQLite says its pages do not "
    "hold together); nothing was read or written. Restore it from your latest backup (copy the "
    "backup over {path}, then run the command again), or start a new file with `cityscore init` "
    "and import your files again"
)


SQLITE_HEADER = b"SQLite format 3\x00"


def _not_a_database_hint(path: Path | None) -> str:
    """What follows "is not a SQLite database": a damaged file (it starts as one) or a wrong path."""
    try:
        start = path.open("rb").read(len(SQLITE_HEADER)) if path is not None else b""
    except OSError:
        start = b""
    if start == SQLITE_HEADER:
        return (
            " any more: the file is damaged (its start is a database's, the rest is not). Restore "
            "it from your latest backup, or start a new file with `cityscore init`"
        )
    return "; check the path in --db or CITYSCORE_DB"


_KNOWN: list[tuple[str, str]] = [
    (r"database disk image is malformed|malformed database schema|database corrupt", DAMAGED),
    (
        r"database is locked|database table is locked|lock timeout",
        "another process holds the write lock on {path} (waited {timeout:g} s); nothing was written. "
        "Try again when it has finished, or wait longer with CITYSCORE_LOCK_TIMEOUT=SECONDS",
    ),
    (r"file is not a database|file is encrypted", "{path} is not a SQLite database{damaged}"),
    (
        r"attempt to write a readonly database|readonly database",
        "cannot write {path}: the file or its folder is read-only; nothing was written",
    ),
    (
        r"unable to open database file",
        "cannot open {path}: check that its folder exists and that you may write there",
    ),
    (
        r"password authentication failed|authentication failed",
        "the database server refused the password for {url}; check the password (the variable "
        "${{VAR}} in the URL) and the user name",
    ),
    (
        r"connection refused|could not connect|no such file or directory.*socket|is the server running",
        "cannot connect to {url}: nothing is listening there; is the server running, and are the "
        "host and port right?",
    ),
    (
        r"could not translate host name|name or service not known|nodename nor servname",
        "cannot connect to {url}: unknown host name; check the host in the URL",
    ),
    (
        r'database "[^"]*" does not exist',
        "the database named in {url} does not exist on the server; create it or fix the URL",
    ),
    (
        r"connection is lost|server closed the connection|terminating connection|connection.*reset",
        "the connection to {url} was lost mid-way (the server restarted or the network dropped); "
        "nothing was written: run the command again when the server is back",
    ),
    (
        r"timeout expired|timed out",
        "cannot connect to {url}: the server did not answer in time; check the host and port",
    ),
]
