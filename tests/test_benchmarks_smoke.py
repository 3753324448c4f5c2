"""The benchmark code on a tiny city, timing nothing: so `make bench` cannot silently rot.

The benchmark's DuckDB SQL must give the engine's numbers, or its speed ratios compare different work.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks import measure, run
from benchmarks.data import SIZES, make_city
from benchmarks.duckdb_reference import score_range_sql
from cityscore.engine.precision import settle
from cityscore.engine.score import score_range
from cityscore.engine.statuses import (
    NO_LAST_YEAR,
    NO_POPULATION,
    NO_REPORTING_DAY,
    NO_WEEKDAY_HISTORY,
    NOT_FINITE,
    NOTES,
    STALE,
)

TINY = SIZES["XS"]
ROOT = Path(__file__).resolve().parent.parent

# The rules the benchmark's DuckDB SQL does not implement (its city is daily with target and history
# baselines): each note's rule is checked against the slow reference by the test file named here.
NOT_IN_THE_SQL = {
    NO_REPORTING_DAY: ("NO_REPORTING_DAY", "tests/test_schedules.py"),
    NO_WEEKDAY_HISTORY: ("NO_WEEKDAY_HISTORY", "tests/test_baselines.py"),
    NO_LAST_YEAR: ("NO_LAST_YEAR", "tests/test_baselines.py"),
    NO_POPULATION: ("NO_POPULATION", "tests/test_rates.py"),
    NOT_FINITE: ("NOT_FINITE", "tests/test_hardening_numbers.py"),
}


@pytest.fixture(scope="module")
def city():
    return make_city(TINY)


def test_synthetic_city_meets_every_rule_the_sql_implements(city) -> None:
    """Every reason for no score the SQL implements occurs, and stale metrics left out of a
    CityScore, so agreement below covers each of its rules."""
    scores = score_range(
        city.observations, city.metrics, city.targets, city.first_day, city.last_day
    )
    notes = set(scores["note"].astype(str))
    assert set(NOTES) - set(NOT_IN_THE_SQL) <= notes
    assert not set(NOT_IN_THE_SQL) & notes
    stale = scores["status"] == STALE
    assert stale.any() and scores.loc[stale, "score"].notna().any()  # a stale score to leave out
    assert (~stale & scores["score"].notna()).mean() > 0.5
    assert scores["score"].notna().mean() > 0.5
    assert set(city.metrics["kind"]) == {"value", "ratio"}
    assert set(city.metrics["aggregation"]) >= {"mean", "median", "sum"}
    assert city.targets.groupby("metric").size().max() > 1  # a target change, effective-dated
    assert len(city.observations) < len(city.metrics) * TINY.days  # missing days


def test_rules_not_in_the_sql_are_checked_against_the_reference_elsewhere() -> None:
    """Each note the SQL cannot give is asserted, beside the slow reference, in its own test file."""
    for note, (name, path) in NOT_IN_THE_SQL.items():
        assert note in NOTES
        text = (ROOT / path).read_text()
        assert f"== {name}" in text, (name, path)
        assert "from cityscore.engine.reference import reference_" in text, path


def test_duckdb_refuses_a_rule_it_does_not_implement(city) -> None:
    args = (city.observations, city.metrics, city.targets, city.last_day, city.last_day)
    for column, label in (
        ("schedule", "weekdays"),
        ("baseline", "weekday"),
        ("baseline", "last_year"),
        ("per_residents", "1000"),
    ):
        metrics = city.metrics.assign(**{column: label})
        with pytest.raises(RuntimeError, match=column):
            score_range_sql(city.observations, metrics, *args[2:])
    assert not score_range_sql(
        city.observations, city.metrics.assign(schedule="daily"), *args[2:]
    ).empty


def test_duckdb_settles_scores_as_the_engine_does() -> None:
    """The SQL's ``settle`` macro gives ``engine.precision.settle``'s numbers, bit for bit."""
    import duckdb

    from benchmarks.duckdb_reference import SETTLE

    given = [0.09 / 0.1, 0.9999999999999996, 10 / 12, 1.0, 0.0, 123456789012.0004, 3e13 + 0.01]
    given += [-0.8999999999999999, 1e-250, 1e250, float("inf"), float("nan")]
    with duckdb.connect() as con:
        con.execute(SETTLE)
        got = con.execute(
            "SELECT settle(x) FROM unnest($xs::DOUBLE[]) WITH ORDINALITY t(x, i) ORDER BY i",
            {"xs": given},
        ).fetchall()
    expected = settle(np.array(given))
    assert expected[0] == 0.9 and expected[1] == 1.0  # the noise the rule is for
    actual = np.array([np.nan if row[0] is None else row[0] for row in got])
    np.testing.assert_array_equal(actual, expected)


def test_synthetic_city_is_deterministic(city) -> None:
    again = make_city(TINY)
    pd.testing.assert_frame_equal(city.observations, again.observations)
    pd.testing.assert_frame_equal(city.targets, again.targets)


def test_duckdb_and_reference_agree_with_the_engine(city) -> None:
    result = measure.check(city)
    for name in ("duckdb", "reference"):
        diff = result[name]
        assert diff["ok"], (name, diff)
        assert diff["rows"] > 0
        assert diff["note_mismatches"] == 0
        assert diff["score_max_rel_diff"] <= measure.TOLERANCE


def test_duckdb_agrees_with_a_metric_s_own_stale_after(city) -> None:
    """Half the metrics stale after 3 days instead of the daily default (7): more stale rows, and
    the engine, DuckDB and the reference still agree."""
    own = np.where(np.arange(len(city.metrics)) % 2 == 0, 3.0, np.nan)
    strict = dataclasses.replace(city, metrics=city.metrics.assign(stale_after=own))
    result = measure.check(strict)
    assert result["duckdb"]["ok"] and result["reference"]["ok"], result
    assert result["duckdb"]["stale_rows"] > measure.check(city)["duckdb"]["stale_rows"]


def test_comparison_notices_a_wrong_score_and_a_wrong_note(city) -> None:
    args = (city.observations, city.metrics, city.targets, city.last_day, city.last_day)
    engine = score_range(*args)
    sql = score_range_sql(*args)
    assert measure.compare(engine, sql)["ok"]
    scored = sql.index[sql["score"].notna()][0]
    wrong_score = sql.copy()
    wrong_score.loc[scored, "score"] *= 1.001
    assert not measure.compare(engine, wrong_score)["ok"]
    wrong_note = sql.assign(note=sql["note"].astype(str))
    wrong_note.loc[scored, "note"] = NOTES[1]
    assert measure.compare(engine, wrong_note)["note_mismatches"] == 1
    wrong_status = sql.assign(status=sql["status"].astype(str))
    wrong_status.loc[scored, "status"] = STALE
    result = measure.compare(engine, wrong_status)
    assert not result["ok"]
    assert result["stale_mismatches"] == 1 and result["status_mismatches"] == 1


def test_duckdb_does_not_change_its_inputs(city) -> None:
    before = city.observations.copy()
    score_range_sql(city.observations, city.metrics, city.targets, city.last_day, city.last_day)
    pd.testing.assert_frame_equal(city.observations, before)


def test_measurement_runs_in_a_fresh_process() -> None:
    """The path `make bench` takes: a child process per measurement, JSON back (times not checked)."""
    result = run._measure(TINY.name, "engine")
    assert result["rows"] == TINY.days * (TINY.metrics + 1) * 4
    assert result["observations"] > 0
    if result["peak_mb"] is not None:  # Linux /proc
        assert result["peak_mb"] >= result["input_mb"] > 0


def test_table_and_goals_render(capsys: pytest.CaptureFixture[str]) -> None:
    row = {key: 1.0 for _, key, _ in run.COLUMNS} | {"size": "L", "metrics": 2, "days": 3}
    row |= {"observations": 4, "rows": 5, "vs_duckdb_one": 3.0, "peak_mb": 5000.0}
    table = run._table([row], markdown=True)
    assert table.splitlines()[0].startswith("| size")
    assert "| L " in table
    run._print_goals({"L": row})
    printed = capsys.readouterr().out
    assert "L peak memory < 4096 MB" in printed and "MISS" in printed
    assert "M full history < 5 s" in printed and "not measured" in printed


@pytest.mark.slow
def test_daily_benchmark_times_the_morning_run_of_a_new_city(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`make bench`'s morning run: a new city folder with the demo city, no sources, no mail."""
    import json

    from benchmarks import bench_daily

    assert bench_daily.main(["--runs", "1", "--keep", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    lines = {line.split()[1]: line.split() for line in printed.splitlines() if "cityscore " in line}
    for command in ("daily", "report"):
        wall, cpu, _peak, runs = lines[command][2:6]
        assert float(wall) > 0 and float(cpu) > 0 and runs == "1"
    assert "Goal: the morning run (`cityscore daily`, demo city) < 15 s" in printed
    city = tmp_path / "city"
    assert (city / "cityscore.toml").exists() and not (city / "sources.yml").exists()
    steps = [json.loads(line) for line in (city / "logs" / "daily.jsonl").read_text().splitlines()]
    assert steps and all(step["ok"] for step in steps)  # nothing failed: no source, no mail
    assert {"score", "report"} <= {step["step"] for step in steps}
    assert not any(step["step"].startswith("sync") for step in steps)


@pytest.mark.slow
def test_cli_benchmark_runs_the_commands_users_run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`make bench`'s CLI part on the tiny city, SQLite only: every command succeeds, DuckDB agrees."""
    from benchmarks import bench_cli

    monkeypatch.setattr(
        bench_cli, "CACHE", tmp_path
    )  # not the benchmarks' cache in the temp folder

    assert bench_cli.main(["--sizes", "XS", "--db", "sqlite", "--no-report"]) == 0
    printed = capsys.readouterr().out
    table = printed.split("\n\n")[1].splitlines()
    assert table[0].split()[:3] == ["size", "db", "value"]
    assert table[1].split()[:2] == ["XS", "sqlite"] and "failed" not in table[1]
    assert "XS on sqlite, CLI vs DuckDB: agree" in printed  # row by row, on the tiny sizes
    assert "M import (values import) < 5 s: not measured" in printed
