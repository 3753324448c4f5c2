"""City folders: ``cityscore new``, the cityscore.toml settings and their lookup order, ``cityscore training``.

Order (documented in config.py, docs/getting-started.md): a flag, then the environment, then the
city folder's cityscore.toml, then the kit's defaults.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tomllib
from pathlib import Path

import nbformat
import pytest

from cityscore.apps import training
from cityscore.apps.city import new_city
from cityscore.apps.course import make_course
from cityscore.cli.main import build_parser, main
from cityscore.cli.options import SETTING_OPTIONS
from cityscore.core.settings import CONFIG_FILE, CONFIG_KEYS, load_settings, resource
from cityscore.store.copy import copy_sqlite


@pytest.fixture(autouse=True)
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "CITYSCORE_DB",
        "CITYSCORE_CITY",
        "CITYSCORE_REPORTS",
        "CITYSCORE_CONFIG",
        "CITYSCORE_AREAS_MAP",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def city(tmp_path: Path) -> Path:
    return new_city(tmp_path / "springfield", "Springfield")


@pytest.fixture
def demo_city(city: Path, demo_db_file: Path) -> Path:
    """A city folder whose own database (cityscore.db, the default) holds the demo city."""
    copy_sqlite(demo_db_file, city / "cityscore.db")
    return city


def cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def set_config(city: Path, old: str, new: str) -> None:
    path = city / CONFIG_FILE
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


# --- cityscore new -------------------------------------------------------------------------------


def test_new_makes_a_city_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("new", "river-town", capsys=capsys)
    folder = tmp_path / "river-town"
    assert code == 0 and "River Town" in out
    names = {p.name for p in folder.iterdir()}
    assert names == {CONFIG_FILE, "metrics.csv", "targets.csv", "values.csv", "sources.yml"} | {
        "areas.csv",
        "README.md",
        ".gitignore",
        "schedule",  # the morning run's cron line and systemd units (tests/test_new_city.py)
    }
    config = tomllib.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    assert config["city"] == "River Town"
    assert config["database"] == "sqlite:///cityscore.db"
    assert (folder / "metrics.csv").read_bytes() == resource(
        "templates", "metrics.csv"
    ).read_bytes()
    readme = (folder / "README.md").read_text(encoding="utf-8")
    for step in ("metrics import metrics.csv", "cityscore report", "crontab", "cityscore daily"):
        assert step in readme
    assert (
        "*.db" in (folder / ".gitignore").read_text()
        and "reports/" in (folder / ".gitignore").read_text()
    )
    assert not (tmp_path / "data").exists()  # `new` opens no database


def test_the_starter_files_import_into_the_folders_database(
    city: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    """The README's first import, as written there, run inside the folder."""
    monkeypatch.chdir(city)
    assert cli("init", capsys=capsys)[0] == 0
    for noun in ("metrics", "targets", "values"):
        code, out, err = cli(noun, "import", f"{noun}.csv", capsys=capsys)
        assert code == 0 and "inserted" in out, err
    code, out, err = cli("score", "--date", "2026-10-30", capsys=capsys)
    assert code == 0 and "EMS Response Time" in out, err
    assert (city / "cityscore.db").is_file()


def test_new_city_name_is_written_as_a_safe_toml_string(tmp_path: Path):
    name = 'Saint-"Jean" \\ Québec'
    folder = new_city(tmp_path / "c", name)
    assert tomllib.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))["city"] == name


def test_new_refuses_a_folder_that_is_not_empty(city: Path, capsys):
    before = {p: p.read_bytes() for p in city.rglob("*") if p.is_file()}
    (city / "metrics.csv").write_text("mine\n")
    before[city / "metrics.csv"] = b"mine\n"
    code, out, err = cli("new", str(city), "--city", "Other", capsys=capsys)
    assert code == 1 and "not empty" in err and "never overwrites" in err
    assert "Traceback" not in err + out
    assert {p: p.read_bytes() for p in city.rglob("*") if p.is_file()} == before


