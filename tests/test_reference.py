"""The fast engine agrees with the slow, obviously-correct reference on random small cities.

Hypothesis draws the catalog (value/ratio, mean/median/sum, higher/lower, trend, the baselines
history/weekday/last_year, reporting schedules and stale_after, weights), the target changes, the
date range, the city's closed days, metrics named stale and whether stale ones count, and how sparse
and zero-laden the data are; a seeded generator then fills in the daily numbers. Every (as_of,
metric, period) row must agree: value, target and score to a relative 1e-9, the note exactly, and
the status (``stale``, or the band wherever the score is not within 1e-9 of a band edge).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.vocabulary import CITYWIDE, PERIODS, SCHEDULES
from cityscore.engine.reference import reference_scores
from cityscore.engine.score import score_range
from cityscore.engine.statuses import STALE
from cityscore.io import demo

from .conftest import DEMO_END

REL = 1e-9
FIRST_DAY = dt.date(2025, 1, 1)


@st.composite
def metric_specs(draw: st.DrawFn, index: int) -> dict[str, object]:
    kind = draw(st.sampled_from(["value", "ratio"]))
    return {
        "name": f"m{index}",
        "definition": "",
        "category": draw(st.sampled_from(["Streets", "Safety"])),
        "unit": "",
        "direction": draw(st.sampled_from(["higher", "lower"])),
        "kind": kind,
        # A ratio metric ignores its aggregation, whatever a caller of the engine puts there.
        "aggregation": draw(
            st.sampled_from(["mean", "median", "sum"] + ([""] if kind == "ratio" else []))
        ),
        "baseline": draw(st.sampled_from(["target", "history", "weekday", "last_year"])),
        "trend": draw(st.booleans()),
        "weight": draw(st.sampled_from([0.5, 1.0, 2.0, 3.0])),
        "schedule": draw(st.sampled_from(SCHEDULES)),
        "stale_after": draw(st.sampled_from([None, 1, 3, 7, 20])),
    }


@st.composite
def cities(draw: st.DrawFn) -> dict[str, object]:
    """A catalog, its targets, observations and an as-of range."""
    n_metrics = draw(st.integers(1, 4))
    metrics = pd.DataFrame([draw(metric_specs(i)) for i in range(n_metrics)])
    # Enough days before the range for some history baselines (which need 90 of the 365 before).
    history_days = draw(st.sampled_from([0, 10, 89, 90, 91, 120, 200, 380, 460]))
    span = draw(st.integers(1, 15))
    start = FIRST_DAY + dt.timedelta(days=history_days)
    end = start + dt.timedelta(days=span - 1)
    all_days = history_days + span

    target_rows = []
    for name, baseline in zip(metrics["name"], metrics["baseline"], strict=True):
        if baseline != "target":
            continue
        offsets = draw(st.lists(st.integers(-500, all_days), max_size=3, unique=True))
        for offset in offsets:
            when = FIRST_DAY + dt.timedelta(days=offset)
            target = draw(st.sampled_from([0.25, 0.5, 0.9, 1.0, 1.5, 2.0, 3.0, 7.0]))
            target_rows.append(
                {"metric": name, "effective_from": pd.Timestamp(when), "target": target}
            )
    # A target for a metric that is not in the catalog is ignored.
    target_rows.append(
        {"metric": "unknown", "effective_from": pd.Timestamp(FIRST_DAY), "target": 1.0}
    )
    targets = pd.DataFrame(target_rows, columns=["metric", "effective_from", "target"])

    seed = draw(st.integers(0, 2**32 - 1))
    missing = draw(st.sampled_from([0.0, 0.1, 0.5, 0.9]))
    zeros = draw(st.sampled_from([0.0, 0.2, 0.6]))
    # Small integers make ties, exact zeros and exact baselines likely.
    integers = draw(st.booleans())
    # Numbers from 0.001 to 1e6 side by side test for rounding drift in running windows.
    magnitudes = draw(st.booleans())
    # Days with no data at the end of the range (no data in the window).
    gap = draw(st.sampled_from([0, 0, 3, 10]))
    # Rows that are present but lack their numbers count as no data.
    holes = draw(st.sampled_from([0.0, 0.0, 0.1]))
    rng = np.random.default_rng(seed)
    frames = [
        _observations(row, end, gap, missing, zeros, integers, magnitudes, holes, rng)
        for row in metrics.itertuples(index=False)
    ]
    # Rows for a metric that is not in the catalog are ignored.
    frames.append(
        pd.DataFrame({"metric": ["unknown"], "date": [pd.Timestamp(end)], "value": [1.0]})
    )
    observations = pd.concat(frames, ignore_index=True)
    periods = draw(st.sampled_from([PERIODS, PERIODS, {"fortnight": 14, "year": 400}]))
    # City closures (business days), metrics named stale, and whether stale ones count.
    offsets = draw(st.lists(st.integers(0, all_days), max_size=8))
    names = metrics["name"].tolist()
    return {
        "closed": [FIRST_DAY + dt.timedelta(days=k) for k in offsets],
        "stale_metrics": draw(st.lists(st.sampled_from(names), max_size=1)),
        "count_stale": draw(st.booleans()),
        "metrics": metrics,
        "targets": targets,
        "observations": observations,
        "start": start,
        "end": end,
        "periods": periods,
        "cap": draw(st.sampled_from([None, None, 1.0, 1.5])),
    }


def _observations(
    row: tuple,
    end: dt.date,
    gap: int,
    missing: float,
    zeros: float,
    integers: bool,
    magnitudes: bool,
    holes: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """One metric's daily rows from FIRST_DAY to ``end - gap``, drawn from ``rng``."""
    days = pd.date_range(FIRST_DAY, end - dt.timedelta(days=gap), freq="D")
    days = days[rng.random(len(days)) >= missing]
    n = len(days)
    numbers = rng.integers(0, 6, n).astype(float) if integers else rng.random(n) * 10
    if magnitudes:
        numbers *= 10.0 ** rng.integers(-3, 7, n)
    numbers[rng.random(n) < zeros] = 0.0
    frame = pd.DataFrame(
        {
            "metric": row.name,
            "date": days,
            "value": np.nan,
            "numerator": np.nan,
            "denominator": np.nan,
        }
    )
    if row.kind == "ratio":
        denominator = rng.integers(0, 6, n).astype(float)
        denominator[rng.random(n) < zeros] = 0.0
        frame["numerator"] = np.floor(denominator * rng.random(n) * 1.2)
        frame["denominator"] = denominator
    else:
        frame["value"] = numbers
    hole = rng.random(n) < holes
    frame.loc[hole, "value" if row.kind == "value" else "numerator"] = np.nan
    frame.loc[hole & (rng.random(n) < 0.5), "denominator"] = np.nan
    return frame


