"""The bulk score texts (``score_texts``, ``round_half_evens``) equal the scalar ones, value by value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.engine.score import score_date
from cityscore.pages.render import (
    NO_SCORE,
    _fast_texts,
    round_half_even,
    round_half_evens,
    score_text,
    score_texts,
    scoreboard,
)

from .test_score_rules import D, four_metric_city

# Edges as people write them (0.9, 1.05, 0.955) and as any float.
EDGES = st.one_of(
    st.integers(1, 3000).map(lambda n: n / 1000),
    st.integers(1, 300).map(lambda n: n / 100),
    st.floats(min_value=1e-6, max_value=1e6, allow_subnormal=False),
)


@st.composite
def any_bands(draw: st.DrawFn) -> Bands:
    a, b = draw(EDGES), draw(EDGES)
    return Bands(meeting=max(a, b), near=min(a, b))


def _neighbours(x: float, steps: int) -> float:
    """``x`` moved ``steps`` floats up (or down): the values a hair either side of a tie or edge."""
    toward = np.inf if steps > 0 else -np.inf
    for _ in range(abs(steps)):
        x = float(np.nextafter(x, toward))
    return x


def values_near(bands: Bands) -> st.SearchStrategy[float | None]:
    """Scores anywhere, and crowded where texts are hard: band edges, repr ties, a few ulps off."""
    edge = st.sampled_from([bands.meeting, bands.near, 0.0, 1.0])
    decimals = st.tuples(st.integers(-(10**7), 10**7), st.integers(0, 6)).map(
        lambda t: t[0] / 10 ** t[1]  # 0.125, 2.675, 0.9995: ties at fewer places
    )
    around_edge = st.tuples(edge, st.integers(-2000, 2000)).map(lambda t: t[0] + t[1] * 1e-5)
    half_steps = st.tuples(edge, st.integers(-40, 40), st.integers(1, 4)).map(
        lambda t: t[0] + t[1] * 0.5 * 10.0 ** -t[2]  # edge ± half a last place: ties near edges
    )
    hard = st.one_of(decimals, around_edge, half_steps, edge)
    nudged = st.tuples(hard, st.integers(-3, 3)).map(lambda t: _neighbours(*t))
    return st.one_of(
        hard,
        nudged,
        st.floats(),  # NaN, ±inf, subnormals, 1e308
        st.floats(min_value=-2.0, max_value=3.0),
        st.sampled_from([None, float("nan"), -0.0, 0.0, 5e-324, -5e-324, 1e23, 2.0**53 + 1]),
    )


@st.composite
def bands_places_values(draw: st.DrawFn) -> tuple[Bands, int, int, list[float | None]]:
    bands = draw(any_bands())
    places = draw(st.integers(1, 4))
    max_places = draw(st.integers(places, 6))
    return bands, places, max_places, draw(st.lists(values_near(bands), max_size=60))


@pytest.mark.slow
@settings(max_examples=400)
@given(bands_places_values())
@example((DEFAULT_BANDS, 2, 4, [0.996, 0.995, 0.8996, 0.99999, 0.9999999999999999, 1.0, 0.9]))
@example((DEFAULT_BANDS, 2, 4, [0.125, 0.135, 0.165, 2.675, -0.125, -0.001, -0.0, 1e30]))
@example((Bands(meeting=1.0, near=0.955), 2, 4, [0.955, 0.9549, 0.95499, 0.9551, 0.9545]))
@example((Bands(meeting=1.0, near=0.90001), 2, 4, [0.900014, 0.9000049, 0.90000999999]))
def test_score_texts_equal_score_text_for_every_value(
    case: tuple[Bands, int, int, list[float | None]],
) -> None:
    bands, places, max_places, values = case
    expected = [score_text(v, bands, places, max_places) for v in values]
    assert score_texts(values, bands, places, max_places) == expected
    assert score_texts(np.array(values, dtype=float), bands, places, max_places) == expected


@settings(max_examples=300)
@given(
    st.lists(values_near(DEFAULT_BANDS), max_size=60),
    st.integers(0, 8),  # 7 and 8 decimals take the exact path for every value
)
def test_round_half_evens_equal_round_half_even_for_every_value(
    values: list[float | None], places: int
) -> None:
    assert round_half_evens(values, places) == [round_half_even(v, places) for v in values]


@pytest.mark.parametrize(
    ("values", "shown"),
    [
        ([0.125, 0.135, 0.165, 0.175, 2.675], ["0.12", "0.14", "0.16", "0.18", "2.68"]),
        ([0.996, 0.8996, 0.99999, 1.004, 0.904], ["0.996", "0.8996", "0.9999", "1.00", "0.90"]),
        ([None, float("nan"), pd.NA], [NO_SCORE] * 3),
        ([float("inf"), -float("inf"), -0.0, -0.001], ["inf", "-inf", "0.00", "0.00"]),
        ([-3.2, 1e23, 1e30], ["-3.20", "1" + "0" * 23 + ".00", "1" + "0" * 30 + ".00"]),
    ],
)
def test_score_texts_by_hand(values: list[object], shown: list[str]) -> None:
    assert score_texts(values) == shown


def test_score_texts_take_a_series_as_it_comes_and_leave_it_alone() -> None:
    series = pd.Series([0.996, None, 1.5], index=[7, 3, 5], dtype="Float64")
    before = series.copy()
    assert score_texts(series) == ["0.996", NO_SCORE, "1.50"]
    assert score_texts(series[series.index > 4]) == ["0.996", "1.50"]
    assert score_texts([]) == []
    pd.testing.assert_series_equal(series, before)


def test_the_fast_path_is_taken_except_near_a_repr_tie() -> None:
    """The speed comes from formatting most numbers directly; ties go the exact way."""
    ordinary = np.random.default_rng(3).uniform(0, 2, 1000)
    assert _fast_texts(ordinary, 2)[1].mean() > 0.99
    ties = np.array([0.125, 0.135, 2.675, 1.005, 0.0005])
    assert not _fast_texts(ties, 2)[1][:4].any()
    assert not _fast_texts(ties, 3)[1][4]
    assert not _fast_texts(np.array([1e23, np.nan, np.inf]), 2)[1].any()


def test_scoreboard_writes_every_cell_as_score_text() -> None:
    scores = score_date(*four_metric_city(), D)
    scores["score"] = scores["score"].mask(scores["metric"] == "A", 0.996)
    board = scoreboard(scores, pd.Timestamp(D))
    wide = scores.pivot(index="metric", columns="period", values="score").loc[board.index]
    assert board.to_numpy().tolist() == wide[board.columns].map(score_text).to_numpy().tolist()
    assert "0.996" in board.loc["A"].tolist()
