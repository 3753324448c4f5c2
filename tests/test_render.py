"""Display: half-even rounding to 2 decimals, and the CSV / JSON / table outputs of a score frame."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pandas as pd
import pytest

from cityscore.render import (
    NO_SCORE,
    round_half_even,
    scoreboard,
    scores_csv,
    scores_json,
    scores_table,
)
from cityscore.score import SCORE_COLUMNS, score_date

from .test_score_rules import D, four_metric_city


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.125, "0.12"),  # a tie goes to the even digit: 2
        (0.135, "0.14"),  # ... and here to 4, never simply up
        (0.165, "0.16"),
        (0.175, "0.18"),
        (0.995, "1.00"),
        (2.675, "2.68"),  # read as printed (2.675), not as the binary 2.67499999...
        (0.124999, "0.12"),
        (0.125001, "0.13"),  # not a tie: nearest
        (1.0, "1.00"),
        (1 / 3, "0.33"),
        (2 / 3, "0.67"),
        (-0.125, "-0.12"),
        (-0.001, "0.00"),  # no "-0.00"
        (9000.5, "9000.50"),
        (1e30, "1000000000000000000000000000000.00"),  # beyond the default 28-digit decimal context
        (np.float64(0.135), "0.14"),
        (3, "3.00"),
    ],
)
def test_round_half_even(value: float, shown: str) -> None:
    assert round_half_even(value) == shown


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA])
def test_a_missing_number_shows_as_a_dash(missing: object) -> None:
    assert round_half_even(missing) == NO_SCORE == "—"


def test_other_places_and_infinity() -> None:
    assert round_half_even(0.0125, 3) == "0.012"  # tie -> even 2
    assert round_half_even(0.0135, 3) == "0.014"
    assert round_half_even(2.5, 0) == "2"
    assert round_half_even(3.5, 0) == "4"
    assert round_half_even(float("inf")) == "inf"


@pytest.fixture
def scores() -> pd.DataFrame:
    """Day scores on D: A 0.5, B 1.0, C 1.5, E none; CityScore 1.125 (see test_score_rules)."""
    return score_date(*four_metric_city(), D)


def test_csv_has_exactly_the_contract_columns_and_full_precision(scores: pd.DataFrame) -> None:
    text = scores_csv(scores)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0] == "as_of,metric,period,value,target,score,status,note"
    assert list(rows[0]) == SCORE_COLUMNS
    assert len(rows) == 5 * 4  # (CityScore + 4 metrics) x 4 periods
    city = next(r for r in rows if r["metric"] == "CityScore" and r["period"] == "day")
    assert city == {
        "as_of": "2026-06-30",
        "metric": "CityScore",
        "period": "day",
        "value": "",
        "target": "",
        "score": "1.125",  # not rounded to 1.12 in the file
        "status": "meeting",
        "note": "3 of 4 metrics scored",
    }
    missing = next(r for r in rows if r["metric"] == "E" and r["period"] == "day")
    assert (missing["value"], missing["score"], missing["status"]) == ("", "", "")
    assert missing["target"] == "2.0"  # E's target is known even without data
    assert missing["note"] == "no data in the window"


def test_csv_keeps_every_digit(scores: pd.DataFrame) -> None:
    third = scores.assign(score=scores["score"].where(scores["metric"] != "A", 1 / 3))
    row = next(r for r in csv.DictReader(io.StringIO(scores_csv(third))) if r["metric"] == "A")
    assert float(row["score"]) == 1 / 3  # round-trips exactly


def test_json_uses_null_for_no_score(scores: pd.DataFrame) -> None:
    records = json.loads(scores_json(scores))
    assert len(records) == 20
    assert set(records[0]) == set(SCORE_COLUMNS)
    e_day = next(r for r in records if r["metric"] == "E" and r["period"] == "day")
    assert e_day["score"] is None and e_day["value"] is None and e_day["status"] is None
    c_day = next(r for r in records if r["metric"] == "C" and r["period"] == "day")
    assert c_day == {
        "as_of": "2026-06-30",
        "metric": "C",
        "period": "day",
        "value": 3.0,
        "target": 2.0,
        "score": 1.5,  # 3 / 2
        "status": "meeting",
        "note": "",
    }


def test_json_escapes_nothing_it_should_not(scores: pd.DataFrame) -> None:
    named = scores.assign(metric=scores["metric"].astype(str).replace("A", "Café <b>"))
    records = json.loads(scores_json(named))
    assert "Café <b>" in {r["metric"] for r in records}  # text round-trips unchanged


def test_scoreboard_rounds_for_display_and_puts_cityscore_first(scores: pd.DataFrame) -> None:
    board = scoreboard(scores, pd.Timestamp(D))
    assert board.index.tolist() == ["CityScore", "A", "B", "C", "E"]
    assert board.columns.tolist() == ["day", "week", "month", "quarter"]
    assert board.loc["CityScore", "day"] == "1.12"  # 1.125 half-even -> 1.12
    assert board.loc["A", "day"] == "0.50"
    assert board.loc["E", "day"] == "—"


def test_table_has_a_headline_per_date(scores: pd.DataFrame) -> None:
    text = scores_table(scores)
    assert text.startswith("CityScore as of 2026-06-30: 1.12 (meeting; 3 of 4 metrics scored)\n")
    assert "1.125" not in text  # display never shows unrounded scores
    lines = text.splitlines()
    assert any(line.split()[:2] == ["A", "0.50"] for line in lines)


def test_table_says_when_there_is_no_cityscore() -> None:
    from .test_score_rules import day

    text = scores_table(score_date(*four_metric_city(), day(-1)))
    assert text.startswith("CityScore as of 2026-06-29: — (no score; no metric has a score)\n")
