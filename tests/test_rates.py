"""Rates per resident: ``per_residents`` scores a count per N residents of the city and each area."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from cityscore import CatalogError, Kit, ValidationError
from cityscore.core.settings import CONFIG_ENV
from cityscore.engine.reference import reference_area_scores
from cityscore.engine.score import score_by_area, score_range
from cityscore.engine.statuses import NO_AREA_TARGET, NO_POPULATION

METRICS = """name,category,direction,kind,aggregation,target,per_residents
Potholes,Streets,lower,value,sum,0.5,1000
Noise,Streets,lower,value,mean,0.1,100
Trees,Parks,higher,value,sum,3,
"""


def catalog(per_residents: list[float] | None = None) -> pd.DataFrame:
    names = ["Potholes", "Noise", "Trees"]
    return pd.DataFrame(
        {
            "name": names,
            "definition": "",
            "category": "S",
            "unit": "",
            "direction": ["lower", "lower", "higher"],
            "kind": "value",
            "aggregation": ["sum", "mean", "sum"],
            "baseline": "target",
            "trend": False,
            "weight": 1.0,
            "per_residents": per_residents or [1000.0, 100.0, np.nan],
        }
    )


def observations() -> pd.DataFrame:
    # (metric, day, area, value); no citywide rows: the city's day is its areas' total.
    rows = [
        ("Potholes", "2026-01-01", "North", 2), ("Potholes", "2026-01-01", "South", 3),
        ("Potholes", "2026-01-02", "North", 4), ("Potholes", "2026-01-02", "South", 1),
        ("Potholes", "2026-01-02", "West", 7),
        ("Noise", "2026-01-01", "North", 2), ("Noise", "2026-01-02", "North", 4),
        ("Noise", "2026-01-02", "", 10),
        ("Trees", "2026-01-02", "North", 5), ("Trees", "2026-01-02", "South", 6),
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["metric", "date", "area", "value"])
    return frame.assign(date=pd.to_datetime(frame["date"]), numerator=np.nan, denominator=np.nan)


TARGETS = pd.DataFrame(
    {
        "metric": ["Potholes", "Noise", "Trees"],
        "effective_from": pd.to_datetime(["1900-01-01"] * 3),
        "target": [0.5, 0.1, 3.0],
        "area": "",
    }
)
PEOPLE = {"North": 4000.0, "South": 2000.0, "West": None}


def row(scores: pd.DataFrame, metric: str, area: str = "", period: str = "day") -> pd.Series:
    pick = (scores["metric"] == metric) & (scores["period"] == period)
    if "area" in scores:
        pick &= scores["area"] == area
    return scores[pick & (scores["as_of"] == pd.Timestamp("2026-01-02"))].iloc[0]


def test_hand_worked_rates_for_the_city_and_each_area() -> None:
    scores = score_by_area(observations(), catalog(), TARGETS, "2026-01-02", "2026-01-02",
                           populations=PEOPLE)  # fmt: skip
    # North: 4 potholes / 4,000 residents x 1,000 = 1.0 a day; target 0.5, lower is better: 0.5.
    north = row(scores, "Potholes", "North")
    assert (north["value"], north["target"], north["score"]) == pytest.approx((1.0, 0.5, 0.5))
    # South: 1 / 2,000 x 1,000 = 0.5: on target. The city's target applies to every area.
    assert row(scores, "Potholes", "South")["score"] == pytest.approx(1.0)
    # The week: North 2 + 4 = 6 / 4,000 x 1,000 = 1.5 against 0.5 x 7 days = 3.5.
    week = row(scores, "Potholes", "North", "week")
    assert (week["value"], week["target"]) == pytest.approx((1.5, 3.5))
    # The city: 4 + 1 + 7 = 12 potholes (West counts in the city); 6,000 residents: the sum of its
    # areas' is unknown (West has no figure), so the city has no population either.
    assert row(scores, "Potholes")["note"] == NO_POPULATION
    west = row(scores, "Potholes", "West")
    assert np.isnan(west["score"]) and west["note"] == NO_POPULATION
    # A mean: North's noise 4 / 4,000 x 100 = 0.1 (on target); its week (2 + 4) / 2 days = 0.075.
    assert row(scores, "Noise", "North")["value"] == pytest.approx(0.1)
    assert row(scores, "Noise", "North", "week")["value"] == pytest.approx(0.075)
    # Not a rate: a sum metric's area still has no city target, as before.
    assert row(scores, "Trees", "North")["note"] == NO_AREA_TARGET


def test_the_city_population_is_its_own_figure_else_its_areas_sum() -> None:
    known = {"North": 4000.0, "South": 2000.0, "West": 6000.0}
    city = score_range(observations(), catalog(), TARGETS, "2026-01-02", "2026-01-02",
                       populations=known)  # fmt: skip
    # 12 potholes / 12,000 residents x 1,000 = 1.0; target 0.5 -> 0.5.
    assert (row(city, "Potholes")["value"], row(city, "Potholes")["score"]) == pytest.approx(
        (1.0, 0.5)
    )
    own = score_range(observations(), catalog(), TARGETS, "2026-01-02", "2026-01-02",
                      populations={**PEOPLE, "": 24000.0})  # fmt: skip
    # The city's own figure: 12 / 24,000 x 1,000 = 0.5 (on target); its noise row 10 / 24,000 x 100.
    assert row(own, "Potholes")["value"] == pytest.approx(0.5)
    assert row(own, "Noise")["value"] == pytest.approx(10 / 24000 * 100)
    assert row(own, "Trees")["value"] == 11.0  # not a rate: the count


def test_the_engine_and_the_reference_agree_on_rates() -> None:
    rng = np.random.default_rng(25)
    days = pd.date_range("2025-06-01", "2026-01-10")
    areas = ["North", "South", "West", "East"]
    frames = [
        pd.DataFrame({"metric": m, "date": days, "area": a,
                      "value": rng.integers(0, 9, len(days)).astype(float)})
        for m in ("Potholes", "Noise", "Trees") for a in areas
    ]  # fmt: skip
    obs = pd.concat(frames).sample(frac=0.8, random_state=1)
    obs = obs.assign(numerator=np.nan, denominator=np.nan).reset_index(drop=True)
    metrics = catalog()
    metrics.loc[1, "baseline"] = "history"  # a rate's own past is per resident too
    targets = TARGETS[TARGETS["metric"] != "Noise"]
    people = {"North": 4000.0, "South": 2500.0, "West": 1200.0, "East": None, "": 9000.0}
    first, last = dt.date(2026, 1, 8), dt.date(2026, 1, 10)
    fast = score_by_area(obs, metrics, targets, first, last, populations=people)
    slow = pd.DataFrame(
        reference_area_scores(obs, metrics, targets, first, last, populations=people)
    )
    fast = fast.assign(as_of=pd.to_datetime(fast["as_of"]).dt.date)
    both = fast.merge(slow, on=["as_of", "area", "metric", "period"], suffixes=("", "_ref"))
    assert len(both) == len(fast) == len(slow)
    for column in ("value", "target", "score"):
        ref = pd.to_numeric(both[f"{column}_ref"], errors="coerce").to_numpy(float)
        np.testing.assert_allclose(both[column].to_numpy(float), ref, rtol=1e-9, equal_nan=True)
    assert (both["note"].astype(str) == both["note_ref"].astype(str)).all()
    assert (both["note"] == NO_POPULATION).any() and both["score"].notna().sum() > 50


def test_without_rates_the_scores_do_not_change() -> None:
    plain = catalog([np.nan, np.nan, np.nan])
    args = (observations(), plain, TARGETS, "2026-01-01", "2026-01-02")
    before = score_by_area(*args)
    after = score_by_area(*args, populations={**PEOPLE, "": 1.0})
    pd.testing.assert_frame_equal(before, after)
    without = score_by_area(*args[:1], plain.drop(columns="per_residents"), *args[2:])
    pd.testing.assert_frame_equal(before, without)


AREAS = "name,population\nNorth,4000\nSouth,2000\n"
VALUES = """metric,date,area,value
Potholes,2026-01-02,North,4
Potholes,2026-01-02,South,1
Potholes,2026-01-02,,6
"""


def test_a_city_scores_rates_from_its_area_catalog(
    city: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    city.import_areas(AREAS.encode())
    city.import_values(VALUES.encode())
    scores = city.scores("2026-01-02", by="area")
    # North 1.0 -> 0.5; South 0.5 -> 1.0; the city: 6 (5 in areas, 1 unlocated) / 6,000 x 1,000.
    assert row(scores, "Potholes", "North")["score"] == pytest.approx(0.5)
    assert row(scores, "Potholes", "South")["score"] == pytest.approx(1.0)
    assert row(scores, "Potholes")["value"] == pytest.approx(1.0)
    toml = tmp_path / "cityscore.toml"
    toml.write_text("population = 12000\n", encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(toml))
    assert row(city.scores("2026-01-02"), "Potholes")["value"] == pytest.approx(0.5)
    one = city.metric_scores("Potholes", "2026-01-02", area="North")
    assert one.query("period == 'day'")["value"].tolist() == pytest.approx([1.0])


def test_per_residents_in_metrics_csv_is_checked_and_kept(city: Kit) -> None:
    stored = city.metrics().set_index("name")["per_residents"]
    assert stored["Potholes"] == 1000.0 and np.isnan(stored["Trees"])
    city.import_metrics(b"name,direction,target\nPotholes,lower,0.4\n")  # other columns kept
    assert city.metrics().set_index("name")["per_residents"]["Potholes"] == 1000.0
    bad = (b"name,category,direction,kind,aggregation,target,per_residents\n"
           b"Share,S,higher,ratio,,0.9,1000\nOdd,S,lower,value,sum,1,-5\nWord,S,lower,value,sum,1,many\n")  # fmt: skip
    with pytest.raises(ValidationError) as info:
        city.import_metrics(bad)
    problems = info.value.problems
    assert problems["line"].tolist() == [2, 3, 4]
    assert set(problems["column"]) == {"per_residents"}
    assert "only value metrics" in problems["reason"].iloc[0]
    with pytest.raises(CatalogError, match="per_residents"):
        score_range(
            observations(), catalog([0.0, np.nan, np.nan]), TARGETS, "2026-01-02", "2026-01-02"
        )


def test_an_older_database_gains_the_column(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    kit = Kit(url)
    kit.init()
    kit.import_metrics(METRICS.encode())
    kit.close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # as a kit without rates made it
        conn.execute(sa.text("ALTER TABLE metrics DROP COLUMN per_residents"))
        conn.execute(sa.text("ALTER TABLE superseded_metrics DROP COLUMN per_residents"))
    engine.dispose()
    again = Kit(url)
    again.init()
    assert again.metrics()["per_residents"].isna().all()
    again.import_metrics(b"name,direction,target,per_residents\nPotholes,lower,0.5,1000\n")
    assert again.metrics().set_index("name")["per_residents"]["Potholes"] == 1000.0
    assert len(again.undo(again.batches()["id"].max()).__str__()) > 0
    assert again.metrics()["per_residents"].isna().all()  # the undo restored the kept definition
    again.close()


def test_the_metric_editor_sets_and_shows_per_residents(city: Kit) -> None:
    from cityscore.apps.widgets import MetricEditor

    editor = MetricEditor(city)
    editor.name.value = "Potholes"
    assert editor.per_residents.value == "1000"  # the stored setting, loaded into the form
    editor.name.value = "Trees"
    assert editor.per_residents.value == ""
    editor.per_residents.value = "10000"
    editor.save.click()
    assert "1 updated" in editor.message.value, editor.message.value
    assert city.metrics().set_index("name").loc["Trees", "per_residents"] == 10000.0
    editor.per_residents.value = "-1"
    editor.save.click()
    assert "per_residents" in editor.message.value


def test_the_report_and_the_explorer_say_which_metrics_are_rates(city: Kit) -> None:
    from cityscore.apps.explorer.areas import area_tables_html, compute_area_views
    from cityscore.apps.report import notebook as report
    from cityscore.pages import report_areas

    city.import_areas(AREAS.encode())
    rows = [f"Potholes,2026-01-{d:02d},{a},{n}" for d in range(1, 31) for a, n in
            (("North", d % 3 + 1), ("South", d % 2 + 1))]  # fmt: skip
    city.import_values(("metric,date,area,value\n" + "\n".join(rows) + "\n").encode())
    daily = report.daily_data(city, "2026-01-30")
    section = "".join(p for p in report_areas.areas_section(daily) if isinstance(p, str))
    assert (
        "Rates per resident: Noise (per 100 residents); Potholes (per 1,000 residents)." in section
    )
    assert ">Potholes (per 1,000 residents)<" in section  # the widest-gaps table names it too
    scores = city.scores("2026-01-30", by="area")
    frames = compute_area_views(scores, "Potholes", "month", "2026-01-30")
    shown = area_tables_html(frames, "Potholes", "month", "2026-01-30", rate="per 1,000 residents")
    assert "Potholes is a rate: its values are per 1,000 residents of each area" in shown
    assert "is a rate" not in area_tables_html(frames, "Potholes", "month", "2026-01-30")
