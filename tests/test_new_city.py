"""``cityscore new``: the cron line and the systemd units for the morning run, and the names a city
folder's files can hold (spaces and quotes in the folder, control characters and non-UTF-8 bytes
in the city's name)."""

from __future__ import annotations

import configparser
import os
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest

from cityscore.apps.city import new_city
from cityscore.apps.schedule import CRON_FILE, SCHEDULE_DIR, SERVICE_FILE, TIMER_FILE, command
from cityscore.cli.main import main
from cityscore.core.settings import CONFIG_FILE, load_settings

AWKWARD = "Saint 'Jean' $HOME 100% city"  # a space, quotes, a variable and a percent sign


@pytest.fixture(autouse=True)
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CITYSCORE_DB", "CITYSCORE_CITY", "CITYSCORE_REPORTS", "CITYSCORE_CONFIG"):
        monkeypatch.delenv(name, raising=False)


def cron_command(folder: Path) -> str:
    """The shell command of the folder's cron line (cron's ``\\%`` back to ``%``)."""
    lines = (folder / SCHEDULE_DIR / CRON_FILE).read_text(encoding="utf-8").splitlines()
    (line,) = [x for x in lines if not x.startswith("#")]
    assert line.startswith("30 6 * * * ")
    return line.removeprefix("30 6 * * * ").replace("\\%", "%")


def test_new_writes_the_cron_line_and_the_systemd_units_for_the_morning_run(tmp_path: Path):
    folder = new_city(tmp_path / "river", "River Town")
    assert sorted(p.name for p in (folder / SCHEDULE_DIR).iterdir()) == sorted(
        [CRON_FILE, SERVICE_FILE, TIMER_FILE]
    )
    words = shlex.split(cron_command(folder))
    assert words[:3] == ["cd", str(folder.resolve()), "&&"]
    assert words[3:5] == [command(), "daily"] and words[5:] == [">>", "cityscore.log", "2>&1"]
    units = configparser.ConfigParser(interpolation=None)
    units.read_string((folder / SCHEDULE_DIR / SERVICE_FILE).read_text(encoding="utf-8"))
    assert units["Service"]["Type"] == "oneshot"
    assert units["Service"]["WorkingDirectory"] == str(folder.resolve())
    assert shlex.split(units["Service"]["ExecStart"]) == [command(), "daily"]
    timer = configparser.ConfigParser(interpolation=None)
    timer.read_string((folder / SCHEDULE_DIR / TIMER_FILE).read_text(encoding="utf-8"))
    assert timer["Timer"]["OnCalendar"] == "*-*-* 06:30" and timer["Install"]["WantedBy"]
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert cron_command(folder).replace("%", "\\%") in readme and "cityscore-daily.timer" in readme


def test_a_folder_with_spaces_quotes_and_percent_signs_gives_working_lines(tmp_path: Path):
    folder = new_city(tmp_path / AWKWARD, "Springfield")
    # cron hands the line to /bin/sh: run it there (with a stand-in for the kit) from elsewhere.
    line = cron_command(folder).replace(shlex.quote(command()), 'echo ran in "$PWD"', 1)
    subprocess.run(["/bin/sh", "-c", line], cwd=tmp_path, check=True, timeout=30)
    assert (folder / "cityscore.log").read_text().strip() == f"ran in {folder.resolve()} daily"
    # The README's --config hint is one shell word.
    readme = (folder / "README.md").read_text(encoding="utf-8")
    hint = readme.split("add `--config ", 1)[1].split("`", 1)[0]
    assert shlex.split(hint) == [str(folder.resolve() / CONFIG_FILE)]
    # systemd reads % as a specifier and $ as a variable: both doubled to stay literal.
    service = (folder / SCHEDULE_DIR / SERVICE_FILE).read_text(encoding="utf-8")
    directory = str(folder.resolve()).replace("%", "%%").replace("$", "$$")
    assert f"WorkingDirectory={directory}\n" in service
    cron = (folder / SCHEDULE_DIR / CRON_FILE).read_text(encoding="utf-8")
    assert "100\\% city" in cron  # cron reads a bare % as a newline


def test_a_city_name_with_a_percent_sign_is_literal_in_the_units(tmp_path: Path):
    folder = new_city(tmp_path / "c", "100% Town")
    service = (folder / SCHEDULE_DIR / SERVICE_FILE).read_text(encoding="utf-8")
    assert "Description=CityScore morning run for 100%% Town\n" in service
    assert load_settings(folder / CONFIG_FILE).city == "100% Town"


@pytest.mark.parametrize("bad", ["Spring\x7ffield", "Spring\x85field", "Spring\x1bfield", "a\nb"])
def test_a_city_name_with_a_control_character_is_refused_and_nothing_written(
    tmp_path: Path, capsys, bad: str
):
    code = main(["new", str(tmp_path / "c"), "--city", bad])
    _, err = capsys.readouterr()
    assert code == 1 and "without control characters" in err
    assert "\x7f" not in err and "\x1b" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "c").exists()


def test_a_city_name_that_is_not_utf8_gets_a_clear_message(tmp_path: Path):
    """argv bytes that are not UTF-8 reach Python as lone surrogates (``os.fsdecode``)."""
    name = os.fsdecode(b"Sa\xefnt-Denis")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYSCORE_")}
    done = subprocess.run(
        [command(), "new", os.fsencode(tmp_path / "c"), "--city", os.fsencode(name)],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 1, err
    assert "is not valid UTF-8 text" in err and "internal error" not in err
    assert not (tmp_path / "c").exists()


def test_a_name_the_toml_file_escapes_reads_back(tmp_path: Path):
    name = 'Saint-"Jean" \\ Québec \u2028 ☃'
    folder = new_city(tmp_path / "c", name)
    assert tomllib.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))["city"] == name
    assert load_settings(folder / CONFIG_FILE).city == name
