"""`cityscore serve` is safe: a token, a Host check, kernels that end with their pages, paths that
hold in the kernels' folder. Each test runs the real command, Voilà and kernels included."""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest

from cityscore import ConfigError
from cityscore.apps import serve
from cityscore.store.copy import copy_sqlite

from .pgserver import free_port

CLI = str(Path(sys.executable).with_name("cityscore"))
START_TIMEOUT = 60  # seconds; a cold start (Voilà, kernel, first chart) takes ~10-20 s here
ALLOWED = "scores.example.org"
CELL_ERROR = "There was an error when executing cell"


@contextmanager
def serving(args: list[str], cwd: Path, db: str) -> Iterator[dict]:
    """`cityscore --db DB serve ARGS` run in ``cwd``; its output in a file; killed after."""
    port = free_port()
    scratch = cwd / "tmp"
    scratch.mkdir(exist_ok=True)
    log = cwd / "serve.log"
    env = {**os.environ, "TMPDIR": str(scratch)}
    env.pop("CITYSCORE_DB", None)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [CLI, "--db", db, "serve", "--port", str(port), *args],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        url = _announced_url(proc, log)
        _wait_for_answer(port, proc, log)
        yield {"proc": proc, "port": port, "url": url, "log": log}
    finally:
        if proc.poll() is None:
            for child in psutil.Process(proc.pid).children(recursive=True):
                child.kill()
            proc.kill()
            proc.wait()
        shutil.rmtree(scratch, ignore_errors=True)


def _announced_url(proc: subprocess.Popen, log: Path) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            if line.startswith("CityScore explorer: "):
                return line.split(": ", 1)[1].strip()
        if proc.poll() is not None:
            pytest.fail(f"cityscore serve exited with {proc.returncode}: {log.read_text()}")
        time.sleep(0.1)
    pytest.fail("cityscore serve printed no URL")


def _wait_for_answer(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"cityscore serve exited with {proc.returncode}: {log.read_text()}")
        try:
            get(port, "/voila/static/", host="127.0.0.1")
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"cityscore serve did not answer on port {port}")


