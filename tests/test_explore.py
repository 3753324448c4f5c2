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
from cityscore import explore as ex
from cityscore.render import round_half_even
from cityscore.summary import category_scores

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
def explorer(demo) -> ex.Explorer:
    return ex.Explorer(demo["kit"])


# --- pure views ----------------------------------------------------------------------------------


def test_scoreboard_puts_the_cityscore_first_then_the_lowest_scores(demo):
    board = ex.scoreboard_view(demo["scores"], demo["metrics"], AS_OF, "week")
    city = demo["scores"].query("metric == 'CityScore' and period == 'week' and as_of == @AS_OF")
    assert board.iloc[0]["metric"] == "CityScore"
    assert board.iloc[0]["score"] == pytest.approx(city["score"].iloc[0])
    metric_scores = board["score"].iloc[1:].dropna().to_numpy()
    assert (metric_scores[:-1] <= metric_scores[1:]).all()
    assert set(board["metric"].iloc[1:]) == set(demo["metrics"]["name"])


def test_scoreboard_category_filter_shows_that_category_and_its_score(demo):
    board = ex.scoreboard_view(demo["scores"], demo["metrics"], AS_OF, "month", "Public Safety")
    expected = demo["metrics"].query("category == 'Public Safety'")["name"]
    assert set(board["metric"].iloc[1:]) == set(expected)
    cats = category_scores(demo["scores"][demo["scores"]["as_of"] == AS_OF], demo["metrics"])
    cat = cats.query("category == 'Public Safety' and period == 'month'")
    assert board.iloc[0]["score"] == pytest.approx(cat["score"].iloc[0])


def test_unknown_choices_say_what_is_allowed(demo):
    with pytest.raises(ConfigError, match=r"unknown period 'fortnight'.*day, week"):
        ex.scoreboard_view(demo["scores"], demo["metrics"], AS_OF, "fortnight")
    with pytest.raises(ConfigError, match="unknown category 'Parks'"):
        ex.category_metrics(demo["metrics"], "Parks")


def test_daily_values_use_ratios_and_mark_the_target_change(demo):
    ems = ex.daily_values(demo["obs"], demo["scores"], demo["targets"], EMS)
    assert ems.loc[ems["target_change"], "date"].tolist() == [pd.Timestamp("2026-07-03")]
    assert (
        ems.set_index("date").loc["2026-07-02", "target"]
        != ems.set_index("date").loc["2026-07-03", "target"]
    )
    ratio = ex.daily_values(demo["obs"], demo["scores"], demo["targets"], RATIO).set_index("date")
    raw = demo["obs"].query("metric == @RATIO").set_index("date")
    day = raw.index.intersection(ratio.index)[-1]
    assert ratio.loc[day, "value"] == pytest.approx(
        raw.loc[day, "numerator"] / raw.loc[day, "denominator"]
    )


def test_window_view_counts_the_days_behind_each_score(demo):
    windows = ex.window_view(demo["scores"], demo["obs"], RATIO, AS_OF).set_index("period")
    dates = demo["obs"].query("metric == @RATIO")["date"]
    for period, days in {"day": 1, "week": 7, "month": 30, "quarter": 90}.items():
        start = AS_OF - pd.Timedelta(days=days - 1)
        assert windows.loc[period, "window_start"] == start
        assert windows.loc[period, "days_with_data"] == ((dates >= start) & (dates <= AS_OF)).sum()
        row = demo["scores"].query("metric == @RATIO and period == @period and as_of == @AS_OF")
        assert windows.loc[period, "score"] == pytest.approx(row["score"].iloc[0])


def test_raw_observations_are_the_window_with_source_and_batch(demo):
    raw = ex.raw_observations(demo["obs"], RATIO, AS_OF, "month")
    assert {"source", "batch_id"} <= set(raw.columns)
    assert raw["date"].min() >= AS_OF - pd.Timedelta(days=29)
    assert raw["date"].max() <= AS_OF
    assert raw["date"].is_monotonic_decreasing
    assert set(raw["metric"]) == {RATIO}


def test_percentile_is_todays_day_score_in_its_own_year(demo):
    pct = ex.metric_percentile(demo["scores"], RATIO, AS_OF)
    history = demo["scores"].query("metric == @RATIO and period == 'day'")["score"].dropna()
    today = (
        demo["scores"]
        .query("metric == @RATIO and period == 'day' and as_of == @AS_OF")["score"]
        .iloc[0]
    )
    assert pct["percentile"].iloc[0] == pytest.approx(100 * (history <= today).mean())


def test_change_contributions_add_up_to_the_citywide_change(demo):
    change = ex.change_view(demo["scores"], demo["metrics"], AS_OF, 7, "week")
    before, now = ex.citywide_change(demo["scores"], AS_OF, 7, "week")
    assert change["contribution"].sum() == pytest.approx(now - before)
    assert now != before
    safety = ex.change_view(demo["scores"], demo["metrics"], AS_OF, 7, "week", "Public Safety")
    assert set(safety["metric"]) == set(
        demo["metrics"].query("category == 'Public Safety'")["name"]
    )


