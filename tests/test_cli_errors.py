"""Every expected failure of the ``cityscore`` command is one line saying what to fix, never a traceback.

Each test runs the real console script as a subprocess against real SQLite files (and a real port
with nothing listening, for PostgreSQL); the last one runs every command and subcommand, found by
walking the argparse parser, with bad arguments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cityscore import Kit
from cityscore.cli.main import DEBUG_ENV, build_parser, main
from cityscore.store.copy import copy_sqlite

from .conftest import DEMO_END
from .pgserver import free_port

CLI = shutil.which("cityscore", path=str(Path(sys.executable).parent)) or "cityscore"
TOMORROW = (dt.date.today() + dt.timedelta(days=1)).isoformat()


def cli(
    *args: str, db: str | None = None, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``cityscore [--db DB] ARGS`` as a real process; CITYSCORE_DB from the caller is ignored."""
    environment = {k: v for k, v in os.environ.items() if k not in ("CITYSCORE_DB", DEBUG_ENV)}
    environment.update(env)
    command = [CLI, *(["--db", db] if db else []), *args]
    return subprocess.run(
        command, capture_output=True, text=True, env=environment, cwd=cwd, timeout=120
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit 1, one ``cityscore: error:`` line on stderr holding each needle, no traceback."""
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert result.stderr.startswith("cityscore: error: "), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for needle in needles:
        assert needle in result.stderr
    return result.stderr


def assert_usage_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    """argparse's own exit 2 with usage, the argument named, no traceback."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for needle in needles:
        assert needle in result.stderr


@pytest.fixture
def demo_url(demo_db_file: Path, tmp_path: Path) -> str:
    return f"sqlite:///{copy_sqlite(demo_db_file, tmp_path / 'demo.db')}"


@pytest.fixture
def empty_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    Kit(url).init()
    return url


# --- output files ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_out_naming_a_folder_or_a_path_under_a_file(demo_url: str, tmp_path: Path) -> None:
    assert_clean_failure(
        cli("score", "--format", "csv", "--out", "/", db=demo_url), "/ is a folder"
    )
    assert_clean_failure(
        cli("export", "values", "--out", str(tmp_path), db=demo_url), "is a folder"
    )
    a_file = tmp_path / "plain.txt"
    a_file.write_text("keep me", encoding="utf-8")
    blocked = cli("score", "--out", str(a_file / "scores.csv"), db=demo_url)
    assert_clean_failure(blocked, "cannot write", "scores.csv")
    assert a_file.read_text(encoding="utf-8") == "keep me"
    assert not list(tmp_path.glob(".*partial"))


def test_values_import_of_a_missing_file(empty_url: str) -> None:
    assert_clean_failure(cli("values", "import", "/nonexistent/values.csv", db=empty_url))


# --- the database ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_db_that_is_not_a_database(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n", encoding="utf-8")
    for command in (["score"], ["init"], ["history"]):
        assert_clean_failure(cli(*command, db=f"sqlite:///{text}"), "is not a SQLite database")
    assert text.read_text(encoding="utf-8") == "not a database\n"


def test_db_in_a_folder_that_does_not_exist_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir"
    result = cli("init", db=f"sqlite:///{missing / 'x.db'}")
    assert_clean_failure(result, f"the folder {missing} does not exist")
    assert not (tmp_path / "no").exists()


@pytest.mark.slow
def test_db_naming_an_existing_folder(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    for command in ("init", "score"):
        assert_clean_failure(cli(command, db=f"sqlite:///{folder}"), "is a folder")
    assert list(folder.iterdir()) == []


def test_reading_a_missing_database_file_does_not_create_it(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    assert_clean_failure(cli("score", db=f"sqlite:///{path}"), "cityscore init")
    assert not path.exists()


@pytest.mark.slow
def test_postgres_refusing_the_connection_hides_the_password() -> None:
    url = f"postgresql+psycopg://kit:Sw0rdfish-secret@127.0.0.1:{free_port()}/city"
    for command in ("score", "init"):
        message = assert_clean_failure(cli(command, db=url), "nothing is listening")
        assert "Sw0rdfish" not in message and "kit:***@" in message


@pytest.mark.slow
def test_sqlite_write_lock_timeout_writes_nothing(demo_url: str, tmp_path: Path) -> None:
    values = tmp_path / "v.csv"
    values.write_text(f"metric,date,value\nHomicides,{DEMO_END},99\n", encoding="utf-8")
    before = Kit(demo_url).observations(DEMO_END, DEMO_END)
    # Another writer, mid-import, in a process of its own (as it would be).
    hold = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
        "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, demo_url.removeprefix("sqlite:///")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = cli("values", "import", str(values), db=demo_url, CITYSCORE_LOCK_TIMEOUT="0.3")
    finally:
        holder.stdin.close()  # the holder ends, its transaction rolled back
        holder.wait(timeout=60)
        holder.stdout.close()
    assert_clean_failure(result, "another process holds the write lock", "nothing was written")
    assert "CITYSCORE_LOCK_TIMEOUT" in result.stderr
    after = Kit(demo_url).observations(DEMO_END, DEMO_END)
    assert after.equals(before)
    bad = cli("history", db=demo_url, CITYSCORE_LOCK_TIMEOUT="soon")
    assert_clean_failure(bad, "CITYSCORE_LOCK_TIMEOUT")


def test_postgres_write_lock_timeout_writes_nothing(postgres_url: str, tmp_path: Path) -> None:
    """Another writer holds the kit's write lock: the import waits CITYSCORE_LOCK_TIMEOUT, then stops."""
    import sqlalchemy as sa

    from cityscore.store.schema import WRITE_LOCK_KEY

    kit = Kit(postgres_url)
    kit.init()
    kit.import_metrics(b"name,category,direction,kind,target\nA,X,higher,value,1\n")
    values = tmp_path / "v.csv"
    values.write_text("metric,date,value\nA,2026-01-01,2\n", encoding="utf-8")
    holder = sa.create_engine(postgres_url)
    with holder.connect() as conn, conn.begin():
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK_KEY})
        result = cli("values", "import", str(values), db=postgres_url, CITYSCORE_LOCK_TIMEOUT="0.5")
    holder.dispose()
    assert_clean_failure(result, "another process holds the write lock", "nothing was written")
    assert kit.observations().empty
    assert "1 inserted" in cli("values", "import", str(values), db=postgres_url).stdout


# --- arguments ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("0001-01-01", "before 1900-01-01"),
        ("1899-12-31", "before 1900-01-01"),
        (TOMORROW, "in the future"),
        ("99999-01-01", "not a date"),
        ("2026-02-30", "not a date"),
        ("yesterday", "not a date"),
    ],
)
def test_out_of_range_and_malformed_dates(demo_url: str, value: str, needle: str) -> None:
    for command in (["score", "--date"], ["score", "--from"], ["export", "scores", "--to"]):
        assert_usage_error(cli(*command, value, db=demo_url), needle)


