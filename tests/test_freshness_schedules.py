"""Data freshness counted in each metric's reporting schedule, by the engine's stale rule.

A hand-worked city as of Friday 10 July 2026, closed on Friday 19 June and Friday 3 July. June 2026
starts on a Monday; 4-5 July are a weekend. The 30-day window is 11 June - 10 July: it holds 22
weekdays, 20 business days (less 19 June and 3 July), four Sundays (14, 21, 28 June, 5 July) and one
month end (30 June).

- Permits (``weekdays``): every weekday from 1 June, none at weekends: 0 days old, 0 missing.
- Recycling (``business_days``): every business day to Thursday 2 July. After it: 3 July (closed),
  6-10 July (5 business days): 5 days old (8 calendar days: stale under a fixed 7 days), not stale;
  missing 6-10 July = 5.
- Potholes (``weekly``): counts dated 10 June (week ending 14 June), 24 June (week ending 28 June)
  and 9 July (week ending 12 July, not ended). Latest report: 28 June, 12 days old (under 14);
  missing the weeks ending 21 June and 5 July = 2.
- Jobs (``monthly``): May's figure (15 May) and June's (30 June): 10 days old, none missing.
- Lights (``daily``, ``stale_after`` 3): every day to 5 July: 5 days old, stale; missing 6-10 July = 5.
- Steady (``daily``): every day: 0 days old, none missing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from cityscore import Kit
from cityscore.apps.report.daily import daily_data
from cityscore.core.vocabulary import EARLIEST
from cityscore.engine.as_of import choose_as_of
from cityscore.engine.score import score_date
from cityscore.engine.statuses import STALE
from cityscore.engine.summary import freshness
from cityscore.pages.report_sections import freshness_html

D = dt.date(2026, 7, 10)
CLOSED = [dt.date(2026, 6, 19), dt.date(2026, 7, 3)]
SCHEDULES = {
    "Permits": "weekdays",
    "Recycling": "business_days",
    "Potholes": "weekly",
    "Jobs": "monthly",
    "Lights": "daily",
    "Steady": "daily",
}


def days(first: str, last: str) -> list[dt.date]:
    return [d.date() for d in pd.date_range(first, last, freq="D")]


def catalog() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": list(SCHEDULES),
            "definition": "",
            "category": "General",
            "unit": "",
            "direction": "higher",
            "kind": "value",
            "aggregation": "sum",
            "baseline": "target",
            "trend": False,
            "weight": 1.0,
            "schedule": list(SCHEDULES.values()),
            "stale_after": [None, None, None, None, 3, None],
        }
    )


def observations(first: str = "2026-06-01") -> pd.DataFrame:
    rows = [("Permits", d) for d in days(first, "2026-07-10") if d.weekday() < 5]
    rows += [
        ("Recycling", d) for d in days(first, "2026-07-02") if d.weekday() < 5 and d not in CLOSED
    ]
    rows += [("Potholes", dt.date(2026, 6, 10)), ("Potholes", dt.date(2026, 6, 24))]
    rows += [("Potholes", dt.date(2026, 7, 9)), ("Jobs", dt.date(2026, 6, 30))]
    rows += [("Jobs", dt.date(2026, 5, 15))]
    rows += [("Lights", d) for d in days(first, "2026-07-05")]
    rows += [("Steady", d) for d in days(first, "2026-07-10")]
    frame = pd.DataFrame(rows, columns=["metric", "date"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.assign(value=10.0, numerator=float("nan"), denominator=float("nan"))


EXPECTED = {  # metric -> (last_date, days_since, stale, missing_days), worked by hand above
    "Permits": ("2026-07-10", 0, False, 0),
    "Recycling": ("2026-07-02", 5, False, 5),
    "Potholes": ("2026-06-28", 12, False, 2),
    "Jobs": ("2026-06-30", 10, False, 0),
    "Lights": ("2026-07-05", 5, True, 5),
    "Steady": ("2026-07-10", 0, False, 0),
}


def test_freshness_counts_each_schedules_reporting_days() -> None:
    fresh = freshness(observations(), catalog(), D, window=30, closed=CLOSED).set_index("metric")
    for metric, (last, age, stale, missing) in EXPECTED.items():
        row = fresh.loc[metric]
        assert (row["last_date"], row["days_since"], row["stale"], row["missing_days"]) == (
            pd.Timestamp(last),
            age,
            stale,
            missing,
        ), metric
    assert fresh.loc["Lights", "stale_after"] == 3 and fresh.loc["Potholes", "stale_after"] == 14


def test_without_the_closed_days_a_business_day_metric_counts_them() -> None:
    fresh = freshness(observations(), catalog(), D, window=30).set_index("metric")
    # 3 July counts as a business day: 6 days old; missing 19 June, 3 July and 6-10 July.
    assert fresh.loc["Recycling", "days_since"] == 6
    assert fresh.loc["Recycling", "missing_days"] == 7


def test_the_freshness_stale_flag_is_the_engines_stale_status() -> None:
    metrics, obs = catalog(), observations("2026-03-01")
    targets = pd.DataFrame(
        {"metric": list(SCHEDULES), "effective_from": pd.Timestamp(EARLIEST), "target": 10.0}
    )
    scores = score_date(obs, metrics, targets, D, closed=CLOSED)
    engine = set(scores.loc[scores["status"].astype(object) == STALE, "metric"].astype(str))
    fresh = freshness(obs, metrics, D, closed=CLOSED)
    assert engine == set(fresh.loc[fresh["stale"], "metric"]) == {"Lights"}
    # A metric named stale (its source failed) is stale in both.
    scores = score_date(obs, metrics, targets, D, closed=CLOSED, stale_metrics=["Steady"])
    engine = set(scores.loc[scores["status"].astype(object) == STALE, "metric"].astype(str))
    fresh = freshness(obs, metrics, D, closed=CLOSED, stale_metrics=["Steady"])
    assert engine == set(fresh.loc[fresh["stale"], "metric"]) == {"Lights", "Steady"}


def test_a_given_stale_after_still_applies_to_every_metric() -> None:
    fresh = freshness(observations(), catalog(), D, stale_after=4, window=30, closed=CLOSED)
    assert set(fresh.loc[fresh["stale"], "metric"]) == {"Recycling", "Potholes", "Jobs", "Lights"}


def test_the_as_of_choice_names_the_metrics_the_engine_marks_stale() -> None:
    obs = observations()
    last = {str(m): d.date() for m, d in obs.groupby("metric")["date"].max().items()}
    choice = choose_as_of(last, list(SCHEDULES), D, metrics=catalog(), closed=CLOSED)
    assert choice.stale == {"Lights": dt.date(2026, 7, 5)}  # not Recycling: 8 days, 5 reporting
    assert "Stale on 2026-07-10" in choice.note() and "Lights (2026-07-05)" in choice.note()
    # Without a catalog every metric is daily, stale after 7 days: Recycling (8) and Jobs (10) are.
    assert set(choose_as_of(last, list(SCHEDULES), D).stale) == {"Recycling", "Jobs"}


# --- the report: the Kit, the city's [calendar], the freshness table ---------------------------


@pytest.fixture
def city(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kit:
    kit = Kit(f"sqlite:///{tmp_path / 'city.db'}")
    kit.init()
    catalog().assign(target=10, baseline="", trend="false").to_csv(
        tmp_path / "metrics.csv", index=False
    )
    kit.import_metrics(tmp_path / "metrics.csv")
    obs = observations("2026-03-01")[["metric", "date", "value"]]
    obs.assign(date=obs["date"].dt.strftime("%Y-%m-%d")).to_csv(
        tmp_path / "values.csv", index=False
    )
    kit.import_values(tmp_path / "values.csv")
    (tmp_path / "closures.csv").write_text("date\n2026-06-19\n2026-07-03\n")
    (tmp_path / "cityscore.toml").write_text('[calendar]\nclosures = "closures.csv"\n')
    monkeypatch.setenv("CITYSCORE_CONFIG", str(tmp_path / "cityscore.toml"))
    return kit


def _cells(html: str, metric: str) -> list[str]:
    row = re.search(rf"<tr><th scope=\"row\">{metric}</th>(.*?)</tr>", html, re.S)
    assert row, metric
    return re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))


def test_the_reports_freshness_table_counts_reporting_days(city: Kit) -> None:
    daily = daily_data(city, "2026-07-10", history_days=120)
    fresh = daily.freshness.set_index("metric")
    # 90 days: 12 April - 10 July. Potholes reported the weeks ending 14 and 28 June only: every
    # other Sunday of the window is a missing week. Jobs: April's figure is missing (May's, dated
    # 15 May, lies on 31 May; June's on 30 June).
    sundays = [d for d in days("2026-04-12", "2026-07-10") if d.weekday() == 6]
    assert fresh.loc["Potholes", "missing_days"] == len(sundays) - 2
    assert fresh.loc["Jobs", "missing_days"] == 1
    assert fresh.loc["Permits", "missing_days"] == 0  # weekends are not missing
    assert fresh.loc["Recycling", "missing_days"] == 5  # 3 July is closed: 6-10 July
    assert fresh.loc["Recycling", "days_since"] == 5
    assert sorted(fresh.index[fresh["stale"]]) == daily.stale_metrics() == ["Lights"]
    html = freshness_html(daily)
    stale, gaps = html.split("Missing days")
    assert _cells(stale, "Lights") == ["2026-07-05", "5"]
    assert "Recycling" not in stale and "Permits" not in html and "Steady" not in html
    assert _cells(gaps, "Recycling") == ["5 business days"]
    assert _cells(gaps, "Potholes") == [f"{len(sundays) - 2} weeks"]
    assert _cells(gaps, "Jobs") == ["1 month"]
    # The stale flag is the metric's own limit: with stale_after 10 for every metric, Lights is not.
    override = daily_data(city, "2026-07-10", history_days=120, stale_after=10)
    assert not override.freshness.set_index("metric").loc["Lights", "stale"]
    html = freshness_html(dataclasses.replace(daily, freshness=override.freshness))
    stale, gaps = html.split("Missing days")
    assert "Lights" not in stale and _cells(gaps, "Lights") == ["5 days"]


def test_the_as_of_choice_of_the_kit_uses_the_city_calendar(city: Kit) -> None:
    assert city.as_of_choice("2026-07-10").stale == {"Lights": dt.date(2026, 7, 5)}