def test_leader_lists_never_hold_a_metric_twice(demo):
    lists = ex.leader_lists(demo["scores"], demo["metrics"], AS_OF, "week")
    assert (lists["list"] == "exceeding").sum() == 5
    assert (lists["list"] == "needs follow-up").sum() == 5
    assert not lists["metric"].duplicated().any()
    top = lists[lists["list"] == "exceeding"]["score"].min()
    bottom = lists[lists["list"] == "needs follow-up"]["score"].max()
    assert top >= bottom
    small = ex.leader_lists(demo["scores"], demo["metrics"], AS_OF, "week", "Public Safety")
    assert set(small["metric"]) <= set(demo["metrics"].query("category == 'Public Safety'")["name"])
    assert not small["metric"].duplicated().any()


def test_views_never_mutate_their_inputs(demo):
    copies = {k: demo[k].copy() for k in ("scores", "obs", "metrics", "targets")}
    selection = ex.Selection(AS_OF, "week", "Public Safety", EMS, 7)
    ex.compute_views(demo["scores"], demo["obs"], demo["metrics"], demo["targets"], selection)
    for key, frame in copies.items():
        pd.testing.assert_frame_equal(demo[key], frame)


def test_tables_escape_user_text_and_round_half_even():
    frame = pd.DataFrame({"metric": ["<script>alert(1)</script>"], "score": [0.125]})
    text = ex.table_html(frame, caption="<b>caption</b>")
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
    text = ex.table_html(frame, caption="c", max_rows=1)
    assert ">0.012<" in text and ">12.2<" in text  # 3 and 1 decimals, half-to-even
    assert "✗</span> below" in text and "✓</span> meeting" in text
    assert "1 more row in the CSV download" in text


def test_key_numbers_print_the_engine_scores(demo):
    text = ex.key_numbers(demo["kit"], AS_OF, [EMS])
    city = (
        demo["scores"]
        .query("metric == 'CityScore' and period == 'day' and as_of == @AS_OF")["score"]
        .iloc[0]
    )
    assert f"CityScore: day {round_half_even(city, 4)}," in text
    assert text.splitlines()[2].startswith(f"{EMS}: day ")
    with pytest.raises(ConfigError, match="unknown metric 'Nope'"):
        ex.key_numbers(demo["kit"], AS_OF, ["Nope"])


# --- the widgets ---------------------------------------------------------------------------------


def test_explorer_starts_on_the_latest_date(explorer):
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
    explorer.category.value = ex.ALL
    assert len(explorer.metric.options) == len(demo["metrics"])


def test_moving_the_date_and_period_recomputes_the_views(explorer, demo):
    explorer.period.value = "month"
    explorer.as_of.value = dt.date(2026, 9, 30)
    board = explorer.frames["scoreboard"]
    expected = demo["kit"].scores("2026-09-30").query("metric == 'CityScore' and period == 'month'")
    assert board.iloc[0]["score"] == pytest.approx(expected["score"].iloc[0])
    assert explorer.frames["raw"]["date"].max() <= pd.Timestamp("2026-09-30")
    assert len(explorer.frames["history"]) == ex.HISTORY_DAYS
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
def big() -> ex.Explorer:
    from .big_city import big_city_db

    return ex.Explorer(Kit(f"sqlite:///{big_city_db(BIG)}"))


def test_explorer_at_300_metrics_draws_bounded_charts_and_lists_every_metric(big):
    board = big.frames["scoreboard"]
    assert len(board) == BIG + 1  # the table (and the CSV) keep every metric
    assert len(big.metric.options) == BIG
    drawn = ex.board_chart_rows(board)
    assert len(drawn) == ex.BOARD_CHART_ROWS
    assert drawn == board["metric"].iloc[1 : ex.BOARD_CHART_ROWS + 1].tolist()  # the lowest
    for figure in (big.board_chart, big.detail_chart, big.history_chart, big.change_chart):
        assert "<svg" in figure.value, figure.value[:300]  # drawn, not "chart not available"
        assert "<figcaption" in figure.value and "<details>" in figure.value
    caption = _caption(big.board_chart.value)
    assert f"Of {BIG} metrics" in caption
    counts = board["status"].iloc[1:].value_counts()
    said = {word: int(n) for n, word in re.findall(r"(\d+) (meeting|near|below)", caption)}
    assert said == {word: int(counts.get(word, 0)) for word in ("meeting", "near", "below")}
    change = _caption(big.change_chart.value)
    assert f"the {ex.CHANGE_CHART_ROWS} largest of {BIG} contributions" in change
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
    text = ex.key_numbers(demo["kit"], AS_OF, [EMS, "Nope"], skip_unknown=True)
    assert text.splitlines()[2].startswith(f"{EMS}: day ")
    assert text.splitlines()[-1] == "not in this city's catalog: Nope"
    assert ex.key_numbers(demo["kit"], AS_OF, [EMS], skip_unknown=True) == ex.key_numbers(
        demo["kit"], AS_OF, [EMS]
    )
