"""Issue 2's scoring rules, one small hand-worked example each.

Every expected number is worked out by hand in a comment; none is computed with the engine. The as-of
date is D = 2026-06-30 throughout.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from cityscore.core.bands import Bands
from cityscore.core.errors import CatalogError, ConfigError
from cityscore.core.vocabulary import EARLIEST
from cityscore.engine.score import score_date, score_range

D = dt.date(2026, 6, 30)
NO_DATA = "no data in the window"
ZERO_DENOMINATOR = "denominator total is 0 in the window"
NO_TARGET = "no target in effect on this date"
SHORT_HISTORY = "not enough history for a baseline (needs 90 days in the 365 before)"
BASELINE_NOT_POSITIVE = "baseline target is not above 0"
ZERO_TREND = "value is 0 for a trend metric"
ZERO_LOWER = "value is 0 for a lower-is-better metric"


def day(offset: int) -> dt.date:
    """D + offset days (offset is usually negative)."""
    return D + dt.timedelta(days=offset)


def metric(name: str = "M", **settings: object) -> dict[str, object]:
    """A catalog row: a higher-is-better value metric averaged by mean, unless ``settings`` say otherwise."""
    row: dict[str, object] = {
        "name": name,
        "definition": "",
        "category": "General",
        "unit": "",
        "direction": "higher",
        "kind": "value",
        "aggregation": "mean",
        "baseline": "target",
        "trend": False,
        "weight": 1.0,
    }
    row.update(settings)
    return row


def catalog(*rows: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def targets(*changes: tuple[str, dt.date, float]) -> pd.DataFrame:
    """Target changes as (metric, effective_from, target)."""
    return pd.DataFrame(
        [
            {"metric": m, "effective_from": pd.Timestamp(when), "target": t}
            for m, when, t in changes
        ],
        columns=["metric", "effective_from", "target"],
    )


def values(name: str, by_offset: dict[int, float]) -> pd.DataFrame:
    """Value observations of metric ``name``: {days from D: value}."""
    return pd.DataFrame(
        {
            "metric": name,
            "date": [pd.Timestamp(day(k)) for k in by_offset],
            "value": [float(v) for v in by_offset.values()],
            "numerator": float("nan"),
            "denominator": float("nan"),
        }
    )


def ratios(name: str, by_offset: dict[int, tuple[float, float]]) -> pd.DataFrame:
    """Ratio observations of metric ``name``: {days from D: (numerator, denominator)}."""
    return pd.DataFrame(
        {
            "metric": name,
            "date": [pd.Timestamp(day(k)) for k in by_offset],
            "value": float("nan"),
            "numerator": [float(n) for n, _ in by_offset.values()],
            "denominator": [float(d) for _, d in by_offset.values()],
        }
    )


def observations(*frames: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True)


def row(
    scores: pd.DataFrame, name: str = "M", period: str = "day", as_of: dt.date = D
) -> pd.Series:
    """The one score row for (as_of, metric, period)."""
    hit = scores[
        (scores["as_of"] == pd.Timestamp(as_of))
        & (scores["metric"] == name)
        & (scores["period"] == period)
    ]
    assert len(hit) == 1, f"expected one row for {as_of} {name} {period}, got {len(hit)}"
    return hit.iloc[0]


def score_one(
    obs: pd.DataFrame, meta: pd.DataFrame, tgt: pd.DataFrame, **kw: object
) -> pd.DataFrame:
    return score_date(obs, meta, tgt, D, **kw)


def assert_no_score(r: pd.Series, note: str) -> None:
    assert math.isnan(r["score"]), f"expected no score, got {r['score']}"
    assert pd.isna(r["status"])
    assert r["note"] == note


# --- windows -------------------------------------------------------------------------------------


def test_windows_are_inclusive_calendar_days_ending_on_d() -> None:
    # Sum aggregation makes each day's contribution visible as its own digit.
    obs = values("M", {0: 1, -6: 10, -7: 100, -29: 1000, -30: 10000, -89: 100000, -90: 1000000})
    scores = score_one(obs, catalog(metric(aggregation="sum")), targets(("M", EARLIEST, 1.0)))
    # day = D: 1
    # week = D-6..D: 1 + 10 = 11 (D-7 is outside)
    # month = D-29..D: 1 + 10 + 100 + 1000 = 1111 (D-30 is outside)
    # quarter = D-89..D: 1111 + 10000 + 100000 = 111111 (D-90 is outside)
    by_period = {p: row(scores, period=p)["value"] for p in ("day", "week", "month", "quarter")}
    assert by_period == {"day": 1, "week": 11, "month": 1111, "quarter": 111111}


def test_week_window_takes_d_minus_6_but_not_d_minus_7() -> None:
    obs = values("M", {-6: 4, -7: 100})
    scores = score_one(obs, catalog(metric()), targets(("M", EARLIEST, 2.0)))
    week = row(scores, period="week")
    assert week["value"] == 4  # only D-6 is in the week
    assert week["score"] == 2.0  # 4 / 2
    assert_no_score(row(scores, period="day"), NO_DATA)  # nothing on D itself


# --- period values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("aggregation", "week_value"),
    [
        ("mean", 5.0),  # (2 + 4 + 9) / 3 days with data = 5; missing days are not zeros
        ("median", 4.0),  # middle of 2, 4, 9
        ("sum", 15.0),  # 2 + 4 + 9
    ],
)
def test_value_metrics_aggregate_the_days_in_the_window(
    aggregation: str, week_value: float
) -> None:
    obs = values("M", {0: 2, -3: 4, -6: 9})
    scores = score_one(obs, catalog(metric(aggregation=aggregation)), targets(("M", EARLIEST, 5.0)))
    assert row(scores, period="week")["value"] == week_value


def test_median_of_an_even_number_of_days_is_the_mean_of_the_middle_two() -> None:
    obs = values("M", {0: 1, -1: 3, -2: 10, -3: 100})
    scores = score_one(obs, catalog(metric(aggregation="median")), targets(("M", EARLIEST, 5.0)))
    assert row(scores, period="week")["value"] == 6.5  # (3 + 10) / 2


def test_ratio_is_sum_of_numerators_over_sum_of_denominators_not_mean_of_daily_ratios() -> None:
    obs = ratios("R", {0: (9, 10), -1: (1, 2)})
    scores = score_one(
        obs, catalog(metric("R", kind="ratio", aggregation="")), targets(("R", EARLIEST, 0.5))
    )
    week = row(scores, "R", "week")
    # (9 + 1) / (10 + 2) = 10/12; the mean of the daily ratios would be (0.9 + 0.5) / 2 = 0.7.
    assert week["value"] == pytest.approx(10 / 12, rel=1e-15)
    assert week["value"] != pytest.approx(0.7)
    assert week["score"] == pytest.approx((10 / 12) / 0.5, rel=1e-15)  # 1.6666...
    assert row(scores, "R", "day")["value"] == 0.9  # 9 / 10


def test_ratio_metric_ignores_an_aggregation_it_was_given() -> None:
    obs = ratios("R", {0: (9, 10), -1: (1, 2)})
    meta = catalog(metric("R", kind="ratio", aggregation="median"))
    scores = score_one(obs, meta, targets(("R", EARLIEST, 0.5)))
    assert row(scores, "R", "week")["value"] == pytest.approx(10 / 12, rel=1e-15)  # still sum / sum
    assert row(scores, "R", "week")["target"] == 0.5  # not scaled by 7 as a sum metric's would be


def test_sum_metric_target_is_per_day_and_summed_over_the_window() -> None:
    obs = values("M", {0: 3, -1: 4})
    scores = score_one(obs, catalog(metric(aggregation="sum")), targets(("M", EARLIEST, 1.0)))
    week = row(scores, period="week")
    assert week["target"] == 7.0  # 1 a day x 7 days
    assert week["score"] == 1.0  # (3 + 4) / 7


# --- targets -------------------------------------------------------------------------------------


def test_target_in_effect_on_d_and_a_change_never_rewrites_earlier_scores() -> None:
    obs = values("M", {-1: 6, 0: 6})
    meta = catalog(metric())
    before = targets(("M", EARLIEST, 4.0))
    after = targets(("M", EARLIEST, 4.0), ("M", D, 8.0), ("M", day(1), 100.0))
    old = score_range(obs, meta, before, day(-1), D)
    new = score_range(obs, meta, after, day(-1), D)
    # D-1: target 4 in both; 6 / 4 = 1.5 — the change effective on D leaves it alone.
    assert row(old, as_of=day(-1))["score"] == row(new, as_of=day(-1))["score"] == 1.5
    # D: the change applies from its effective date on: 6 / 8 = 0.75; the one dated D+1 not yet.
    assert row(new)["target"] == 8.0
    assert row(new)["score"] == 0.75
    # The week on D is scored against the target in effect on D for the whole window.
    assert row(new, period="week")["score"] == 0.75  # mean(6, 6) / 8


def test_scoring_a_single_day_agrees_with_scoring_a_range() -> None:
    obs = values("M", {-1: 6, 0: 6})
    tgt = targets(("M", EARLIEST, 4.0), ("M", D, 8.0))
    alone = score_date(obs, catalog(metric()), tgt, day(-1))
    assert row(alone, as_of=day(-1))["score"] == 1.5  # 6 / 4: the later change does not reach back


def test_a_target_of_zero_or_below_is_rejected() -> None:
    obs = values("M", {0: 1})
    for bad in (0.0, -1.0):
        with pytest.raises(CatalogError, match="greater than 0"):
            score_one(obs, catalog(metric()), targets(("M", EARLIEST, bad)))


# --- history baselines ---------------------------------------------------------------------------


def _alternating(first: int, count: int, low: float, high: float) -> dict[int, float]:
    """``count`` days ending at D+first going back, alternating low, high (count even: equal numbers)."""
    return {first - k: (low if k % 2 == 0 else high) for k in range(count)}


def history_metric(direction: str = "higher", **settings: object) -> pd.DataFrame:
    return catalog(metric(baseline="history", direction=direction, **settings))


NO_TARGETS = targets()


@pytest.mark.parametrize(
    ("direction", "target", "score"),
    [
        # 90 days D-90..D-1 of 8 and 12: mean 10, population std 2 (every day is 2 from the mean).
        ("higher", 8.0, 1.25),  # target 10 - 2 = 8; score 10 / 8
        ("lower", 12.0, 1.2),  # target 10 + 2 = 12; score 12 / 10
    ],
)
def test_history_baseline_is_mean_minus_or_plus_population_std(
    direction: str, target: float, score: float
) -> None:
    obs = values("M", {**_alternating(-1, 90, 8, 12), 0: 10})
    r = row(score_one(obs, history_metric(direction), NO_TARGETS))
    assert r["target"] == target
    assert r["score"] == score


def test_history_baseline_needs_90_days_89_is_not_enough() -> None:
    enough = values("M", {**_alternating(-1, 90, 8, 12), 0: 10})
    short = values("M", {**_alternating(-1, 89, 8, 12), 0: 10})
    assert row(score_one(enough, history_metric(), NO_TARGETS))["note"] == ""
    r = row(score_one(short, history_metric(), NO_TARGETS))
    assert_no_score(r, SHORT_HISTORY)
    assert r["value"] == 10  # the value is still reported
    assert math.isnan(r["target"])


def test_a_value_on_d_is_not_in_its_own_baseline() -> None:
    # 89 days before D plus one on D: D's value must not make up the 90th day.
    obs = values("M", {**_alternating(-1, 89, 8, 12), 0: 10})
    assert_no_score(row(score_one(obs, history_metric(), NO_TARGETS)), SHORT_HISTORY)
    # and an outlier on D leaves a full baseline untouched: still 10 - 2 = 8.
    obs = values("M", {**_alternating(-1, 90, 8, 12), 0: 1000})
    r = row(score_one(obs, history_metric(), NO_TARGETS))
    assert r["target"] == 8.0
    assert r["score"] == 125.0  # 1000 / 8, no cap


def test_history_baseline_is_the_365_days_before_d() -> None:
    base = _alternating(-1, 90, 8, 12)
    # D-366 is outside the year before D: the baseline stays mean 10, std 2.
    r = row(score_one(values("M", {**base, -366: 10000, 0: 10}), history_metric(), NO_TARGETS))
    assert r["target"] == 8.0
    # D-365 is inside: 91 days, mean (900 + 10) / 91 = 10, std sqrt(90 * 4 / 91) = sqrt(360/91).
    r = row(score_one(values("M", {**base, -365: 10, 0: 10}), history_metric(), NO_TARGETS))
    assert r["target"] == pytest.approx(10 - math.sqrt(360 / 91), rel=1e-12)


def test_ratio_history_baseline_uses_each_days_ratio() -> None:
    # 90 days alternating 1/4 and 3/4 (daily ratios 0.25, 0.75): mean 0.5, std 0.25 -> target 0.25.
    history = {-1 - k: ((1, 4) if k % 2 == 0 else (3, 4)) for k in range(90)}
    obs = ratios("R", {**history, 0: (1, 2)})
    meta = catalog(metric("R", kind="ratio", aggregation="", baseline="history"))
    r = row(score_one(obs, meta, NO_TARGETS), "R")
    assert r["target"] == 0.25
    assert r["score"] == 2.0  # 0.5 / 0.25


# --- the score -----------------------------------------------------------------------------------


def test_score_is_value_over_target_or_target_over_value() -> None:
    obs = observations(values("Up", {0: 3}), values("Down", {0: 3}))
    meta = catalog(metric("Up"), metric("Down", direction="lower"))
    scores = score_one(obs, meta, targets(("Up", EARLIEST, 4.0), ("Down", EARLIEST, 4.0)))
    assert row(scores, "Up")["score"] == 0.75  # 3 / 4
    assert row(scores, "Down")["score"] == 4 / 3  # 4 / 3 = 1.333..., unrounded


def test_no_rounding_in_computation_and_no_cap() -> None:
    obs = observations(values("Third", {0: 1}), values("Triple", {0: 30}))
    meta = catalog(metric("Third"), metric("Triple"))
    scores = score_one(obs, meta, targets(("Third", EARLIEST, 3.0), ("Triple", EARLIEST, 10.0)))
    assert row(scores, "Third")["score"] == 1 / 3  # 0.333... exactly as a float, not 0.33
    assert row(scores, "Triple")["score"] == 3.0  # 30 / 10; no cap at 1 or any other number
    assert row(scores, "Triple")["status"] == "meeting"


def test_a_zero_value_scores_zero_for_a_higher_is_better_metric() -> None:
    scores = score_one(values("M", {0: 0}), catalog(metric()), targets(("M", EARLIEST, 4.0)))
    assert row(scores)["score"] == 0.0  # 0 / 4
    assert row(scores)["status"] == "below"


# --- no score, and why ---------------------------------------------------------------------------


def test_no_score_when_no_data_in_the_window_but_the_target_is_shown() -> None:
    scores = score_one(values("M", {-7: 5}), catalog(metric()), targets(("M", EARLIEST, 4.0)))
    for period in ("day", "week"):
        r = row(scores, period=period)
        assert_no_score(r, NO_DATA)
        assert math.isnan(r["value"])
        assert r["target"] == 4.0  # the target in effect on D, shown even without data
    assert row(scores, period="month")["score"] == 1.25  # D-7 is in the month: 5 / 4


def test_no_score_when_a_trend_metric_is_zero() -> None:
    obs = values("M", {0: 0, -1: 0})
    scores = score_one(obs, catalog(metric(trend=True)), targets(("M", EARLIEST, 1.0)))
    assert_no_score(row(scores, period="week"), ZERO_TREND)
    assert row(scores, period="week")["value"] == 0


def test_no_score_when_a_lower_is_better_metric_is_zero() -> None:
    obs = values("M", {0: 0})
    scores = score_one(obs, catalog(metric(direction="lower")), targets(("M", EARLIEST, 6.0)))
    assert_no_score(row(scores), ZERO_LOWER)  # 6 / 0 has no meaning


def test_no_score_when_a_ratio_denominator_sums_to_zero() -> None:
    obs = ratios("R", {0: (0, 0), -1: (0, 0), -10: (3, 4)})
    scores = score_one(
        obs, catalog(metric("R", kind="ratio", aggregation="")), targets(("R", EARLIEST, 0.5))
    )
    r = row(scores, "R", "week")
    assert_no_score(r, ZERO_DENOMINATOR)
    assert math.isnan(r["value"])
    assert row(scores, "R", "month")["value"] == 0.75  # (0 + 0 + 3) / (0 + 0 + 4)


def test_no_score_before_the_first_target() -> None:
    scores = score_one(values("M", {0: 5}), catalog(metric()), targets(("M", day(1), 4.0)))
    r = row(scores)
    assert_no_score(r, NO_TARGET)
    assert r["value"] == 5
    assert math.isnan(r["target"])


def test_no_score_when_the_baseline_target_is_not_above_zero() -> None:
    # 90 days of 0 and 2: mean 1, population std 1, so the higher-is-better target is 1 - 1 = 0.
    obs = values("M", {**_alternating(-1, 90, 0, 2), 0: 1})
    r = row(score_one(obs, history_metric(), NO_TARGETS))
    assert_no_score(r, BASELINE_NOT_POSITIVE)
    assert r["target"] == 0.0
    # The same history for a lower-is-better metric gives 1 + 1 = 2, a fine target: 2 / 1 = 2.
    assert row(score_one(obs, history_metric("lower"), NO_TARGETS))["score"] == 2.0


# --- the citywide CityScore ----------------------------------------------------------------------


def four_metric_city() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Day scores on D: A 0.5, B 1.0, C 1.5 (weight 2), E none (no data)."""
    meta = catalog(
        metric("A", category="Streets"),
        metric("B", category="Streets"),
        metric("C", category="Safety", weight=2.0),
        metric("E", category="Safety"),
    )
    obs = observations(values("A", {0: 1}), values("B", {0: 2}), values("C", {0: 3}))
    tgt = targets(*[(name, EARLIEST, 2.0) for name in "ABCE"])
    return obs, meta, tgt


