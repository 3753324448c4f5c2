"""``cityscore serve``: the exploration notebook as a web app (Voilà) for people who don't use Jupyter.

Voilà runs ``notebooks/02_explore.ipynb`` with its code hidden, on 127.0.0.1 unless told otherwise.
The database URL reaches the notebook's kernel through ``$CITYSCORE_DB`` (never the command line,
where other users of the machine could read a password). SIGTERM or Ctrl+C stops Voilà, which shuts
its kernels down before it exits.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from cityscore.core.errors import ConfigError
from cityscore.core.secrets import redact_url
from cityscore.core.settings import CONFIG_ENV, DB_ENV, NOTEBOOKS_DIR, PACKAGE_DIR, find_config

if TYPE_CHECKING:
    from cityscore.kit import Kit

NOTEBOOK = NOTEBOOKS_DIR / "02_explore.ipynb"
DEFAULT_PORT = 8866
STOP_TIMEOUT = 20  # seconds Voilà gets to shut its kernels down before it is killed
LOOPBACK = ("127.0.0.1", "localhost", "::1")
# Our Voilà template ("cityscore": lab without CDN stylesheets) lives here, found through JUPYTER_PATH.
TEMPLATE_ROOT = PACKAGE_DIR / "share"
TEMPLATE = "cityscore"


def voila_command(notebook: Path, host: str, port: int) -> list[str]:
    """The Voilà command line: code hidden, one fixed port, no browser, no template from the web."""
    return [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        f"--Voila.ip={host}",
        f"--port={port}",
        "--Voila.port_retries=0",
        "--no-browser",
        "--strip_sources=True",
        "--show_tracebacks=False",
        f"--template={TEMPLATE}",
    ]


def server_env(db_url: str) -> dict[str, str]:
    """The environment for Voilà and its kernels: the database URL, the city's cityscore.toml (a
    kernel runs in the notebook's folder, so it would not find it) and where our template lives."""
    paths = [str(TEMPLATE_ROOT), *filter(None, [os.environ.get("JUPYTER_PATH")])]
    config = find_config()
    city = {CONFIG_ENV: str(config)} if config else {}
    return {**os.environ, **city, DB_ENV: db_url, "JUPYTER_PATH": os.pathsep.join(paths)}


def check(host: str, port: int, notebook: Path = NOTEBOOK) -> None:
    """Clear errors for what would make Voilà fail later with a less helpful message."""
    if importlib.util.find_spec("voila") is None:
        msg = "Voilà is not installed; install the kit with its web app: pip install -e '.[serve]'"
        raise ConfigError(msg)
    if not notebook.exists():
        msg = f"the exploration notebook is missing ({notebook.name}); restore notebooks/ from the repository"
        raise ConfigError(msg)
    if not 0 < port < 65536:
        msg = f"--port must be between 1 and 65535; got {port}"
        raise ConfigError(msg)
    if not host:
        msg = "--host must be an address such as 127.0.0.1"
        raise ConfigError(msg)


def serve(kit: Kit, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> int:
    """Serve until SIGTERM or Ctrl+C; return Voilà's exit status (0 after a clean stop)."""
    check(host, port)
    kit.latest_date()  # fail now, with the kit's message, if the database is empty or missing
    env = server_env(kit.url)
    if host not in LOOPBACK:
        print(
            f"warning: listening on {host}: anyone who can reach it sees the scores (no login)",
            file=sys.stderr,
        )
    shown_host = f"[{host}]" if ":" in host else host
    print(f"CityScore explorer: http://{shown_host}:{port}/  (database {redact_url(kit.url)})")
    print("Stop it with Ctrl+C.", flush=True)
    # A session of its own: Ctrl+C reaches Voilà once, through us, and it stops its kernels.
    server = subprocess.Popen(voila_command(NOTEBOOK, host, port), env=env, start_new_session=True)
    return _wait(server)


def _wait(server: subprocess.Popen) -> int:
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    deadline = None
    try:
        while True:
            try:
                code = server.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if stopping and deadline is None:
                    deadline = time.monotonic() + STOP_TIMEOUT
                if deadline is not None and time.monotonic() > deadline:
                    server.kill()  # last resort: Voilà did not stop in time
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stopping:
        print("CityScore explorer stopped.")
        return 0
    return code