def test_demo_end_in_the_future_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert_usage_error(cli("demo", "--end", TOMORROW, db=url), "in the future")
    assert not (tmp_path / "demo.db").exists()
    with pytest.raises(Exception, match="in the future"):
        Kit(url).load_demo(dt.date.today() + dt.timedelta(days=1))


def test_bad_date_format(empty_url: str, tmp_path: Path) -> None:
    values = tmp_path / "v.csv"
    values.write_text("metric,date,value\n", encoding="utf-8")
    for fmt, needle in (("%Q", "%Q is not a date code"), ("%Y", "day, month and year")):
        for noun in ("values", "targets"):
            result = cli(noun, "import", str(values), "--date-format", fmt, db=empty_url)
            assert_usage_error(result, "--date-format", needle)


@pytest.mark.slow
def test_history_date_needs_metric_and_prints_a_table(demo_url: str) -> None:
    assert_clean_failure(cli("history", "--date", "2026-10-01", db=demo_url), "--metric")
    assert_clean_failure(cli("history", "--metric", "Homicides", db=demo_url), "--date")
    batches = cli("history", db=demo_url)
    lines = batches.stdout.splitlines()
    assert lines[0].split()[:3] == ["batch", "kind", "source"]
    assert len(lines) == 1 + len(Kit(demo_url).batches())
    versions = cli("history", "--metric", "Homicides", "--date", "2026-10-30", db=demo_url)
    assert versions.stdout.splitlines()[0].split()[:2] == ["version", "value"]
    for text in (batches.stdout, versions.stdout):  # no DataFrame furniture
        assert "None" not in text and "NaN" not in text and "NaT" not in text and "<NA>" not in text


