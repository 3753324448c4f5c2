"""The exploration views and the Explorer widgets, driven in plain pytest like a person would."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import re

import pandas as pd
import pytest

from cityscore import ConfigError, Kit
from cityscore.apps.explorer.areas import area_slice
from cityscore.apps.explorer.board import (
    BOARD_CHART_ROWS,
    board_chart_rows,
    leader_lists,
    scoreboard_view,
)
from cityscore.apps.explorer.cache import HISTORY_DAYS, ScoreCache
from cityscore.apps.explorer.change import CHANGE_CHART_ROWS, change_view, citywide_change
from cityscore.apps.explorer.choices import ALL, Selection, category_metrics
from cityscore.apps.explorer.key_scores import key_numbers
from cityscore.apps.explorer.markup import view_table_html
from cityscore.apps.explorer.metric import (
    daily_values,
    history_description,
    metric_percentile,
    raw_observations,
    window_view,
)
from cityscore.apps.explorer.widget import VIEWS, Explorer, compute_views
from cityscore.core.vocabulary import CITYWIDE
from cityscore.engine.summary import category_scores
from cityscore.pages.render import round_half_even

from .conftest import DEMO_END

AS_OF = pd.Timestamp(DEMO_END)
EMS = "EMS Response Time"  # its target changes on 2026-07-03 in the demo city
RATIO = "311 Calls Answered On Time"


@pytest.fixture(scope="module")
def demo(demo_db_file) -> dict:
    kit = Kit(f"sqlite:///{demo_db_file}")
    start = AS_OF - pd.Timedelta(days=364)
    return {
        "kit": kit,
        "scores": kit.scores(start=start, end=AS_OF),
        "obs": kit.store.observations(
            (start - pd.Timedelta(days=90)).date(), DEMO_END, with_source=True
        ),
        "metrics": kit.metrics(),
        "targets": kit.targets(),
    }


@pytest.fixture(scope="module")
def explorer(demo) -> Explorer:
    return Explorer(demo["kit"])


# --- pure views ----------------------------------------------------------------------------------


def test_scoreboard_puts_the_cityscore_first_then_the_lowest_scores(demo):
    board = scoreboard_view(demo["scores"], demo["metrics"], AS_OF, "week")
    city = demo["scores"].query("metric == 'CityScore' and period == 'week' and as_of == @AS_OF")
    assert board.iloc[0]["metric"] == "CityScore"
    assert board.iloc[0]["score"] == pytest.approx(city["score"].iloc[0])
    metric_scores = board["score"].iloc[1:].dropna().to_numpy()
    assert (metric_scores[:-1] <= metric_scores[1:]).all()
    assert set(board["metric"].iloc[1:]) == set(demo["metrics"]["name"])


def test_scoreboard_category_filter_shows_that_category_and_its_score(demo):
    board = scoreboard_view(demo["scores"], demo["metrics"], AS_OF, "month", "Public Safety")
    expected = demo["metrics"].query("category == 'Public Safety'")["name"]
    assert set(board["metric"].iloc[1:]) == set(expected)
    cats = category_scores(demo["scores"][demo["scores"]["as_of"] == AS_OF], demo["metrics"])
    cat = cats.query("category == 'Public Safety' and period == 'month'")
    assert board.iloc[0]["score"] == pytest.approx(cat["score"].iloc[0])


def test_unknown_choices_say_what_is_allowed(demo):
    with pytest.raises(ConfigError, match=r"unknown period 'fortnight'.*day, week"):
        scoreboard_view(demo["scores"], demo["metrics"], AS_OF, "fortnight")
    with pytest.raises(ConfigError, match="unknown category 'Parks'"):
        category_metrics(demo["metrics"], "Parks")


def test_daily_values_use_ratios_and_mark_the_target_change(demo):
    ems = daily_values(demo["obs"], demo["scores"], demo["targets"], EMS)
    assert ems.loc[ems["target_change"], "date"].tolist() == [pd.Timestamp("2026-07-03")]
    assert (
        ems.set_index("date").loc["2026-07-02", "target"]
        != ems.set_index("date").loc["2026-07-03", "target"]
    )
    ratio = daily_values(demo["obs"], demo["scores"], demo["targets"], RATIO).set_index("date")
    raw = demo["obs"].query("metric == @RATIO").set_index("date")
    day = raw.index.intersection(ratio.index)[-1]
    assert ratio.loc[day, "value"] == pytest.approx(
        raw.loc[day, "numerator"] / raw.loc[day, "denominator"]
    )


def test_window_view_counts_the_days_behind_each_score(demo):
    windows = window_view(demo["scores"], demo["obs"], RATIO, AS_OF).set_index("period")
    dates = demo["obs"].query("metric == @RATIO")["date"]
    for period, days in {"day": 1, "week": 7, "month": 30, "quarter": 90}.items():
        start = AS_OF - pd.Timedelta(days=days - 1)
        assert windows.loc[period, "window_start"] == start
        assert windows.loc[period, "days_with_data"] == ((dates >= start) & (dates <= AS_OF)).sum()
        row = demo["scores"].query("metric == @RATIO and period == @period and as_of == @AS_OF")
        assert windows.loc[period, "score"] == pytest.approx(row["score"].iloc[0])


def test_raw_observations_are_the_window_with_source_and_batch(demo):
    raw = raw_observations(demo["obs"], RATIO, AS_OF, "month")
    assert {"source", "batch_id"} <= set(raw.columns)
    assert raw["date"].min() >= AS_OF - pd.Timedelta(days=29)
    assert raw["date"].max() <= AS_OF
    assert raw["date"].is_monotonic_decreasing
    assert set(raw["metric"]) == {RATIO}


def test_percentile_is_todays_day_score_in_its_own_year(demo):
    pct = metric_percentile(demo["scores"], RATIO, AS_OF)
    history = demo["scores"].query("metric == @RATIO and period == 'day'")["score"].dropna()
    today = (
        demo["scores"]
        .query("metric == @RATIO and period == 'day' and as_of == @AS_OF")["score"]
        .iloc[0]
    )
    assert pct["percentile"].iloc[0] == pytest.approx(100 * (history <= today).mean())


def test_change_contributions_add_up_to_the_citywide_change(demo):
    change = change_view(demo["scores"], demo["metrics"], AS_OF, 7, "week")
    before, now = citywide_change(demo["scores"], AS_OF, 7, "week")
    assert change["contribution"].sum() == pytest.approx(now - before)
    assert now != before
    safety = change_view(demo["scores"], demo["metrics"], AS_OF, 7, "week", "Public Safety")
    assert set(safety["metric"]) == set(
        demo["metrics"].query("category == 'Public Safety'")["name"]
    )


def test_leader_lists_never_hold_a_metric_twice(demo):
    lists = leader_lists(demo["scores"], demo["metrics"], AS_OF, "week")
    assert (lists["list"] == "exceeding").sum() == 5
    assert (lists["list"] == "needs follow-up").sum() == 5
    assert not lists["metric"].duplicated().any()
    top = lists[lists["list"] == "exceeding"]["score"].min()
    bottom = lists[lists["list"] == "needs follow-up"]["score"].max()
    assert top >= bottom
    small = leader_lists(demo["scores"], demo["metrics"], AS_OF, "week", "Public Safety")
    assert set(small["metric"]) <= set(demo["metrics"].query("category == 'Public Safety'")["name"])
    assert not small["metric"].duplicated().any()


def test_views_never_mutate_their_inputs(demo):
    copies = {k: demo[k].copy() for k in ("scores", "obs", "metrics", "targets")}
    selection = Selection(AS_OF, "week", "Public Safety", EMS, 7)
    compute_views(demo["scores"], demo["obs"], demo["metrics"], demo["targets"], selection)
    for key, frame in copies.items():
        pd.testing.assert_frame_equal(demo[key], frame)


def test_tables_escape_user_text_and_round_half_even():
    frame = pd.DataFrame({"metric": ["<script>alert(1)</script>"], "score": [0.125]})
    text = view_table_html(frame, caption="<b>caption</b>")
    assert "<script>" not in text and "<b>" not in text
    assert "&lt;script&gt;" in text
    assert "0.12" in text


def test_tables_keep_the_explorers_decimals_and_show_status_as_symbol_and_word():
    frame = pd.DataFrame(
        {
            "metric": ["A", "B"],
            "contribution": [0.01234, -0.0005],
            "percentile": [12.25, 50.0],
            "status": ["below", None],
            "week status": ["meeting", "near"],
        }
    )
    text = view_table_html(frame, caption="c", max_rows=1)
    assert ">0.012<" in text and ">12.2<" in text  # 3 and 1 decimals, half-to-even
    assert "✗</span> below" in text and "✓</span> meeting" in text
    assert "1 more row in the CSV download" in text


def test_key_numbers_print_the_engine_scores(demo):
    text = key_numbers(demo["kit"], AS_OF, [EMS])
    city = (
        demo["scores"]
        .query("metric == 'CityScore' and period == 'day' and as_of == @AS_OF")["score"]
        .iloc[0]
    )
    assert f"CityScore: day {round_half_even(city, 4)}," in text
    assert text.splitlines()[2].startswith(f"{EMS}: day ")
    with pytest.raises(ConfigError, match="unknown metric 'Nope'"):
        key_numbers(demo["kit"], AS_OF, ["Nope"])


# --- the widgets ---------------------------------------------------------------------------------


def test_explorer_starts_on_the_default_date(explorer, demo):
    assert demo["kit"].default_as_of() == DEMO_END  # in the demo, the latest date
    assert explorer.as_of.value == DEMO_END
    assert explorer.frames["scoreboard"].iloc[0]["metric"] == "CityScore"
    assert "CityScore (week) on 2026-10-31" in explorer.message.value


def test_picking_a_metric_updates_the_detail_and_its_chart(explorer):
    explorer.metric.value = RATIO
    first_chart = explorer.detail_chart.value
    explorer.metric.value = EMS
    assert set(explorer.frames["raw"]["metric"]) == {EMS}
    assert explorer.frames["daily"]["target_change"].sum() == 1
    assert explorer.detail_chart.value != first_chart
    assert "<svg" in explorer.detail_chart.value
    assert EMS in explorer.detail_chart.value  # the chart title names the metric
    assert EMS in explorer.detail.value


def test_category_filter_narrows_the_metric_picker(explorer, demo):
    explorer.category.value = "Community & Culture"
    names = demo["metrics"].query("category == 'Community & Culture'")["name"].tolist()
    assert list(explorer.metric.options) == names
    assert explorer.metric.value in names
    assert set(explorer.frames["change"]["metric"]) == set(names)
    explorer.category.value = ALL
    assert len(explorer.metric.options) == len(demo["metrics"])


@pytest.mark.slow
def test_moving_the_date_and_period_recomputes_the_views(explorer, demo):
    explorer.period.value = "month"
    explorer.as_of.value = dt.date(2026, 9, 30)
    board = explorer.frames["scoreboard"]
    expected = demo["kit"].scores("2026-09-30").query("metric == 'CityScore' and period == 'month'")
    assert board.iloc[0]["score"] == pytest.approx(expected["score"].iloc[0])
    assert explorer.frames["raw"]["date"].max() <= pd.Timestamp("2026-09-30")
    assert len(explorer.frames["history"]) == HISTORY_DAYS
    explorer.as_of.value = DEMO_END
    explorer.period.value = "week"


def test_download_gives_the_open_tabs_table_as_csv(explorer):
    explorer.tabs.selected_index = 0
    explorer.download.click()
    href = re.search(
        r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', explorer.link.value
    ).group(1)
    board = pd.read_csv(io.StringIO(base64.b64decode(href).decode("utf-8")))
    assert board["metric"].tolist() == explorer.frames["scoreboard"]["metric"].tolist()
    assert 'download="cityscore-scoreboard-week-2026-10-31.csv"' in explorer.link.value
    explorer.tabs.selected_index = 2  # switching tabs drops the stale link
    assert explorer.link.value == ""
    text = explorer.prepare_download()
    change = pd.read_csv(io.StringIO(text))
    assert change["contribution"].to_numpy() == pytest.approx(
        explorer.frames["change"]["contribution"].to_numpy()
    )
    explorer.tabs.selected_index = 0


def test_clearing_the_date_asks_for_one_instead_of_failing(explorer):
    explorer.as_of.value = None
    assert "Pick a date" in explorer.message.value
    explorer.as_of.value = DEMO_END
    assert "CityScore (week) on 2026-10-31" in explorer.message.value


def test_notebook_display_is_the_widget_with_a_short_text(explorer):
    bundle = explorer._repr_mimebundle_()
    assert (
        bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.widget.model_id
    )
    assert bundle["text/plain"] == "CityScore Explorer: 20 metrics, as of 2026-10-31"


def _caption(figure: str) -> str:
    """The text alternative of a chart figure, as a screen reader reads it."""
    return html.unescape(re.search(r"<figcaption[^>]*>(.*?)</figcaption>", figure, re.S).group(1))


# --- a real city's size: 300 metrics, two years of daily data ------------------------------------

BIG = 300


@pytest.fixture(scope="module")
def big(big_city) -> Explorer:
    return Explorer(Kit(f"sqlite:///{big_city(BIG)}"))


def test_explorer_at_300_metrics_draws_bounded_charts_and_lists_every_metric(big):
    board = big.frames["scoreboard"]
    assert len(board) == BIG + 1  # the table (and the CSV) keep every metric
    assert len(big.metric.options) == BIG
    drawn = board_chart_rows(board)
    assert len(drawn) == BOARD_CHART_ROWS
    assert drawn == board["metric"].iloc[1 : BOARD_CHART_ROWS + 1].tolist()  # the lowest
    for figure in (big.board_chart, big.detail_chart, big.history_chart, big.change_chart):
        assert "<svg" in figure.value, figure.value[:300]  # drawn, not "chart not available"
        assert "<figcaption" in figure.value and "<details>" in figure.value
    caption = _caption(big.board_chart.value)
    assert f"Of {BIG} metrics" in caption
    counts = board["status"].iloc[1:].value_counts()
    said = {word: int(n) for n, word in re.findall(r"(\d+) (meeting|near|below)", caption)}
    assert said == {word: int(counts.get(word, 0)) for word in ("meeting", "near", "below")}
    change = _caption(big.change_chart.value)
    assert f"the {CHANGE_CHART_ROWS} largest of {BIG} contributions" in change
    # The board's data table holds exactly the drawn metrics.
    details = big.board_chart.value.split("<details>")[1]
    assert re.findall(r"<tr><th scope=\"row\"[^>]*>([^<]*)</th>", details) == drawn


def test_search_narrows_the_picker_and_the_board_at_300_metrics(big):
    big.search.value = "Metric 012"
    expected = [f"Metric {i:04d}" for i in range(120, 130)]
    assert sorted(big.metric.options) == expected
    assert big.metric.value in expected
    assert set(big.frames["scoreboard"]["metric"].iloc[1:]) == set(expected)
    assert "names containing “Metric 012”" in big.board_chart.value
    big.search.value = "no such metric"
    assert big.metric.value is None
    assert "change or clear Find metric" in big.message.value
    big.search.value = ""
    assert len(big.metric.options) == BIG


def test_board_order_highest_first_draws_the_top_scores(big):
    big.board_order.value = "highest"
    board = big.frames["scoreboard"]
    scores = board["score"].iloc[1:].dropna().to_numpy()
    assert (scores[:-1] >= scores[1:]).all()
    assert "the 30 with the highest week scores" in big.board_chart.value
    big.board_order.value = "lowest"


def test_key_numbers_can_skip_metrics_another_city_lacks(demo):
    text = key_numbers(demo["kit"], AS_OF, [EMS, "Nope"], skip_unknown=True)
    assert text.splitlines()[2].startswith(f"{EMS}: day ")
    assert text.splitlines()[-1] == "not in this city's catalog: Nope"
    assert key_numbers(demo["kit"], AS_OF, [EMS], skip_unknown=True) == key_numbers(
        demo["kit"], AS_OF, [EMS]
    )


# --- areas: the picker and the comparison tab ------------------------------------------------------

TINY_METRICS = """name,category,direction,kind,aggregation,target
Library Visits,Culture,higher,value,mean,100
Pool Hours,Culture,higher,value,mean,10
"""
# Every day from 2026-10-22 to 2026-10-31 the same value, so every period's mean is that value.
TINY_VALUES = {"Library Visits": {"": 100, "North": 120, "South": 60}}
TINY_VALUES["Pool Hours"] = {"": 10, "North": 5, "South": 15}
TINY_END = dt.date(2026, 10, 31)


def tiny_city(path, values: dict = TINY_VALUES) -> Kit:
    """Two metrics (targets 100 and 10) with citywide and per-area values for ten days."""
    kit = Kit(f"sqlite:///{path / 'tiny.db'}")
    kit.init()
    (path / "metrics.csv").write_text(TINY_METRICS)
    kit.import_metrics(path / "metrics.csv")
    rows = ["metric,date,area,value"]
    for day in pd.date_range(TINY_END - dt.timedelta(days=9), TINY_END):
        for metric, by_area in values.items():
            rows += [f"{metric},{day.date()},{_quoted(a)},{v}" for a, v in by_area.items()]
    (path / "values.csv").write_text("\n".join(rows) + "\n")
    kit.import_values(path / "values.csv")
    return kit


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Explorer:
    return Explorer(tiny_city(tmp_path_factory.mktemp("tiny")))


def _row(frame: pd.DataFrame, metric: str) -> pd.Series:
    return frame.set_index("metric").loc[metric]


def test_the_area_picker_switches_every_view_to_that_areas_scores(tiny):
    assert [label for label, _ in tiny.area.options] == ["Citywide", "North", "South"]
    assert tiny.area in tiny.widget.children[1].children  # beside the date, period and category
    board = tiny.frames["scoreboard"]
    # Citywide: 100/100 = 1.0 and 10/10 = 1.0, CityScore (1.0 + 1.0) / 2 = 1.0.
    assert _row(board, "CityScore")["score"] == pytest.approx(1.0)
    tiny.area.value = "North"
    board = tiny.frames["scoreboard"]
    # North: 120/100 = 1.2 and 5/10 = 0.5; CityScore (1.2 + 0.5) / 2 = 0.85, below (< 0.9).
    assert board["metric"].tolist() == ["CityScore", "Pool Hours", "Library Visits"]
    assert board["score"].tolist() == pytest.approx([0.85, 0.5, 1.2])
    assert board["status"].tolist() == ["below", "below", "meeting"]
    assert "CityScore of North (week) on 2026-10-31: 0.85" in tiny.message.value
    assert "Scoreboard — North" in tiny.board.value
    # The detail follows the area: its stored values, its windows, its score history.
    tiny.metric.value = "Library Visits"
    assert set(tiny.frames["raw"]["value"]) == {120.0}
    assert tiny.frames["windows"]["score"].tolist() == pytest.approx([1.2] * 4)
    assert tiny.frames["history"]["score"].dropna().tolist() == pytest.approx([1.2] * 10)
    assert "Library Visits — North: daily values vs target" in tiny.detail_chart.value
    tiny.area.value = "South"
    # South: 60/100 = 0.6 and 15/10 = 1.5; CityScore (0.6 + 1.5) / 2 = 1.05.
    assert _row(tiny.frames["scoreboard"], "CityScore")["score"] == pytest.approx(1.05)
    assert set(tiny.frames["raw"]["value"]) == {60.0}
    tiny.area.value = ""
    assert set(tiny.frames["raw"]["value"]) == {100.0}


def test_compare_areas_ranks_the_areas_on_the_cityscore_or_the_metric(tiny):
    tiny.tabs.selected_index = 4
    assert tiny.tabs.titles[4] == "Compare areas"
    ranking = tiny.frames["areas"]
    assert ranking[["rank", "area"]].values.tolist() == [[1, "South"], [2, "North"]]
    assert ranking["score"].tolist() == pytest.approx([1.05, 0.85])
    equity = tiny.frames["equity"].iloc[0]
    # best South 1.05, worst North 0.85, gap 0.85 / 1.05; one of two areas below 1.
    assert (equity["best_area"], equity["worst_area"]) == ("South", "North")
    assert equity["gap"] == pytest.approx(0.85 / 1.05)
    assert equity["share_below_one"] == pytest.approx(0.5)
    caption = _caption(tiny.area_chart.value)
    assert "best South 1.05, worst North 0.85, gap (worst ÷ best) 0.81" in caption
    assert "1 of 2 scored areas below 1" in caption
    tiny.metric.value = "Pool Hours"
    tiny.compare.value = "metric"
    assert tiny.frames["areas"]["area"].tolist() == ["South", "North"]  # 1.5, then 0.5
    assert tiny.frames["areas"]["score"].tolist() == pytest.approx([1.5, 0.5])
    assert "Pool Hours across 2 areas" in _caption(tiny.area_chart.value)
    assert "✗</span> below" in tiny.area_table.value  # status as symbol and word
    csv = pd.read_csv(io.StringIO(tiny.prepare_download()))
    assert csv["area"].tolist() == ["South", "North"]
    assert 'download="cityscore-areas-week-2026-10-31.csv"' in tiny.link.value
    tiny.compare.value = "CityScore"
    tiny.tabs.selected_index = 0


def test_the_area_ranking_agrees_with_kit_scores_by_area(areas_kit):
    scores = areas_kit.scores(by="area")
    explorer = Explorer(areas_kit)
    assert [a for _, a in explorer.area.options][1:] == sorted(scores["area"].unique()[1:])
    assert "areas" not in explorer.frames  # every area is scored only once the tab is open
    explorer.tabs.selected_index = 4
    for compare, metric in ((CITYWIDE, CITYWIDE), ("metric", RATIO)):
        explorer.metric.value = RATIO
        explorer.compare.value = compare
        week = scores[scores["period"] == "week"]
        rows = week[(week["area"] != "") & (week["metric"] == metric)]
        expected = rows.sort_values(["score", "area"], ascending=[False, True])
        ranking = explorer.frames["areas"]
        assert ranking["area"].tolist() == expected["area"].astype(str).tolist()
        assert ranking["score"].to_numpy() == pytest.approx(expected["score"].to_numpy())
        assert ranking["rank"].iloc[0] == 1 and ranking["rank"].is_monotonic_increasing
        summary = areas_kit.equity()
        equity = summary[(summary["metric"] == metric) & (summary["period"] == "week")].iloc[0]
        mine = explorer.frames["equity"].iloc[0]
        assert mine["worst_area"] == equity["worst_area"]
        assert mine["gap"] == pytest.approx(equity["gap"], rel=1e-12)
    # An area's board is that area's rows of Kit.scores(by="area").
    explorer.area.value = worst = explorer.frames["areas"]["area"].iloc[-1]
    board = explorer.frames["scoreboard"].set_index("metric")["score"].to_dict()
    rows = scores[(scores["area"] == worst) & (scores["period"] == "week")]
    assert board == pytest.approx(dict(zip(rows["metric"].astype(str), rows["score"], strict=True)))


def test_an_areas_scores_are_its_rows_of_kit_scores_by_area(areas_kit):
    """Scored from that area's rows and targets (and the city's, which it borrows) only: the same
    rows as ``Kit.scores(by="area")``, on dates close together and far apart."""
    as_of = pd.Timestamp(areas_kit.default_as_of())
    dates = [as_of, as_of - pd.Timedelta(days=7), as_of - pd.Timedelta(days=60)]
    targets = areas_kit.targets(areas=True)
    assert set(targets["area"]) - {""}  # areas with targets of their own
    cache = ScoreCache(areas_kit, areas_kit.metrics())
    for area in areas_kit.areas():
        got = area_slice(cache.days(dates, scope=area), area).reset_index(drop=True)
        expected = [areas_kit.scores(d, by="area") for d in dates]
        want = pd.concat([area_slice(e, area) for e in expected], ignore_index=True)
        assert len(got) and got["score"].notna().any()
        pd.testing.assert_frame_equal(got, want)


def test_a_city_without_areas_has_no_area_picker_and_no_comparison_tab(explorer):
    assert explorer.areas == []
    assert explorer.area not in explorer.widget.children[1].children
    assert list(explorer.tabs.titles) == [v.capitalize() for v in VIEWS]
    assert "areas" not in explorer.frames
    assert "Compare areas" not in explorer.widget.children[0].value


def test_hostile_area_names_are_shown_as_text(tmp_path):
    hostile = '<img src=x onerror=alert(1)> & "Co"'
    values = {"Library Visits": {"": 100, hostile: 90, "North": 120}}
    explorer = Explorer(tiny_city(tmp_path, values))
    assert (hostile, hostile) in explorer.area.options  # a label the front end shows as text
    explorer.area.value = hostile
    explorer.tabs.selected_index = 4
    explorer.compare.value = "metric"
    explorer.metric.value = "Library Visits"
    shown = [
        explorer.message.value,
        explorer.board.value,
        explorer.board_chart.value,
        explorer.detail.value,
        explorer.detail_chart.value,
        explorer.area_chart.value,
        explorer.area_table.value,
    ]
    for text in shown:
        assert "<img" not in text, text[:400]
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;Co&quot;" in explorer.area_table.value
    assert "CityScore of &lt;img" in explorer.message.value
    explorer.prepare_download()
    assert 'download="cityscore-areas-img-src-x-onerror-alert-1-Co-week-2026-10-31.csv"' in (
        explorer.link.value
    )


def test_the_explorer_opens_on_the_default_as_of_date_not_the_latest(tmp_path):
    kit = tiny_city(tmp_path)
    kit.import_metrics(io.StringIO(TINY_METRICS + "Trees Planted,Culture,higher,value,sum,3\n"))
    for day in pd.date_range(TINY_END - dt.timedelta(days=9), TINY_END):
        kit.enter("Trees Planted", day.date(), 3)
    kit.enter("Pool Hours", TINY_END + dt.timedelta(days=3), 10)  # one metric reports early
    assert kit.latest_date() == TINY_END + dt.timedelta(days=3)
    assert kit.default_as_of() == TINY_END  # two of the three metrics reach it
    explorer = Explorer(kit)
    assert explorer.as_of.value == TINY_END
    assert explorer.as_of.max == TINY_END + dt.timedelta(days=3)
    assert key_numbers(kit).startswith(f"as of {TINY_END}")


@pytest.mark.slow
def test_a_metric_scored_alone_gets_the_scores_of_the_whole_city(explorer, demo):
    """The explorer scores a metric's year on its own, when it is chosen: the same numbers."""
    explorer.metric.value = EMS
    for period in ("day", "quarter"):
        explorer.period.value = period
        mine = explorer.frames["history"].set_index("as_of")["score"]
        whole = demo["scores"].query("metric == @EMS and period == @period")
        assert mine.to_numpy() == pytest.approx(
            whole.set_index("as_of")["score"].to_numpy(), nan_ok=True
        )
    explorer.period.value = "week"


