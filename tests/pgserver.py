"""Start a throwaway PostgreSQL server on 127.0.0.1, for the tests and the sync benchmark.

Uses Debian's server binaries (package ``postgresql``). ``initdb`` refuses to run as root, so as
root the server runs as the package's ``postgres`` user on a directory that user owns.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL server's bin directory, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_postgres(password: str | None = None) -> Iterator[str]:
    """A fresh server for the duration of the block; yields its base URL (no database name).

    With ``password``, TCP connections need it (scram-sha-256) for the ``postgres`` user; the URL
    yielded still holds no password. Raises FileNotFoundError when no server binaries are installed.
    """
    bindir = pg_bin()
    if bindir is None:
        msg = "PostgreSQL server binaries not found (apt-get install postgresql)"
        raise FileNotFoundError(msg)
    root = Path(tempfile.mkdtemp(prefix="cityscore-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port, data = free_port(), root / "data"
    pg_ctl = [*as_user, str(bindir / "pg_ctl"), "-D", str(data)]
    auth = ["-A", "trust"]
    if password is not None:
        pwfile = root / "pwfile"
        pwfile.write_text(password + "\n", encoding="utf-8")
        if as_user:
            shutil.chown(pwfile, user="postgres")
        auth = ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}"]
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(data), *auth, "-U", "postgres", "-N"],
        check=True,
        capture_output=True,
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c full_page_writes=off"
    )
    subprocess.run(
        [*pg_ctl, "-o", options, "-l", str(root / "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
