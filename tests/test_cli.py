"""The ``cityscore`` console script, run as a real process against a real SQLite file."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DEMO_END

pytestmark = pytest.mark.slow  # every test starts the command line several times
CLI = shutil.which("cityscore", path=str(Path(sys.executable).parent)) or "cityscore"


def run(db: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CITYSCORE_DB"}
    result = subprocess.run(
        [CLI, "--db", f"sqlite:///{db}", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"cityscore {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
    return result


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def one_value_city(db: Path, tmp_path: Path, target: float, value: float) -> None:
    """Metric A (higher is better, ``target``) with one value on 2026-03-01."""
    metrics = f"name,category,direction,kind,target\nA,X,higher,value,{target}\n"
    run(db, "metrics", "import", str(write(tmp_path / "m.csv", metrics)))
    values = f"metric,date,value\nA,2026-03-01,{value}\n"
    run(db, "values", "import", str(write(tmp_path / "v.csv", values)))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "city.db"
    run(path, "init")
    return path


METRICS = """name,definition,category,unit,direction,kind,aggregation,target,baseline,trend,weight
Potholes On Time,"Repairs done in 2 days, of all",Streets,share,higher,ratio,,0.9,,false,1
EMS Response,Median minutes,Safety,minutes,lower,value,median,6,,false,2
"""


def test_init_is_idempotent(db: Path) -> None:
    result = run(db, "init")
    assert "database ready" in result.stdout
    assert db.exists()


def test_import_and_score_csv_has_exact_columns(db: Path, tmp_path: Path) -> None:
    run(db, "metrics", "import", str(write(tmp_path / "metrics.csv", METRICS)))
    values = "metric,date,value\nEMS Response,2026-01-01,5\nEMS Response,2026-01-02,8\n"
    run(db, "values", "import", str(write(tmp_path / "values.csv", values)))
    ratios = "metric,date,numerator,denominator\nPotholes On Time,2026-01-02,9,10\n"
    run(db, "values", "import", str(write(tmp_path / "ratios.csv", ratios)))

    out = run(db, "score", "--date", "2026-01-02", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == [
        "as_of",
        "metric",
        "period",
        "value",
        "target",
        "score",
        "status",
        "note",
    ]
    by_key = {(r["metric"], r["period"]): r for r in rows}
    # EMS: day value 8 against 6 (lower is better) -> 6/8; week median of 5 and 8 = 6.5 -> 6/6.5.
    assert float(by_key["EMS Response", "day"]["score"]) == pytest.approx(0.75)
    assert by_key["EMS Response", "day"]["status"] == "below"
    assert float(by_key["EMS Response", "week"]["score"]) == pytest.approx(6 / 6.5)
    assert float(by_key["Potholes On Time", "day"]["score"]) == pytest.approx(1.0)
    # Citywide day score: weights 1 and 2 -> (1.0*1 + 0.75*2) / 3.
    assert float(by_key["CityScore", "day"]["score"]) == pytest.approx(2.5 / 3)
    assert by_key["CityScore", "day"]["note"] == "2 of 2 metrics scored"


def test_bad_file_writes_nothing_and_names_every_bad_row(db: Path, tmp_path: Path) -> None:
    run(db, "metrics", "import", str(write(tmp_path / "metrics.csv", METRICS)))
    bad = (
        "metric,date,value\n"
        "EMS Response,2026-01-01,5\n"
        "EMS Respons,2026-01-02,5\n"
        "EMS Response,2026-02-30,5\n"
        "EMS Response,2026-01-04,fast\n"
    )
    result = run(db, "values", "import", str(write(tmp_path / "bad.csv", bad)), check=False)
    assert result.returncode == 1
    assert (
        "line 3, column metric" in result.stderr and "did you mean 'EMS Response'" in result.stderr
    )
    assert "line 4, column date" in result.stderr
    assert "line 5, column value" in result.stderr
    assert "line 2," not in result.stderr
    out = run(db, "score", "--date", "2026-01-01", "--format", "json").stdout
    ems_day = next(
        r for r in json.loads(out) if r["metric"] == "EMS Response" and r["period"] == "day"
    )
    assert ems_day["score"] is None and ems_day["note"] == "no data in the window"


def test_reimport_changes_nothing(db: Path, tmp_path: Path) -> None:
    metrics = write(tmp_path / "metrics.csv", METRICS)
    run(db, "metrics", "import", str(metrics))
    assert (
        "0 inserted, 0 updated, 2 unchanged (nothing written)"
        in run(db, "metrics", "import", str(metrics)).stdout
    )
    values = write(tmp_path / "values.csv", "metric,date,value\nEMS Response,2026-01-01,5\n")
    assert "1 inserted" in run(db, "values", "import", str(values)).stdout
    assert "(nothing written)" in run(db, "values", "import", str(values)).stdout


def test_demo_then_score_range_to_file(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    run(db, "demo", "--end", DEMO_END.isoformat())
    out = tmp_path / "out" / "scores.csv"
    result = run(
        db,
        "score",
        "--from",
        "2026-10-25",
        "--to",
        "2026-10-31",
        "--format",
        "csv",
        "--out",
        str(out),
    )
    assert "wrote" in result.stdout
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    dates = sorted({r["as_of"] for r in rows})
    assert dates == [f"2026-10-{d}" for d in range(25, 32)]
    assert {r["period"] for r in rows} == {"day", "week", "month", "quarter"}
    # Loading the demo again changes nothing.
    assert all(
        "nothing written" in line
        for line in run(db, "demo", "--end", DEMO_END.isoformat()).stdout.splitlines()
    )


def test_table_format_rounds_half_even_and_dashes(db: Path, tmp_path: Path) -> None:
    # 1.0 / 8 = 0.125 exactly -> shown 0.12 (half to even, never up).
    one_value_city(db, tmp_path, target=8, value=1)
    table = run(db, "score", "--date", "2026-03-02").stdout
    line = next(ln for ln in table.splitlines() if ln.startswith("A "))
    # Each score beside its window's value and target: one value of 1 against 8 per window.
    assert line.split()[1:] == ["—", "0.12", "(1/8)", "0.12", "(1/8)", "0.12", "(1/8)"]


def test_errors_are_clear(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    result = run(empty, "score", check=False)
    assert result.returncode == 1 and "cityscore init" in result.stderr
    bad_bands = run(empty, "score", "--bands", "high", check=False)
    assert bad_bands.returncode == 1


def test_cap_limits_metric_scores(db: Path, tmp_path: Path) -> None:
    one_value_city(db, tmp_path, target=2, value=5)
    # 5 / 2 = 2.5 uncapped; capped at 1.25.
    plain = run(db, "score", "--format", "json").stdout
    capped = run(db, "score", "--format", "json", "--cap", "1.25").stdout
    day = [r for r in json.loads(plain) if r["metric"] == "A" and r["period"] == "day"]
    day_capped = [r for r in json.loads(capped) if r["metric"] == "A" and r["period"] == "day"]
    assert day[0]["score"] == 2.5 and day_capped[0]["score"] == 1.25
    assert run(db, "score", "--cap", "0", check=False).returncode == 1


def test_default_date_is_not_captured_by_one_early_value(
    demo_db_file: Path, tmp_path: Path
) -> None:
    """The demo city plus one metric whose only value is dated after every other metric's."""
    from cityscore import Kit
    from cityscore.store.copy import copy_sqlite

    db = copy_sqlite(demo_db_file, tmp_path / "demo.db")
    late = (DEMO_END + dt.timedelta(days=9)).isoformat()
    metrics = "name,category,direction,kind,target\nEarly Bird,X,higher,value,1\n"
    run(db, "metrics", "import", str(write(tmp_path / "m.csv", metrics)))
    run(
        db,
        "values",
        "import",
        str(write(tmp_path / "v.csv", f"metric,date,value\nEarly Bird,{late},2\n")),
    )
    kit = Kit(f"sqlite:///{db}")
    assert kit.latest_date().isoformat() == late
    assert kit.default_as_of() == DEMO_END
    table = run(db, "score").stdout
    assert table.startswith(f"CityScore as of {DEMO_END}:")
    # As many metrics are scored as on the demo city alone that day (not "1 of 21").
    alone = Kit(f"sqlite:///{demo_db_file}").scores(DEMO_END)
    note = alone.loc[(alone["metric"] == "CityScore") & (alone["period"] == "day"), "note"].iloc[0]
    scored = int(note.split()[0])
    assert scored > 10 and f"{scored} of {len(kit.metrics())} metrics scored" in table
    assert f"Not shown: values after {DEMO_END} of 1 metric: Early Bird ({late})" in table
    rows = list(csv.DictReader(io.StringIO(run(db, "score", "--format", "csv").stdout)))
    assert {r["as_of"] for r in rows} == {DEMO_END.isoformat()}  # the CSV contract is unchanged
    assert f"CityScore as of {late}:" in run(db, "score", "--date", late).stdout


