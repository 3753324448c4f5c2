"""The baselines a city can choose: ``weekday`` (the same weekday over the past weeks) and
``last_year`` (the same window 52 weeks earlier), hand-worked and against the reference; and the
import's warning about a baseline metric that can never be scored."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from cityscore.engine.reference import reference_scores
from cityscore.engine.score import score_date, score_range
from cityscore.engine.statuses import NO_LAST_YEAR, NO_WEEKDAY_HISTORY
from cityscore.kit import Kit

MONDAY = dt.date(2026, 6, 1)  # a Monday
NO_TARGETS = pd.DataFrame({"metric": [], "effective_from": [], "target": []})


def catalog(name: str, baseline: str, **settings: object) -> pd.DataFrame:
    row = {
        "name": name,
        "definition": "",
        "category": "General",
        "unit": "",
        "direction": "higher",
        "kind": "value",
        "aggregation": "mean",
        "baseline": baseline,
        "trend": False,
        "weight": 1.0,
    }
    return pd.DataFrame([{**row, **settings}])


def weekly_pattern(weeks: int, end: dt.date = MONDAY) -> pd.DataFrame:
    """Library visits: 10 every Monday, 20 every other day: ``weeks`` full weeks before ``end`` (a
    Monday) and ``end`` itself."""
    days = pd.date_range(end=end, periods=7 * weeks + 1, freq="D")
    value = np.where(days.day_of_week == 0, 10.0, 20.0)
    return pd.DataFrame({"metric": "Visits", "date": days, "value": value}).assign(
        numerator=np.nan, denominator=np.nan
    )


def day_row(scores: pd.DataFrame, period: str = "day") -> pd.Series:
    return scores[(scores["metric"] == "Visits") & (scores["period"] == period)].iloc[0]


def test_weekday_compares_a_monday_with_past_mondays() -> None:
    # Past Mondays: 10 each (20 weeks before this Monday): m = 10, sigma = 0, target 10; 10 / 10 = 1.
    obs = weekly_pattern(20)
    got = day_row(score_date(obs, catalog("Visits", "weekday"), NO_TARGETS, MONDAY))
    assert got["target"] == 10.0 and got["score"] == 1.0
    # history: the 140 days before: 20 Mondays of 10, 120 other days of 20 -> mean 130 / 7 =
    # 18.571..., population variance (1 x (10 - m)^2 + 6 x (20 - m)^2) / 7 = 600 / 49, sigma 3.499;
    # target m - sigma = 15.07; the same Monday scores 10 / 15.07 = 0.66.
    history = day_row(score_date(obs, catalog("Visits", "history"), NO_TARGETS, MONDAY))
    mean, sigma = 130 / 7, (600 / 49) ** 0.5
    assert history["target"] == pytest.approx(mean - sigma)
    assert history["score"] == pytest.approx(10 / (mean - sigma))
    assert round(history["score"], 2) == 0.66


def test_weekday_needs_13_of_the_same_weekday() -> None:
    # 12 weeks: 12 past Mondays before this one -> not enough; 13 weeks: 13 -> enough.
    short = day_row(
        score_date(weekly_pattern(12), catalog("Visits", "weekday"), NO_TARGETS, MONDAY)
    )
    assert pd.isna(short["score"]) and short["note"] == NO_WEEKDAY_HISTORY
    enough = day_row(
        score_date(weekly_pattern(13), catalog("Visits", "weekday"), NO_TARGETS, MONDAY)
    )
    assert enough["score"] == 1.0


def test_weekday_sum_target_times_the_window_days() -> None:
    # A sum metric: the daily target of D (a Monday: past Mondays 10, sigma 0 -> 10) x 7 days = 70,
    # as for history baselines; the week (one Monday, six other days) is 10 + 6 x 20 = 130.
    sums = catalog("Visits", "weekday", aggregation="sum")
    got = day_row(score_date(weekly_pattern(20), sums, NO_TARGETS, MONDAY), "week")
    assert got["target"] == 70.0 and got["value"] == 130.0
    assert got["score"] == pytest.approx(130 / 70)


def permits(years_ago: float, now: float, end: dt.date) -> pd.DataFrame:
    days = pd.date_range(end=end, periods=400, freq="D")
    value = np.where(days < pd.Timestamp(end) - pd.Timedelta(days=300), years_ago, now)
    return pd.DataFrame({"metric": "Visits", "date": days, "value": value}).assign(
        numerator=np.nan, denominator=np.nan
    )


def test_last_year_is_the_same_window_52_weeks_earlier() -> None:
    # Sum metric: 10 a day a year ago, 12 a day now. Week target = last year's week: 7 x 10 = 70;
    # value 7 x 12 = 84 -> 84 / 70 = 1.2. Day: 12 / 10 = 1.2. The 30-day month: 360 / 300.
    obs = permits(10.0, 12.0, MONDAY)
    scores = score_date(obs, catalog("Visits", "last_year", aggregation="sum"), NO_TARGETS, MONDAY)
    week = day_row(scores, "week")
    assert (week["value"], week["target"]) == (84.0, 70.0)
    assert week["score"] == pytest.approx(1.2)
    assert day_row(scores, "month")["target"] == 300.0
    # The quarter 52 weeks earlier ends 364 days before D; the data start 399 days before D, so it
    # holds 400 - 364 = 36 days of 10 -> target 360.
    quarter = day_row(scores, "quarter")
    assert quarter["target"] == 360.0


def test_last_year_without_a_value_a_year_earlier_says_so() -> None:
    obs = permits(10.0, 12.0, MONDAY).tail(200)
    got = day_row(score_date(obs, catalog("Visits", "last_year"), NO_TARGETS, MONDAY), "week")
    assert pd.isna(got["score"]) and got["note"] == NO_LAST_YEAR


@pytest.mark.parametrize("baseline", ["weekday", "last_year"])
@pytest.mark.parametrize("direction", ["higher", "lower"])
def test_seasonal_baselines_agree_with_the_reference(baseline: str, direction: str) -> None:
    rng = np.random.default_rng(7)
    days = pd.date_range("2025-01-01", "2026-03-31", freq="D")
    days = days[rng.random(len(days)) > 0.2]
    obs = pd.DataFrame(
        {"metric": "Visits", "date": days, "value": rng.integers(0, 9, len(days)).astype(float)}
    ).assign(numerator=np.nan, denominator=np.nan)
    metrics = catalog("Visits", baseline, direction=direction, aggregation="sum")
    start, end = dt.date(2026, 3, 1), dt.date(2026, 3, 31)
    fast = score_range(obs, metrics, NO_TARGETS, start, end)
    slow = pd.DataFrame(reference_scores(obs, metrics, NO_TARGETS, start, end))
    fast = fast.assign(as_of=fast["as_of"].dt.date, metric=fast["metric"].astype(str))
    both = fast.merge(slow, on=["as_of", "metric", "period"], suffixes=("", "_ref"))
    assert len(both) == len(slow) == len(fast)
    assert (both["note"].astype(str) == both["note_ref"]).all()
    assert both["score"].notna().any()
    for column in ("value", "target", "score"):
        a, b = both[column].astype(float), both[f"{column}_ref"].astype(float)
        assert np.allclose(a, b, rtol=1e-9, equal_nan=True), column


# --- the import's warning ------------------------------------------------------------------------

METRICS = """name,direction,baseline,aggregation,allow_negative
Net New Jobs,higher,history,mean,true
Library Visits,higher,history,mean,false
"""


def values_csv(rows: list[tuple[str, dt.date, float]]) -> bytes:
    lines = ["metric,date,value"] + [f"{m},{d.isoformat()},{v}" for m, d, v in rows]
    return "\n".join(lines).encode()


def test_an_import_warns_about_a_baseline_never_above_0(kit: Kit) -> None:
    kit.import_metrics(METRICS.encode())
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=k) for k in range(200)]
    # Net new jobs swing -5 .. +5 (mean 0, sigma > 0): mean - sigma < 0 every day -> never scored.
    jobs = [("Net New Jobs", d, float(k % 11 - 5)) for k, d in enumerate(days)]
    visits = [("Library Visits", d, 100.0 + k % 7) for k, d in enumerate(days)]
    result = kit.import_values(values_csv(jobs + visits))
    assert len(result.warnings) == 1
    (warning,) = result.warnings
    assert "'Net New Jobs' can never be scored" in warning
    assert "mean minus one standard deviation" in warning
    assert f"warning: {warning}" in str(result)
    # Importing the metrics again (a change) warns again; nothing changed: no check, no warning.
    again = kit.import_metrics(
        METRICS.replace("Library Visits,higher", "Library Visits,lower").encode()
    )
    assert [w.split(":")[0] for w in again.warnings] == ["'Net New Jobs' can never be scored"]
    assert kit.import_values(values_csv(jobs)).warnings == ()


def test_no_warning_for_a_baseline_without_enough_history_yet(kit: Kit) -> None:
    kit.import_metrics(METRICS.encode())
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=k) for k in range(30)]
    jobs = [("Net New Jobs", d, float(k % 11 - 5)) for k, d in enumerate(days)]
    assert kit.import_values(values_csv(jobs)).warnings == ()  # 30 days: not yet, not never
