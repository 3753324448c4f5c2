"""The demo city: deterministic, realistic enough to show every rule, and safe to load twice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from cityscore import Kit
from cityscore.engine.summary import freshness
from cityscore.frames.catalog import check_metrics, check_targets
from cityscore.io import demo

from .conftest import DEMO_END

END = pd.Timestamp(DEMO_END)


@pytest.fixture(scope="module")
def observations() -> pd.DataFrame:
    return demo.demo_observations(DEMO_END)


@pytest.fixture
def demo_city(tmp_path: Path) -> Kit:
    """The demo city loaded into a fresh SQLite file (about a second)."""
    kit = Kit(f"sqlite:///{tmp_path / 'demo.db'}")
    kit.load_demo(DEMO_END)
    return kit


@pytest.fixture(scope="module")
def catalog() -> tuple[pd.DataFrame, pd.DataFrame]:
    return demo.demo_metrics()


@pytest.mark.parametrize("shift", [-100, 400])  # an earlier end, and one a year and more later
def test_a_dates_values_do_not_depend_on_the_end_date(
    observations: pd.DataFrame, shift: int
) -> None:
    other_end = DEMO_END + dt.timedelta(days=shift)
    other = demo.demo_observations(other_end)
    # Compare the days both demos cover, leaving out the stale metric's missing tail in either.
    first = max(observations["date"].min(), other["date"].min())
    last = pd.Timestamp(min(DEMO_END, other_end) - dt.timedelta(days=demo.STALE_METRIC_DAYS_AGO))
    key = ["metric", "date"]

    def shared(frame: pd.DataFrame) -> pd.DataFrame:
        inside = frame[(frame["date"] >= first) & (frame["date"] <= last)]
        return inside.sort_values(key).reset_index(drop=True)

    a, b = shared(observations), shared(other)
    assert len(a) > 20 * 365  # a real overlap, not two empty frames
    pd.testing.assert_frame_equal(a, b)


def test_the_same_end_gives_the_same_city(observations: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(demo.demo_observations(DEMO_END), observations)


def test_about_twenty_valid_metrics_of_both_kinds(
    catalog: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    metrics, targets = catalog
    check_metrics(metrics)
    check_targets(targets)
    assert 18 <= len(metrics) <= 22
    assert set(metrics["kind"]) == {"value", "ratio"}
    assert set(metrics["direction"]) == {"higher", "lower"}
    assert {"mean", "median", "sum"} <= set(metrics["aggregation"])
    trend = metrics[metrics["trend"]]
    assert {"Homicides", "Shootings"} <= set(trend["name"])
    assert (trend["baseline"] == "history").all() and (trend["direction"] == "lower").all()
    library = metrics.set_index("name").loc["Library Users"]
    assert (library["baseline"], library["direction"]) == ("history", "higher")
    assert metrics.set_index("name").loc["311 Calls Answered On Time", "kind"] == "ratio"
    # Every fixed-target metric has a target; history metrics have none.
    fixed = set(metrics.loc[metrics["baseline"] == "target", "name"])
    assert set(targets["metric"]) == fixed


def test_three_years_ending_on_end_with_missing_days(observations: pd.DataFrame) -> None:
    start = END - pd.Timedelta(days=3 * 365 - 1)
    assert observations["date"].min() == start
    assert observations["date"].max() == END
    per_metric = observations.groupby("metric")["date"].nunique()
    assert len(per_metric) == 20
    # Every metric misses some days (about 2% at random), none misses most of them.
    full = 3 * 365
    live = per_metric.drop(demo.STALE_METRIC)
    assert (live < full).all()
    assert (live > 0.8 * full).all()
    assert not observations.duplicated(["metric", "date"]).any()


def test_ratio_rows_carry_numerators_and_value_rows_values(observations: pd.DataFrame) -> None:
    metrics, _ = demo.demo_metrics()
    kinds = observations["metric"].map(metrics.set_index("name")["kind"])
    ratio, value = observations[kinds == "ratio"], observations[kinds == "value"]
    assert ratio["value"].isna().all() and value["value"].notna().all()
    assert (ratio["denominator"] > 0).all()
    assert (ratio["numerator"] <= ratio["denominator"]).all() and (ratio["numerator"] >= 0).all()


def test_one_metric_is_stale(
    observations: pd.DataFrame, catalog: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    fresh = freshness(observations, catalog[0], END).set_index("metric")
    assert fresh.index[fresh["stale"]].tolist() == [demo.STALE_METRIC]
    assert fresh.loc[demo.STALE_METRIC, "days_since"] == demo.STALE_METRIC_DAYS_AGO
    assert (fresh.drop(demo.STALE_METRIC)["days_since"] <= 3).all()


def test_weekday_pattern_in_311_volume_and_library_visits(observations: pd.DataFrame) -> None:
    weekday = observations["date"].dt.day_of_week

    def mean_on(name: str, column: str, days: list[int]) -> float:
        return observations.loc[
            (observations["metric"] == name) & weekday.isin(days), column
        ].mean()

    # 311 calls are an office workload: far more calls Monday-Friday than at the weekend.
    calls = "311 Calls Answered On Time"
    assert mean_on(calls, "denominator", [0, 1, 2, 3, 4]) > 1.5 * mean_on(
        calls, "denominator", [5, 6]
    )
    # Library doors are busiest at the weekend.
    assert mean_on("Library Users", "value", [5, 6]) > 1.2 * mean_on(
        "Library Users", "value", [0, 1, 2]
    )


def test_default_end_is_yesterday() -> None:
    before = dt.date.today() - dt.timedelta(days=1)
    last = demo.demo_observations()["date"].max().date()
    after = dt.date.today() - dt.timedelta(days=1)
    assert last in {before, after}  # robust to midnight passing during the call


def test_the_loaded_demo_has_one_target_change_and_scores(demo_city: Kit) -> None:
    targets = demo_city.targets()
    changed = targets.groupby("metric").size()
    assert changed[changed > 1].index.tolist() == [demo.TARGET_CHANGE_METRIC]
    when = END - pd.Timedelta(days=demo.TARGET_CHANGE_DAYS_AGO)
    ems = demo.TARGET_CHANGE_METRIC
    before = demo_city.scores(when - pd.Timedelta(days=1))
    after = demo_city.scores(when)

    def day_target(scores: pd.DataFrame) -> float:
        return scores.loc[(scores["metric"] == ems) & (scores["period"] == "day"), "target"].iloc[0]

    assert day_target(before) == 6.5
    assert day_target(after) == demo.TARGET_CHANGE_TO == 6.0
    today = demo_city.scores()
    assert today["as_of"].iloc[0] == END  # the latest day with data
    day = today[today["period"] == "day"].set_index("metric")
    # History baselines have their year; the stale metric has nothing in the last 40 days.
    assert day.loc["Library Users", "note"] in {"", "no data in the window"}
    assert pd.notna(day.loc["Library Users", "target"])
    assert day.loc[demo.STALE_METRIC, "note"] == "no data in the window"
    quarter = today[today["period"] == "quarter"].set_index("metric")
    assert pd.notna(quarter.loc[demo.STALE_METRIC, "score"])  # days 40..89 ago are in the quarter
    # ...but 40 days without a value is stale (daily: after 7): marked, and left out of the CityScore.
    assert (today.loc[today["metric"] == demo.STALE_METRIC, "status"] == "stale").all()
    assert (today.loc[today["metric"] != demo.STALE_METRIC, "status"] != "stale").all()
    assert quarter.loc["CityScore", "note"] == "19 of 20 metrics scored"
    kept = demo_city.scores(count_stale=True)
    kept = kept[kept["period"] == "quarter"].set_index("metric")
    assert kept.loc["CityScore", "note"] == "20 of 20 metrics scored"


def test_loading_the_demo_twice_changes_nothing(demo_city: Kit) -> None:
    store = demo_city.store
    before = (demo_city.metrics(), demo_city.targets(), demo_city.observations(), store.batches())
    results = demo_city.load_demo(DEMO_END)
    assert [(r.inserted, r.updated) for r in results] == [(0, 0)] * len(results)
    after = (demo_city.metrics(), demo_city.targets(), demo_city.observations(), store.batches())
    for old, new in zip(before, after, strict=True):
        pd.testing.assert_frame_equal(old, new)
    assert store.superseded_values().empty
