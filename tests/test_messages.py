"""Messages a user can act on: a damaged database, a UTF-16 file, an Excel date number, too large a number."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cityscore.core.errors import ValidationError
from cityscore.io.load import load_metrics, load_values
from tests.clirun import run_cli

CLI = str(Path(sys.executable).with_name("cityscore"))
METRICS = (
    "name,definition,category,unit,direction,kind,aggregation,baseline,trend,weight,target\n"
    "M,,General,,higher,value,mean,target,false,1,10\n"
)
TODAY = dt.date(2026, 7, 1)


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small SQLite database file with a few thousand values (several pages)."""
    folder = tmp_path_factory.mktemp("stored")
    (folder / "metrics.csv").write_text(METRICS)
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=k) for k in range(2000)]
    rows = "".join(f"M,{d},{k % 17}\n" for k, d in enumerate(days))
    (folder / "values.csv").write_text("metric,date,value\n" + rows)
    db = f"sqlite:///{folder / 'city.db'}"
    for args in (
        ["init"],
        ["metrics", "import", "metrics.csv"],
        ["values", "import", "values.csv"],
    ):
        done = run_cli(folder, "--db", db, *args)
        assert done.returncode == 0, done.stderr
    return folder / "city.db"


@pytest.mark.parametrize("damage", ["truncated", "overwritten", "header only"])
def test_a_damaged_sqlite_file_is_named_with_how_to_restore_it(
    stored: Path, tmp_path: Path, damage: str
) -> None:
    db = tmp_path / "city.db"
    shutil.copyfile(stored, db)
    size = db.stat().st_size
    with db.open("r+b") as handle:
        if damage == "truncated":
            handle.truncate(size // 2)
        elif damage == "overwritten":
            handle.seek(4096 * 2)
            handle.write(b"\xff" * 4096 * 4)
        else:
            handle.truncate(100)
    done = run_cli(tmp_path, "--db", f"sqlite:///{db}", "score", "--date", "2025-01-01")
    assert done.returncode != 0
    line = done.stderr.strip()
    assert len(line.splitlines()) == 1, line
    assert "bug" not in line and "internal error" not in line
    assert "damaged" in line and "backup" in line and str(db) in line


def test_a_file_that_is_not_a_database_still_says_check_the_path(tmp_path: Path) -> None:
    db = tmp_path / "notes.db"
    db.write_text("these are notes, not a database\n" * 200)
    done = run_cli(tmp_path, "--db", f"sqlite:///{db}", "score")
    assert "is not a SQLite database; check the path" in done.stderr
    assert "damaged" not in done.stderr


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_a_utf16_file_is_told_to_be_saved_as_utf8(encoding: str) -> None:
    metrics, _ = load_metrics(METRICS.encode())
    text = "metric,date,value\nM,2026-06-01,1\n".encode(encoding)
    with pytest.raises(ValidationError) as exc:
        load_values(text, metrics, today=TODAY)
    message = str(exc.value)
    assert encoding.upper()[:6] in message
    assert "UTF-8" in message and "NUL" not in message
    assert "\\\\x" not in message  # no byte escaped twice


def test_a_nul_byte_is_shown_escaped_once() -> None:
    metrics, _ = load_metrics(METRICS.encode())
    text = b"metric,date,value\nM,2026-06-01,1\x00\nM,2026-06-02,2\nM,2026-06-03,3\n" * 3
    with pytest.raises(ValidationError) as exc:
        load_values(text, metrics, today=TODAY)
    assert "(got '\\x00')" in str(exc.value)


def test_an_excel_serial_date_gets_a_hint_with_the_date_it_stands_for() -> None:
    metrics, _ = load_metrics(METRICS.encode())
    # 45633 days after Excel's day 0 (1899-12-30) is 2024-12-07.
    text = b"metric,date,value\nM,45633,1\nM,2024-12-0x,2\n"
    with pytest.raises(ValidationError) as exc:
        load_values(text, metrics, today=TODAY)
    reasons = list(exc.value.problems["reason"])
    assert "Excel date number (it would be 2024-12-07)" in reasons[0]
    assert "Excel" not in reasons[1]


def test_too_large_a_number_is_not_called_infinity() -> None:
    metrics, _ = load_metrics(METRICS.encode())
    with pytest.raises(ValidationError) as exc:
        load_values(b"metric,date,value\nM,2026-06-01,1e309\n", metrics, today=TODAY)
    message = str(exc.value)
    assert "too large" in message and "infinity" not in message.lower()


@pytest.mark.postgres
def test_a_lost_postgres_connection_mid_import_is_one_clear_line(
    postgres_url: str, tmp_path: Path
) -> None:
    import sqlalchemy as sa

    (tmp_path / "metrics.csv").write_text(METRICS)
    days = [dt.date(1990, 1, 1) + dt.timedelta(days=k) for k in range(12_000)]
    rows = "".join(f"M,{d},{k % 17}\n" for k, d in enumerate(days))
    (tmp_path / "values.csv").write_text("metric,date,value\n" + rows)
    run = [CLI, "--db", postgres_url]
    for args in (["init"], ["metrics", "import", "metrics.csv"]):
        assert subprocess.run([*run, *args], cwd=tmp_path, capture_output=True).returncode == 0
    importing = subprocess.Popen(
        [*run, "values", "import", "values.csv"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # The server ends the import's connection as a restart does ("terminating connection").
    engine = sa.create_engine(postgres_url)
    ended = 0
    with engine.connect() as conn:
        for _ in range(600):
            ended = conn.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE pid <> pg_backend_pid() AND query ILIKE 'COPY%'"
                )
            ).scalar_one()
            if ended or importing.poll() is not None:
                break
            conn.commit()
            time.sleep(0.02)
    engine.dispose()
    _, err = importing.communicate(timeout=120)
    if not ended:
        pytest.skip("the import finished before its COPY could be ended")
    assert importing.returncode != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err  # no driver line beside the kit's message
    assert lines[0].startswith("cityscore: error: the connection to ")
    assert "nothing was written" in lines[0]