def test_citywide_is_the_weighted_mean_of_the_scores_that_exist() -> None:
    scores = score_one(*four_metric_city())
    city = row(scores, "CityScore")
    # (1 x 0.5 + 1 x 1.0 + 2 x 1.5) / (1 + 1 + 2) = 4.5 / 4 = 1.125; E has no score and no weight.
    assert city["score"] == 1.125
    assert city["note"] == "3 of 4 metrics scored"
    assert city["status"] == "meeting"


def test_citywide_has_no_score_when_no_metric_has_one() -> None:
    obs, meta, tgt = four_metric_city()
    city = row(score_date(obs, meta, tgt, day(-1)), "CityScore", as_of=day(-1))
    assert_no_score(city, "no metric has a score")


# --- status bands --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (10, "meeting"),  # 10 / 10 = 1.0 exactly: meeting (>= 1.0)
        (9.99, "near"),  # 0.999
        (9, "near"),  # 9 / 10 = 0.9 exactly: near (>= 0.9)
        (8.99, "below"),  # 0.899
    ],
)
def test_status_bands_at_their_exact_edges(value: float, status: str) -> None:
    scores = score_one(values("M", {0: value}), catalog(metric()), targets(("M", EARLIEST, 10.0)))
    assert row(scores)["status"] == status


