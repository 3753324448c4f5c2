"""Issue 13: scores by area. Hand-worked examples (every expected number worked out in a comment, none
computed with the engine), then the engine against the slow reference on random cities with areas.

The as-of date is D = 2026-06-30, as in tests/test_score_rules.py.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityscore.core.bands import DEFAULT_BANDS
from cityscore.core.vocabulary import AREA_SCORE_COLUMNS, CITYWIDE, EARLIEST
from cityscore.engine.reference import reference_area_scores, reference_scores
from cityscore.engine.score import score_by_area, score_date, score_range
from cityscore.engine.statuses import NO_AREA_TARGET
from cityscore.engine.summary import EQUITY_COLUMNS, equity
from cityscore.io import demo

from .conftest import DEMO_END
from .test_reference import _close, _observations, _status, cities
from .test_score_rules import NO_DATA, NO_TARGET, D, catalog, day, metric

ONE_DAY = {"day": 1}
WEEK = {"day": 1, "week": 7}


def obs(*rows: tuple) -> pd.DataFrame:
    """Observations from (metric, offset from D, area, value) or (metric, offset, area, num, den)."""
    records = []
    for name, offset, area, *numbers in rows:
        value, numerator, denominator = (
            (numbers[0], np.nan, np.nan) if len(numbers) == 1 else (np.nan, *numbers)
        )
        records.append(
            {
                "metric": name,
                "date": pd.Timestamp(day(offset)),
                "area": area,
                "value": float(value),
                "numerator": float(numerator),
                "denominator": float(denominator),
            }
        )
    return pd.DataFrame(records)


def tgts(*rows: tuple) -> pd.DataFrame:
    """Targets from (metric, effective_from, target, area)."""
    return pd.DataFrame(
        [
            {"metric": m, "effective_from": pd.Timestamp(when), "target": t, "area": area}
            for m, when, t, area in rows
        ],
        columns=["metric", "effective_from", "target", "area"],
    )


def at(
    scores: pd.DataFrame, area: str, name: str, period: str = "day", as_of: dt.date = D
) -> pd.Series:
    hit = scores[
        (scores["as_of"] == pd.Timestamp(as_of))
        & (scores["area"] == area)
        & (scores["metric"] == name)
        & (scores["period"] == period)
    ]
    assert len(hit) == 1, f"expected one row for {as_of} {area!r} {name} {period}, got {len(hit)}"
    return hit.iloc[0]


CALLS = metric("Calls", kind="ratio", aggregation="")
PERMITS = metric("Permits", aggregation="sum")
EMS = metric("EMS", direction="lower", aggregation="median")


# --- citywide values derived from the areas ------------------------------------------------------


def test_a_ratio_with_only_area_rows_gets_its_citywide_day_from_the_areas() -> None:
    o = obs(("Calls", 0, "North", 9, 10), ("Calls", 0, "South", 3, 6))
    scores = score_date(o, catalog(CALLS), tgts(("Calls", EARLIEST, 0.8, "")), D)
    r = scores[(scores["metric"] == "Calls") & (scores["period"] == "day")].iloc[0]
    # (9 + 3) / (10 + 6) = 12/16 = 0.75, not the mean of 0.9 and 0.5 (0.7); 0.75 / 0.8 = 0.9375.
    assert r["value"] == 0.75
    assert r["score"] == 0.9375


def test_a_sum_with_only_area_rows_gets_its_citywide_day_from_the_areas() -> None:
    o = obs(("Permits", 0, "North", 4), ("Permits", 0, "South", 2), ("Permits", -1, "North", 1))
    scores = score_date(o, catalog(PERMITS), tgts(("Permits", EARLIEST, 5.0, "")), D, periods=WEEK)
    day_row = scores[(scores["metric"] == "Permits") & (scores["period"] == "day")].iloc[0]
    week_row = scores[(scores["metric"] == "Permits") & (scores["period"] == "week")].iloc[0]
    assert day_row["value"] == 6  # 4 + 2
    assert day_row["score"] == 1.2  # 6 / 5
    assert week_row["value"] == 7  # (4 + 2) + 1
    assert week_row["target"] == 35  # 5 a day x 7


def test_a_citywide_row_wins_on_its_day_and_the_areas_fill_only_the_other_days() -> None:
    o = obs(
        ("Calls", 0, "", 10, 20),  # citywide on D: the areas' 9/10 and 3/6 on D are not added
        ("Calls", 0, "North", 9, 10),
        ("Calls", 0, "South", 3, 6),
        ("Calls", -1, "North", 1, 4),  # no citywide row on D-1: derived as 1/4
    )
    scores = score_date(o, catalog(CALLS), tgts(("Calls", EARLIEST, 0.5, "")), D, periods=WEEK)
    week = scores[(scores["metric"] == "Calls") & (scores["period"] == "week")].iloc[0]
    assert week["value"] == pytest.approx(11 / 24, rel=1e-15)  # (10 + 1) / (20 + 4)


def test_mean_and_median_metrics_are_never_derived_from_the_areas() -> None:
    survey = metric("Survey")
    o = obs(("EMS", 0, "North", 5), ("Survey", 0, "North", 4))
    t = tgts(("EMS", EARLIEST, 6.0, ""), ("Survey", EARLIEST, 4.0, ""))
    scores = score_date(o, catalog(EMS, survey), t, D, periods=ONE_DAY)
    for name in ("EMS", "Survey"):
        r = scores[scores["metric"] == name].iloc[0]
        assert math.isnan(r["score"]) and r["note"] == NO_DATA


def test_score_range_ignores_area_targets() -> None:
    o = obs(("Calls", 0, "", 8, 10))
    t = tgts(("Calls", EARLIEST, 0.5, "North"))
    r = score_date(o, catalog(CALLS), t, D, periods=ONE_DAY).iloc[1]
    assert r["metric"] == "Calls" and r["note"] == NO_TARGET  # North's target is not the city's


def test_without_area_data_score_by_area_is_score_range_with_an_empty_area() -> None:
    o = obs(("Calls", 0, "", 8, 10), ("Permits", -2, "", 3))
    o = o.drop(columns="area")
    t = tgts(("Calls", EARLIEST, 0.9, ""), ("Permits", EARLIEST, 1.0, "")).drop(columns="area")
    meta = catalog(CALLS, PERMITS)
    by_area = score_by_area(o, meta, t, day(-3), D)
    plain = score_range(o, meta, t, day(-3), D)
    assert list(by_area.columns) == AREA_SCORE_COLUMNS
    assert set(by_area["area"]) == {""}
    # Same rows and numbers; the area frame's note categories also hold the area-only note.
    pd.testing.assert_frame_equal(by_area.drop(columns="area"), plain, check_categorical=False)


# --- area scores ---------------------------------------------------------------------------------


def test_each_area_is_scored_by_the_same_rules_on_its_own_rows() -> None:
    o = obs(
        ("Calls", 0, "North", 9, 10),
        ("Calls", -1, "North", 1, 2),
        ("Calls", 0, "South", 3, 6),
        ("EMS", 0, "North", 5),
        ("EMS", -1, "North", 7),
        ("EMS", -2, "North", 9),
    )
    t = tgts(("Calls", EARLIEST, 0.8, ""), ("EMS", EARLIEST, 6.0, ""))
    scores = score_by_area(o, catalog(CALLS, EMS), t, D, D, periods=WEEK)
    north_calls = at(scores, "North", "Calls", "week")
    assert north_calls["value"] == pytest.approx(10 / 12, rel=1e-15)  # (9 + 1) / (10 + 2)
    assert north_calls["target"] == 0.8  # the city's target: North has none of its own
    assert at(scores, "North", "EMS", "week")["value"] == 7  # median of 5, 7, 9
    assert at(scores, "North", "EMS", "week")["score"] == pytest.approx(6 / 7, rel=1e-15)
    assert at(scores, "South", "Calls")["score"] == 0.625  # (3 / 6) / 0.8
    # South has no EMS rows: its EMS row says so (and shows the target it would be scored against).
    assert at(scores, "South", "EMS")["note"] == NO_DATA
    assert at(scores, "South", "EMS")["target"] == 6.0


def test_an_area_target_in_effect_wins_over_the_citys() -> None:
    o = obs(*[("Calls", k, area, 9, 10) for k in (0, -3) for area in ("North", "South")])
    t = tgts(("Calls", EARLIEST, 0.8, ""), ("Calls", day(-2), 0.95, "North"))
    scores = score_by_area(o, catalog(CALLS), t, day(-3), D, periods=ONE_DAY)
    # North from D-2 on: its own 0.95 -> 0.9 / 0.95; before that, the city's 0.8 -> 0.9 / 0.8.
    assert at(scores, "North", "Calls")["target"] == 0.95
    assert at(scores, "North", "Calls")["score"] == pytest.approx(0.9 / 0.95, rel=1e-15)
    assert at(scores, "North", "Calls", as_of=day(-3))["target"] == 0.8
    assert at(scores, "North", "Calls", as_of=day(-3))["score"] == pytest.approx(1.125)
    assert at(scores, "South", "Calls")["target"] == 0.8  # South keeps the city's
    assert at(scores, "", "Calls")["target"] == 0.8  # and so does the city


def test_a_sum_metric_scores_an_area_only_against_an_area_target() -> None:
    o = obs(("Permits", 0, "North", 4), ("Permits", -1, "North", 2), ("Permits", 0, "South", 2))
    t = tgts(("Permits", EARLIEST, 5.0, ""), ("Permits", EARLIEST, 3.0, "North"))
    scores = score_by_area(o, catalog(PERMITS), t, D, D, periods=WEEK)
    assert at(scores, "North", "Permits")["score"] == pytest.approx(4 / 3, rel=1e-15)
    north_week = at(scores, "North", "Permits", "week")
    assert north_week["target"] == 21  # North's 3 a day x 7
    assert north_week["score"] == pytest.approx(6 / 21, rel=1e-15)  # (4 + 2) / 21
    # South has no target of its own: the city's 5 permits a day are the whole city's, not South's.
    south = at(scores, "South", "Permits")
    assert math.isnan(south["score"]) and pd.isna(south["target"])
    assert south["value"] == 2 and south["note"] == NO_AREA_TARGET
    assert at(scores, "", "Permits")["value"] == 6  # the city: 4 + 2 derived from the areas


def test_an_area_history_baseline_comes_from_that_areas_own_past() -> None:
    library = metric("Library", baseline="history")
    past = range(-90, 0)
    o = obs(
        *[("Library", k, "North", 10) for k in past],
        *[("Library", k, "South", 2 if k % 2 else 4) for k in past],
        ("Library", 0, "North", 12),
        ("Library", 0, "South", 3),
    )
    scores = score_by_area(o, catalog(library), tgts(), D, D, periods=ONE_DAY)
    # North: 90 days of 10 -> mean 10, std 0 -> target 10; 12 / 10 = 1.2.
    assert at(scores, "North", "Library")["target"] == 10
    assert at(scores, "North", "Library")["score"] == pytest.approx(1.2)
    # South: 45 days of 2 and 45 of 4 -> mean 3, population std 1 -> target 3 - 1 = 2; 3 / 2 = 1.5.
    assert at(scores, "South", "Library")["target"] == pytest.approx(2.0)
    assert at(scores, "South", "Library")["score"] == pytest.approx(1.5)


def test_area_cityscore_is_the_weighted_mean_of_the_areas_metric_scores() -> None:
    survey = metric("Survey", weight=3.0)
    o = obs(("Calls", 0, "North", 9, 10), ("Survey", 0, "North", 3), ("Survey", 0, "South", 5))
    t = tgts(("Calls", EARLIEST, 0.9, ""), ("Survey", EARLIEST, 4.0, ""))
    scores = score_by_area(o, catalog(CALLS, survey), t, D, D, periods=ONE_DAY)
    north = at(scores, "North", CITYWIDE)
    # North: Calls 0.9 / 0.9 = 1.0 (weight 1), Survey 3 / 4 = 0.75 (weight 3): (1 + 2.25) / 4.
    assert north["score"] == pytest.approx(0.8125, rel=1e-15)
    assert north["note"] == "2 of 2 metrics scored" and north["status"] == "below"
    # South has no Calls rows: only Survey 5 / 4 = 1.25 counts.
    assert at(scores, "South", CITYWIDE)["score"] == 1.25
    assert at(scores, "South", CITYWIDE)["note"] == "1 of 2 metrics scored"


def test_area_layout_columns_order_and_which_metrics_each_area_lists() -> None:
    survey = metric("Survey")
    o = obs(
        ("Survey", 0, "", 4),
        ("Calls", 0, "West", 1, 2),
        ("Calls", 0, "East", 1, 2),
        ("Calls", 0, "Zed", 1, 2),
    )
    t = tgts(("Calls", EARLIEST, 0.5, ""), ("Survey", EARLIEST, 4.0, "Mid"))
    scores = score_by_area(o, catalog(CALLS, survey), t, D, D, periods=ONE_DAY)
    assert list(scores.columns) == AREA_SCORE_COLUMNS
    keys = list(zip(scores["area"].astype(str), scores["metric"].astype(str), strict=True))
    city = [("", CITYWIDE), ("", "Calls"), ("", "Survey")]
    # Areas in name order, each with its CityScore then the metrics broken down by area (Calls has
    # area rows, Survey an area target), in catalog order.
    per_area = [
        (a, m) for a in ("East", "Mid", "West", "Zed") for m in (CITYWIDE, "Calls", "Survey")
    ]
    assert keys == city + per_area


def test_area_scores_never_mutate_their_inputs() -> None:
    o = obs(("Calls", 0, "North", 9, 10), ("Calls", 0, None, 3, 6))
    t = tgts(("Calls", EARLIEST, 0.8, ""), ("Calls", EARLIEST, 0.9, "North"))
    meta = catalog(CALLS)
    copies = [frame.copy(deep=True) for frame in (o, meta, t)]
    score_by_area(o, meta, t, D, D)
    for frame, before in zip((o, meta, t), copies, strict=True):
        pd.testing.assert_frame_equal(frame, before, check_exact=True)


# --- docs/methodology.md, section "Areas" --------------------------------------------------------


def test_methodology_area_examples_hold() -> None:
    """The numbers the Areas section of docs/methodology.md works through, computed by the engine."""
    survey = metric("Survey")
    o = obs(
        ("Calls", 0, "Harbour", 45, 50),
        ("Calls", 0, "Hillside", 60, 80),
        ("Permits", 0, "Harbour", 4),
        ("Permits", 0, "Hillside", 9),
        ("Survey", 0, "", 4.2),
        ("Survey", 0, "Harbour", 4.4),
        ("Survey", 0, "Hillside", 3.5),
    )
    t = tgts(
        ("Calls", EARLIEST, 0.9, ""),
        ("Permits", EARLIEST, 10.0, ""),
        ("Permits", EARLIEST, 5.0, "Hillside"),
        ("Survey", EARLIEST, 4.0, ""),
        ("Survey", EARLIEST, 3.6, "Hillside"),
    )
    scores = score_by_area(o, catalog(CALLS, PERMITS, survey), t, D, D, periods=ONE_DAY)
    assert at(scores, "", "Calls")["value"] == pytest.approx(105 / 130)  # 0.8077
    assert at(scores, "", "Calls")["score"] == pytest.approx(105 / 130 / 0.9)  # 0.897
    assert at(scores, "", "Permits")["value"] == 13
    assert at(scores, "", "Permits")["score"] == pytest.approx(1.3)
    assert at(scores, "Harbour", "Calls")["score"] == pytest.approx(1.0)
    assert at(scores, "Hillside", "Calls")["score"] == pytest.approx(0.75 / 0.9)  # 0.833
    assert at(scores, "Harbour", "Permits")["note"] == NO_AREA_TARGET
    assert at(scores, "Hillside", "Permits")["score"] == pytest.approx(1.8)
    assert at(scores, "Harbour", "Survey")["score"] == pytest.approx(1.1)
    assert at(scores, "Hillside", "Survey")["score"] == pytest.approx(3.5 / 3.6)  # 0.972
    assert at(scores, "Harbour", CITYWIDE)["score"] == pytest.approx((1.0 + 1.1) / 2)  # 1.05
    assert at(scores, "Harbour", CITYWIDE)["note"] == "2 of 3 metrics scored"
    assert at(scores, "", "Survey")["score"] == pytest.approx(1.05)
    hillside = (0.75 / 0.9 + 1.8 + 3.5 / 3.6) / 3  # 1.2019
    assert at(scores, "Hillside", CITYWIDE)["score"] == pytest.approx(hillside)
    calls = equity(scores).query("metric == 'Calls'").iloc[0]
    assert (calls["best_area"], calls["worst_area"]) == ("Harbour", "Hillside")
    assert calls["gap"] == pytest.approx(0.75 / 0.9) and calls["share_below_one"] == 0.5


# --- the engine against the reference on random cities with areas --------------------------------

AREAS = ["North", "South", "East"]


@st.composite
def area_cities(draw: st.DrawFn) -> dict[str, object]:
    """A random city (tests/test_reference.py) whose metrics are citywide, by area, or both."""
    city = draw(cities())
    metrics = city["metrics"]
    areas = AREAS[: draw(st.integers(1, 3))]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    frames, target_rows = [city["observations"].assign(area="")], []
    city_targets = city["targets"].assign(area="")
    for row in metrics.itertuples(index=False):
        mode = draw(st.sampled_from(["city", "areas", "both"]))
        if mode == "areas":
            frames[0] = frames[0][frames[0]["metric"] != row.name]
        if mode == "city":
            continue
        for area in areas:
            if draw(st.booleans()) or area == areas[0]:
                gap = draw(st.sampled_from([0, 0, 5]))
                missing = draw(st.sampled_from([0.0, 0.3, 0.8]))
                zeros = draw(st.sampled_from([0.0, 0.3]))
                holes = draw(st.sampled_from([0.0, 0.1]))
                args = (row, city["end"], gap, missing, zeros, True, False, holes, rng)
                frames.append(_observations(*args).assign(area=area))
            if row.baseline == "target" and draw(st.booleans()):
                for offset in draw(st.lists(st.integers(-50, 400), max_size=2, unique=True)):
                    target = draw(st.sampled_from([0.5, 1.0, 2.0, 3.0]))
                    when = pd.Timestamp(dt.date(2025, 1, 1) + dt.timedelta(days=offset))
                    target_rows.append((row.name, when, target, area))
    # Missing area labels are citywide too.
    observations = pd.concat(frames, ignore_index=True)
    observations.loc[(observations.index % 7 == 3) & (observations["area"] == ""), "area"] = None
    targets = pd.concat([city_targets, tgts(*target_rows)], ignore_index=True)
    return {**city, "observations": observations, "targets": targets}


def assert_areas_agree(city: dict[str, object]) -> None:
    args = [city[k] for k in ("observations", "metrics", "targets", "start", "end")]
    options = {"periods": city["periods"], "cap": city.get("cap")}
    fast = score_by_area(*args, **options)
    slow = reference_area_scores(*args, **options)
    assert len(fast) == len(slow)
    fast = fast.assign(
        as_of=fast["as_of"].dt.date,
        area=fast["area"].astype(str),
        metric=fast["metric"].astype(str),
    )
    indexed = fast.set_index(["as_of", "area", "metric", "period"])
    assert indexed.index.is_unique
    for ref in slow:
        row = indexed.loc[(ref["as_of"], ref["area"], ref["metric"], ref["period"])]
        where = f"engine {dict(row)} vs reference {ref}"
        assert row["note"] == ref["note"], where
        assert _close(row["score"], ref["score"]), where
        if ref["metric"] != CITYWIDE:
            assert _close(row["value"], ref["value"]), where
            assert _close(row["target"], ref["target"]), where
        expected = "stale" if ref["stale"] else _status(ref["score"], DEFAULT_BANDS)
        if expected is None:
            assert pd.isna(row["status"]), where
        elif expected != "skip":
            assert row["status"] == expected, where


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(area_cities())
def test_engine_matches_reference_by_area(city: dict[str, object]) -> None:
    assert_areas_agree(city)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(area_cities())
def test_citywide_scores_with_areas_match_the_reference(city: dict[str, object]) -> None:
    """``score_range`` on a frame with area rows: citywide rows plus values derived from the areas."""
    args = [city[k] for k in ("observations", "metrics", "targets", "start", "end")]
    fast = score_range(*args, periods=city["periods"])
    slow = reference_scores(*args, periods=city["periods"])
    indexed = fast.assign(as_of=fast["as_of"].dt.date, metric=fast["metric"].astype(str))
    indexed = indexed.set_index(["as_of", "metric", "period"])
    assert len(fast) == len(slow)
    for ref in slow:
        row = indexed.loc[(ref["as_of"], ref["metric"], ref["period"])]
        assert row["note"] == ref["note"], (dict(row), ref)
        assert _close(row["score"], ref["score"]), (dict(row), ref)
        if ref["metric"] != CITYWIDE:
            assert _close(row["value"], ref["value"]), (dict(row), ref)


# --- the equity summary --------------------------------------------------------------------------


def test_equity_names_the_best_and_worst_area_the_gap_and_the_share_below_one() -> None:
    o = obs(
        ("Calls", 0, "East", 9, 10),  # 0.9 / 0.75 = 1.2
        ("Calls", 0, "North", 9, 15),  # 0.6 / 0.75 = 0.8
        ("Calls", 0, "South", 3, 5),  # 0.6 / 0.75 = 0.8 as well: the tie goes to North
        ("Calls", 0, "West", 0, 0),  # denominators sum to 0: no score
        ("Calls", 0, "", 40, 50),  # citywide rows are not an area
    )
    scores = score_by_area(o, catalog(CALLS), tgts(("Calls", EARLIEST, 0.75, "")), D, D)
    table = equity(scores)
    assert list(table.columns) == EQUITY_COLUMNS
    calls = table[(table["metric"] == "Calls") & (table["period"] == "day")].iloc[0]
    assert (calls["areas"], calls["scored"], calls["below_one"]) == (4, 3, 2)
    assert (calls["best_area"], calls["worst_area"]) == ("East", "North")
    assert calls["best_score"] == pytest.approx(1.2) and calls["worst_score"] == pytest.approx(0.8)
    assert calls["gap"] == pytest.approx(0.8 / 1.2)  # 0.667: the worst area scores 2/3 of the best
    assert calls["share_below_one"] == pytest.approx(2 / 3)
    # The areas' CityScores are compared too (one metric: the same numbers).
    city = table[(table["metric"] == CITYWIDE) & (table["period"] == "day")].iloc[0]
    assert city["best_area"] == "East" and city["gap"] == pytest.approx(0.8 / 1.2)
    assert len(table) == 2 * 4  # (CityScore, Calls) x 4 periods


# --- the demo's neighbourhoods -------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_areas() -> dict[str, pd.DataFrame]:
    metrics, fixed = demo.demo_metrics()
    city_targets = pd.concat([fixed, demo.demo_target_change(DEMO_END)], ignore_index=True)
    return {
        "metrics": metrics,
        "city": demo.demo_observations(DEMO_END),
        "areas": demo.demo_area_observations(DEMO_END),
        "city_targets": city_targets,
        "targets": pd.concat([city_targets, demo.demo_area_targets()], ignore_index=True),
    }


def test_demo_areas_add_up_to_the_city_where_the_city_is_split(demo_areas) -> None:
    areas, city = demo_areas["areas"], demo_areas["city"]
    assert set(areas["area"]) == set(demo.AREAS) and len(demo.AREAS) == 10
    assert (areas["numerator"].fillna(0) <= areas["denominator"].fillna(np.inf)).all()
    split = [m for m, (how, _) in demo._AREA_METRICS.items() if how == "split"]
    totals = (
        areas[areas["metric"].isin(split)]
        .groupby(["metric", "date"])[["value", "numerator", "denominator"]]
        .sum(min_count=1)
    )
    citywide = city.set_index(["metric", "date"]).loc[totals.index]
    pd.testing.assert_frame_equal(totals, citywide[totals.columns], check_exact=True)


def test_demo_areas_leave_the_citywide_scores_exactly_as_they_were(demo_areas) -> None:
    d = demo_areas
    start = DEMO_END - dt.timedelta(days=10)
    plain = score_range(d["city"], d["metrics"], d["city_targets"], start, DEMO_END)
    with_areas = pd.concat([d["city"], d["areas"]], ignore_index=True)
    scored = score_range(with_areas, d["metrics"], d["targets"], start, DEMO_END)
    pd.testing.assert_frame_equal(scored, plain, check_exact=True)


def test_the_demo_has_one_neighbourhood_clearly_left_behind(demo_areas) -> None:
    d = demo_areas
    observations = pd.concat([d["city"], d["areas"]], ignore_index=True)
    scores = score_by_area(observations, d["metrics"], d["targets"], DEMO_END, DEMO_END)
    month = equity(scores).query("period == 'month'").set_index("metric")
    worst = month["worst_area"]
    assert worst[CITYWIDE] == demo.LEFT_BEHIND
    behind_on = [m for m, (_, f) in demo._AREA_METRICS.items() if f.get(demo.LEFT_BEHIND, 1) < 0.9]
    assert len(behind_on) >= 3 and (worst[behind_on] == demo.LEFT_BEHIND).all()
    assert (month.loc[behind_on, "gap"] < 0.85).all()
    # Sum metrics score each area against its own target, never the city's 25 a day.
    permits = at(scores, demo.LEFT_BEHIND, demo.AREA_TARGET_METRIC, "week", DEMO_END)
    share = demo.AREA_SHARES[demo.LEFT_BEHIND]
    assert permits["target"] == pytest.approx(round(25 * share, 2) * 7)


def test_demo_area_values_on_a_date_do_not_depend_on_the_end_date() -> None:
    other_end = DEMO_END - dt.timedelta(days=100)
    both = [demo.demo_area_observations(end) for end in (DEMO_END, other_end)]
    first = max(DEMO_END, other_end) - dt.timedelta(days=365 * demo.YEARS - 1)
    common = [
        frame[frame["date"].between(pd.Timestamp(first), pd.Timestamp(other_end))] for frame in both
    ]
    pd.testing.assert_frame_equal(*(c.reset_index(drop=True) for c in common))


def test_demo_geojson_names_every_neighbourhood_with_a_closed_ring() -> None:
    doc = json.loads(demo.AREAS_GEOJSON.read_text(encoding="utf-8"))
    names = [f["properties"]["name"] for f in doc["features"]]
    assert sorted(names) == sorted(demo.AREAS)
    for feature in doc["features"]:
        (ring,) = feature["geometry"]["coordinates"]
        assert feature["geometry"]["type"] == "Polygon" and ring[0] == ring[-1] and len(ring) >= 4
        # Counter-clockwise (RFC 7946): positive shoelace area.
        xs, ys = np.array(ring).T
        assert np.sum(xs[:-1] * ys[1:] - xs[1:] * ys[:-1]) > 0


def test_area_benchmark_runs_on_a_tiny_city(capsys: pytest.CaptureFixture) -> None:
    """benchmarks/bench_areas.py on 12 metrics x 3 areas x 1 year, timing nothing."""
    from benchmarks import bench_areas

    observations, metrics, *_ = bench_areas.area_city(12, 3, 1)
    assert set(observations["area"].astype(str)) == {"", "Area 01", "Area 02", "Area 03"}
    derived = set(metrics["name"]) - set(observations.loc[observations["area"] == "", "metric"])
    assert derived  # some metrics have area rows only: their citywide values are derived
    assert bench_areas.main(["--metrics", "12", "--areas", "3", "--years", "1"]) == 0
    out = capsys.readouterr().out
    assert "12 metrics x 3 areas x 1 years" in out and "full history" in out


# --- cityscore.pages.areas: the frames and the map the report and the explorer can show ----------------


def test_area_rows_heat_table_and_an_offline_map(demo_areas, tmp_path) -> None:
    from cityscore.pages import areas
    from cityscore.pages.charts import area_charts

    d = demo_areas
    observations = pd.concat([d["city"], d["areas"]], ignore_index=True)
    scores = score_by_area(observations, d["metrics"], d["targets"], DEMO_END, DEMO_END)
    rows = areas.area_rows(scores, CITYWIDE, "month")
    assert rows["area"].tolist() == sorted(demo.AREAS) and list(rows.columns) == areas.AREA_COLUMNS
    table = areas.heat_table(scores, "month")
    assert table.index.tolist() == sorted(demo.AREAS) and table.columns[0] == CITYWIDE
    assert table.loc[demo.LEFT_BEHIND, CITYWIDE] == table[CITYWIDE].min()
    # Eastmarsh has no score on one metric: it is drawn grey, and named "no score" in the text.
    rows.loc[rows["area"] == demo.LEFT_BEHIND, ["score", "status"]] = [np.nan, None]
    spec = area_charts.area_map(rows, areas.load_geojson(demo.AREAS_GEOJSON)).to_dict()
    text = json.dumps({k: v for k, v in spec.items() if k != "$schema"})  # $schema is not fetched
    assert '"url"' not in text and "http" not in text  # everything inlined: draws offline
    assert spec["mark"]["type"] == "geoshape" and spec["projection"]["type"] == "identity"
    assert len(spec["data"]["values"]) == len(demo.AREAS)  # the features, inlined
    looked_up = spec["transform"][1]["from"]["data"]["values"]
    assert {r["area"] for r in looked_up} == set(demo.AREAS)
    assert {"area": demo.LEFT_BEHIND, "score": None, "status": "no score"} in looked_up
    assert spec["encoding"]["color"]["condition"]["test"] == area_charts.NO_SCORE_TEST
    assert spec["encoding"]["color"]["condition"]["value"] == area_charts.NO_SCORE_COLOR
    scale = spec["encoding"]["color"]["scale"]
    assert scale["domainMid"] == 1.0 and sum(scale["domain"]) == pytest.approx(2.0)
    assert f"{demo.LEFT_BEHIND} no score" in spec["description"]  # a text alternative
    # Scores in the text never contradict their status: a near 0.996 is not "1.00".
    near = rows.assign(score=0.996, status="near")
    described = area_charts.area_map(near, areas.load_geojson(demo.AREAS_GEOJSON)).to_dict()
    assert "0.996" in described["description"] and "1.00" not in described["description"]
    # Drawn by Vega itself: every shape, the one without a score in grey (not dropped, not red).
    import vl_convert

    svg = vl_convert.vegalite_to_svg(spec)
    fills = re.findall(r'<path [^>]*d="M[^"]*" fill="([^"]+)" stroke="white"', svg)
    assert len(fills) == len(demo.AREAS) and fills.count(area_charts.NO_SCORE_COLOR) == 1


@pytest.mark.parametrize(
    ("content", "fix"),
    [
        ("{not json", "not a GeoJSON file"),
        ('{"type": "Feature"}', "FeatureCollection"),
        ('{"type": "FeatureCollection", "features": [{"properties": {}}]}', "properties.name"),
    ],
)
def test_a_bad_areas_map_says_what_to_fix(tmp_path, content: str, fix: str) -> None:
    from cityscore.core.errors import ConfigError
    from cityscore.pages import areas

    path = tmp_path / "areas.geojson"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=fix):
        areas.load_geojson(path)
    with pytest.raises(ConfigError, match="no areas map"):
        areas.load_geojson(tmp_path / "missing.geojson")


def test_equity_agrees_with_a_plain_loop_on_random_scores_with_ties_and_gaps() -> None:
    """The vectorized summary against the definition, group by group (ties to the first by name)."""
    rng = np.random.default_rng(13)
    areas_ = ["Zed", "alpha", "Beta", "Ünter", "Ash"]
    rows = [
        {
            "as_of": pd.Timestamp(day(-d)),
            "area": area,
            "metric": name,
            "period": period,
            "score": rng.choice([np.nan, 0.5, 0.9, 1.0, 1.2, rng.uniform(0, 2)]),
        }
        for d in range(3)
        for name in ("M1", "M2", CITYWIDE)
        for period in ("day", "week")
        for area in ["", *areas_]
    ]
    scores = pd.DataFrame(rows)
    table = equity(scores).set_index(["as_of", "metric", "period"])
    for (when, name, period), group in scores[scores["area"] != ""].groupby(
        ["as_of", "metric", "period"]
    ):
        row = table.loc[(when, name, period)]
        scored = group.dropna(subset=["score"]).sort_values("area")
        assert row["areas"] == len(group) and row["scored"] == len(scored)
        assert row["below_one"] == int((scored["score"] < 1).sum())
        if scored.empty:
            assert pd.isna(row["best_area"]) and pd.isna(row["worst_area"])
            continue
        best = max(scored["score"])
        worst = min(scored["score"])
        assert row["best_area"] == scored[scored["score"] == best]["area"].iloc[0]
        assert row["worst_area"] == scored[scored["score"] == worst]["area"].iloc[0]
        assert (row["best_score"], row["worst_score"]) == (best, worst)
        if best > 0:
            assert row["gap"] == worst / best
        else:
            assert np.isnan(row["gap"])