# --- settings and their order -------------------------------------------------------------------


def test_every_settings_key_is_in_the_new_config_file(city: Path):
    written = load_settings(city / CONFIG_FILE)
    assert written.city == "Springfield"
    assert written.database == f"sqlite:///{city / 'cityscore.db'}"
    assert written.reports == city / "reports" and written.sources == city / "sources.yml"
    text = (city / CONFIG_FILE).read_text()
    for key in CONFIG_KEYS:
        assert f"{key.rpartition('.')[2]} =" in text, key


@pytest.mark.parametrize("layer", ["default", "file", "environment", "flag"])
def test_database_comes_from_flag_then_environment_then_file_then_default(
    city: Path, tmp_path: Path, layer: str, monkeypatch: pytest.MonkeyPatch, capsys
):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    expected = {
        "default": None,
        "file": city / "cityscore.db",
        "environment": tmp_path / "env.db",
        "flag": tmp_path / "flag.db",
    }
    monkeypatch.chdir(elsewhere if layer == "default" else city)
    if layer in ("environment", "flag"):
        monkeypatch.setenv("CITYSCORE_DB", f"sqlite:///{expected['environment']}")
    args = ["--db", f"sqlite:///{expected['flag']}"] if layer == "flag" else []
    if layer == "default":
        # No config anywhere up the tree: the kit's default database (checkout's data/ here).
        from cityscore.core.settings import DEFAULT_DB_URL

        assert load_settings().database == DEFAULT_DB_URL
        return
    code, out, _ = cli(*args, "init", capsys=capsys)
    assert code == 0 and out.strip() == f"database ready: sqlite:///{expected[layer]}"
    assert expected[layer].is_file()


@pytest.mark.parametrize("layer", ["flag", "environment", "file"])
def test_a_plain_file_path_is_a_sqlite_database(
    city: Path, tmp_path: Path, layer: str, monkeypatch: pytest.MonkeyPatch, capsys
):
    # As an analyst types it: no sqlite:/// in front. A relative path in cityscore.toml is
    # relative to the file's folder, elsewhere to the current folder (as for sqlite:/// URLs).
    monkeypatch.chdir(tmp_path)
    args: list[str] = []
    if layer == "flag":
        args, expected = ["--db", "flag.db"], tmp_path / "flag.db"
    elif layer == "environment":
        monkeypatch.setenv("CITYSCORE_DB", str(tmp_path / "env.db"))
        expected = tmp_path / "env.db"
    else:
        set_config(city, 'database = "sqlite:///cityscore.db"', 'database = "plain.db"')
        args, expected = ["--config", str(city / CONFIG_FILE)], city / "plain.db"
    code, out, err = cli(*args, "init", capsys=capsys)
    assert code == 0, err
    assert expected.is_file() and out.strip().endswith(str(expected.name))
    assert not (tmp_path / "sqlite:").exists()


def test_a_database_url_that_cannot_be_read_says_how_to_write_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("--db", "postgresql:/db.example.org/city", "score", capsys=capsys)
    assert code == 1 and out == "" and "Traceback" not in err
    assert "postgresql:/db.example.org/city" in err
    assert "sqlite:///city.db" in err and "postgresql+psycopg://" in err


