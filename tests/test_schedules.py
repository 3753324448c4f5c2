"""Reporting schedules and stale metrics on a hand-worked city (the worked example of
docs/methodology.md, "Schedules"), scored exactly by the engine and by the slow reference.

The as-of date is Friday 10 July 2026. The city is closed on Friday 19 June (Juneteenth, a public
holiday) and Friday 3 July (its own closure). Calendar: June 2026 starts on a Monday; 4 and 5 July
are a Saturday and a Sunday. Windows: day = 10 Jul; week = 4-10 Jul; month (30 days) = 11 Jun-10 Jul.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from cityscore.core.errors import CatalogError
from cityscore.core.vocabulary import EARLIEST
from cityscore.engine.reference import reference_scores
from cityscore.engine.score import score_date, score_range
from cityscore.engine.statuses import NO_REPORTING_DAY, STALE

D = dt.date(2026, 7, 10)
CLOSED = [dt.date(2026, 6, 19), dt.date(2026, 7, 3)]
PERIODS = {"day": 1, "week": 7, "month": 30}
DOCS = Path(__file__).resolve().parent.parent / "docs" / "methodology.md"

PERMITS = "Building permits issued"  # weekdays, sum, 10 a weekday
RECYCLING = "Recycling collected"  # business days, sum, 20 tons a business day
POTHOLES = "Pothole backlog"  # weekly, mean, lower is better, 40
JOBS = "Net new jobs"  # monthly, sum, 300 a month
LIGHTS = "Streetlights on"  # daily, mean, 0.9: stopped reporting on 1 July


def metric(name: str, schedule: str, **settings: object) -> dict[str, object]:
    row: dict[str, object] = {
        "name": name,
        "definition": "",
        "category": "General",
        "unit": "",
        "direction": "higher",
        "kind": "value",
        "aggregation": "sum",
        "baseline": "target",
        "trend": False,
        "weight": 1.0,
        "schedule": schedule,
        "stale_after": None,
    }
    row.update(settings)
    return row


def days(first: str, last: str) -> list[dt.date]:
    return [d.date() for d in pd.date_range(first, last, freq="D")]


def city() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(metrics, targets, observations) of the worked example."""
    metrics = pd.DataFrame(
        [
            metric(PERMITS, "weekdays"),
            metric(RECYCLING, "business_days"),
            metric(POTHOLES, "weekly", aggregation="mean", direction="lower"),
            metric(JOBS, "monthly"),
            metric(LIGHTS, "daily", aggregation="mean"),
        ]
    )
    targets = pd.DataFrame(
        {
            "metric": [PERMITS, RECYCLING, POTHOLES, JOBS, LIGHTS],
            "effective_from": pd.Timestamp(EARLIEST),
            "target": [10.0, 20.0, 40.0, 300.0, 0.9],
        }
    )
    rows = []
    # Permits: 10 on every weekday from 1 June (3 July too: a weekday metric ignores closures).
    rows += [(PERMITS, d, 10.0) for d in days("2026-06-01", "2026-07-10") if d.weekday() < 5]
    # Recycling: 20 tons every business day (none on the closed days), 30 on 10 July.
    business = [d for d in days("2026-06-01", "2026-07-09") if d.weekday() < 5 and d not in CLOSED]
    rows += [(RECYCLING, d, 20.0) for d in business] + [(RECYCLING, D, 30.0)]
    # Potholes: one count a week, dated any day; two in the week of 22 June (averaged: 40); the
    # count of 9 July belongs to the week ending Sunday 12 July, which has not ended yet.
    rows += [
        (POTHOLES, dt.date(2026, 6, 10), 50.0),  # week ending Sun 14 Jun
        (POTHOLES, dt.date(2026, 6, 19), 40.0),  # week ending Sun 21 Jun
        (POTHOLES, dt.date(2026, 6, 22), 30.0),  # week ending Sun 28 Jun
        (POTHOLES, dt.date(2026, 6, 24), 50.0),  # week ending Sun 28 Jun
        (POTHOLES, dt.date(2026, 7, 2), 35.0),  # week ending Sun 5 Jul
        (POTHOLES, dt.date(2026, 7, 9), 32.0),  # week ending Sun 12 Jul: not yet
    ]
    # Jobs: one figure a month; July's (dated 6 July) counts once July has ended.
    rows += [
        (JOBS, dt.date(2026, 5, 28), 250.0),  # May
        (JOBS, dt.date(2026, 6, 30), 330.0),  # June
        (JOBS, dt.date(2026, 7, 6), 280.0),  # July: not yet
    ]
    # Streetlights: 0.95 every day from 1 June to 1 July, then nothing.
    rows += [(LIGHTS, d, 0.95) for d in days("2026-06-01", "2026-07-01")]
    observations = pd.DataFrame(rows, columns=["metric", "date", "value"])
    observations["date"] = pd.to_datetime(observations["date"])
    return metrics, targets, observations.assign(numerator=float("nan"), denominator=float("nan"))


