"""``cityscore serve``: the exploration notebook as a web app (Voilà) for people who don't use Jupyter.

Voilà runs ``notebooks/02_explore.ipynb`` with its code hidden, on 127.0.0.1 unless told otherwise,
through ``apps.voila_server``: a token generated for each start (the one URL printed carries it),
requests for any ``Host`` but loopback and the configured names refused, and each page's kernel
shut down when the page goes away or idles unconnected. The database URL reaches the kernels
through ``$CITYSCORE_DB`` (never the command line, where other users of the machine could read a
password), and every path there is absolute: the kernels run in the notebook's folder. SIGTERM or
Ctrl+C stops Voilà, which shuts its kernels down before it exits.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from cityscore.core.errors import ConfigError
from cityscore.core.secrets import redact_url
from cityscore.core.settings import (
    CONFIG_ENV,
    DB_ENV,
    NOTEBOOKS_DIR,
    PACKAGE_DIR,
    SETTING_ENV,
    find_config,
)

if TYPE_CHECKING:
    from cityscore.kit import Kit

NOTEBOOK = NOTEBOOKS_DIR / "02_explore.ipynb"
DEFAULT_PORT = 8866
STOP_TIMEOUT = 20  # seconds Voilà gets to shut its kernels down before it is killed
LOOPBACK = ("127.0.0.1", "localhost", "::1")
IDLE_TIMEOUT = 300  # seconds a kernel no page is connected to is kept (--idle-timeout)
MAX_PAGES = 8  # kernels (about 300 MB each) running at once (--max-pages)
# Our Voilà template ("cityscore": lab without CDN stylesheets) lives here, found through JUPYTER_PATH.
TEMPLATE_ROOT = PACKAGE_DIR / "share"
TEMPLATE = "cityscore"
# A host name as a Host header carries it: letters, digits, hyphens and dots.
HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


def voila_command(notebook: Path, host: str, port: int) -> list[str]:
    """The Voilà command line: code hidden, one fixed port, no browser, no template from the web.

    No secret is on it: the token goes to ``apps.voila_server`` on its standard input.
    """
    return [
        sys.executable,
        "-m",
        "cityscore.apps.voila_server",
        str(notebook),
        f"--Voila.ip={host}",
        f"--port={port}",
        "--Voila.port_retries=0",
        "--no-browser",
        "--strip_sources=True",
        "--show_tracebacks=False",
        f"--template={TEMPLATE}",
    ]


def absolute_url(url: str) -> str:
    """``url`` with a relative SQLite file path made absolute (from the current folder)."""
    path = url.removeprefix("sqlite:///")
    if not url.startswith("sqlite:///") or not path or path.startswith("/") or ":memory:" in path:
        return url
    file, sep, query = path.partition("?")
    return f"sqlite:///{Path(file).resolve()}{sep}{query}"


def server_env(db_url: str) -> dict[str, str]:
    """The environment for Voilà and its kernels: the database URL, the city's cityscore.toml (a
    kernel runs in the notebook's folder, so it would not find it), every path absolute, and where
    our template lives."""
    paths = [str(TEMPLATE_ROOT), *filter(None, [os.environ.get("JUPYTER_PATH")])]
    config = find_config()
    city = {CONFIG_ENV: str(config.resolve())} if config else {}
    # Paths the environment sets are relative to the current folder, which the kernels leave.
    folders = {
        var: str(Path(os.environ[var]).resolve())
        for key, var in SETTING_ENV.items()
        if key in ("reports", "areas_map") and os.environ.get(var)
    }
    return {
        **os.environ,
        **folders,
        **city,
        DB_ENV: absolute_url(db_url),
        "JUPYTER_PATH": os.pathsep.join(paths),
    }


def check_hosts(names: Iterable[str]) -> list[str]:
    """The host names the explorer answers besides loopback, checked (lower case)."""
    checked = []
    for name in names:
        name = name.strip().lower().rstrip(".")
        try:
            address = ipaddress.ip_address(name.strip("[]"))
        except ValueError:
            address = None
        if address is not None and not address.is_loopback:
            msg = (
                f"--allow-host {name}: give the name people type (e.g. scores.example.org), not an "
                "address; to serve others, put the explorer behind a web server with logins (see "
                "docs/serve.md)"
            )
            raise ConfigError(msg)
        if address is None and not HOST_NAME.match(name):
            msg = f"--allow-host {name!r} is not a host name; give one like scores.example.org"
            raise ConfigError(msg)
        checked.append(name)
    return checked


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


def serve(
    kit: Kit,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    *,
    hosts: Iterable[str] = (),
    idle_timeout: int = IDLE_TIMEOUT,
    max_pages: int = MAX_PAGES,
) -> int:
    """Serve until SIGTERM or Ctrl+C; return Voilà's exit status (0 after a clean stop).

    ``hosts``: names (besides loopback) the ``Host`` header may carry; ``idle_timeout``: seconds
    a kernel with no page connected is kept; ``max_pages``: kernels running at once.
    """
    check(host, port)
    names = check_hosts(hosts)
    if idle_timeout < 1 or max_pages < 1:
        msg = (
            f"--idle-timeout and --max-pages must be 1 or more; got {idle_timeout} and {max_pages}"
        )
        raise ConfigError(msg)
    kit.latest_date()  # fail now, with the kit's message, if the database is empty or missing
    env = server_env(kit.url)
    if host not in LOOPBACK:
        print(
            f"warning: listening on {host}: anyone who can reach it and has the link sees the "
            "scores; for people on other machines, use a web server with logins (docs/serve.md)",
            file=sys.stderr,
        )
    token = secrets.token_urlsafe(32)
    shown_host = f"[{host}]" if ":" in host else host
    print(f"CityScore explorer: http://{shown_host}:{port}/?token={token}")
    print(f"(database {redact_url(kit.url)}; the link holds this run's token: share it only with")
    print(" people who may see every score)")
    print("Stop it with Ctrl+C.", flush=True)
    options = {"token": token, "hosts": names, "idle_timeout": idle_timeout, "max_pages": max_pages}
    # A session of its own: Ctrl+C reaches Voilà once, through us, and it stops its kernels.
    server = subprocess.Popen(
        voila_command(NOTEBOOK, host, port),
        env=env,
        stdin=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert server.stdin is not None  # stdin=PIPE
    server.stdin.write(json.dumps(options) + "\n")
    server.stdin.close()
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