def test_status_bands_are_configurable() -> None:
    obs = values("M", {0: 10})
    meta, tgt = catalog(metric()), targets(("M", EARLIEST, 10.0))
    # score 1.0: near under meeting >= 1.1, near >= 0.95; below under meeting >= 1.5, near >= 1.2.
    assert row(score_one(obs, meta, tgt, bands=Bands(meeting=1.1, near=0.95)))["status"] == "near"
    assert row(score_one(obs, meta, tgt, bands=Bands(meeting=1.5, near=1.2)))["status"] == "below"
    assert row(score_one(obs, meta, tgt, bands=Bands(meeting=1.0, near=1.0)))["status"] == "meeting"


def test_bands_out_of_order_are_rejected_with_the_rule() -> None:
    with pytest.raises(ConfigError, match="near <= meeting"):
        Bands(meeting=0.9, near=1.0)
    with pytest.raises(ConfigError, match="'meeting,near'"):
        Bands.parse("high")
    assert Bands.parse("1.1,0.95") == Bands(meeting=1.1, near=0.95)


def test_bad_dates_are_reported_with_the_fix() -> None:
    obs, meta, tgt = four_metric_city()
    with pytest.raises(ConfigError, match="before it starts"):
        score_range(obs, meta, tgt, D, day(-1))
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        score_date(obs, meta, tgt, "2026-13-45")