def test_the_board_dates_are_scored_exactly_as_kit_scores(demo, explorer):
    """Dates are scored on their own (near ones in one pass), reading a year back only for history
    baselines: the same numbers as scoring the whole year."""
    keys = ["as_of", "metric", "period"]

    def table(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.assign(metric=frame["metric"].astype(str), period=frame["period"].astype(str))
        return out.set_index(keys)[["value", "target", "score"]].sort_index()

    for since in (30, 364):  # one pass over 31 days; two dates a year apart
        explorer.since.value = since
        days = [AS_OF, AS_OF - pd.Timedelta(days=since)]
        mine = explorer.scores[explorer.scores["as_of"].isin(days)]
        whole = demo["scores"][demo["scores"]["as_of"].isin(days)]
        assert len(mine) == len(whole) == 2 * 21 * 4  # 20 metrics and the CityScore, 4 periods
        pd.testing.assert_frame_equal(table(mine), table(whole), check_exact=False, rtol=1e-12)
    assert (demo["metrics"]["baseline"] == "history").any()  # the short read is exercised
    explorer.since.value = 7


def test_explorer_captions_never_round_a_score_into_another_band() -> None:
    """A near 0.996 and a below 0.8996 keep their extra places in the chart captions (the charts'
    accessible names), as in every table; 2 places elsewhere."""
    history = pd.DataFrame(
        {
            "as_of": pd.to_datetime(["2026-10-29", "2026-10-30", "2026-10-31"]),
            "score": [0.8996, 1.25, 0.996],
        }
    )
    text = history_description(history, "Potholes", "week")
    assert "week score: 0.996 on 2026-10-31" in text.lower()
    assert "lowest 0.8996 on 2026-10-29" in text and "highest 1.25 on 2026-10-30" in text
