"""The benchmark code on a tiny city, timing nothing: so `make bench` cannot silently rot.

The benchmark's DuckDB SQL must give the engine's numbers, or its speed ratios compare different work.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from benchmarks import measure, run
from benchmarks.data import SIZES, make_city
from benchmarks.duckdb_reference import score_range_sql
from cityscore.engine.score import score_range
from cityscore.engine.statuses import NOTES

TINY = SIZES["XS"]


@pytest.fixture(scope="module")
def city():
    return make_city(TINY)


def test_synthetic_city_meets_every_rule(city) -> None:
    """Every reason for no score occurs, so agreement below covers every rule."""
    scores = score_range(
        city.observations, city.metrics, city.targets, city.first_day, city.last_day
    )
    notes = set(scores["note"].astype(str))
    assert set(NOTES) <= notes
    assert scores["score"].notna().mean() > 0.5
    assert set(city.metrics["kind"]) == {"value", "ratio"}
    assert set(city.metrics["aggregation"]) >= {"mean", "median", "sum"}
    assert city.targets.groupby("metric").size().max() > 1  # a target change, effective-dated
    assert len(city.observations) < len(city.metrics) * TINY.days  # missing days


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
