"""Areas in the store, the loaders and the Kit: an ``area`` column ('' = citywide) in values and
targets, databases made before areas keep working, and scores by area through ``Kit``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from cityscore import Kit, ValidationError
from cityscore.core.vocabulary import AREA_SCORE_COLUMNS
from cityscore.engine.statuses import NO_AREA_TARGET

from .conftest import DEMO_END

# The schema of the version before areas, as its create_all wrote it ({serial}/{stamp} per dialect).
OLD_SCHEMA = """
CREATE TABLE metrics (id {serial} NOT NULL, name VARCHAR(200) NOT NULL, definition TEXT NOT NULL,
  category VARCHAR(200) NOT NULL, unit VARCHAR(100) NOT NULL, direction VARCHAR(10) NOT NULL,
  kind VARCHAR(10) NOT NULL, aggregation VARCHAR(10) NOT NULL, baseline VARCHAR(10) NOT NULL,
  trend BOOLEAN NOT NULL, weight FLOAT NOT NULL, catalog_target FLOAT, PRIMARY KEY (id), UNIQUE (name));
CREATE TABLE import_batches (id {serial} NOT NULL, kind VARCHAR(20) NOT NULL,
  source VARCHAR(500) NOT NULL, created_at {stamp} NOT NULL, inserted INTEGER NOT NULL,
  updated INTEGER NOT NULL, unchanged INTEGER NOT NULL, undone_at {stamp}, PRIMARY KEY (id));
CREATE TABLE targets (id {serial} NOT NULL, metric_id INTEGER NOT NULL, effective_from DATE NOT NULL,
  target FLOAT NOT NULL, batch_id INTEGER, PRIMARY KEY (id), UNIQUE (metric_id, effective_from),
  FOREIGN KEY(metric_id) REFERENCES metrics (id), FOREIGN KEY(batch_id) REFERENCES import_batches (id));
CREATE TABLE observations (id {serial} NOT NULL, metric_id INTEGER NOT NULL, date DATE NOT NULL,
  value FLOAT, numerator FLOAT, denominator FLOAT, batch_id INTEGER, source VARCHAR(500) NOT NULL,
  PRIMARY KEY (id), UNIQUE (metric_id, date), FOREIGN KEY(metric_id) REFERENCES metrics (id),
  FOREIGN KEY(batch_id) REFERENCES import_batches (id));
CREATE INDEX ix_observations_date ON observations (date);
CREATE TABLE superseded_values (id {serial} NOT NULL, metric_id INTEGER NOT NULL, date DATE NOT NULL,
  value FLOAT, numerator FLOAT, denominator FLOAT, batch_id INTEGER, source VARCHAR(500) NOT NULL,
  superseded_at {stamp} NOT NULL, superseded_by INTEGER NOT NULL, PRIMARY KEY (id),
  FOREIGN KEY(metric_id) REFERENCES metrics (id), FOREIGN KEY(superseded_by) REFERENCES import_batches (id));
CREATE TABLE superseded_targets (id {serial} NOT NULL, metric_id INTEGER NOT NULL,
  effective_from DATE NOT NULL, target FLOAT NOT NULL, batch_id INTEGER, superseded_at {stamp} NOT NULL,
  superseded_by INTEGER NOT NULL, PRIMARY KEY (id), FOREIGN KEY(metric_id) REFERENCES metrics (id),
  FOREIGN KEY(superseded_by) REFERENCES import_batches (id));
INSERT INTO metrics (name, definition, category, unit, direction, kind, aggregation, baseline, trend,
  weight, catalog_target) VALUES ('Calls', '', 'General', '', 'higher', 'ratio', '', 'target', FALSE, 1, 0.8);
INSERT INTO import_batches (kind, source, created_at, inserted, updated, unchanged)
  VALUES ('values', 'old.csv', '2026-10-30 08:00:00', 1, 0, 0);
INSERT INTO import_batches (kind, source, created_at, inserted, updated, unchanged)
  VALUES ('values', 'fix.csv', '2026-10-31 08:00:00', 0, 1, 0);
INSERT INTO targets (metric_id, effective_from, target) VALUES (1, '1900-01-01', 0.8);
INSERT INTO observations (metric_id, date, value, numerator, denominator, batch_id, source)
  VALUES (1, '2026-10-31', NULL, 9, 10, 2, 'fix.csv');
INSERT INTO superseded_values (metric_id, date, value, numerator, denominator, batch_id, source,
  superseded_at, superseded_by) VALUES (1, '2026-10-31', NULL, 8, 10, 1, 'old.csv', '2026-10-31 08:00:00', 2);