def _close(a: float | None, b: float | None) -> bool:
    a_missing = a is None or (isinstance(a, float) and math.isnan(a))
    b_missing = b is None or (isinstance(b, float) and math.isnan(b))
    if a_missing or b_missing:
        return a_missing and b_missing
    return math.isclose(float(a), float(b), rel_tol=REL, abs_tol=1e-12)


def _status(score: float | None, bands: Bands) -> str | None:
    """The band a reference score falls in, or None when it is too close to an edge to call."""
    if score is None:
        return None
    if any(abs(score - edge) <= REL for edge in (bands.meeting, bands.near)):
        return "skip"
    return "meeting" if score >= bands.meeting else "near" if score >= bands.near else "below"


def assert_agree(city: dict[str, object], bands: Bands = DEFAULT_BANDS) -> None:
    args = [city[k] for k in ("observations", "metrics", "targets", "start", "end")]
    options = {"periods": city["periods"], "cap": city.get("cap")}
    options |= {k: city[k] for k in ("closed", "stale_metrics", "count_stale") if k in city}
    fast = score_range(*args, bands=bands, **options)
    slow = reference_scores(*args, **options)
    n_dates = (city["end"] - city["start"]).days + 1
    assert len(fast) == len(slow) == (len(city["metrics"]) + 1) * len(city["periods"]) * n_dates
    fast = fast.assign(as_of=fast["as_of"].dt.date, metric=fast["metric"].astype(str))
    indexed = fast.set_index(["as_of", "metric", "period"])
    for ref in slow:
        row = indexed.loc[(ref["as_of"], ref["metric"], ref["period"])]
        where = (
            f"{ref['as_of']} {ref['metric']} {ref['period']}: engine {dict(row)} vs reference {ref}"
        )
        assert row["note"] == ref["note"], where
        assert _close(row["score"], ref["score"]), where
        if ref["metric"] != CITYWIDE:
            assert _close(row["value"], ref["value"]), where
            assert _close(row["target"], ref["target"]), where
        expected_status = STALE if ref["stale"] else _status(ref["score"], bands)
        if expected_status is None:
            assert pd.isna(row["status"]), where
        elif expected_status != "skip":
            assert row["status"] == expected_status, where


