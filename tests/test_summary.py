"""The views derived from scores: categories, share below 1, percentiles, leaders, contributions, freshness.

Scores come from the engine on tiny hand-made cities; every expected number is worked out by hand.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityscore.core.vocabulary import EARLIEST
from cityscore.engine.score import score_date, score_range
from cityscore.engine.summary import (
    category_scores,
    citywide,
    contributions,
    freshness,
    leaders,
    percentiles,
)

from .test_reference import cities
from .test_score_rules import (
    D,
    catalog,
    day,
    four_metric_city,
    metric,
    observations,
    targets,
    values,
)


def _on(frame: pd.DataFrame, **keys: object) -> pd.Series:
    hit = frame
    for column, wanted in keys.items():
        hit = hit[hit[column] == wanted]
    assert len(hit) == 1, f"expected one row for {keys}, got {len(hit)}"
    return hit.iloc[0]


# --- share below 1 and categories ----------------------------------------------------------------


def test_share_of_scored_metrics_below_one() -> None:
    # Day scores A 0.5, B 1.0, C 1.5, E none: 1 of the 3 scored is below 1 (1.0 itself is not).
    city = citywide(score_date(*four_metric_city(), D))
    day_row = _on(city, period="day")
    assert day_row["scored"] == 3
    assert day_row["below_one"] == 1
    assert day_row["share_below_one"] == pytest.approx(1 / 3, rel=1e-15)
    assert day_row["score"] == 1.125  # the CityScore rides along: (0.5 + 1 + 2 x 1.5) / 4


def test_share_below_one_is_empty_when_nothing_is_scored() -> None:
    obs, meta, tgt = four_metric_city()
    city = citywide(score_date(obs, meta, tgt, day(-1)))  # no data the day before
    assert math.isnan(_on(city, period="day")["share_below_one"])


def test_category_scores_are_weighted_means_within_each_category() -> None:
    obs, meta, tgt = four_metric_city()
    cats = category_scores(score_date(obs, meta, tgt, D), meta)
    streets = _on(cats, category="Streets", period="day")
    safety = _on(cats, category="Safety", period="day")
    assert streets["score"] == 0.75  # (0.5 + 1.0) / 2
    assert streets["status"] == "below"  # 0.75 < 0.9
    assert (streets["scored"], streets["metrics"]) == (2, 2)
    assert safety["score"] == 1.5  # C alone (2 x 1.5 / 2); E has no score
    assert (safety["scored"], safety["metrics"]) == (1, 2)


# --- percentiles ---------------------------------------------------------------------------------


def test_percentile_of_todays_day_score_in_the_past_year() -> None:
    # Day scores against a target of 1: D-4..D are 1, 5, 2, 4, 3 -> today's 3 is at or above 3 of 5.
    obs = values("M", {-4: 1, -3: 5, -2: 2, -1: 4, 0: 3, -365: 0.5})
    scores = score_range(obs, catalog(metric()), targets(("M", EARLIEST, 1.0)), day(-365), D)
    pct = _on(percentiles(scores, D), metric="M")
    # D-365 is outside the 365 days D-364..D, so it does not count.
    assert pct["days_scored"] == 5
    assert pct["score"] == 3.0
    assert pct["percentile"] == 60.0  # 100 x 3 / 5


def test_percentile_counts_ties_as_at_or_below() -> None:
    # Day scores D-3..D: 1, 2, 3, 2 -> today's 2 is at or above 1, 2 and itself: 3 of 4.
    obs = values("M", {-3: 1, -2: 2, -1: 3, 0: 2})
    scores = score_range(obs, catalog(metric()), targets(("M", EARLIEST, 1.0)), day(-3), D)
    assert _on(percentiles(scores, D), metric="M")["percentile"] == 75.0  # 100 x 3 / 4


def test_percentile_is_empty_without_a_score_today() -> None:
    obs = values("M", {-2: 1, -1: 2})
    scores = score_range(obs, catalog(metric()), targets(("M", EARLIEST, 1.0)), day(-2), D)
    pct = _on(percentiles(scores, D), metric="M")
    assert math.isnan(pct["percentile"])
    assert pct["days_scored"] == 2


# --- leaders -------------------------------------------------------------------------------------


def _city_with_week_scores(week_scores: list[float]) -> pd.DataFrame:
    """Metric Mi's week value is week_scores[i] against a target of 1, so its week score is that number."""
    names = [f"M{i}" for i in range(len(week_scores))]
    meta = catalog(*[metric(name) for name in names])
    obs = observations(*[values(name, {0: s}) for name, s in zip(names, week_scores, strict=True)])
    return score_date(obs, meta, targets(*[(name, EARLIEST, 1.0) for name in names]), D)


