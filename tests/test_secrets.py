"""Passwords: read from ${VAR} whatever characters they hold, and never shown in any message.

The PostgreSQL tests start a server of their own that checks passwords (scram-sha-256), since the
shared test server trusts every local connection.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from cityscore import ConfigError, Kit, StoreError
from cityscore.core.secrets import expand_env, redact_url, url_secrets
from cityscore.io import sources

from .conftest import missing_service
from .pgserver import pg_bin, running_postgres

# Every character that breaks a URL's user-info or query, plus a percent sign.
PASSWORD = "p@ss/w:rd#1%2F?&="
CLI = shutil.which("cityscore", path=str(Path(sys.executable).parent)) or "cityscore"
METRICS = b"name,category,direction,kind,target\nA,X,higher,value,1\n"


def parts(secret: str) -> list[str]:
    """What a leaky message might show: the password, its %-encoded form, any 4 characters of it."""
    return [secret, quote(secret, safe=""), *(secret[i : i + 4] for i in range(len(secret) - 3))]


def test_expanded_passwords_are_percent_encoded_where_a_url_needs_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CS_PW", PASSWORD)
    monkeypatch.setenv("CS_DIR", "/tmp/a b")
    url = expand_env("postgresql+psycopg://kit:${CS_PW}@db:5432/city?password=${CS_PW}&x=1")
    parsed = sa.engine.make_url(url)
    assert parsed.password == PASSWORD and parsed.query["password"] == PASSWORD
    assert (parsed.username, parsed.host, parsed.port, parsed.database) == (
        "kit",
        "db",
        5432,
        "city",
    )
    assert parsed.query["x"] == "1"
    # Outside the user-info and query values nothing is encoded: a path stays a path.
    assert expand_env("sqlite:///${CS_DIR}/city.db") == "sqlite:////tmp/a b/city.db"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://kit:{pw}@db/city",
        "postgresql://kit@db/city?password={pw}",
        "postgresql://kit@db/city?sslmode=require&PASSWORD={pw}",
        "mysql://kit@db/city?passwd={pw}",
    ],
)
def test_redact_masks_the_user_info_and_query_passwords(url: str) -> None:
    for written in ("hunter2-secret", "p%40ss%2Fw%3Ard"):
        text = url.format(pw=written)
        shown = redact_url(text)
        assert "***" in shown and written not in shown and "hunter2" not in shown
        assert written in url_secrets(text)
    # A password holding a raw "@" (mistyped, unencoded) is still masked up to the host.
    assert redact_url("postgresql://kit:p@ss@db/city") == "postgresql://kit:***@db/city"
    assert redact_url("sqlite:////tmp/city.db") == "sqlite:////tmp/city.db"


def test_a_literal_query_password_in_sources_yml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sources.yml"
    path.write_text(
        "sources:\n  db: {url: 'postgresql+psycopg://u@db/x?password=hunter2'}\n"
        "metrics:\n  A: {query: 'SELECT 1 WHERE :start < :end'}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        Kit(f"sqlite:///{tmp_path / 'k.db'}").sync(path)
    assert "environment variable" in str(info.value) and "hunter2" not in str(info.value)


# --- a real server that checks passwords -------------------------------------------------------------


@pytest.fixture(scope="module")
def password_server() -> Iterator[str]:
    """A PostgreSQL server whose ``postgres`` user has PASSWORD; yields its URL without one."""
    if pg_bin() is None:
        missing_service("PostgreSQL server binaries not found (apt-get install postgresql)")
    with running_postgres(password=PASSWORD) as url:
        yield url


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**{k: v for k, v in os.environ.items() if k != "CITYSCORE_DB"}, **env}
    return subprocess.run(
        [CLI, *args], capture_output=True, text=True, env=environment, timeout=120
    )


def test_password_with_url_characters_works_from_a_variable(
    password_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = password_server.removeprefix("postgresql+psycopg://postgres@")
    in_user_info = f"postgresql+psycopg://postgres:${{CS_PG_PW}}@{host}/postgres"
    in_query = f"postgresql+psycopg://postgres@{host}/postgres?password=${{CS_PG_PW}}"
    monkeypatch.setenv("CS_PG_PW", PASSWORD)
    for url in (in_user_info, in_query):
        kit = Kit(url)
        kit.init()
        kit.import_metrics(METRICS)
        assert list(kit.metrics()["name"]) == ["A"]
        assert kit.test_connection(url).startswith("connected: postgresql")
        kit.store.engine.dispose()
        for text in (repr(kit), redact_url(kit.store.url)):
            assert not any(p in text for p in parts(PASSWORD))
    ready = cli("init", CITYSCORE_DB=in_query, CS_PG_PW=PASSWORD)
    assert ready.returncode == 0, ready.stderr
    assert "database ready" in ready.stdout
    assert not any(p in ready.stdout + ready.stderr for p in parts(PASSWORD))


def test_a_refused_password_is_named_and_never_shown(password_server: str) -> None:
    host = password_server.removeprefix("postgresql+psycopg://postgres@")
    wrong = "Wr0ng@q7/zz:K9#x"
    for url in (
        f"postgresql+psycopg://postgres:${{CS_PG_PW}}@{host}/postgres",
        f"postgresql+psycopg://postgres@{host}/postgres?password=${{CS_PG_PW}}",
    ):
        result = cli("score", CITYSCORE_DB=url, CS_PG_PW=wrong)
        output = result.stdout + result.stderr
        assert result.returncode == 1 and "Traceback" not in output
        assert "refused the password" in result.stderr
        assert not any(p in output for p in parts(wrong) + parts(PASSWORD))
    # The sync's connection test (a password typed into the notebook's field): same rule.
    with pytest.raises(StoreError) as info:
        sources.test_connection(f"postgresql+psycopg://postgres@{host}/postgres", password=wrong)
    assert "refused the password" in str(info.value) or "authentication" in str(info.value)
    assert not any(p in str(info.value) for p in parts(wrong))


def test_a_sqlite_path_with_an_at_sign_is_a_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CS_DIR", "/srv/city data")
    assert expand_env("sqlite:///${CS_DIR}/a@b.db") == "sqlite:////srv/city data/a@b.db"


def test_a_literal_query_password_in_cityscore_toml_is_refused() -> None:
    from cityscore.core.secrets import has_literal_password

    assert has_literal_password("postgresql://u@db/x?password=hunter2")
    assert has_literal_password("postgresql://u:hunter2@db/x")
    assert not has_literal_password("postgresql://u:${PW}@db/x?sslmode=require&password=${PW}")
    assert not has_literal_password("sqlite:///data/cityscore.db")