@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cities())
def test_engine_matches_reference(city: dict[str, object]) -> None:
    assert_agree(city)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cities(), st.sampled_from([(1.0, 0.9), (1.2, 0.8), (0.95, 0.95)]))
def test_engine_matches_reference_with_other_bands(
    city: dict[str, object], edges: tuple[float, float]
) -> None:
    assert_agree(city, Bands(meeting=edges[0], near=edges[1]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cities())
def test_engine_never_mutates_its_inputs(city: dict[str, object]) -> None:
    copies = {key: city[key].copy(deep=True) for key in ("observations", "metrics", "targets")}
    score_range(city["observations"], city["metrics"], city["targets"], city["start"], city["end"])
    for key, before in copies.items():
        pd.testing.assert_frame_equal(city[key], before, check_exact=True)


@pytest.mark.parametrize("history_days", [89, 90])
def test_reference_and_engine_agree_at_the_history_threshold(history_days: int) -> None:
    """The 89/90-day edge, pinned rather than left to chance."""
    metrics = pd.DataFrame(
        [
            {
                "name": "Library Users",
                "definition": "",
                "category": "Culture",
                "unit": "",
                "direction": "higher",
                "kind": "value",
                "aggregation": "mean",
                "baseline": "history",
                "trend": False,
                "weight": 1.0,
            }
        ]
    )
    days = pd.date_range(FIRST_DAY, periods=history_days + 1, freq="D")
    observations = pd.DataFrame(
        {"metric": "Library Users", "date": days, "value": np.arange(len(days)) % 7 + 1.0}
    ).assign(numerator=np.nan, denominator=np.nan)
    as_of = days[-1].date()
    city = {
        "metrics": metrics,
        "targets": pd.DataFrame(columns=["metric", "effective_from", "target"]),
        "observations": observations,
        "start": as_of,
        "end": as_of,
        "periods": PERIODS,
    }
    assert_agree(city)


@pytest.mark.parametrize("days_ago", [0, demo.TARGET_CHANGE_DAYS_AGO, demo.STALE_METRIC_DAYS_AGO])
def test_engine_matches_reference_on_the_demo_city(days_ago: int) -> None:
    """Realistic sizes and patterns: 20 metrics, three years, a stale metric, a target change."""
    metrics, fixed = demo.demo_metrics()
    as_of = DEMO_END - dt.timedelta(days=days_ago)
    city = {
        "metrics": metrics,
        "targets": pd.concat([fixed, demo.demo_target_change(DEMO_END)], ignore_index=True),
        "observations": demo.demo_observations(DEMO_END),
        "start": as_of - dt.timedelta(days=1),
        "end": as_of,
        "periods": PERIODS,
    }
    assert_agree(city)
