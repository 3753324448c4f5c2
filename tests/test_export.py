"""Exports: values round-trip exactly (names with commas and quotes), Boston's open-data layout."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cityscore import Kit
from cityscore.io.export import BOSTON_COLUMNS

from .conftest import DEMO_END

# A line break in a name is refused at import (issue 10); a semicolon and quotes must survive.
NAMES = ['Repairs, "on time"', "Plain", "Zeilen; 'bruch'"]
METRICS = (
    "name,direction,kind,target\n"
    '"Repairs, ""on time""",higher,ratio,0.9\n'
    "Plain,lower,value,6\n"
    "Zeilen; 'bruch',higher,value,1\n"
)


@pytest.fixture
def city(city: Kit) -> Kit:
    """The catalog with values for each metric."""
    city.import_values(
        b'metric,date,value,numerator,denominator\n"Repairs, ""on time""",2026-01-01,,9,10\n'
        b"Plain,2026-01-01,0.1,,\nPlain,2026-01-02,1e-07,,\n"
        b"Zeilen; 'bruch',2026-01-02,3,,\n"
    )
    return city


def test_values_export_round_trips(city: Kit, tmp_path: Path) -> None:
    text = city.export_values(tmp_path / "out" / "values.csv")
    assert (tmp_path / "out" / "values.csv").read_text(encoding="utf-8") == text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted({r["metric"] for r in rows}) == sorted(NAMES)
    # Re-importing the export into the same database changes nothing.
    assert city.import_values(text.encode()).batch_id is None
    # And into a fresh database it gives the same values, bit for bit.
    fresh = Kit(f"sqlite:///{tmp_path / 'fresh.db'}")
    fresh.init()
    fresh.import_metrics(METRICS.encode())
    fresh.import_values(text.encode())
    cols = ["metric", "date", "value", "numerator", "denominator"]
    pd.testing.assert_frame_equal(fresh.observations()[cols], city.observations()[cols])


def test_kit_scores_export_has_the_score_columns(city: Kit) -> None:
    text = city.export_scores(start="2026-01-01", end="2026-01-02")
    frame = pd.read_csv(io.StringIO(text))
    assert list(frame.columns) == [
        "as_of",
        "metric",
        "period",
        "value",
        "target",
        "score",
        "status",
        "note",
    ]
    assert set(frame["as_of"]) == {"2026-01-01", "2026-01-02"}


def test_boston_layout(city: Kit) -> None:
    text = city.export_scores(start="2026-01-01", end="2026-01-02", layout="boston")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == BOSTON_COLUMNS
    scores = city.scores(start="2026-01-01", end="2026-01-02")
    assert len(rows) == scores[["as_of", "metric"]].drop_duplicates().shape[0]
    by_key = {(r["metric_name"], r["score_calculated_ts"]): r for r in rows}
    plain = by_key["Plain", "2026-01-03T00:00:00"]  # scores as of Jan 2, published the next morning
    week = scores[(scores["metric"] == "Plain") & (scores["period"] == "week")]
    expected = week.loc[week["as_of"] == pd.Timestamp("2026-01-02"), "score"].item()
    assert float(plain["week_score"]) == expected
    assert plain["target"] == "6" and plain["latest_score_flag"] == "1"
    assert by_key["Plain", "2026-01-02T00:00:00"]["latest_score_flag"] == "0"
    assert plain["day_numerator"] == plain["day_denominator"] == ""  # value metrics have none
    repairs = by_key['Repairs, "on time"', "2026-01-03T00:00:00"]
    # No value on Jan 2: no day score; the week still holds Jan 1's 9 of 10.
    assert (repairs["day_score"], repairs["day_numerator"], repairs["day_denominator"]) == (
        "",
        "",
        "",
    )
    assert (repairs["week_numerator"], repairs["week_denominator"]) == ("9", "10")
    assert float(repairs["week_score"]) == pytest.approx(9 / 10 / 0.9)