"""
AREA_VALUES = (
    b"metric,date,area,numerator,denominator\n"
    b"Calls,2026-10-31,North,9,10\nCalls,2026-10-31,South,3,6\nCalls,2026-10-30,North,4,8\n"
)


def old_database(url: str, dialect: str) -> None:
    """A database as the version before areas left it: one value that was corrected once."""
    kinds = {"sqlite": ("INTEGER", "DATETIME"), "postgresql": ("SERIAL", "TIMESTAMP")}
    serial, stamp = kinds[dialect]
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for statement in OLD_SCHEMA.format(serial=serial, stamp=stamp).split(";"):
            if statement.strip():
                conn.execute(sa.text(statement))
    engine.dispose()


def check_old_database_keeps_working(url: str) -> None:
    kit = Kit(url)
    # Using it upgrades it: the area column is added on first use, every old row citywide.
    assert kit.history("Calls", "2026-10-31")["numerator"].tolist() == [8.0, 9.0]
    assert kit.targets()["target"].tolist() == [0.8]
    kit.init()  # safe to repeat on the upgraded database
    # Area rows for the same metric and date now fit beside the citywide one.
    result = kit.import_values(AREA_VALUES)
    assert (result.inserted, result.updated) == (3, 0)
    assert kit.import_values(AREA_VALUES).batch_id is None  # the same file again changes nothing
    rows = kit.observations(areas=True)
    assert sorted(rows["area"]) == ["", "North", "North", "South"]
    assert kit.observations()["numerator"].tolist() == [9.0]  # citywide rows only, as before
    scores = kit.scores("2026-10-31", by="area").query("metric == 'Calls'")
    city = scores.query("area == '' and period == 'day'")["score"].iloc[0]
    assert city == pytest.approx(0.9 / 0.8)  # the citywide row, not the areas' total
    north = scores.query("area == 'North' and period == 'week'")["value"].iloc[0]
    assert north == pytest.approx(13 / 18)
    kit.undo(result.batch_id)
    north = kit.history("Calls", "2026-10-31", area="North")
    assert north["status"].tolist() == ["superseded"]  # undone, and kept in the audit trail
    assert kit.history("Calls", "2026-10-31")["status"].tolist() == ["superseded", "current"]


def test_a_sqlite_database_made_before_areas_keeps_working(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old_database(url, "sqlite")
    check_old_database_keeps_working(url)


def test_a_postgresql_database_made_before_areas_keeps_working(postgres_url: str) -> None:
    old_database(postgres_url, "postgresql")
    check_old_database_keeps_working(postgres_url)


@pytest.fixture
def calls_kit(kit: Kit) -> Kit:
    kit.import_metrics(
        b"name,direction,kind,aggregation,target\nCalls,higher,ratio,,0.8\n"
        b"Permits,higher,value,sum,10\nSurvey,higher,value,mean,4\n"
    )
    return kit


def test_values_and_targets_files_may_carry_an_area(calls_kit: Kit) -> None:
    kit = calls_kit
    kit.import_values(
        b"metric,date,area,value,numerator,denominator\n"
        b"Calls,2026-10-31,North,,9,10\nCalls,2026-10-31,South,,3,6\n"
        b"Permits,2026-10-31,North,4,,\nPermits,2026-10-31,South,9,,\n"
        b"Survey,2026-10-31,,4.2,,\nSurvey,2026-10-31,North,4.4,,\n"
    )
    kit.import_targets(
        b"metric,effective_from,target,area\nPermits,2026-01-01,5,South\nSurvey,2026-01-01,3.6,North\n"
    )
    assert kit.targets()["target"].tolist() == [0.8, 10.0, 4.0]  # citywide, as before
    assert len(kit.targets(areas=True)) == 5
    day = kit.scores("2026-10-31").query("period == 'day'").set_index("metric")
    assert day.loc["Calls", "value"] == 0.75  # (9 + 3) / (10 + 6): derived from the areas
    assert day.loc["Permits", "value"] == 13  # 4 + 9, derived
    assert day.loc["Survey", "value"] == 4.2  # the citywide row; a mean is never derived
    by_area = kit.scores("2026-10-31", by="area")
    assert list(by_area.columns) == AREA_SCORE_COLUMNS
    rows = by_area.query("period == 'day'").set_index(["area", "metric"])
    assert rows.loc[("South", "Permits"), "score"] == pytest.approx(9 / 5)
    assert rows.loc[("North", "Permits"), "note"] == NO_AREA_TARGET
    assert rows.loc[("North", "Survey"), "score"] == pytest.approx(4.4 / 3.6)
    # Correcting an area's value keeps the old one, per area.
    kit.import_values(b"metric,date,area,value\nSurvey,2026-10-31,North,4.5\n")
    assert kit.history("Survey", "2026-10-31", area="North")["value"].tolist() == [4.4, 4.5]
    assert kit.history("Survey", "2026-10-31")["value"].tolist() == [4.2]
    table = kit.equity("2026-10-31").query("period == 'day'").set_index("metric")
    assert (
        table.loc["Calls", "best_area"] == "North" and table.loc["Calls", "worst_area"] == "South"
    )


def test_a_bad_area_is_reported_and_nothing_is_written(calls_kit: Kit) -> None:
    long_name = "N" * 201
    data = f"metric,date,area,value\nSurvey,2026-10-31,{long_name},4\nSurvey,2026-10-30,North,4\n"
    with pytest.raises(ValidationError) as caught:
        calls_kit.import_values(data.encode())
    problems = caught.value.problems
    assert problems["column"].tolist() == ["area"] and problems["line"].tolist() == [2]
    assert calls_kit.observations(areas=True).empty


def test_the_same_day_in_two_areas_is_no_conflict_but_twice_in_one_area_is(calls_kit: Kit) -> None:
    calls_kit.import_values(
        b"metric,date,area,value\nSurvey,2026-10-31,North,4\nSurvey,2026-10-31,South,5\n"
    )
    with pytest.raises(ValidationError):
        calls_kit.import_values(
            b"metric,date,area,value\nSurvey,2026-10-30,North,4\nSurvey,2026-10-30,North,5\n"
        )


def test_scores_by_area_must_be_asked_for_by_name(calls_kit: Kit) -> None:
    from cityscore.core.errors import ConfigError

    with pytest.raises(ConfigError, match="'area'"):
        calls_kit.scores("2026-10-31", by="ward")


def test_the_demo_with_neighbourhoods_keeps_the_citywide_scores(
    tmp_path: Path, demo_db_file: Path
) -> None:
    kit = Kit(f"sqlite:///{tmp_path / 'areas.db'}")
    kit.load_demo(DEMO_END, areas=True)
    plain = Kit(f"sqlite:///{demo_db_file}")
    pd.testing.assert_frame_equal(kit.scores(DEMO_END), plain.scores(DEMO_END))
    pd.testing.assert_frame_equal(kit.observations(), plain.observations())
    by_area = kit.scores(DEMO_END, by="area")
    assert by_area["area"].nunique() == 11  # the city and ten neighbourhoods
    assert all(r.batch_id is None for r in kit.load_demo(DEMO_END, areas=True))


def test_cli_score_by_area(calls_kit: Kit, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from cityscore.cli.main import main

    calls_kit.import_values(AREA_VALUES)
    db = ["--db", calls_kit.store.url]
    assert main([*db, "score", "--by", "area", "--date", "2026-10-31", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "as_of,area,metric,period,value,target,score,status,note"
    assert lines[1].startswith("2026-10-31,,CityScore,day,")  # citywide rows: empty area
    assert "2026-10-31,North,CityScore,day,,,1.125,meeting,1 of 1 metrics scored" in lines
    assert main([*db, "score", "--date", "2026-10-31", "--format", "csv"]) == 0
    plain = capsys.readouterr().out.splitlines()
    assert plain[0] == "as_of,metric,period,value,target,score,status,note"  # unchanged
    out = tmp_path / "areas.json"
    args = [
        "score",
        "--by",
        "area",
        "--from",
        "2026-10-30",
        "--to",
        "2026-10-31",
        "--format",
        "json",
    ]
    assert main([*db, *args, "--out", str(out)]) == 0
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert list(rows[0]) == AREA_SCORE_COLUMNS and {r["area"] for r in rows} == {
        "",
        "North",
        "South",
    }
    assert main([*db, "score", "--by", "area", "--date", "2026-10-31"]) == 0
    table = capsys.readouterr().out
    assert table.index("== Citywide ==") < table.index("== North ==") < table.index("== South ==")


def test_exported_values_keep_their_area_and_import_back_unchanged(calls_kit: Kit) -> None:
    calls_kit.import_values(AREA_VALUES)
    calls_kit.import_values(b"metric,date,value\nSurvey,2026-10-31,4.2\n")
    text = calls_kit.export_values()
    assert text.splitlines()[0].endswith(",source,area")
    assert calls_kit.import_values(text.encode()).batch_id is None  # nothing changes


def test_a_value_entered_by_hand_may_be_for_an_area(calls_kit: Kit) -> None:
    calls_kit.enter("Survey", "2026-10-31", value=4.1, area="North")
    calls_kit.enter("Survey", "2026-10-31", value=3.9)
    rows = calls_kit.observations(areas=True).set_index("area")["value"]
    assert rows.to_dict() == {"": 3.9, "North": 4.1}