def get(port: int, target: str, host: str) -> http.client.HTTPResponse:
    """A GET of ``target`` with this ``Host`` header, its body read."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=START_TIMEOUT)
    conn.request("GET", target, headers={"Host": host})
    response = conn.getresponse()
    response.body = response.read().decode("utf-8", "replace")  # type: ignore[attr-defined]
    conn.close()
    return response


def kernels(proc: subprocess.Popen) -> list[psutil.Process]:
    """The notebook kernels the server runs now."""
    found = []
    for child in psutil.Process(proc.pid).children(recursive=True):
        try:
            if "ipykernel" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:  # ended (or a zombie) while we looked: not running
            continue
    return found


def wait_for_kernels(proc: subprocess.Popen, at_most: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while (count := len(kernels(proc))) > at_most and time.monotonic() < deadline:
        time.sleep(0.5)
    return count


@pytest.fixture(scope="module")
def demo_copy(demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("served")
    return copy_sqlite(demo_db_file, folder / "demo.db")


@pytest.fixture(scope="module")
def guarded(demo_copy: Path) -> Iterator[dict]:
    """One server for the token and Host checks, which start no kernel unless they get through."""
    args = ["--allow-host", ALLOWED, "--max-pages", "2", "--idle-timeout", "600"]
    with serving(args, demo_copy.parent, str(demo_copy)) as served:
        yield served


@pytest.mark.slow  # Voilà and its notebook kernels
def test_the_printed_url_carries_a_fresh_token_which_no_log_line_repeats(guarded):
    url = urlsplit(guarded["url"])
    token = url.query.removeprefix("token=")
    assert url.netloc == f"127.0.0.1:{guarded['port']}"
    assert len(token) >= 40  # secrets.token_urlsafe(32)
    page = get(guarded["port"], f"/?token={token}", host="127.0.0.1")
    assert page.status == 200
    assert CELL_ERROR not in page.body
    get(guarded["port"], f"/?token={token}", host="evil.example")  # logged as refused
    assert guarded["log"].read_text().count(token) == 1  # the line we printed, nothing else
    running = kernels(guarded["proc"])
    assert running, "the page's kernel"
    for kernel in running:  # Voilà hands a kernel the page's URL, the token masked
        environ = kernel.environ()
        assert not [k for k, v in environ.items() if token in v]
        assert "token=[secret]" in environ.get("SCRIPT_NAME", "") + environ.get(
            "QUERY_STRING", ""
        ) + environ.get("VOILA_REQUEST_URL", "")


@pytest.mark.slow  # Voilà and its notebook kernels
def test_a_page_without_the_token_is_refused(guarded):
    for target in ("/", "/?token=wrong", f"/voila/render/{serve.NOTEBOOK.name}"):
        page = get(guarded["port"], target, host="127.0.0.1")
        assert page.status in (302, 403, 404), target
        if page.status == 302:
            assert "/login" in page.getheader("Location", "")
        assert "widget-view" not in page.body
    assert kernels(guarded["proc"]) == [] or wait_for_kernels(guarded["proc"], 2, 0) <= 2


@pytest.mark.slow  # Voilà and its notebook kernels
def test_a_foreign_host_header_is_refused_even_with_the_token(guarded):
    query = urlsplit(guarded["url"]).query
    for host in ("evil.example", f"evil.example:{guarded['port']}", "10.0.0.7", "localhost.evil"):
        page = get(guarded["port"], f"/?{query}", host=host)
        assert page.status == 403, host
        assert "widget-view" not in page.body
    for host in (f"localhost:{guarded['port']}", ALLOWED, f"[::1]:{guarded['port']}"):
        page = get(guarded["port"], f"/?{query}", host=host)
        assert page.status == 200, host
        assert "widget-view" in page.body


@pytest.mark.slow  # Voilà and its notebook kernels
def test_kernels_are_bounded_by_max_pages_and_culled_when_no_page_holds_them(tmp_path, demo_copy):
    db = copy_sqlite(demo_copy, tmp_path / "demo.db")
    args = ["--max-pages", "2", "--idle-timeout", "4"]
    with serving(args, tmp_path, str(db)) as served:
        query = urlsplit(served["url"]).query
        most = 0
        for _ in range(4):  # pages fetched and never connected to, as a script or a crawler does
            assert get(served["port"], f"/?{query}", host="127.0.0.1").status == 200
            most = max(most, len(kernels(served["proc"])))
        assert 1 <= most <= 2
        assert wait_for_kernels(served["proc"], 0, timeout=30) == 0


@pytest.mark.slow  # Voilà and its notebook kernels
def test_a_relative_database_path_is_found_by_the_kernels(tmp_path, demo_copy):
    copy_sqlite(demo_copy, tmp_path / "city.db")
    with serving(["--idle-timeout", "600"], tmp_path, "city.db") as served:
        page = get(served["port"], f"/?{urlsplit(served['url']).query}", host="127.0.0.1")
    assert page.status == 200
    assert CELL_ERROR not in page.body  # the kernel opened city.db from the notebooks' folder
    assert "widget-view" in page.body


@pytest.mark.slow  # Voilà and its notebook kernels
@pytest.mark.browser
def test_closing_pages_shuts_their_kernels_down(tmp_path, demo_copy, browser):
    db = copy_sqlite(demo_copy, tmp_path / "demo.db")
    with serving(["--idle-timeout", "600"], tmp_path, str(db)) as served:
        context = browser.new_context()
        try:
            for attempt in range(2):  # the reader goes elsewhere, then closes the tab
                page = context.new_page()
                page.goto(served["url"], timeout=START_TIMEOUT * 1000)
                page.locator("svg.marks text", has_text="daily values vs target").first.wait_for(
                    state="attached", timeout=START_TIMEOUT * 1000
                )
                assert len(kernels(served["proc"])) >= 1
                if attempt % 2:
                    page.close(run_before_unload=True)  # the tab closed
                else:
                    page.goto("about:blank")  # the reader went elsewhere
                    page.close()
                assert wait_for_kernels(served["proc"], 0, timeout=20) == 0, attempt
        finally:
            context.close()


def test_host_names_are_checked_before_serving():
    assert serve.check_hosts(["Scores.Example.org.", "localhost"]) == [ALLOWED, "localhost"]
    for bad in ("10.0.0.7", "evil example", "a/b"):
        with pytest.raises(ConfigError, match="--allow-host"):
            serve.check_hosts([bad])


def test_a_relative_sqlite_url_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CITYSCORE_AREAS_MAP", "areas.geojson")
    env = serve.server_env("sqlite:///city.db")
    assert env["CITYSCORE_DB"] == f"sqlite:///{tmp_path.resolve() / 'city.db'}"
    assert env["CITYSCORE_AREAS_MAP"] == str(tmp_path.resolve() / "areas.geojson")
    assert serve.absolute_url("postgresql://u@h/db") == "postgresql://u@h/db"
    assert serve.absolute_url("sqlite:////srv/c.db") == "sqlite:////srv/c.db"


def test_serve_hosts_come_from_cityscore_toml(tmp_path):
    from cityscore.core.settings import load_settings

    config = tmp_path / "cityscore.toml"
    config.write_text('[serve]\nhosts = ["Scores.Example.org"]\n', encoding="utf-8")
    assert load_settings(config).serve_hosts == (ALLOWED,)
    config.write_text('[serve]\nhosts = "scores.example.org"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"hosts = \["):
        load_settings(config)
