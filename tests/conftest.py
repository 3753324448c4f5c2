"""Shared fixtures: SQLite kits, the demo city, a real PostgreSQL server and a real headless Chromium.

Services that are missing locally make their tests skip with the reason; with
CITYSCORE_REQUIRE_SERVICES=1 (set by .ci/run) the same situation fails instead.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from cityscore import Kit
from cityscore.dev.notebooks import copy_sqlite

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
    import sqlalchemy as sa

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
