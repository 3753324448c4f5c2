"""The catalog's schedule columns through a real SQLite store, the city's calendar from
cityscore.toml, and the metrics and targets files read as people write them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from cityscore.core.errors import ConfigError, ValidationError
from cityscore.engine.score import score_range
from cityscore.engine.statuses import NO_REPORTING_DAY, STALE
from cityscore.io.calendar import closed_days, holidays_of
from cityscore.kit import Kit

METRICS = """name,direction,aggregation,target,schedule,stale_after
Permits,higher,sum,10,weekdays,
Recycling,higher,sum,20,business_days,3
Potholes,lower,mean,40,weekly,
Jobs,higher,sum,300,monthly,60
Lights,higher,mean,0.9,,
"""


def rejected(action, *args, **kwargs) -> pd.DataFrame:
    with pytest.raises(ValidationError) as caught:
        action(*args, **kwargs)
    return caught.value.problems


def test_the_columns_are_stored_and_read_back(kit: Kit) -> None:
    kit.import_metrics(METRICS.encode())
    metrics = kit.metrics().set_index("name")
    assert metrics["schedule"].to_dict() == {
        "Jobs": "monthly",
        "Lights": "daily",
        "Permits": "weekdays",
        "Potholes": "weekly",
        "Recycling": "business_days",
    }
    stale_after = pd.to_numeric(metrics["stale_after"])
    assert stale_after["Recycling"] == 3 and stale_after["Jobs"] == 60
    assert stale_after[["Permits", "Potholes", "Lights"]].isna().all()  # the schedule's default
    # A file that leaves the columns out keeps them; one that gives them changes them.
    kit.import_metrics(b"name,target\nRecycling,25\n")
    assert kit.metrics().set_index("name").loc["Recycling", "schedule"] == "business_days"
    result = kit.import_metrics(b"name,schedule,stale_after\nRecycling,weekdays,\n")
    assert result.updated == 1
    after = kit.metrics().set_index("name")
    assert after.loc["Recycling", "schedule"] == "weekdays"
    assert pd.isna(pd.to_numeric(after["stale_after"])["Recycling"])


def test_the_metric_editor_sets_a_schedule(kit: Kit) -> None:
    kit.import_metrics(METRICS.encode())
    kit.save_metric("Lights", schedule="weekdays", stale_after=5)
    lights = kit.metrics().set_index("name").loc["Lights"]
    assert lights["schedule"] == "weekdays" and float(lights["stale_after"]) == 5
    with pytest.raises(ValidationError, match="schedule"):
        kit.save_metric("Lights", schedule="fortnightly")


def test_an_older_database_gains_the_columns_with_defaults(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Kit(url)
    old.init()
    old.import_metrics(b"name,direction,target\nCalls,higher,5\n")
    with old.store.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE metrics DROP COLUMN schedule"))
        conn.execute(sa.text("ALTER TABLE metrics DROP COLUMN stale_after"))
    old.store.engine.dispose()
    kit = Kit(url)
    kit.init()
    metrics = kit.metrics()
    assert metrics["schedule"].tolist() == ["daily"]
    assert pd.isna(pd.to_numeric(metrics["stale_after"])).all()
    kit.store.engine.dispose()


def test_bad_schedule_cells_are_refused_with_their_lines(kit: Kit) -> None:
    text = (
        "name,direction,target,schedule,stale_after,baseline\n"
        "A,higher,5,hourly,,\n"
        "B,higher,5,,0,\n"
        "C,higher,,Weekly,,history\n"
    )
    problems = rejected(kit.import_metrics, text.encode())
    found = set(zip(problems["line"], problems["column"], problems["value"], strict=True))
    assert (2, "schedule", "hourly") in found
    assert (3, "stale_after", "0") in found
    assert (4, "baseline", "history") in found  # weekly: too few values for a history baseline
    assert kit.metrics().empty  # nothing written


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("true", True), ("No", False), ("YES", True), ("n", False), ("1", True), ("0", False),
     (" y ", True), ("False", False), ("", False)],
)  # fmt: skip
def test_trend_takes_the_usual_spellings(kit: Kit, cell: str, expected: bool) -> None:
    kit.import_metrics(f"name,direction,target,trend\nA,higher,5,{cell}\n".encode())
    assert bool(kit.metrics()["trend"].iloc[0]) is expected


@pytest.mark.parametrize("cell", ["nope", "maybe", "2", "ja"])
def test_trend_refuses_the_rest(kit: Kit, cell: str) -> None:
    problems = rejected(
        kit.import_metrics, f"name,direction,target,trend\nA,higher,5,{cell}\n".encode()
    )
    assert problems["column"].tolist() == ["trend"]
    assert "true or false" in problems["reason"].iloc[0]


def test_a_refused_direction_is_echoed_as_typed(kit: Kit) -> None:
    problems = rejected(kit.import_metrics, b"name,direction,target\nA,Higher Is Better,5\n")
    assert problems.loc[problems["column"] == "direction", "value"].tolist() == ["Higher Is Better"]


def test_targets_accept_percentages_as_values_do(kit: Kit) -> None:
    kit.import_metrics(b"name,direction,kind,target\nOn time,higher,ratio,93%\n")
    assert kit.store.catalog_targets()["On time"] == pytest.approx(0.93)
    kit.import_targets(b"metric,effective_from,target\nOn time,2026-01-01,95 %\n")
    targets = kit.targets().set_index("effective_from")["target"]
    assert targets[pd.Timestamp("2026-01-01")] == pytest.approx(0.95)
    problems = rejected(
        kit.import_targets, b"metric,effective_from,target\nOn time,2026-02-01,x%\n"
    )
    assert problems["reason"].tolist() == ["target is not a number"]


# --- the city's calendar -------------------------------------------------------------------------


def test_holidays_come_from_the_library_in_any_case() -> None:
    days = holidays_of("us", "ma", [2026])
    assert dt.date(2026, 4, 20) in days  # Patriots' Day: Massachusetts only
    assert dt.date(2026, 4, 20) not in holidays_of("US", None, [2026])
    with pytest.raises(ConfigError, match="country 'Narnia'"):
        holidays_of("Narnia", None, [2026])
    with pytest.raises(ConfigError, match="subdivision 'ZZ' is not one of US's"):
        holidays_of("US", "ZZ", [2026])


def test_closures_are_read_and_checked_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "closures.csv"
    path.write_text("date,name\n2026-07-03,Independence Day (city)\n2026-12-24,Christmas Eve\n")
    assert closed_days(None, None, path, [2026]) == [dt.date(2026, 7, 3), dt.date(2026, 12, 24)]
    path.write_text("date,name\n2026-07-03,ok\n2026-02-30,no such day\n")
    with pytest.raises(ValidationError) as caught:
        closed_days(None, None, path, [2026])
    assert caught.value.problems["line"].tolist() == [3]
    with pytest.raises(ConfigError, match="no file"):
        closed_days(None, None, tmp_path / "missing.csv", [2026])


def test_kit_scores_use_the_citys_calendar_and_stale_setting(
    kit: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit.import_metrics(METRICS.encode())
    rows = ["metric,date,value"]
    for day in pd.date_range("2026-06-01", "2026-07-10"):
        if day.day_of_week < 5 and day.date() not in (dt.date(2026, 6, 19), dt.date(2026, 7, 3)):
            rows.append(f"Recycling,{day.date()},20")
        if day.date() <= dt.date(2026, 7, 1):
            rows.append(f"Lights,{day.date()},0.95")
    kit.import_values("\n".join(rows).encode())
    (tmp_path / "closures.csv").write_text("date\n2026-07-03\n")
    config = tmp_path / "cityscore.toml"
    config.write_text('[calendar]\ncountry = "US"\nsubdivision = "MA"\nclosures = "closures.csv"\n')
    monkeypatch.setenv("CITYSCORE_CONFIG", str(config))
    scores = kit.scores("2026-07-10").set_index(["metric", "period"])
    # Juneteenth (the library) and 3 July (the closures file) are not business days: the month
    # 11 Jun-10 Jul holds 22 weekdays - 2 = 20 -> target 400; value 20 x 20 = 400 -> 1.
    assert scores.loc[("Recycling", "month"), "target"] == 400.0
    assert scores.loc[("Recycling", "month"), "score"] == 1.0
    assert (
        kit.scores("2026-07-03").set_index(["metric", "period"]).loc[("Recycling", "day"), "note"]
        == NO_REPORTING_DAY
    )
    # Lights stopped on 1 July: stale on 10 July, out of the CityScore unless count_stale.
    assert (scores.loc["Lights", "status"] == STALE).all()
    assert scores.loc[("CityScore", "month"), "score"] == 1.0
    config.write_text(config.read_text() + "\n[scores]\ncount_stale = true\n")
    kept = kit.scores("2026-07-10").set_index(["metric", "period"])
    assert kept.loc[("CityScore", "month"), "score"] == pytest.approx((1 + 0.95 / 0.9) / 2)
    named = kit.scores("2026-07-10", stale_metrics=["Recycling"], count_stale=False)
    assert (named.loc[named["metric"] == "Recycling", "status"] == STALE).all()
    # Both scored metrics stale and not counted (count_stale=False overrides the file): none left.
    city_month = named.set_index(["metric", "period"]).loc[("CityScore", "month")]
    assert pd.isna(city_month["score"]) and city_month["note"] == "no metric has a score"


def test_a_bad_calendar_setting_is_a_clear_error(
    kit: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit.import_metrics(METRICS.encode())
    kit.import_values(b"metric,date,value\nLights,2026-07-01,0.95\n")
    config = tmp_path / "cityscore.toml"
    config.write_text('[calendar]\ncountry = "Atlantis"\n')
    monkeypatch.setenv("CITYSCORE_CONFIG", str(config))
    with pytest.raises(ConfigError, match="country 'Atlantis'"):
        kit.scores("2026-07-01")
    config.write_text("[calendar]\ncountry = 1\n")
    with pytest.raises(ConfigError, match=r"calendar\.country"):
        kit.scores("2026-07-01")


def test_kit_scores_read_every_row_a_weekly_monthly_or_last_year_score_needs(kit: Kit) -> None:
    """A monthly report dated 2 April lies on 30 April, inside a quarter window that starts on 12
    April; a last_year window reaches 364 + 89 days back: the kit's read must still hold them."""
    kit.import_metrics(
        b"name,direction,aggregation,target,schedule,baseline\n"
        b"Jobs,higher,sum,300,monthly,\n"
        b"Potholes,lower,mean,40,weekly,\n"
        b"Permits,higher,sum,,daily,last_year\n"
        b"Calls,higher,mean,5,daily,\n"
    )
    rows = ["metric,date,value"]
    for k, day in enumerate(pd.date_range("2025-01-01", "2026-07-10")):
        rows.append(f"Permits,{day.date()},{10 + k % 5}")
        rows.append(f"Calls,{day.date()},5")
        if day.day == 2:
            rows.append(f"Jobs,{day.date()},{250 + k % 90}")
        if day.day_of_week == 2:
            rows.append(f"Potholes,{day.date()},{30 + k % 20}")
    kit.import_values("\n".join(rows).encode())
    first, last = pd.Timestamp("2026-07-01"), pd.Timestamp("2026-07-10")
    expected = score_range(kit.observations(), kit.metrics(), kit.targets(), first, last)
    got = kit.scores(start=first, end=last)
    pd.testing.assert_frame_equal(got, expected)
    quarter = got[(got["as_of"] == last) & (got["period"] == "quarter")].set_index("metric")
    # 30 April, 31 May and 30 June lie in 12 Apr-10 Jul: three reports, target 3 x 300.
    assert quarter.loc["Jobs", "target"] == 900.0 and pd.notna(quarter.loc["Jobs", "score"])
    assert pd.notna(quarter.loc["Permits", "score"])  # last year's quarter was read
