"""The daily report says what it shows: which day and why, stale and capped metrics, one metric's
outsized move, lists that hold what their titles say, freshness in whole days, area-only data.

A small city is worked by hand (target 10 a day, higher is better, mean of the days, weight 1 each):
Steady 10 (score 1.0), Low 8 (0.8), High 15 (1.5; 20 on the report date, so its day score goes
1.5 -> 2.0), Stopped (10, but nothing for the last 30 days: stale), and By Area, reported only by
area (North 10, South 10: a mean has no citywide score from its areas), and Never, with no
values at all (so "Days old" has a missing day count beside whole ones). The CityScore is over the
three citywide metrics that are not stale, so High alone moves the day CityScore by
(2.0 - 1.5) / 3 = 0.167 since yesterday.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pandas as pd
import pytest

from cityscore import Kit
from cityscore.apps.report import notebook as report
from cityscore.apps.report.daily import daily_data
from cityscore.pages.charts.movers import OTHERS, bar_order, contributions_chart
from cityscore.pages.display import format_value
from cityscore.pages.report_sections import headline_notes

AS_OF = pd.Timestamp("2026-10-31")
DAYS = pd.date_range(end=AS_OF, periods=60)


def _write_city(folder: Path) -> Kit:
    kit = Kit(f"sqlite:///{folder / 'city.db'}")
    kit.init()
    names = ["Steady", "Low", "High", "Stopped", "By Area", "Never"]
    pd.DataFrame(
        {
            "name": names,
            "definition": "a hand-worked metric",
            "category": ["Streets", "Streets", "Parks", "Parks", "Parks", "Parks"],
            "unit": "bags",
            "direction": "higher",
            "kind": "value",
            "aggregation": "mean",
            "target": 10,
            "baseline": "",
            "trend": "false",
            "weight": 1,
        }
    ).to_csv(folder / "metrics.csv", index=False)
    kit.import_metrics(folder / "metrics.csv")
    rows = []
    for day in DAYS:
        date = day.strftime("%Y-%m-%d")
        rows += [
            {"metric": "Steady", "date": date, "value": 10, "area": ""},
            {"metric": "Low", "date": date, "value": 8, "area": ""},
            {"metric": "High", "date": date, "value": 20 if day == AS_OF else 15, "area": ""},
            {"metric": "By Area", "date": date, "value": 10, "area": "North"},
            {"metric": "By Area", "date": date, "value": 10, "area": "South"},
        ]
        if day <= AS_OF - pd.Timedelta(days=30):
            rows.append({"metric": "Stopped", "date": date, "value": 10, "area": ""})
    pd.DataFrame(rows).to_csv(folder / "values.csv", index=False)
    kit.import_values(folder / "values.csv")
    return kit


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    return _write_city(tmp_path_factory.mktemp("reasons"))


@pytest.fixture(scope="module")
def daily(city: Kit) -> report.DailyData:
    return daily_data(city, history_days=45)


def test_the_headline_says_which_day_and_why(city: Kit, daily: report.DailyData) -> None:
    assert daily.as_of == AS_OF
    head = report.headline_html(daily, "Hand City")
    assert "Saturday 31 October 2026: the latest day with data." in head
    asked = daily_data(city, "2026-10-30", history_days=30)
    assert asked.why == (
        "Friday 30 October 2026: the date asked for; 4 metrics have data for later days"
    )


def test_the_headline_names_the_stale_metrics(daily: report.DailyData) -> None:
    assert daily.stale_metrics() == ["Stopped"]
    notes = headline_notes(daily)
    assert "1 metric is stale (no recent data) and left out of the CityScore: Stopped." in notes
    board = report.scoreboard_html(daily)
    row = re.search(r'<tr data-name="stopped">(.*?)</tr>', board, re.S)
    assert row and 'class="cell stale"' in row.group(1)


def test_one_metric_moving_the_cityscore_by_more_than_the_threshold_is_named(
    daily: report.DailyData,
) -> None:
    # (2.0 - 1.5) / 3 metrics scored = 0.167, above the 0.05 the report names.
    notes = headline_notes(daily)
    moved = [n for n in notes if n.startswith("One metric alone moved")]
    assert moved == [
        "One metric alone moved the CityScore by more than 0.05 since yesterday: High (+0.167)."
    ]
    assert not [n for n in headline_notes(daily, threshold=0.2) if "moved" in n]


def test_capped_scores_are_marked_on_the_board_and_named_in_the_headline(city: Kit) -> None:
    capped = daily_data(city, history_days=30, cap=1.2)
    assert capped.capped_metrics() == ["High"]  # 1.5 (and 2.0 today) held at 1.2
    assert "1 metric scored above the cap and is capped at 1.2: High." in headline_notes(capped)
    row = re.search(r'<tr data-name="high">(.*?)</tr>', report.scoreboard_html(capped), re.S)
    assert row and row.group(1).count("capped at 1.2") == 4  # every period


def test_the_board_shows_each_value_and_target_with_the_unit(daily: report.DailyData) -> None:
    board = report.scoreboard_html(daily, ["day", "week"])
    row = re.search(r'<tr data-name="low">(.*?)</tr>', board, re.S)
    assert row and row.group(1).count("8 bags, target 10") == 2  # mean of 8 against 10 a day


def test_lists_hold_only_what_their_titles_say(daily: report.DailyData) -> None:
    assert daily.exceeding["metric"].tolist() == ["High", "Steady"]  # 1.57.. and 1.0
    assert daily.follow_up["metric"].tolist() == ["Low"]
    html = report.leaders_html(daily)
    assert "Exceeding (week score 1 or more)" in html and "8 bags, target 10" in html
    none = dataclasses.replace(daily, exceeding=daily.exceeding.iloc[0:0])
    assert "no metric&#x27;s week score is 1 or more" in report.leaders_html(none)


def test_freshness_counts_whole_days_and_area_only_data(daily: report.DailyData) -> None:
    fresh = daily.freshness.set_index("metric")
    assert fresh.loc["By Area", "last_date"] == AS_OF  # its areas' latest day
    assert not fresh.loc["By Area", "stale"]
    html = report.freshness_html(daily)
    stale = html.split("Missing days")[0]
    assert "By Area" not in stale
    row = re.search(r"<tr><th scope=\"row\">Stopped</th>(.*?)</tr>", stale, re.S)
    assert row and re.findall(r"<td[^>]*>(.*?)</td>", row.group(1)) == ["2026-10-01", "30"]


def test_why_it_moved_sorts_bars_by_contribution_with_the_rest_last() -> None:
    contrib = pd.DataFrame(
        {
            "metric": ["Alpha", "Zed", "Mid", f"{OTHERS} (3)"],
            "category": "c",
            "before": 1.0,
            "now": 1.0,
            "contribution": [-0.2, 0.3, 0.01, 0.5],
            "since": "since yesterday",
        }
    )
    assert bar_order(contrib).tolist() == [3, 1, 2, 4]  # Zed, Mid, Alpha, then the rest
    spec = contributions_chart(contrib).to_dict()
    assert spec["encoding"]["y"]["sort"] == {"field": "rank", "op": "min", "order": "ascending"}


def test_a_gap_is_two_decimals_never_a_band_edge_score() -> None:
    assert format_value(0.8998, "decimal") == "0.90"  # as a score it would be "0.8998"
    assert format_value(0.8998, "number") == "0.8998"
