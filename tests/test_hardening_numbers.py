"""Numbers that stay exact and finite: float noise never decides a status, and no score is infinite.

Every expected number is worked by hand: on target is exactly 1; 0.09 against 0.1 is exactly 0.9.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cityscore.core.errors import ValidationError
from cityscore.engine.precision import TOLERANCE, settle, settle_one
from cityscore.engine.reference import reference_scores
from cityscore.engine.score import score_date
from cityscore.engine.statuses import NOT_FINITE
from cityscore.engine.summary import category_scores
from cityscore.io.load import load_metrics, load_targets, load_values
from cityscore.pages.render import score_text, scores_json
from tests.clirun import run_cli
from tests.test_score_rules import D, catalog, day, metric, row, targets, values


def test_settle_takes_off_float_noise_and_keeps_every_other_digit() -> None:
    assert 0.09 / 0.1 == 0.8999999999999999  # the noise this is about
    assert settle_one(0.09 / 0.1) == 0.9
    assert settle_one(0.9999999999999996) == 1.0
    assert settle_one(1.0000000000000004) == 1.0
    # A quotient that is not near a 12-digit number keeps every digit (hand-worked tests at 1e-15).
    assert settle_one(10 / 12) == 10 / 12
    assert settle_one((10 / 12) / 0.5) == (10 / 12) / 0.5
    assert settle_one(1 / 3) == 1 / 3
    assert settle_one(0.0) == 0.0
    assert settle_one(math.inf) is None
    assert settle_one(math.nan) is None
    scores = np.array([0.8999999999999999, np.nan, np.inf, 2.5])
    out = settle(scores)
    assert out[0] == 0.9 and np.isnan(out[1]) and np.isnan(out[2]) and out[3] == 2.5
    assert scores[0] == 0.8999999999999999  # the input is not changed
    assert 0 < TOLERANCE < 1e-12


@pytest.mark.parametrize("daily", [0.1, 0.7, 1.1])
@pytest.mark.parametrize("aggregation", ["mean", "sum"])
def test_on_target_every_day_scores_exactly_1_for_every_window_length(
    daily: float, aggregation: str
) -> None:
    # The daily value equals the daily target every day: every window is exactly on target.
    meta = catalog(metric(aggregation=aggregation))
    obs = values("M", {-k: daily for k in range(100)})
    tgt = targets(("M", day(-400), daily))
    periods = {f"w{w}": w for w in range(1, 93)}
    scores = score_date(obs, meta, tgt, D, periods=periods)
    for name in periods:
        r = row(scores, period=name)
        assert r["score"] == 1.0, (name, r["score"])
        assert r["status"] == "meeting", name
    city = scores[scores["metric"] == "CityScore"]
    assert (city["score"] == 1.0).all()
    # The slow reference reaches the same exact 1 through its own sums.
    ref = reference_scores(obs, meta, tgt, D, D, periods)
    assert {r["score"] for r in ref} == {1.0}


def test_quarter_cityscore_with_every_metric_on_target_is_exactly_1_meeting() -> None:
    weights = [0.1, 0.2, 0.3, 0.7, 1.3, 3.0]
    meta = catalog(*[metric(f"M{i}", weight=w) for i, w in enumerate(weights)])
    obs = pd.concat([values(f"M{i}", {-k: 0.1 * (i + 1) for k in range(92)}) for i in range(6)])
    tgt = targets(*[(f"M{i}", day(-400), 0.1 * (i + 1)) for i in range(6)])
    scores = score_date(obs, meta, tgt, D)
    city = row(scores, "CityScore", "quarter")
    assert city["score"] == 1.0
    assert city["status"] == "meeting"
    assert score_text(city["score"]) == "1.00"
    categories = category_scores(scores, meta)
    assert (categories["score"] == 1.0).all()


def test_ninety_percent_of_target_is_exactly_the_near_edge_and_prints_0_90() -> None:
    meta = catalog(metric())
    obs = values("M", {0: 0.09})
    tgt = targets(("M", day(-10), 0.1))
    r = row(score_date(obs, meta, tgt, D))
    assert r["score"] == 0.9  # 0.09 / 0.1 is 90 % exactly
    assert r["status"] == "near"  # the documented side of the edge: score >= near
    assert score_text(r["score"]) == "0.90"
    ref = next(x for x in reference_scores(obs, meta, tgt, D, D) if x["metric"] == "M")
    assert ref["score"] == 0.9
    # And lower-is-better: a target of 0.09 against a value of 0.1 is 0.9 too.
    meta = catalog(metric(direction="lower"))
    tgt = targets(("M", day(-10), 0.09))
    r = row(score_date(values("M", {0: 0.1}), meta, tgt, D))
    assert (r["score"], r["status"]) == (0.9, "near")


def test_a_score_that_cannot_be_finite_is_no_score_with_a_note_and_no_warning() -> None:
    # Frames built by hand (the import refuses these numbers): a target of 1e-320 (subnormal).
    meta = catalog(metric("M"), metric("N"))
    obs = pd.concat([values("M", {0: 1e308}), values("N", {0: 1.0})])
    tgt = targets(("M", day(-10), 1e-320), ("N", day(-10), 1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning fails the test
        scores = score_date(obs, meta, tgt, D)
        text = scores_json(scores)
    r = row(scores, "M")
    assert math.isnan(r["score"]) and pd.isna(r["status"])
    assert r["note"] == NOT_FINITE
    city = row(scores, "CityScore")
    assert city["score"] == 1.0  # N alone
    assert "Infinity" not in text and "NaN" not in text
    json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
    ref = next(x for x in reference_scores(obs, meta, tgt, D, D) if x["metric"] == "M")
    assert ref["score"] is None and ref["note"] == NOT_FINITE


def test_json_never_holds_infinity_even_from_a_frame_with_one() -> None:
    frame = pd.DataFrame(
        {
            "as_of": [pd.Timestamp(D)],
            "metric": ["M"],
            "period": ["day"],
            "value": [math.inf],
            "target": [1.0],
            "score": [math.inf],
            "status": ["meeting"],
            "note": [""],
        }
    )
    rows = json.loads(scores_json(frame), parse_constant=lambda n: pytest.fail(n))
    assert rows[0]["score"] is None and rows[0]["value"] is None


METRICS = (
    "name,definition,category,unit,direction,kind,aggregation,baseline,trend,weight,target\n"
    "M,,General,,higher,value,mean,target,false,1,10\n"
)


def _reasons(exc: pytest.ExceptionInfo[ValidationError]) -> dict[tuple[int, str], str]:
    problems = exc.value.problems
    return {(int(r.line), r.column): r.reason for r in problems.itertuples(index=False)}


def test_values_outside_the_kept_range_are_refused_with_line_column_and_reason() -> None:
    metrics, _ = load_metrics(METRICS.encode())
    text = (
        "metric,date,value\n"
        "M,2026-06-01,1e309\n"  # line 2: reads as infinity
        "M,2026-06-02,1e-400\n"  # line 3: reads as 0
        "M,2026-06-03,12345678901234567890\n"  # line 4: 20 digits, rounded by a float
        "M,2026-06-04,1e-320\n"  # line 5: subnormal
        "M,2026-06-05,1e308\n"  # line 6: overflows a week's sum
        "M,2026-06-06,0.000001\n"  # line 7: fine
        "M,2026-06-07,0\n"  # line 8: fine
        "M,2026-06-08,0e-5\n"  # line 9: zero written with an exponent: fine
    )
    with pytest.raises(ValidationError) as exc:
        load_values(text.encode(), metrics, today=dt.date(2026, 7, 1))
    reasons = _reasons(exc)
    assert set(reasons) == {(2, "value"), (3, "value"), (4, "value"), (5, "value"), (6, "value")}
    assert reasons[(2, "value")].startswith("too large")
    assert "infinity" not in reasons[(2, "value")]
    assert reasons[(3, "value")].startswith("too small")
    assert reasons[(4, "value")].startswith("too large")
    assert reasons[(5, "value")].startswith("too small")


def test_fast_path_files_are_refused_the_same_way() -> None:
    # A plain file (the Arrow fast path reads those) with one number out of range.
    metrics, _ = load_metrics(METRICS.encode())
    for bad in ("1e-400", "1e300", "1e-320"):
        text = f"metric,date,value\nM,2026-06-01,1\nM,2026-06-02,{bad}\n"
        with pytest.raises(ValidationError) as exc:
            load_values(text.encode(), metrics, today=dt.date(2026, 7, 1))
        assert list(_reasons(exc)) == [(3, "value")], bad


def test_targets_and_weights_outside_the_kept_range_are_refused() -> None:
    metrics, _ = load_metrics(METRICS.encode())
    text = "metric,effective_from,target\nM,2026-01-01,1e-320\nM,2026-02-01,1e309\n"
    with pytest.raises(ValidationError) as exc:
        load_targets(text.encode(), metrics)
    reasons = _reasons(exc)
    assert reasons[(2, "target")].startswith("too small")
    assert reasons[(3, "target")].startswith("too large")
    bad_weight = METRICS.replace("false,1,10", "false,1e308,10")
    with pytest.raises(ValidationError) as exc:
        load_metrics(bad_weight.encode())
    assert _reasons(exc)[(2, "weight")].startswith("too large")
    bad_target = METRICS.replace("false,1,10", "false,1,1e-320")
    with pytest.raises(ValidationError) as exc:
        load_metrics(bad_target.encode())
    assert _reasons(exc)[(2, "target")].startswith("too small")


def test_cli_score_output_is_valid_json_and_stderr_is_clean(tmp_path: Path) -> None:
    (tmp_path / "metrics.csv").write_text(METRICS)
    (tmp_path / "values.csv").write_text("metric,date,value\nM,2026-06-01,9\n")
    db = ["--db", f"sqlite:///{tmp_path / 'city.db'}"]
    for args in (
        ["init"],
        ["metrics", "import", "metrics.csv"],
        ["values", "import", "values.csv"],
    ):
        assert run_cli(tmp_path, *db, *args).returncode == 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        done = run_cli(tmp_path, *db, "score", "--date", "2026-06-01", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and caught == []
    rows = json.loads(done.stdout, parse_constant=lambda n: pytest.fail(n))
    assert {r["score"] for r in rows if r["metric"] == "M"} == {0.9}  # 9 / 10, exactly
