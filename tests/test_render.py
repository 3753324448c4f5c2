"""Display: half-even rounding to 2 decimals, and the CSV / JSON / table outputs of a score frame."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.vocabulary import SCORE_COLUMNS
from cityscore.engine.score import score_date
from cityscore.pages.render import (
    NO_SCORE,
    band,
    round_half_even,
    score_text,
    scoreboard,
    scores_csv,
    scores_json,
    scores_table,
)

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


# --- a shown score never contradicts its status ---------------------------------------------------

CUSTOM = Bands(meeting=1.05, near=0.95)


@pytest.mark.parametrize(
    ("score", "bands", "shown"),
    [
        (0.996, DEFAULT_BANDS, "0.996"),  # near: "1.00" would read as meeting
        (0.995, DEFAULT_BANDS, "0.995"),  # half-even would give "1.00" too
        (0.9951, DEFAULT_BANDS, "0.995"),  # 3 places already stay below 1
        (0.99951, DEFAULT_BANDS, "0.9995"),
        (0.99999, DEFAULT_BANDS, "0.9999"),  # past 4 places: toward its band, not "1.0000"
        (0.9999999999999999, DEFAULT_BANDS, "0.9999"),  # float noise under 1 is still near
        (0.8996, DEFAULT_BANDS, "0.8996"),  # below: "0.90" would read as near
        (0.899999, DEFAULT_BANDS, "0.8999"),
        (0.994, DEFAULT_BANDS, "0.99"),  # no edge crossed: 2 places as always
        (1.0, DEFAULT_BANDS, "1.00"),  # exactly on an edge is in its band
        (0.9, DEFAULT_BANDS, "0.90"),
        (1.004, DEFAULT_BANDS, "1.00"),  # rounding down onto 1 from above stays meeting
        (0.904, DEFAULT_BANDS, "0.90"),
        (1.125, DEFAULT_BANDS, "1.12"),
        (0.5, DEFAULT_BANDS, "0.50"),
        (-3.2, DEFAULT_BANDS, "-3.20"),  # negative: far from any edge, unchanged
        (-0.001, DEFAULT_BANDS, "0.00"),
        (1e30, DEFAULT_BANDS, "1000000000000000000000000000000.00"),
        (float("inf"), DEFAULT_BANDS, "inf"),
        (1.046, CUSTOM, "1.046"),  # near under 1.05
        (1.0499, CUSTOM, "1.0499"),
        (1.05, CUSTOM, "1.05"),
        (0.9496, CUSTOM, "0.9496"),  # below under 0.95
        (0.996, CUSTOM, "1.00"),  # 1 is no edge of these bands: 2 places
        (0.955, CUSTOM, "0.96"),
        (0.9551, Bands(meeting=1.0, near=0.9555), "0.955"),  # an edge with 4 decimals
        (0.95589, Bands(meeting=1.0, near=0.9559), "0.9558"),  # 0.9559 would be near
        (0.900014, Bands(meeting=1.0, near=0.90001), "0.90001"),  # an edge finer than 4 places
    ],
)
def test_score_text_keeps_a_score_in_its_band(score: float, bands: Bands, shown: str) -> None:
    assert score_text(score, bands) == shown
    if score == score and abs(score) != float("inf"):
        assert band(float(shown), bands) == band(score, bands)


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA])
def test_score_text_of_a_missing_score_is_a_dash(missing: object) -> None:
    assert score_text(missing) == NO_SCORE


def test_score_text_keeps_half_even_and_other_places_where_no_edge_is_near() -> None:
    assert score_text(0.125) == round_half_even(0.125) == "0.12"
    assert score_text(0.9996, places=3) == "0.9996"  # 3 places: "1.000" would read as meeting
    assert score_text(0.9994, places=3) == "0.999"
    assert score_text(0.99999, max_places=2) == "0.99"  # no extra places: toward its band at 2


@st.composite
def bands_and_score(draw: st.DrawFn) -> tuple[Bands, float]:
    """Bands of any size and precision, and a score anywhere, often within a hair of an edge."""
    edges = st.one_of(
        st.floats(min_value=1e-6, max_value=1e6, allow_subnormal=False),
        st.integers(1, 300).map(lambda n: n / 100),  # edges as people write them
    )
    a, b = draw(edges), draw(edges)
    bands = Bands(meeting=max(a, b), near=min(a, b))
    near_edge = st.tuples(
        st.sampled_from([bands.meeting, bands.near]),
        st.floats(min_value=-0.01, max_value=0.01, allow_subnormal=False),
        st.floats(min_value=-1e-9, max_value=1e-9, allow_subnormal=False),
    ).map(lambda t: t[0] + t[1] * t[0] + t[2])
    anywhere = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)
    return bands, draw(st.one_of(near_edge, anywhere))


@given(bands_and_score())
@example((DEFAULT_BANDS, 0.996))
@example((DEFAULT_BANDS, 0.8996))
@example((DEFAULT_BANDS, 0.9999999999999999))
@example((Bands(meeting=0.9001, near=0.9), 0.90005))
def test_shown_score_read_back_is_in_the_exact_scores_band(case: tuple[Bands, float]) -> None:
    bands, score = case
    text = score_text(score, bands)
    assert band(float(text), bands) == band(score, bands), (score, bands, text)
    plain = round_half_even(score)
    if band(float(plain), bands) == band(score, bands):
        assert text == plain  # the usual 2 places wherever they tell no lie
    # Never further from the exact score than 2-place rounding, and no longer than needed: at most
    # 4 decimals, or as many as an edge is written with, or the score as Python prints it.
    assert abs(float(text) - score) <= 0.005 + abs(score) * 1e-15
    edge_places = max(
        -int(Decimal(repr(e)).as_tuple().exponent) for e in (bands.meeting, bands.near)
    )
    decimals = len(text.partition(".")[2])
    assert decimals <= max(4, edge_places) or text == repr(score), (score, bands, text)


def _near_the_edge(scores: pd.DataFrame) -> pd.DataFrame:
    """A's day score 0.996 (near) and the CityScore's 0.8996 (below), statuses as scoring gives."""
    day = scores["period"] == "day"
    a = day & (scores["metric"] == "A")
    city = day & (scores["metric"] == "CityScore")
    out = scores.copy()
    out["score"] = out["score"].mask(a, 0.996).mask(city, 0.8996)
    out["status"] = out["status"].astype(object).mask(a, "near").mask(city, "below")
    return out


def test_terminal_table_never_shows_a_score_across_its_status(scores: pd.DataFrame) -> None:
    text = scores_table(_near_the_edge(scores))
    assert text.startswith("CityScore as of 2026-06-30: 0.8996 (below; ")
    assert any(line.split()[:2] == ["A", "0.996"] for line in text.splitlines())
    assert "1.00 " not in text.splitlines()[2]  # A's row: B below it is the 1.00


def test_terminal_table_follows_custom_bands(scores: pd.DataFrame) -> None:
    near = scores.assign(score=scores["score"].mask(scores["metric"] == "B", 1.046))
    board = scoreboard(near, pd.Timestamp(D), CUSTOM)
    assert board.loc["B", "day"] == "1.046"  # near under 1.05: "1.05" would read as meeting
    assert scoreboard(near, pd.Timestamp(D)).loc["B", "day"] == "1.05"  # default bands: no edge