def scores(day: dt.date = D, **options: object) -> pd.DataFrame:
    metrics, targets, observations = city()
    options = {"closed": CLOSED, "periods": PERIODS, **options}
    frame = score_date(observations, metrics, targets, day, **options)  # type: ignore[arg-type]
    return frame.assign(metric=frame["metric"].astype(str), period=frame["period"].astype(str))


def row(frame: pd.DataFrame, metric: str, period: str) -> pd.Series:
    return frame[(frame["metric"] == metric) & (frame["period"] == period)].iloc[0]


# Every number worked by hand: (metric, period) -> (value, target, score).
HAND_WORKED = {
    # Weekdays: week 4-10 Jul holds 5 weekdays -> target 5 x 10 = 50; value 5 x 10 = 50; score 1.
    (PERMITS, "day"): (10.0, 10.0, 1.0),
    (PERMITS, "week"): (50.0, 50.0, 1.0),
    # 11 Jun-10 Jul: 11, 12 Jun + four full weeks (15 Jun-10 Jul) = 2 + 20 = 22 weekdays.
    (PERMITS, "month"): (220.0, 220.0, 1.0),
    # Business days: 10 Jul is one: 30 / 20 = 1.5. Week: 5 business days, 4 x 20 + 30 = 110 / 100.
    (RECYCLING, "day"): (30.0, 20.0, 1.5),
    (RECYCLING, "week"): (110.0, 100.0, 1.1),
    # Month: 22 weekdays less 19 Jun and 3 Jul = 20 -> target 400; value 19 x 20 + 30 = 410.
    (RECYCLING, "month"): (410.0, 400.0, 410 / 400),
    # Weekly: the week window holds Sunday 5 Jul (the week of 29 Jun-5 Jul): 35 -> 40 / 35.
    (POTHOLES, "week"): (35.0, 40.0, 40 / 35),
    # Month: Sundays 14, 21, 28 Jun and 5 Jul: mean(50, 40, (30 + 50) / 2, 35) = 165 / 4 = 41.25.
    (POTHOLES, "month"): (41.25, 40.0, 40 / 41.25),
    # Monthly: the month window holds 30 June (June's report): 330 against 1 x 300.
    (JOBS, "month"): (330.0, 300.0, 1.1),
    # Stale: days 11 Jun-1 Jul have 0.95 (mean 0.95) -> 0.95 / 0.9, kept but not counted.
    (LIGHTS, "month"): (0.95, 0.9, 0.95 / 0.9),
}


def test_every_hand_worked_number() -> None:
    frame = scores()
    for (name, period), (value, target, score) in HAND_WORKED.items():
        got = row(frame, name, period)
        assert got["value"] == pytest.approx(value, rel=1e-12), (name, period)
        assert got["target"] == pytest.approx(target, rel=1e-12), (name, period)
        assert got["score"] == pytest.approx(score, rel=1e-12), (name, period)


def test_a_weekday_sum_on_target_scores_exactly_1_where_calendar_days_gave_0_71() -> None:
    assert row(scores(), PERMITS, "week")["score"] == 1.0
    metrics, targets, observations = city()
    daily = metrics.assign(schedule=metrics["schedule"].where(metrics["name"] != PERMITS, "daily"))
    frame = score_date(observations, daily, targets, D, periods=PERIODS, closed=CLOSED)
    week = frame[(frame["metric"] == PERMITS) & (frame["period"] == "week")].iloc[0]
    assert week["target"] == 70.0  # 7 calendar days x 10
    assert week["score"] == pytest.approx(50 / 70)  # 0.714: on target, yet "below"


def test_a_window_without_a_reporting_day_has_no_score_and_says_so() -> None:
    frame = scores()
    for name, period in [(POTHOLES, "day"), (JOBS, "day"), (JOBS, "week")]:
        got = row(frame, name, period)
        assert pd.isna(got["score"]) and got["note"] == NO_REPORTING_DAY, (name, period)
    saturday = scores(dt.date(2026, 7, 11))
    assert row(saturday, PERMITS, "day")["note"] == NO_REPORTING_DAY
    assert row(saturday, PERMITS, "week")["score"] == 1.0  # 5-11 Jul: 5 weekdays, 50
    closure = scores(dt.date(2026, 7, 3))  # a Friday, but the city is closed
    assert row(closure, RECYCLING, "day")["note"] == NO_REPORTING_DAY
    assert row(closure, PERMITS, "day")["score"] == 1.0  # weekdays: closures do not count
    # Without the closures 3 July is a business day with no value.
    assert row(scores(dt.date(2026, 7, 3), closed=[]), RECYCLING, "day")["note"] == (
        "no data in the window"
    )


