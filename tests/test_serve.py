"""`cityscore serve`: the explorer as a Voilà app, tested as a real server in real headless Chromium."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from cityscore import ConfigError
from cityscore.apps import serve
from cityscore.store.copy import copy_sqlite

from .pgserver import free_port

CLI = str(Path(sys.executable).with_name("cityscore"))
START_TIMEOUT = 60  # seconds; a cold start (Voilà, kernel, first chart) takes ~10-20 s here
SOURCE_SNIPPETS = ("from cityscore import", "Explorer(kit", "key_numbers(", "as_of: str")


def _wait_for_port(port: int, server: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(
                f"cityscore serve exited early with {server.returncode}: {server.stdout.read()}"
            )
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"cityscore serve did not listen on port {port} within {timeout} s")


@contextmanager
def serving(db: Path) -> Iterator[dict]:
    """`cityscore serve` on a free port over the SQLite file ``db``; killed (with its kernels) after.

    Its temporary folder is private (Voilà's ``voila_*`` kernel files die with the kill, unremoved).
    """
    port = free_port()
    scratch = tempfile.TemporaryDirectory(prefix="cityscore-serve-")
    env = {**os.environ, "CITYSCORE_DB": f"sqlite:///{db}", "TMPDIR": scratch.name}
    proc = subprocess.Popen(
        [CLI, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        announced = proc.stdout.readline()  # "CityScore explorer: URL" with this run's token
        _wait_for_port(port, proc, START_TIMEOUT)
        url = announced.split(": ", 1)[1].strip()
        assert url.startswith(f"http://127.0.0.1:{port}/?token=")
        yield {"proc": proc, "port": port, "url": url}
    finally:
        if proc.poll() is None:
            for child in psutil.Process(proc.pid).children(recursive=True):
                child.kill()
            proc.kill()
            proc.wait()
        scratch.cleanup()


@pytest.fixture
def server(demo_db_file: Path, tmp_path: Path) -> Iterator[dict]:
    with serving(copy_sqlite(demo_db_file, tmp_path / "demo.db")) as served:
        yield served


def test_served_explorer_loads_offline_hides_code_and_follows_the_metric_picker(
    server, browser, artifacts_dir
):
    base = server["url"].partition("?")[0].rstrip("/")
    outside: list[str] = []

    def only_localhost(route) -> None:
        url = route.request.url
        if url.startswith(base) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.route("**/*", only_localhost)
    try:
        page.goto(server["url"], timeout=START_TIMEOUT * 1000)
        detail = page.locator("svg.marks text", has_text="daily values vs target")
        detail.first.wait_for(state="attached", timeout=START_TIMEOUT * 1000)
        first_title = detail.first.text_content()
        assert first_title == "311 Calls Answered On Time: daily values vs target"
        text = page.inner_text("body")
        assert "CityScore: day " not in text  # the key numbers cell (for nbval) is not shown
        assert "notebook test" not in text
        html = page.content()
        assert not [s for s in SOURCE_SNIPPETS if s in html], "notebook code is visible in the app"

        picker = page.locator("select:has(option:text-is('EMS Response Time'))")
        picker.select_option(label="EMS Response Time")
        page.locator(
            "svg.marks text", has_text="EMS Response Time: daily values vs target"
        ).first.wait_for(state="attached", timeout=30_000)
        assert page.locator("svg.marks text", has_text=first_title).count() == 0
        page.get_by_role("tab", name="Metric detail").click()
        page.screenshot(path=str(artifacts_dir / "explore-serve.png"))
    finally:
        context.close()
    assert outside == [], f"the page asked for outside resources: {outside}"

    # Stopping the server stops Voilà and every kernel it started.
    proc = server["proc"]
    children = psutil.Process(proc.pid).children(recursive=True)
    kernels = [c for c in children if "ipykernel" in " ".join(c.cmdline())]
    assert kernels, "expected a running kernel behind the page"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    _, alive = psutil.wait_procs(children, timeout=15)
    assert alive == [], f"left running after stop: {[p.pid for p in alive]}"
    output = proc.stdout.read()
    assert "Kernel shutdown" in output
    assert "CityScore explorer stopped." in output


def test_serve_refuses_an_empty_database_before_starting_voila(kit):
    result = subprocess.run(
        [CLI, "--db", kit.store.url, "serve", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "no values yet" in result.stderr
    assert result.stdout == ""  # it stopped before announcing (or starting) a server


@pytest.mark.parametrize(
    ("host", "port", "message"), [("127.0.0.1", 0, "--port"), ("", 8866, "--host")]
)
def test_bad_host_or_port_is_a_clear_error(host: str, port: int, message: str):
    with pytest.raises(ConfigError, match=message):
        serve.check(host, port)


def test_ctrl_c_is_forwarded_to_the_server_as_a_stop():
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        assert serve._wait(child) == 0
    finally:
        timer.cancel()
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGTERM
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