@pytest.mark.slow
def test_report_date_is_checked_before_the_notebook_starts(demo_url: str, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    result = cli("report", "--date", "1990-01-01", "--out", str(out), db=demo_url)
    assert_clean_failure(result, "no data for 1990-01-01", str(DEMO_END))
    assert_usage_error(cli("report", "--date", TOMORROW, db=demo_url), "in the future")
    assert not (out / "failed").exists()  # no notebook ran, so none was kept as failed


@pytest.mark.slow
def test_closed_pipe_is_quiet(demo_url: str) -> None:
    for command in (["history"], ["score", "--from", "2026-01-01", "--to", str(DEMO_END)]):
        environment = {k: v for k, v in os.environ.items() if k != "CITYSCORE_DB"}
        process = subprocess.Popen(
            [CLI, "--db", demo_url, *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
        )
        process.stdout.close()  # the reader is gone before anything is written (`| head -0`)
        errors = process.stderr.read().decode()
        process.stderr.close()
        assert process.wait(timeout=120) == 141
        assert errors == ""


def test_unexpected_errors_are_short_unless_debugging(
    demo_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("internal detail")

    monkeypatch.setattr(Kit, "batches", broken)  # stands in for a bug: no input causes a KeyError
    monkeypatch.delenv(DEBUG_ENV, raising=False)
    assert main(["--db", demo_url, "history"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cityscore: error: unexpected internal error (KeyError")
    assert "report it" in err and f"{DEBUG_ENV}=1" in err and "Traceback" not in err
    monkeypatch.setenv(DEBUG_ENV, "1")
    with pytest.raises(KeyError):
        main(["--db", demo_url, "history"])


# --- every command --------------------------------------------------------------------------------


def command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple]:
    """Every leaf command (``("values", "import")``...) with its parser, walking the subparsers."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += command_paths(sub, (*prefix, name))
    return found or [(prefix, parser)]


def bad_invocations(
    path: tuple[str, ...], parser: argparse.ArgumentParser, blocked: str
) -> list[list[str]]:
    """Argument lists that must each fail: each option given a bad value (or an unknown option).

    Positional arguments get a valid choice, or ``blocked`` (a path under a plain file, which can be
    neither read nor created), so the option is reached.
    """
    runs = []
    for action in parser._actions:
        if not action.option_strings or action.nargs == 0 or action.dest == "help":
            continue
        bad = "/" if action.type is Path else "\x1b[31m%Q"  # a folder for files, junk otherwise
        runs.append([*path, *positionals(parser, blocked), action.option_strings[-1], bad])
    return runs or [[*path, *positionals(parser, blocked), "--no-such-option"]]


def positionals(parser: argparse.ArgumentParser, blocked: str) -> list[str]:
    """A value for each positional argument: a valid choice, else ``blocked``."""
    return [
        sorted(action.choices)[-1] if action.choices else blocked
        for action in parser._actions
        if not action.option_strings and action.nargs != 0
    ]


@pytest.mark.slow
def test_every_command_with_bad_arguments_fails_cleanly(
    empty_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Each command as a real process: with its first bad option, and on a mistyped database path.

    Every other bad option of every command runs in this process through ``main`` (same code, without
    paying a process start each): it must exit 1 or 2 with a message, never raise.
    """
    paths = command_paths(build_parser())
    assert {p for p, _ in paths} >= {("score",), ("values", "import"), ("history",), ("init",)}
    plain = tmp_path / "plain.txt"
    plain.write_text("a file, not a folder\n", encoding="utf-8")
    blocked = str(plain / "input.csv")
    invocations = {path: bad_invocations(path, parser, blocked) for path, parser in paths}
    missing_db = f"sqlite:///{tmp_path / 'missing' / 'x.db'}"
    jobs = [(runs[0], empty_url) for runs in invocations.values()]
    jobs += [([*path, *positionals(parser, blocked)], missing_db) for path, parser in paths]

    def go(job: tuple[list[str], str]) -> tuple[list[str], subprocess.CompletedProcess[str]]:
        args, db = job
        return args, cli(*args, db=db, cwd=tmp_path)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(go, jobs))
    for args, result in results:
        output = result.stdout + result.stderr
        assert result.returncode != 0, f"cityscore {args!r} succeeded:\n{output}"
        assert "Traceback" not in output, f"cityscore {args!r}:\n{output}"
        assert "\x1b" not in result.stderr, f"raw escape printed by cityscore {args!r}"
    assert not (tmp_path / "missing").exists()

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CITYSCORE_DB", raising=False)
    rest = [args for runs in invocations.values() for args in runs[1:]]
    assert len(rest) > len(paths)
    for args in rest:
        try:
            code = main(["--db", empty_url, *args])
        except SystemExit as exit_:  # argparse: usage and exit 2
            code = exit_.code
        err = capsys.readouterr().err
        assert code in (1, 2), f"cityscore {args!r} exited {code}"
        assert "error:" in err and "\x1b" not in err, f"cityscore {args!r}: {err}"
