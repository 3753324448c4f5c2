"""Values and targets beside scores: the report's board, the terminal board and the explorer's board.

A frame of score rows is written by hand (one date, every period), so each expected text comes from
the numbers in the test: a recycling count of 252 tons against 315 scores 252 / 315 = 0.80.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest

from cityscore.apps.explorer.board import VALUE_TARGET, leader_lists, scoreboard_view
from cityscore.apps.explorer.widget import database_html, leaders_note
from cityscore.core.vocabulary import CITYWIDE
from cityscore.engine.as_of import choose_as_of, day_text
from cityscore.engine.summary import category_scores
from cityscore.pages import display
from cityscore.pages.render import quantity_text, value_target_text
from cityscore.pages.terminal import board_text

D = pd.Timestamp("2026-12-04")


def _rows(metric: str, value: float, target: float, score: float, status: str) -> list[dict]:
    return [
        {
            "as_of": D,
            "metric": metric,
            "period": p,
            "value": value,
            "target": target,
            "score": score,
            "status": status,
            "note": "",
        }
        for p in ("day", "week", "month", "quarter")
    ]


@pytest.fixture
def day() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Recycling 252 of 315 tons (0.80, below); Homicides 3 against 20 (lower is better: 6.67,
    capped at 1.5 here); Permits stale at 0.95 (kept, greyed). Weights 1, 1, 2."""
    rows = (
        _rows("Recycling", 252, 315, 252 / 315, "below")
        + _rows("Homicides", 3, 20, 1.5, "meeting")
        + _rows("Permits", 19, 20, 0.95, "stale")
        + _rows(CITYWIDE, np.nan, np.nan, (0.8 + 1.5) / 2, "meeting")
    )
    metrics = pd.DataFrame(
        {
            "name": ["Recycling", "Homicides", "Permits"],
            "category": ["Streets", "Safety", "Streets"],
            "unit": ["tons", "incidents", "permits"],
            "weight": [1.0, 1.0, 2.0],
        }
    )
    return pd.DataFrame(rows), metrics


# --- numbers as a reader writes them ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (252, "252"),
        (315.0, "315"),  # a whole number never shows decimals: no "21.00"
        (21.0, "21"),
        (1250, "1,250"),
        (6.5, "6.5"),
        (0.8532, "0.85"),
        (0.8998, "0.9"),  # a value is not a score: no band-edge decimals
        (12.34, "12.3"),
        (1234567.8, "1,234,568"),
        (-3.0, "-3"),
        (float("nan"), "—"),
        (None, "—"),
    ],
)
def test_quantities_read_as_people_write_them(value: object, shown: str) -> None:
    assert quantity_text(value) == shown


def test_value_and_target_carry_the_unit() -> None:
    assert value_target_text(252, 315, "tons") == "252 tons, target 315"
    assert value_target_text(None, 315, "tons") == "no value, target 315"
    assert value_target_text(5.25, float("nan"), "") == "5.25, no target"


# --- the report's board ----------------------------------------------------------------------------


def _cell(board: str, metric: str, n: int = 0) -> str:
    row = re.search(rf'<tr data-name="{metric.lower()}">(.*?)</tr>', board, re.S)
    assert row, metric
    return re.findall(r"<td.*?</td>", row.group(1), re.S)[n]


def test_report_board_shows_value_and_target_with_the_unit_beside_the_score(day) -> None:
    scores, metrics = day
    board = display.board_html(scores, metrics, ["day", "week", "month", "quarter"])
    cell = _cell(board, "Recycling")
    assert 'class="cell below"' in cell and " 0.80<" in cell
    assert '<span class="vt">252 tons, target 315</span>' in cell
    assert "capped" not in board  # no cap given: nothing is marked


def test_report_board_marks_scores_at_the_cap(day) -> None:
    scores, metrics = day
    board = display.board_html(scores, metrics, ["day", "week"], cap=1.5)
    assert '<span class="capped">capped at 1.5</span>' in _cell(board, "Homicides")
    assert "capped" not in _cell(board, "Recycling")
    assert "scores are capped at 1.5" in board  # said in the legend


def test_report_board_marks_a_stale_metric_and_keeps_its_score(day) -> None:
    scores, metrics = day
    board = display.board_html(scores, metrics, ["day"])
    cell = _cell(board, "Permits")
    assert 'class="cell stale"' in cell and "0.95" in cell and "> stale<" in cell
    assert "19 permits, target 20" in cell
    assert "1 stale" in board  # the category's tally counts it


# --- the terminal board ----------------------------------------------------------------------------