@pytest.mark.parametrize(
    ("last_dates", "expected"),
    [
        # Two of three metrics reach the 20th: "most" is at least half.
        ({"A": "2026-03-20", "B": "2026-03-20", "C": "2026-03-10"}, "2026-03-20"),
        ({"A": "2026-03-20", "B": "2026-03-10", "C": "2026-03-10"}, "2026-03-10"),
        # A metric silent for more than a quarter is not active and does not hold the date back.
        ({"A": "2026-03-20", "B": "2025-06-01", "C": "2025-06-01"}, "2026-03-20"),
    ],
)
def test_default_date_rule(db: Path, tmp_path: Path, last_dates: dict, expected: str) -> None:
    from cityscore import Kit

    metrics = "name,category,direction,kind,target\n" + "".join(
        f"{m},X,higher,value,1\n" for m in last_dates
    )
    run(db, "metrics", "import", str(write(tmp_path / "m.csv", metrics)))
    values = "metric,date,value\n" + "".join(f"{m},{d},1\n" for m, d in last_dates.items())
    run(db, "values", "import", str(write(tmp_path / "v.csv", values)))
    assert Kit(f"sqlite:///{db}").default_as_of().isoformat() == expected


HEAVY = ("pandas", "sqlalchemy", "numpy", "pyarrow", "altair", "ipywidgets", "papermill")


def loaded_modules(call: str) -> set[str]:
    """Which heavy libraries a fresh interpreter has loaded after ``call`` (CLI output dropped)."""
    code = f"import contextlib, io\nwith contextlib.redirect_stdout(io.StringIO()):\n    {call}\n"
    code += f"import sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    env = {k: v for k, v in os.environ.items() if k != "CITYSCORE_DB"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_help_loads_no_data_library() -> None:
    """`cityscore --help` and argument errors answer before pandas or SQLAlchemy would load."""
    call = "from cityscore.cli.main import build_parser; build_parser().format_help()"
    assert loaded_modules(call) == set()


def test_one_date_score_loads_only_what_it_needs(demo_db_file: Path) -> None:
    """A one-date score needs pandas and SQLAlchemy, never the charting or notebook stack."""
    url = f"sqlite:///{demo_db_file}"
    args = ["--db", url, "score", "--date", str(DEMO_END)]
    call = f"from cityscore.cli.main import main; assert main({args!r}) == 0"
    loaded = loaded_modules(call)
    assert {"pandas", "sqlalchemy"} <= loaded
    assert not loaded & {"altair", "ipywidgets", "papermill"}