def test_leaders_are_top_five_and_bottom_five_by_week_score() -> None:
    scores = _city_with_week_scores([0.1, 1.2, 0.5, 2.0, 0.9, 1.0, 0.3, 1.5, 0.7, 0.2, 1.1, 0.8])
    top, bottom = leaders(scores, D)
    assert top["metric"].tolist() == ["M3", "M7", "M1", "M10", "M5"]  # 2.0, 1.5, 1.2, 1.1, 1.0
    assert bottom["metric"].tolist() == ["M0", "M9", "M6", "M2", "M8"]  # 0.1, 0.2, 0.3, 0.5, 0.7
    assert top["score"].tolist() == [2.0, 1.5, 1.2, 1.1, 1.0]


def test_leaders_split_at_one_with_fewer_than_ten_metrics() -> None:
    scores = _city_with_week_scores([0.4, 1.3, 0.9, 1.1, 0.6, 0.2, 1.0])
    top, bottom = leaders(scores, D)
    assert top["metric"].tolist() == ["M1", "M3", "M6"]  # 1.3, 1.1, 1.0: at or above 1 only
    assert bottom["metric"].tolist() == ["M5", "M0", "M4", "M2"]  # 0.2, 0.4, 0.6, 0.9: below 1
    assert not set(top["metric"]) & set(bottom["metric"])


def test_leaders_of_a_bad_week_exceed_nothing() -> None:
    top, bottom = leaders(_city_with_week_scores([0.4, 0.9, 0.95, 0.99, 0.6, 0.2, 0.7]), D)
    assert top.empty  # the highest score, 0.99, is not exceeding anything
    assert bottom["score"].tolist() == [0.2, 0.4, 0.6, 0.7, 0.9]


def test_leaders_leave_out_metrics_without_a_score() -> None:
    obs, meta, tgt = four_metric_city()
    top, bottom = leaders(score_date(obs, meta, tgt, D), D)
    assert top["metric"].tolist() == ["C", "B"]  # week scores 1.5, 1.0; E has none
    assert bottom["metric"].tolist() == ["A"]  # 0.5


# --- contributions -------------------------------------------------------------------------------


def _moving_city() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A (weight 1) and B (weight 3) against a target of 1, values set so each day's score is known."""
    meta = catalog(metric("A", category="Streets"), metric("B", category="Safety", weight=3.0))
    obs = observations(values("A", {-7: 2.0, -1: 1.0, 0: 1.5}), values("B", {-7: 1.0, -1: 0.5}))
    scores = score_range(obs, meta, targets(("A", EARLIEST, 1.0), ("B", EARLIEST, 1.0)), day(-7), D)
    return scores, meta


def test_contributions_since_the_previous_day_add_up_to_the_change() -> None:
    scores, meta = _moving_city()
    # D-1: A 1.0, B 0.5 -> CityScore (1 x 1.0 + 3 x 0.5) / 4 = 0.625. D: A 1.5, B none -> 1.5.
    parts = contributions(scores, meta, D, since_days=1).set_index("metric")
    assert parts.loc["A", "contribution"] == pytest.approx(1.5 / 1 - 1.0 / 4, abs=1e-15)  # 1.25
    assert parts.loc["B", "contribution"] == pytest.approx(0 - 3 * 0.5 / 4, abs=1e-15)  # -0.375
    assert parts["contribution"].sum() == pytest.approx(1.5 - 0.625, abs=1e-15)  # 0.875
    assert parts.index.tolist() == ["A", "B"]  # largest movement first
    assert parts.loc["B", "category"] == "Safety"


def test_contributions_since_the_previous_week_add_up_to_the_change() -> None:
    scores, meta = _moving_city()
    city = scores[scores["metric"] == "CityScore"].set_index(["as_of", "period"])["score"]
    for period in ("day", "week"):
        parts = contributions(scores, meta, D, since_days=7, period=period)
        change = city[(pd.Timestamp(D), period)] - city[(pd.Timestamp(day(-7)), period)]
        assert parts["contribution"].sum() == pytest.approx(change, abs=1e-12)
    # By hand for the day: D-7 A 2.0, B 1.0 -> (2 + 3) / 4 = 1.25; D 1.5; change 0.25.
    parts = contributions(scores, meta, D, since_days=7).set_index("metric")
    assert parts["contribution"].sum() == pytest.approx(0.25, abs=1e-15)
    assert parts.loc["A", "contribution"] == pytest.approx(1.5 - 2.0 / 4, abs=1e-15)  # 1.0
    assert parts.loc["B", "contribution"] == pytest.approx(0 - 3.0 / 4, abs=1e-15)  # -0.75


def test_contributions_are_empty_when_a_day_has_no_cityscore() -> None:
    scores, meta = _moving_city()
    assert contributions(scores, meta, day(-1), since_days=2).empty  # D-3 has no data at all


