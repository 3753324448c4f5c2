"""Small things a new user met: a refused date names --date-format, a failed command leaves no empty
data/ folder, a new city folder caps scores in writing, and lesson 1 counts the values it prints."""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path

import pytest

from cityscore import Kit
from cityscore.apps.city import config_text
from cityscore.core.errors import CityScoreError
from cityscore.store import dberrors

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _values(tmp_path: Path, date: str) -> Path:
    (tmp_path / "metrics.csv").write_text(
        "name,category,direction,kind,target\nA,X,higher,value,1\n", encoding="utf-8"
    )
    path = tmp_path / "values.csv"
    path.write_text(f"metric,date,value\nA,{date},2\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("date", "hint"),
    [
        ("31/12/2025", "it reads as DD/MM/YYYY: import with --date-format %d/%m/%Y"),
        ("12/31/2025", "it reads as MM/DD/YYYY: import with --date-format %m/%d/%Y"),
        ("Dec 31 2025", "for dates written another way, import with --date-format"),
    ],
)
def test_a_refused_date_names_the_date_format_option(
    kit: Kit, tmp_path: Path, date: str, hint: str
) -> None:
    values = _values(tmp_path, date)
    kit.import_metrics(tmp_path / "metrics.csv")
    with pytest.raises(CityScoreError) as refused:
        kit.import_values(values)
    assert "not a valid date in YYYY-MM-DD form" in str(refused.value)
    assert hint in str(refused.value)


def test_a_failed_command_leaves_no_empty_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.setattr(dberrors, "DATA_DIR", data)  # the default folder, here
    url = f"sqlite:///{data / 'cityscore.db'}"
    with pytest.raises(CityScoreError, match="cityscore init"):
        Kit(url).import_values(_values(tmp_path, "2025-12-31"))
    assert not data.exists()  # a read or a refused import makes no folder
    Kit(url).init()  # creating the database makes it
    assert (data / "cityscore.db").is_file()


def test_a_new_city_folder_caps_scores_and_says_why() -> None:
    text = config_text("River Town")
    assert tomllib.loads(text)["scores"]["cap"] == 1.5
    comment = text.split("[scores]")[1]
    assert "Boston" in comment and "report marks capped scores" in comment


def test_lesson_one_says_how_many_daily_values_it_prints() -> None:
    lesson = json.loads((NOTEBOOKS / "training" / "01_what_is_a_score.ipynb").read_text("utf-8"))
    printed = [
        line
        for cell in lesson["cells"]
        if cell["cell_type"] == "code"
        for output in cell.get("outputs", [])
        for line in output.get("text", [])
        if "daily values" in line
    ]
    assert printed, "lesson 1 no longer prints the week's daily values"
    for line in printed:
        count = int(re.match(r"(\d+) daily values", line).group(1))
        listed = ast.literal_eval(line[line.index("[") :].strip())
        assert count == len(listed), line


def test_score_says_which_day_and_why_with_categories_and_values(
    kit: Kit, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cityscore.cli.main import main

    (tmp_path / "metrics.csv").write_text(
        "name,category,unit,direction,kind,aggregation,target\n"
        "Recycling,Streets,tons,higher,value,sum,45\n"
        "Late,Parks,visits,higher,value,mean,1\n",
        encoding="utf-8",
    )
    kit.import_metrics(tmp_path / "metrics.csv")
    rows = [f"Recycling,2026-12-0{d},36" for d in range(1, 5)] + ["Late,2026-12-07,2"]
    (tmp_path / "v.csv").write_text("metric,date,value\n" + "\n".join(rows) + "\n", "utf-8")
    kit.import_values(tmp_path / "v.csv")
    assert main(["--db", kit.url, "score"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # Both metrics are active; "most" of two is one, so the later day of Late is the default.
    assert lines[1] == "Monday 7 December 2026: the latest day with data."
    assert main(["--db", kit.url, "score", "--date", "2026-12-04"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "Friday 4 December 2026: the date asked for."
    streets = next(line for line in lines if line.startswith("== Streets"))
    assert streets.split()[5] == "0.80"  # the category's day score: 36 of 45
    recycling = next(line for line in lines if line.startswith("Recycling (tons)"))
    assert recycling.split()[2:4] == ["0.80", "(36/45)"]  # the day: 36 tons against 45