def test_config_flag_works_from_any_folder_and_reaches_a_subfolder(
    demo_city: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("--config", str(demo_city / CONFIG_FILE), "score", capsys=capsys)
    assert code == 0 and "CityScore as of 2026-10-31" in out
    sub = demo_city / "reports"
    sub.mkdir()
    monkeypatch.chdir(sub)  # found by looking up from a subfolder too
    assert cli("score", capsys=capsys)[1] == out


def _scores(capsys, *args: str) -> list[dict[str, str]]:
    code, out, err = cli(*args, "score", "--format", "csv", capsys=capsys)
    assert code == 0, err
    return [r for r in csv.DictReader(io.StringIO(out)) if r["metric"] != "CityScore"]


def test_score_takes_bands_and_cap_from_the_folder_unless_flags_say_otherwise(
    demo_city: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    monkeypatch.chdir(demo_city)
    plain = _scores(capsys)
    assert max(float(r["score"]) for r in plain if r["score"]) > 1.05
    set_config(demo_city, "\ncap = 1.5", "\ncap = 1.05")
    set_config(demo_city, "meeting = 1.0", "meeting = 3.0")
    set_config(demo_city, "near = 0.9", "near = 2.5")
    capped = _scores(capsys)
    assert max(float(r["score"]) for r in capped if r["score"]) == pytest.approx(1.05)
    assert {r["status"] for r in capped if r["score"]} - {"stale"} == {"below"}
    flags = _scores(capsys, "--db", f"sqlite:///{demo_city / 'cityscore.db'}")
    assert flags == capped  # --db alone does not drop the folder's other settings
    code, out, _ = cli(
        "score", "--format", "csv", "--bands", "1.0,0.9", "--cap", "1.5", capsys=capsys
    )
    assert code == 0
    overridden = [r for r in csv.DictReader(io.StringIO(out)) if r["metric"] != "CityScore"]
    assert overridden == plain


def test_environment_wins_over_the_file_for_city_and_reports(
    city: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(city)
    assert load_settings().city == "Springfield"
    monkeypatch.setenv("CITYSCORE_CITY", "Shelbyville")
    monkeypatch.setenv("CITYSCORE_REPORTS", str(tmp_path / "out"))
    settings = load_settings()
    assert settings.city == "Shelbyville" and settings.reports == tmp_path / "out"


def test_report_sync_and_score_options_all_defer_to_the_settings():
    """Every option the settings fill must default to None, or a flag could not be told apart."""
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for command, options in SETTING_OPTIONS.items():
        for dest in options:
            assert commands[command].get_default(dest) is None, (command, dest)


@pytest.mark.slow
def test_report_is_titled_and_filed_in_the_city_folder(
    demo_city: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    monkeypatch.chdir(tmp_path)
    config = demo_city / CONFIG_FILE
    # The folder's status bands reach the report: with meeting at 3 the demo city is below.
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("meeting = 1.0", "meeting = 3.0").replace("near = 0.9", "near = 2.0")
    )
    code, _, err = cli("--config", str(config), "report", capsys=capsys)
    assert code == 0, err
    page = (demo_city / "reports" / "latest.html").read_text(encoding="utf-8")
    assert "<title>Springfield CityScore 2026-10-31" in page
    assert not (tmp_path / "reports").exists()
    summary = json.loads((demo_city / "reports" / "2026-10-31" / "summary.json").read_text())
    assert summary["status"] == "below", summary


def test_sync_reads_the_folders_sources_yml(
    city: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    monkeypatch.chdir(tmp_path)  # no sources.yml here: the folder's must be the one read
    monkeypatch.delenv("CITY311_PASSWORD", raising=False)
    code, _, err = cli("--config", str(city / CONFIG_FILE), "sync", "--test", capsys=capsys)
    assert code == 1 and "CITY311_PASSWORD" in err  # named in the folder's starter sources.yml


BAD_CONFIGS = [
    ('city = "Springfield"', 'citty = "Springfield"', ["'citty'", "did you mean 'city'"]),
    ("meeting = 1.0", 'meeting = "high"', ["'scores.meeting'", "meeting = 1.0"]),
    ('city = "Springfield"', "city = Springfield", ["not valid TOML", "line 6"]),
    ("near = 0.9", "near = 1.5", ["near <= meeting", "fix meeting and near"]),
    ("\ncap = 1.5", "\ncap = 0", ["cap must be above 0"]),
    (
        'database = "sqlite:///cityscore.db"',
        'database = "postgresql://city:hunter22@db/cityscore"',
        ["'database' has a password", "${VAR}"],
    ),
    (
        'database = "sqlite:///cityscore.db"',
        'database = "postgresql://db/cityscore?user=city&password=hunter22"',
        ["'database' has a password"],
    ),
]


@pytest.mark.parametrize(("old", "new", "said"), BAD_CONFIGS)
def test_a_bad_config_file_gives_one_clear_error(
    city: Path, old: str, new: str, said: list[str], monkeypatch: pytest.MonkeyPatch, capsys
):
    set_config(city, old, new)
    monkeypatch.chdir(city)
    code, out, err = cli("score", capsys=capsys)
    assert code == 1 and out == ""
    assert err.startswith("cityscore: error: ") and "Traceback" not in err
    assert str(city / CONFIG_FILE) in err and "hunter22" not in err
    for text in said:
        assert text in err


def test_a_password_comes_from_the_environment(city: Path, monkeypatch: pytest.MonkeyPatch):
    from cityscore.core.settings import database_url

    url = "postgresql+psycopg://city:${CITY_PW}@db.example.org/cityscore"
    set_config(city, 'database = "sqlite:///cityscore.db"', f'database = "{url}"')
    monkeypatch.chdir(city)
    monkeypatch.setenv("CITY_PW", "s3cret")
    assert database_url() == "postgresql+psycopg://city:s3cret@db.example.org/cityscore"


def test_a_missing_config_file_is_named(tmp_path: Path, capsys):
    code, _, err = cli("--config", str(tmp_path / "nope.toml"), "score", capsys=capsys)
    assert code == 1 and "nope.toml: no such file" in err


# --- cityscore training --------------------------------------------------------------------------


def test_training_folder_has_the_lessons_and_no_solutions(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("training", "course", capsys=capsys)
    assert code == 0, err
    course = tmp_path / "course"
    shipped = sorted(p.name for p in resource("notebooks", "training").glob("0*.ipynb"))
    assert len(shipped) == 5
    assert sorted(p.name for p in course.glob("0*.ipynb")) == shipped
    assert not (course / "solutions.yml").exists()
    code, _, err = cli("training", "course", capsys=capsys)
    assert code == 1 and "not empty" in err


END = dt.date(2026, 9, 30)  # not the demo's usual end: the output shows which database was used


def test_a_solved_lesson_runs_from_the_course_folder(tmp_path: Path, monkeypatch, run_notebook):
    """The copy finds its course database through its cityscore.toml: no $CITYSCORE_DB, no checkout."""
    course = make_course(tmp_path / "course", END, solutions=True)
    monkeypatch.setenv(training.STRICT_ENV, "1")  # a wrong or missing answer raises
    lesson = course / "04_reading_the_scoreboard.ipynb"
    nb = training.solved(lesson)  # solutions.yml next to it, copied by --solutions
    run_notebook(nb, course, timeout=300)
    printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert f"as of {END}" in printed  # the course database, not any other
    assert not list(tmp_path.glob("*.db"))  # wrote nothing outside the course folder
    assert nbformat.validate(nb) is None


@pytest.mark.slow
def test_the_readmes_cron_line_writes_the_report(demo_city: Path, tmp_path: Path):
    """The scheduling line the city's README gives, run by /bin/sh from another folder as cron would."""
    import os
    import subprocess

    readme = (demo_city / "README.md").read_text(encoding="utf-8")
    (line,) = [x for x in readme.splitlines() if x.startswith("30 6 * * * ")]
    command = line.removeprefix("30 6 * * * ").replace("\\%", "%")
    (demo_city / "sources.yml").unlink()  # no SQL sources: the README says to delete the file
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYSCORE_")}
    subprocess.run(["/bin/sh", "-c", command], cwd=tmp_path, env=env, timeout=300, check=True)
    assert "Springfield CityScore 2026-10-31" in (demo_city / "reports" / "latest.html").read_text()
    assert "wrote " in (demo_city / "cityscore.log").read_text()