# --- freshness -----------------------------------------------------------------------------------


def test_freshness_flags_a_stale_metric() -> None:
    meta = catalog(metric("Fresh"), metric("Week old"), metric("Stale"), metric("Never"))
    obs = observations(
        values("Fresh", {0: 1, -1: 1}),
        values("Week old", {-7: 1}),
        values("Stale", {-8: 1, -40: 1}),
        values("Fresh", {1: 1}).assign(metric="Fresh"),  # after D: ignored
    )
    fresh = freshness(obs, meta, D, stale_after=7, window=30).set_index("metric")
    assert fresh.loc["Fresh", "days_since"] == 0
    assert fresh.loc["Week old", "days_since"] == 7
    assert fresh.loc["Stale", "days_since"] == 8
    assert fresh["stale"].to_dict() == {
        "Fresh": False,
        "Week old": False,
        "Stale": True,
        "Never": True,
    }
    # Missing days in the 30 days D-29..D: Fresh has 2, Week old 1, Stale 1 (D-40 is outside).
    assert fresh["missing_days"].to_dict() == {
        "Fresh": 28,
        "Week old": 29,
        "Stale": 29,
        "Never": 30,
    }
    assert fresh.loc["Fresh", "last_date"] == pd.Timestamp(D)
    assert pd.isna(fresh.loc["Never", "last_date"])


def test_freshness_of_a_city_with_metrics_but_no_data_yet() -> None:
    obs, meta, _ = four_metric_city()
    fresh = freshness(obs.iloc[0:0], meta, D, window=30)
    assert fresh["metric"].tolist() == ["A", "B", "C", "E"]
    assert fresh["stale"].all()
    assert fresh["last_date"].isna().all()
    assert (fresh["missing_days"] == 30).all()


def test_freshness_reads_a_timestamp_as_its_day() -> None:
    meta = catalog(metric("M"))
    obs = values("M", {0: 1, -1: 1})
    obs["date"] = obs["date"] + pd.Timedelta(hours=9)
    fresh = freshness(obs, meta, D, window=30).set_index("metric")
    assert fresh.loc["M", "days_since"] == 0  # read at 09:00 on D: today, not -1 days ago
    assert fresh.loc["M", "missing_days"] == 28  # D and D-1 have data


def test_no_summary_view_mutates_its_inputs() -> None:
    scores, meta = _moving_city()
    obs = values("A", {0: 1.5, -1: 1.0})
    frames = {"scores": scores, "meta": meta, "obs": obs}
    before = {name: frame.copy(deep=True) for name, frame in frames.items()}
    citywide(scores)
    category_scores(scores, meta)
    percentiles(scores, D)
    leaders(scores, D)
    contributions(scores, meta, D, since_days=7, period="week")
    freshness(obs, meta, D)
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(frame, before[name], check_exact=True)


# --- properties on random cities -----------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cities(), st.integers(1, 14), st.sampled_from(["day", "week", "month", "quarter"]))
def test_contributions_always_add_up_and_leaders_never_overlap(
    city: dict[str, object], since_days: int, period: str
) -> None:
    start = city["start"] - dt.timedelta(days=since_days)
    scores = score_range(city["observations"], city["metrics"], city["targets"], start, city["end"])
    meta, end = city["metrics"], pd.Timestamp(city["end"])
    city_scores = scores[(scores["metric"] == "CityScore") & (scores["period"] == period)]
    city_scores = city_scores.set_index("as_of")["score"]
    now, before = city_scores[end], city_scores[end - pd.Timedelta(days=since_days)]
    change = now - before
    parts = contributions(scores, meta, end, since_days=since_days, period=period)
    if math.isnan(change):
        assert parts.empty
    else:
        # Rounding scales with the scores being subtracted, not with their (maybe tiny) difference.
        scale = max(abs(now), abs(before), 1.0)
        assert parts["contribution"].sum() == pytest.approx(change, abs=1e-12 * scale)
        assert sorted(parts["metric"]) == sorted(meta["name"])

    top, bottom = leaders(scores, end, period=period)
    assert not set(top["metric"]) & set(bottom["metric"])
    assert len(top) <= 5 and len(bottom) <= 5
    assert top["score"].is_monotonic_decreasing and bottom["score"].is_monotonic_increasing
    if len(top) and len(bottom):
        assert top["score"].min() >= bottom["score"].max()
    scored = scores[
        (scores["as_of"] == end) & (scores["period"] == period) & (scores["metric"] != "CityScore")
    ]
    scored = scored[scored["status"].astype(object) != "stale"]  # stale: in neither list
    assert len(top) == min(5, (scored["score"] >= 1).sum())
    assert len(bottom) == min(5, (scored["score"] < 1).sum())