def test_cli_export(tmp_path: Path, demo_db_file: Path) -> None:
    cli = shutil.which("cityscore", path=str(Path(sys.executable).parent)) or "cityscore"
    env = {k: v for k, v in os.environ.items() if k != "CITYSCORE_DB"}
    out = tmp_path / "boston.csv"
    result = subprocess.run(
        [cli, "--db", f"sqlite:///{demo_db_file}", "export", "scores", "--layout", "boston", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=120, check=True,
    )  # fmt: skip
    assert "wrote 21 rows" in result.stdout  # 20 demo metrics + CityScore, latest date only
    frame = pd.read_csv(out)
    published = (DEMO_END + dt.timedelta(days=1)).isoformat() + "T00:00:00"
    assert frame["score_calculated_ts"].unique().tolist() == [published]


FORMULAS = ['=HYPERLINK("http://x")', "+1+2", "-3+4", "@SUM(A1)", "\tTab", "\rCR", "＝1+1"]


def test_no_cell_is_a_spreadsheet_formula(city: Kit, demo_db_file: Path, tmp_path: Path) -> None:
    """Names stored before import rejected them still export as text: a leading ' (OWASP)."""
    import sqlalchemy as sa

    from cityscore.io import export
    from cityscore.pages import render

    names = {}
    with city.store.engine.begin() as conn:  # names stored before imports refused them
        renames = (("Plain", FORMULAS[0]), (NAMES[2], FORMULAS[3]), (NAMES[0], "\rCR"))
        for old, new in renames:
            conn.execute(
                sa.text("UPDATE metrics SET name = :new WHERE name = :old"),
                {"new": new, "old": old},
            )
            names[new] = "'" + new
    values = list(csv.DictReader(io.StringIO(city.export_values(), newline="")))
    assert {r["metric"] for r in values} >= set(names.values())
    scores = list(csv.DictReader(io.StringIO(city.export_scores(start="2026-01-02"), newline="")))
    boston = list(
        csv.DictReader(io.StringIO(city.export_scores(start="2026-01-02", layout="boston")))
    )
    assert {r["metric"] for r in scores} >= set(names.values())
    assert {r["metric_name"] for r in boston} >= set(names.values())
    for rows in (values, scores, boston):
        for row in rows:
            assert not any(
                str(cell).startswith(export.FORMULA_START)
                for cell in row.values()
                if not _number(cell)
            )
    # Each dangerous start, and numbers (a negative value is a number, not a formula) left alone.
    frame = pd.DataFrame(
        {"metric": FORMULAS, "date": pd.Timestamp("2026-01-01"), "value": -5.0, "numerator": None,
         "denominator": None, "source": "-file.csv"}
    )  # fmt: skip
    rows = list(csv.reader(io.StringIO(export.values_csv(frame), newline="")))[1:]
    assert [r[0] for r in rows] == ["'" + name for name in FORMULAS]
    assert {r[2] for r in rows} == {"-5"} and {r[5] for r in rows} == {"'-file.csv"}
    # The demo city's names: byte for byte what the scores CSV always was.
    demo = Kit(f"sqlite:///{demo_db_file}")
    demo_scores = demo.scores(DEMO_END)
    assert export.scores_csv(demo_scores) == render.scores_csv(demo_scores)
    cli = shutil.which("cityscore", path=str(Path(sys.executable).parent)) or "cityscore"
    env = {**os.environ, "CITYSCORE_DB": city.store.url}
    out = subprocess.run(
        [cli, "score", "--date", "2026-01-02", "--format", "csv"],
        capture_output=True, env=env, timeout=120, check=True,
    ).stdout.decode()  # fmt: skip
    assert set(names.values()) <= {
        r["metric"] for r in csv.DictReader(io.StringIO(out, newline=""))
    }


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_values_export_in_bulk_writes_what_the_row_by_row_writer_writes(monkeypatch) -> None:
    """The bulk writer (each name once, numbers by Arrow) against the plain row-by-row writer:
    the same text for every kind of float, name and area, formula starts and quotes included."""
    from cityscore.io import export, score_files

    floats = [0.1, 1e-07, 5.0, -0.0, 0.0, 2.0**53, 2.0**53 + 2, 1e16, 1e22, 123456789.5, -3.25,
              1e-4, 9.99e8, 1e9 + 0.5, float("nan"), 1 / 3, -1e-300]  # fmt: skip
    n = len(floats)
    names = ['Repairs, "on time"', "=SUM(A1)", "-neg", "Plain", "Zeilen; 'bruch'", "Ünïcode ✓"]
    frame = pd.DataFrame(
        {
            "metric": [names[i % len(names)] for i in range(n)],
            "date": pd.date_range("2026-01-01", periods=n, freq="D").astype("datetime64[s]"),
            "value": floats,
            "numerator": floats[::-1],
            "denominator": [float(i) for i in range(n)],
            "source": ["values.csv", "+x.csv", ""] * (n // 3) + ["a,b"] * (n % 3),
            "area": ["", "@Area", "Back Bay"] * (n // 3) + [""] * (n % 3),
        }
    )
    for area in (True, False):
        shown = frame if area else frame.drop(columns="area")
        columns = export.VALUES_EXPORT_COLUMNS + (["area"] if area else [])
        expected = export._values_rows_csv(shown, columns)
        assert export.values_csv(shown) == expected
        assert "'=SUM(A1)" in expected and "'-neg" in expected and ",-3.25," in expected
    # Several chunks, formatted on threads and joined in order: still the same text.
    monkeypatch.setattr(score_files, "CHUNK_ROWS", 7)
    big = pd.concat([frame] * 5, ignore_index=True)
    columns = [*export.VALUES_EXPORT_COLUMNS, "area"]
    assert export.values_csv(big) == export._values_rows_csv(big, columns)


@pytest.mark.slow
def test_cli_values_export_streams_the_same_file(city: Kit, tmp_path: Path) -> None:
    """`cityscore export values` to a file and to the terminal: the text `Kit.export_values` gives."""
    cli = shutil.which("cityscore", path=str(Path(sys.executable).parent)) or "cityscore"
    env = {**os.environ, "CITYSCORE_DB": city.store.url}
    expected = city.export_values()
    target = tmp_path / "values.csv"
    run = [cli, "export", "values"]
    done = subprocess.run([*run, "--out", str(target)], capture_output=True, env=env, check=True)
    rows = len(city.observations())
    assert done.stdout.decode().strip() == f"wrote {rows} rows to {target}"
    assert target.read_text(encoding="utf-8") == expected
    assert not (tmp_path / ".values.csv.partial").exists()
    shown = subprocess.run(run, capture_output=True, env=env, check=True)
    assert shown.stdout.decode("utf-8") == expected


def test_the_command_offers_every_scores_layout() -> None:
    """`cityscore export --layout` names the layouts without loading pandas: the same ones."""
    from cityscore.cli import export as command
    from cityscore.io import export

    assert command.LAYOUTS == export.LAYOUTS
