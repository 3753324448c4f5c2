"""Shared fixtures: SQLite kits, the demo city, a real PostgreSQL server and a real headless Chromium.

Services that are missing locally make their tests skip with the reason; with
CITYSCORE_REQUIRE_SERVICES=1 (set by .ci/run) the same situation fails instead.

Markers come from fixtures: a test that uses a fixture named in ``MARKED_BY`` gets that marker at
collection, so ``make test-fast`` (``-m "not postgres and not browser and not slow"``) leaves it out.
``postgres`` and ``browser`` are never set by hand. ``slow`` is also set by hand on a test whose own
body takes seconds (several CLI processes, a long hypothesis search): ``make test-fast`` stays under
two minutes.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import settings
from nbclient import NotebookClient

from cityscore import Kit
from cityscore.store.copy import copy_sqlite

from .big_city import write_big_city
from .pgserver import pg_bin, running_postgres

REQUIRE_SERVICES = os.environ.get("CITYSCORE_REQUIRE_SERVICES") == "1"

# Locally hypothesis explores new examples on every run; CI replays a fixed set so that a landing
# never depends on luck (run `pytest` locally to keep searching).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")
# A fixed end date keeps demo-based expectations stable from day to day.
DEMO_END = dt.date(2026, 10, 31)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# A test that uses one of these fixtures (directly or through another fixture) gets the marker.
MARKED_BY = {
    "postgres": {"postgres_server", "password_server"},
    "browser": {"browser"},
    "slow": {  # a notebook kernel, a report run, a package build, a city of real size
        "run_notebook",
        "published",
        "demo_report",
        "hostile_report",
        "installed",
        "big_city",
        "huge_daily",
    },
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in MARKED_BY.items():
            if used & fixtures:
                item.add_marker(marker)


def missing_service(reason: str) -> None:
    """Skip for a missing service, or fail when CI requires every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (CITYSCORE_REQUIRE_SERVICES=1 requires it; .ci/run installs it)")
    pytest.skip(reason)


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    """An empty, initialised kit on a fresh SQLite file."""
    k = Kit(f"sqlite:///{tmp_path / 'city.db'}")
    k.init()
    return k


@pytest.fixture(scope="session")
def demo_db_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo city (ending DEMO_END) loaded once per session; copy it before writing to it."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    demo = Kit(f"sqlite:///{path}")
    demo.load_demo(DEMO_END)
    demo.store.engine.dispose()  # close connections so SQLite folds its WAL into demo.db
    return path


@pytest.fixture
def demo_kit(demo_db_file: Path, tmp_path: Path) -> Kit:
    """A private, writable copy of the demo city."""
    return Kit(f"sqlite:///{copy_sqlite(demo_db_file, tmp_path / 'demo.db')}")


@pytest.fixture
def city(kit: Kit, request: pytest.FixtureRequest) -> Kit:
    """The empty kit with the test module's ``METRICS`` catalog (CSV text or bytes) imported."""
    metrics = request.module.METRICS
    kit.import_metrics(metrics.encode() if isinstance(metrics, str) else metrics)
    return kit


@pytest.fixture(scope="session")
def areas_kit(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    """The demo city with its neighbourhoods, loaded once per session: read it, never write to it."""
    kit = Kit(f"sqlite:///{tmp_path_factory.mktemp('areas') / 'demo.db'}")
    kit.load_demo(DEMO_END, areas=True)
    return kit


@pytest.fixture(scope="session")
def big_city(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``big_city(metrics, years=2)``: the SQLite file of a synthetic city of real size, each size
    built once per session (read it; copy it to write)."""
    folder = tmp_path_factory.mktemp("big-city")
    built = functools.cache(functools.partial(write_big_city, folder))

    def big(metrics: int, years: int = 2) -> Path:
        return built(metrics, years)  # one cache key per size, however the caller spells it

    return big


@pytest.fixture
def run_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """``run_notebook(nb, folder, timeout=180, **options)``: execute ``nb`` in place in a fresh
    Python kernel working in ``folder``, as JupyterLab runs it (``options`` go to nbclient).

    The kernel inherits the environment: its temporary folders land in the test's ``tmp_path``.
    """
    monkeypatch.setenv("TMPDIR", str(tmp_path))

    def run(nb: Any, folder: Path, timeout: int = 180, **options: Any) -> Any:
        resources = {"metadata": {"path": str(folder)}}
        client = NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources=resources, **options
        )
        client.execute()
        return nb

    return run


# --- PostgreSQL ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL server on 127.0.0.1; yields its base URL (no database name)."""
    if pg_bin() is None:
        missing_service("PostgreSQL server binaries not found (apt-get install postgresql)")
    with running_postgres() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the test server; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(f"{postgres_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{postgres_server}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> str:
    """Each database in turn: "sqlite", then "postgresql" (whose tests ask for ``postgres_url``)."""
    return request.param


@pytest.fixture
def pg_kit(postgres_url: str) -> Kit:
    """An empty, initialised kit on a fresh PostgreSQL database."""
    kit = Kit(postgres_url)
    kit.init()
    return kit


# --- Chromium ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """A real headless Chromium (Debian's), driven by playwright-python."""
    if not Path(CHROMIUM).exists():
        missing_service("Chromium not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests leave screenshots and other artifacts for a person to look at."""
    path = Path(__file__).resolve().parent.parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