def test_custom_periods_reach_back_as_far_as_they_need() -> None:
    obs = values("M", {0: 1, -399: 10, -400: 100})
    meta, tgt = catalog(metric(aggregation="sum")), targets(("M", EARLIEST, 1.0))
    scores = score_one(obs, meta, tgt, periods={"day": 1, "long year": 400})
    assert row(scores, period="long year")["value"] == 11  # D-399..D: 1 + 10; D-400 is outside
    assert row(scores, period="long year")["target"] == 400  # 1 a day x 400 days
    assert set(scores["period"]) == {"day", "long year"}


@pytest.mark.parametrize("periods", [{}, {"none": 0}, {"half": 1.5}])
def test_bad_periods_are_rejected(periods: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="whole days"):
        score_one(
            values("M", {0: 1}), catalog(metric()), targets(("M", EARLIEST, 1.0)), periods=periods
        )


def test_an_optional_cap_limits_each_metric_score_before_the_citywide_mean() -> None:
    obs = observations(values("Far", {0: 30}), values("Under", {0: 5}))
    meta = catalog(metric("Far"), metric("Under"))
    tgt = targets(("Far", EARLIEST, 10.0), ("Under", EARLIEST, 10.0))
    uncapped = score_one(obs, meta, tgt)
    assert row(uncapped, "Far")["score"] == 3.0  # 30 / 10: no cap by default
    assert row(uncapped, "CityScore")["score"] == 1.75  # (3.0 + 0.5) / 2
    capped = score_one(obs, meta, tgt, cap=1.5)
    assert row(capped, "Far")["score"] == 1.5  # min(3.0, 1.5)
    assert row(capped, "Far")["value"] == 30  # the value itself is not touched
    assert row(capped, "Under")["score"] == 0.5  # below the cap: unchanged
    assert row(capped, "CityScore")["score"] == 1.0  # (1.5 + 0.5) / 2
    with pytest.raises(ConfigError, match="cap"):
        score_one(obs, meta, tgt, cap=0)


def test_a_time_of_day_does_not_move_a_value_or_target_to_another_day() -> None:
    obs = values("M", {0: 6, -1: 2})
    # Readings taken from a timestamp column, at 08:30.
    obs["date"] = obs["date"] + pd.Timedelta(hours=8, minutes=30)
    tgt = targets(("M", EARLIEST, 2.0), ("M", D, 3.0))
    tgt["effective_from"] = tgt["effective_from"] + pd.Timedelta(hours=12)
    scores = score_one(obs, catalog(metric()), tgt)
    assert row(scores)["value"] == 6  # the 08:30 reading on D belongs to D
    assert row(scores)["target"] == 3.0  # the change made at noon on D applies on D
    assert row(scores)["score"] == 2.0  # 6 / 3
    assert row(scores, period="week")["value"] == 4  # (6 + 2) / 2


def test_a_weight_that_is_not_a_positive_number_is_rejected() -> None:
    obs = values("M", {0: 1})
    for weight in (0.0, -1.0, float("nan")):
        with pytest.raises(CatalogError, match="weights must be greater than 0"):
            score_one(obs, catalog(metric(weight=weight)), targets(("M", EARLIEST, 1.0)))