def test_terminal_board_has_categories_with_their_scores_and_values(day) -> None:
    scores, metrics = day
    text = board_text(scores, metrics, cap=1.5, why="Friday 4 December 2026: the date asked for")
    lines = text.splitlines()
    assert lines[0] == "CityScore as of 2026-12-04: 1.15 (meeting; )"
    assert lines[1] == "Friday 4 December 2026: the date asked for."
    # Streets: Recycling 0.8 (weight 1); Permits is stale, left out: the category's score is 0.80.
    streets = next(ln for ln in lines if ln.startswith("== Streets"))
    assert streets.split()[5:] == ["0.80", "0.80", "0.80", "0.80"]  # "== Streets (2 metrics) =="
    safety = next(ln for ln in lines if ln.startswith("== Safety"))
    assert safety.split()[5:] == ["1.50"] * 4
    recycling = next(ln for ln in lines if ln.startswith("Recycling (tons)"))
    assert recycling.split()[2:4] == ["0.80", "(252/315)"]
    homicides = next(ln for ln in lines if ln.startswith("Homicides (incidents)"))
    assert homicides.split()[2:5] == ["1.50", "capped", "(3/20)"]
    permits = next(ln for ln in lines if ln.startswith("Permits (permits)"))
    assert permits.split()[2:5] == ["0.95", "stale", "(19/20)"]
    # The categories come in order, each metric under its own.
    assert (
        lines.index(safety) < lines.index(homicides) < lines.index(streets) < lines.index(permits)
    )


def test_category_scores_leave_stale_metrics_out_unless_counted(day) -> None:
    scores, metrics = day
    cats = category_scores(scores, metrics).query("period == 'day'").set_index("category")
    assert cats.loc["Streets", "score"] == pytest.approx(0.8)
    kept = category_scores(scores, metrics, count_stale=True).query("period == 'day'")
    # (0.8 x 1 + 0.95 x 2) / 3 = 0.9
    assert kept.set_index("category").loc["Streets", "score"] == pytest.approx(0.9)


# --- the explorer's board --------------------------------------------------------------------------


def test_explorer_board_and_lists_show_value_and_target_with_the_unit(day) -> None:
    scores, metrics = day
    board = scoreboard_view(scores, metrics, D, "week")
    texts = board.set_index("metric")[VALUE_TARGET]
    assert texts["Recycling"] == "252 tons, target 315"
    assert texts[CITYWIDE] == ""
    columns = board.columns.tolist()
    assert columns.index(VALUE_TARGET) == columns.index("status") + 1  # right after the score
    lists = leader_lists(scores, metrics, D, "week")
    assert lists.set_index("metric").loc["Recycling", VALUE_TARGET] == "252 tons, target 315"
    assert "Permits" not in set(lists["metric"])  # stale: in neither list


def test_explorer_says_which_leader_list_is_empty(day) -> None:
    scores, metrics = day
    lists = leader_lists(scores[scores["metric"] != "Homicides"], metrics, D, "week")
    note = leaders_note(lists, "week")
    assert "(none: no week score is 1 or more)" in note
    assert "below 1, lowest first." in note


def test_explorer_names_the_database_it_reads_without_its_password() -> None:
    shown = database_html("postgresql://city:hunter22@db/cityscore")
    assert "hunter22" not in shown and "db/cityscore" in shown
    assert "/cities/river/cityscore.db" in database_html("sqlite:////cities/river/cityscore.db")


# --- which day, and why ----------------------------------------------------------------------------


def test_the_reason_for_the_default_date_counts_the_metrics_with_later_data() -> None:
    d = dt.date
    last = {"A": d(2026, 12, 4), "B": d(2026, 12, 4), "C": d(2026, 12, 7), "E": d(2026, 12, 4)}
    choice = choose_as_of(last, list(last))
    assert choice.as_of == d(2026, 12, 4)  # the choice itself is unchanged
    assert choice.why() == (
        "Friday 4 December 2026: the latest day most metrics reach; 1 metric has data for later days"
    )
    last["D"] = d(2026, 12, 8)
    assert choose_as_of(last, list(last)).why().endswith("; 2 metrics have data for later days")


def test_the_reason_says_the_latest_day_or_the_date_asked_for() -> None:
    d = dt.date
    last = {"A": d(2026, 12, 4), "B": d(2026, 12, 4)}
    assert (
        choose_as_of(last, ["A", "B"]).why() == "Friday 4 December 2026: the latest day with data"
    )
    asked = choose_as_of(last, ["A", "B"], d(2026, 12, 1))
    assert asked.why() == (
        "Tuesday 1 December 2026: the date asked for; 2 metrics have data for later days"
    )
    assert day_text(d(2026, 3, 2)) == "Monday 2 March 2026"


def test_explorer_tables_show_values_as_quantities_and_scores_as_scores() -> None:
    from cityscore.apps.explorer.markup import view_table_html

    frame = pd.DataFrame(
        {"metric": ["Big"], "value": [13690.0], "target": [0.8998], "score": [0.8998]}
    )
    table = view_table_html(frame, caption="c")
    cells = re.findall(r'<td class="num">(.*?)</td>', table)
    assert cells == ["13,690", "0.9", "0.8998"]  # a score keeps to its band; a value does not