def test_the_stale_metric_is_marked_in_every_period_and_left_out_of_the_cityscore() -> None:
    frame = scores()
    lights = frame[frame["metric"] == LIGHTS]
    assert (lights["status"] == STALE).all()  # 9 days since 1 Jul > 7
    assert (frame.loc[frame["metric"] != LIGHTS, "status"] != STALE).all()
    city_score = frame[frame["metric"] == "CityScore"].set_index("period")
    # Day: permits 1, recycling 1.5 -> 1.25. Week: 1, 1.1, 40/35. Month: 1, 1.025, 40/41.25, 1.1.
    assert city_score.loc["day", "score"] == pytest.approx(1.25)
    assert city_score.loc["week", "score"] == pytest.approx((1 + 1.1 + 40 / 35) / 3)
    assert city_score.loc["month", "score"] == pytest.approx((1 + 1.025 + 40 / 41.25 + 1.1) / 4)
    assert city_score.loc["month", "note"] == "4 of 5 metrics scored"
    kept = scores(count_stale=True).query("metric == 'CityScore'").set_index("period")
    assert kept.loc["month", "score"] == pytest.approx(
        (1 + 1.025 + 40 / 41.25 + 1.1 + 0.95 / 0.9) / 5
    )


def test_freshness_counts_reporting_days_from_the_as_of_date() -> None:
    # Streetlights (daily, 7): last value 1 Jul; on 8 Jul 7 days old (fresh), on 9 Jul 8 (stale).
    assert row(scores(dt.date(2026, 7, 8)), LIGHTS, "month")["status"] != STALE
    assert row(scores(dt.date(2026, 7, 9)), LIGHTS, "month")["status"] == STALE
    # Permits (weekdays) with stale_after 1 and no value after Fri 10 Jul: on Mon 13 Jul one
    # weekday (13th) has passed -> fresh; on Tue 14 Jul two -> stale. The weekend does not count.
    metrics, targets, observations = city()
    metrics.loc[metrics["name"] == PERMITS, "stale_after"] = 1
    for day, stale in [(dt.date(2026, 7, 13), False), (dt.date(2026, 7, 14), True)]:
        frame = score_date(observations, metrics, targets, day, periods=PERIODS, closed=CLOSED)
        got = frame[frame["metric"] == PERMITS]["status"]
        assert (got == STALE).all() == stale, day
    # Jobs (monthly, 45): July's report (dated 6 Jul) lies on 31 Jul, the end of its month; it is
    # 45 days old on 14 Sep (fresh) and 46 on 15 Sep (stale).
    for day, stale in [(dt.date(2026, 9, 14), False), (dt.date(2026, 9, 15), True)]:
        frame = score_date(
            observations, metrics, targets, day, periods={"month": 60}, closed=CLOSED
        )
        got = frame[frame["metric"] == JOBS]["status"]
        assert (got == STALE).all() == stale, day


def test_a_metric_named_stale_is_stale_whatever_its_dates() -> None:
    frame = scores(stale_metrics=[PERMITS])
    assert (frame.loc[frame["metric"] == PERMITS, "status"] == STALE).all()
    assert row(frame, PERMITS, "week")["score"] == 1.0  # the score is kept
    assert row(frame, "CityScore", "day")["score"] == 1.5  # recycling alone


def test_the_engine_agrees_with_the_reference_on_the_worked_example() -> None:
    metrics, targets, observations = city()
    start, end = dt.date(2026, 6, 28), dt.date(2026, 8, 3)
    options = {"periods": {"day": 1, "week": 7, "month": 30, "quarter": 90}, "closed": CLOSED}
    fast = score_range(observations, metrics, targets, start, end, **options)
    slow = pd.DataFrame(reference_scores(observations, metrics, targets, start, end, **options))
    assert len(fast) == len(slow)
    fast = fast.assign(as_of=fast["as_of"].dt.date, metric=fast["metric"].astype(str))
    merged = fast.merge(slow, on=["as_of", "metric", "period"], suffixes=("", "_ref"))
    assert len(merged) == len(slow)
    assert (merged["note"].astype(str) == merged["note_ref"]).all()
    for column in ("value", "target", "score"):
        a, b = merged[column].astype(float), merged[f"{column}_ref"].astype(float)
        assert (((a - b).abs() <= 1e-9 * b.abs().clip(lower=1)) | (a.isna() & b.isna())).all()
    assert ((merged["status"].astype(str) == STALE) == merged["stale"]).all()


def test_the_methodology_worked_example_states_these_numbers() -> None:
    """Each ``| metric | period | value | target | score |`` line of the doc's worked example."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("### Worked example: schedules", 1)[1].split("\n## ", 1)[0]
    lines = re.findall(
        r"^\| ([^|]+?) \| (day|week|month) \| ([\d.,]+) \| ([\d.,]+) \| ([\d.]+) \|",
        section,
        flags=re.M,
    )
    assert len(lines) == len(HAND_WORKED)
    frame = scores()
    for name, period, value, target, score in lines:
        got = row(frame, name, period)
        assert got["value"] == pytest.approx(float(value.replace(",", "")), rel=1e-9)
        assert got["target"] == pytest.approx(float(target.replace(",", "")), rel=1e-9)
        assert round(got["score"], 3) == float(score), (name, period)


def test_a_bad_schedule_or_stale_after_in_a_frame_is_refused() -> None:
    metrics, targets, observations = city()
    with pytest.raises(CatalogError, match="schedule must be one of"):
        score_date(observations, metrics.assign(schedule="hourly"), targets, D)
    with pytest.raises(CatalogError, match="stale_after must be a whole number"):
        score_date(observations, metrics.assign(stale_after=0.5), targets, D)
