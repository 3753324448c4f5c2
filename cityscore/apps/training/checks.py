"""The lessons' answer checkers: each compares a learner's answer with what the kit computes from
the learner's own database (never a stored answer), so they stay right whatever the demo's end date."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from cityscore.apps.training.feedback import (
    Feedback,
    check_number,
    check_text,
    close_enough,
    is_placeholder,
    unanswered,
    verdict,
)
from cityscore.apps.training.material import clean_rows, expected_work_order_values
from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.errors import CityScoreError, ValidationError
from cityscore.core.names import closest
from cityscore.core.vocabulary import CITYWIDE, PERIODS
from cityscore.engine import summary
from cityscore.engine.statuses import STATUSES, status_codes
from cityscore.io.load import load_metrics, load_values
from cityscore.kit import Kit

# --- lesson 1: what a score is --------------------------------------------------------------------


def _row(kit: Kit, metric: str, period: str, as_of: dt.date | None) -> pd.Series:
    scores = kit.scores(as_of)
    match = scores[(scores["metric"] == metric) & (scores["period"] == period)]
    if match.empty:
        hint = closest(metric, kit.metrics()["name"])
        msg = (
            f"no score for metric {metric!r}{hint} and period {period!r} (periods: {list(PERIODS)})"
        )
        raise CityScoreError(msg)
    return match.iloc[0]


def check_score(
    kit: Kit, exercise: str, metric: str, period: str, answer: object, as_of: dt.date | None = None
) -> Feedback:
    """Check a score worked out by hand against the kit's score for ``metric`` and ``period``."""
    row = _row(kit, metric, period, as_of)
    what = f"the {period} score of {metric}"
    if pd.isna(row["score"]):
        if answer is None:
            return verdict(exercise, "correct", f"{metric} has no {period} score: {row['note']}.")
        if is_placeholder(answer):
            return unanswered(exercise)
        return verdict(
            exercise, "wrong", f"{metric} gets no {period} score ({row['note']}); answer None."
        )
    score = float(row["score"])
    mistakes = {"divide the other way round (check whether higher or lower is better)": 1 / score}
    mistakes["give a percentage; scores are plain ratios where 1 means on target"] = 100 * score
    if metric != CITYWIDE:
        mistakes.update(_metric_mistakes(kit, metric, period, row))
    return check_number(exercise, answer, score, what, mistakes)


def _metric_mistakes(kit: Kit, metric: str, period: str, row: pd.Series) -> dict[str, float]:
    """Numbers the usual slips give for one metric's score, to name the slip in the hint."""
    info = kit.metrics().set_index("name").loc[metric]
    higher = info["direction"] == "higher"
    target, value = float(row["target"]), float(row["value"])
    days = PERIODS[period]
    as_of = pd.Timestamp(row["as_of"])
    window = kit.observations(as_of - pd.Timedelta(days=days - 1), as_of)
    window = window[window["metric"] == metric]
    out: dict[str, float] = {}
    if info["kind"] == "ratio" and len(window):
        mean_of_days = float((window["numerator"] / window["denominator"]).mean())
        hint = "average the daily shares; a ratio metric adds up numerators and denominators first"
        out[hint] = mean_of_days / target if higher else target / mean_of_days
    if info["aggregation"] == "sum" and days > 1:
        hint = f"compare the {days}-day total with the daily target; multiply the target by {days} days"
        out[hint] = value / (target / days) if higher else (target / days) / value
    if info["aggregation"] == "median" and len(window):
        mean = float(window["value"].mean())
        out["take the mean; this metric uses the median of the days"] = (
            mean / target if higher else target / mean
        )
    return out


def check_citywide(
    exercise: str,
    scores: Sequence[float | None],
    answer: object,
    weights: Sequence[float] | None = None,
) -> Feedback:
    """Check a CityScore worked out by hand: the weighted mean of the scores that exist."""
    weights = list(weights) if weights is not None else [1.0] * len(scores)
    pairs = [
        (s, w) for s, w in zip(scores, weights, strict=True) if s is not None and not math.isnan(s)
    ]
    expected = sum(s * w for s, w in pairs) / sum(w for _, w in pairs)
    filled = [0.0 if s is None or math.isnan(s) else s for s in scores]
    mistakes = {
        "count a missing score as 0; leave it out instead": float(
            np.average(filled, weights=weights)
        ),
        "ignore the weights": float(np.mean([s for s, _ in pairs])),
    }
    return check_number(exercise, answer, expected, "the CityScore", mistakes)


# --- lesson 2: designing metrics ------------------------------------------------------------------


FIELD_HINTS = {
    "direction": "is a bigger number good news (higher) or bad news (lower)?",
    "kind": "is it one number a day (value) or a count of successes out of a total (ratio)?",
    "aggregation": "how should the days of a week be combined: mean, median or sum?",
    "baseline": "is there a fixed goal (target) or do we compare with the city's own past year (history)?",
    "trend": "is it a rare count (homicides) where a single day is mostly chance? then trend=true",
    "target": "for a ratio metric the target is a share between 0 and 1 (85% is 0.85)",
}


def _parse_metrics(exercise: str, csv_text: object) -> tuple[pd.DataFrame, pd.DataFrame] | Feedback:
    """(metrics, targets) from a learner's metrics.csv text, or the feedback for why it does not import."""
    if is_placeholder(csv_text):
        return unanswered(exercise)
    try:
        return load_metrics(str(csv_text).strip().encode())
    except ValidationError as error:
        return verdict(exercise, "wrong", f"the file does not import yet:\n{error}")


def check_metric_row(exercise: str, csv_text: object, expected: Mapping[str, Any]) -> Feedback:
    """Check a metrics.csv (header + one row) against the settings the exercise describes."""
    parsed = _parse_metrics(exercise, csv_text)
    if isinstance(parsed, Feedback):
        return parsed
    metrics, targets = parsed
    if len(metrics) != 1:
        return verdict(exercise, "wrong", f"give exactly one metric row; found {len(metrics)}.")
    got = metrics.iloc[0].to_dict()
    got["target"] = float(targets["target"].iloc[0]) if len(targets) else None
    for field, want in expected.items():
        have = got.get(field)
        same = (
            close_enough(float(have), float(want))
            if field == "target" and have is not None
            else have == want
        )
        if not same:
            hint = FIELD_HINTS.get(field, "")
            return verdict(exercise, "wrong", f"{field} is {have!r}, expected {want!r}: {hint}")
    return verdict(exercise, "correct", "the row imports and every setting fits the description.")


QUESTIONS: dict[str, tuple[str, dict[str, str]]] = {
    # exercise id -> (right option, explanation shown for each option)
    "2.2": (
        "b",
        {
            "a": "a score of infinity (target / 0) would swamp the CityScore, so the kit never gives it.",
            "b": "the kit gives no score and the note says 'value is 0 for a lower-is-better metric'; "
            "the CityScore is the mean of the other metrics.",
            "c": "a 0 would punish the best possible day; the kit leaves the day unscored instead.",
        },
    ),
}


def check_choice(exercise: str, answer: object) -> Feedback:
    """Check a multiple-choice answer (a letter) for the questions in ``QUESTIONS``."""
    if is_placeholder(answer):
        return unanswered(exercise)
    right, explanations = QUESTIONS[exercise]
    letter = str(answer).strip().lower().strip("()")
    if letter not in explanations:
        return verdict(exercise, "wrong", f"answer one of {sorted(explanations)}; got {answer!r}.")
    status = "correct" if letter == right else "wrong"
    return verdict(exercise, status, explanations[letter])


def check_baseline(
    kit: Kit, exercise: str, metric: str, answer: object, as_of: dt.date | None = None
) -> Feedback:
    """Check a history baseline target worked out by hand (mean ± population std of the past 365 days)."""
    row = _row(kit, metric, "day", as_of)
    as_of_ts = pd.Timestamp(row["as_of"])
    obs = kit.observations(as_of_ts - pd.Timedelta(days=365), as_of_ts)
    obs = obs[obs["metric"] == metric]
    past = obs.loc[pd.to_datetime(obs["date"]) < as_of_ts, "value"]
    with_today = obs["value"]
    sign = -1 if kit.metrics().set_index("name").loc[metric, "direction"] == "higher" else 1
    mistakes = {
        "use the sample standard deviation (ddof=1); the kit uses the population one (ddof=0)": past.mean()
        + sign * past.std(ddof=1),
        "move the wrong way from the mean (higher is better: mean − std; lower: mean + std)": past.mean()
        - sign * past.std(ddof=0),
        "include the as-of day itself; the baseline uses only the 365 days before it": with_today.mean()
        + sign * with_today.std(ddof=0),
        "take the plain mean; the baseline moves one standard deviation away from it": past.mean(),
    }
    return check_number(
        exercise, answer, float(row["target"]), f"the baseline target of {metric}", mistakes
    )


# --- lesson 3: getting data in --------------------------------------------------------------------


def check_fixed_csv(kit: Kit, exercise: str, fixed: object) -> Feedback:
    """Check a corrected lesson-3 file: it must import cleanly and keep every row's intended value."""
    if is_placeholder(fixed):
        return unanswered(exercise)
    try:
        got = load_values(str(fixed).encode(), kit.metrics())
    except ValidationError as error:
        return verdict(exercise, "wrong", f"some rows are still rejected:\n{error}")
    want = load_values(clean_rows(kit).to_csv(index=False).encode(), kit.metrics())
    if len(got) < len(want):
        return verdict(
            exercise,
            "wrong",
            f"the file has {len(got)} rows, the original {len(want)}: fix rows, don't delete them.",
        )
    merged = want.merge(got, on=["metric", "date"], how="left", suffixes=("", "_got"))
    for column in ("value", "numerator", "denominator"):
        differs = ~np.isclose(merged[column], merged[f"{column}_got"], equal_nan=True)
        if differs.any():
            bad = merged[differs].iloc[0]
            return verdict(
                exercise,
                "wrong",
                f"{bad['metric']} on {bad['date'].date()} now has {column} {bad[column + '_got']}; "
                f"the source system says {bad[column]}. Fix the typing, keep the number.",
            )
    return verdict(
        exercise, "correct", f"all {len(got)} rows import with the values the source meant."
    )


def check_entered(
    kit: Kit, exercise: str, result: object, metric: str, date: dt.date, value: float
) -> Feedback:
    """Check that ``value`` was typed in for ``metric`` on ``date`` (``result`` is what ``kit.enter`` returned)."""
    if is_placeholder(result):
        return unanswered(exercise)
    day = pd.Timestamp(date)
    stored = kit.observations(day, day)
    stored = stored[stored["metric"] == metric]
    if stored.empty:
        return verdict(
            exercise, "wrong", f"no value is stored for {metric} on {day.date()}: check the date."
        )
    have = float(stored["value"].iloc[0])
    if not close_enough(have, value, 1e-9):
        return verdict(
            exercise,
            "wrong",
            f"{metric} on {day.date()} is {have:g}; the exercise asks for {value:g}.",
        )
    return verdict(
        exercise,
        "correct",
        f"{metric} on {day.date()} is now {value:g}; the old value is kept in its history.",
    )


def check_query(exercise: str, url: str, query: object, kind: str, metric: str) -> Feedback:
    """Run a learner's SQL on the city system and compare its rows with the expected daily values."""
    if is_placeholder(query):
        return unanswered(exercise)
    want = expected_work_order_values(url, kind, metric)
    days = {"start": min(want["date"]), "end": max(want["date"])}  # as `cityscore sync` binds them
    try:
        with sa.create_engine(url).connect() as con:
            got = pd.read_sql(sa.text(str(query)), con, params=days)
    except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        return verdict(
            exercise,
            "wrong",
            f"the database rejected the query: {reason}. Use :start and :end for the days.",
        )
    missing = [c for c in want.columns if c not in got.columns]
    if missing:
        return verdict(
            exercise,
            "wrong",
            f"the result lacks column(s) {missing}; name them with AS (e.g. COUNT(*) AS denominator).",
        )
    got = got[list(want.columns)].astype({"numerator": float, "denominator": float})
    got["date"] = got["date"].astype(str).str[:10]
    if len(got) != len(want):
        return verdict(
            exercise,
            "wrong",
            f"{len(got)} rows; expected {len(want)}, one per day. Did you GROUP BY the closing day?",
        )
    merged = want.merge(got, on=["metric", "date"], how="left", suffixes=("", "_got"))
    if merged["numerator_got"].isna().any():
        return verdict(
            exercise, "wrong", "the metric name or the dates do not match the expected rows."
        )
    if not np.allclose(merged["denominator"], merged["denominator_got"]):
        return verdict(
            exercise,
            "wrong",
            "the daily totals differ: count only this kind of order, and only closed ones.",
        )
    if not np.allclose(merged["numerator"], merged["numerator_got"]):
        return verdict(
            exercise, "wrong", "the on-time counts differ: on time means closed_at <= due_at."
        )
    return verdict(exercise, "correct", f"{len(got)} days of {metric}, ready to import.")


# --- lesson 4: reading the scoreboard -------------------------------------------------------------


def check_biggest_drag(
    kit: Kit, exercise: str, answer: object, as_of: dt.date | None = None
) -> Feedback:
    """Check the metric that pulled the day CityScore down most since the day before."""
    day = pd.Timestamp(as_of or kit.latest_date())
    scores = kit.scores(start=day - pd.Timedelta(days=1), end=day)
    moved = summary.contributions(scores, kit.metrics(), day)
    worst = moved.sort_values("contribution", kind="stable").iloc[0]
    why = f"Its contribution was {worst['contribution']:+.3f}."
    return check_text(
        exercise,
        answer,
        str(worst["metric"]),
        "the metric that pulled the CityScore down most",
        why,
    )


def check_status(
    exercise: str, score: float, answer: object, bands: Bands = DEFAULT_BANDS
) -> Feedback:
    """Check the status band a learner names for ``score``."""
    status = STATUSES[status_codes(np.array([float(score)]), bands)[0]]
    why = f"meeting ≥ {bands.meeting}, near ≥ {bands.near}, below under {bands.near}."
    return check_text(exercise, answer, status, f"the status of a score of {score}", why)


def check_stale(kit: Kit, exercise: str, answer: object, as_of: dt.date | None = None) -> Feedback:
    """Check the metric(s) with no data in the last week."""
    day = as_of or kit.latest_date()
    fresh = summary.freshness(kit.observations(), kit.metrics(), day)
    stale = fresh.loc[fresh["stale"], "metric"].tolist()
    return check_text(
        exercise, answer, stale, "the stale metric", "Its scores are old news: chase the data."
    )


def check_count_below(kit: Kit, exercise: str, answer: object, period: str = "week") -> Feedback:
    """Check how many metrics have status ``below`` for ``period`` on the latest date."""
    scores = summary.metric_rows(kit.scores())
    count = int(((scores["period"] == period) & (scores["status"] == "below")).sum())
    near = int(((scores["period"] == period) & (scores["status"].isin(["below", "near"]))).sum())
    mistakes = {"count near and below together; near (0.9 to 1) is not below": float(near)}
    return check_number(
        exercise, answer, count, f"the number of metrics below on the {period}", mistakes, 0
    )


# --- lesson 5: your city --------------------------------------------------------------------------


def check_my_metrics(exercise: str, csv_text: object) -> Feedback:
    """Check a learner's own metrics.csv: five or more metrics that import and can score on a month of data."""
    parsed = _parse_metrics(exercise, csv_text)
    if isinstance(parsed, Feedback):
        return parsed
    metrics = parsed[0]
    if len(metrics) < 5:
        return verdict(exercise, "wrong", f"define at least five metrics; found {len(metrics)}.")
    history = metrics.loc[metrics["baseline"] == "history", "name"].tolist()
    if history:
        return verdict(
            exercise,
            "wrong",
            f"{history} use baseline=history, which needs 90 days of past data; with one month, give a fixed target.",
        )
    if set(metrics["direction"]) != {"higher", "lower"}:
        return verdict(
            exercise,
            "wrong",
            "include at least one higher-is-better and one lower-is-better metric.",
        )
    return verdict(exercise, "correct", f"{len(metrics)} metrics import cleanly.")


def check_lowest(kit: Kit, exercise: str, answer: object, period: str = "week") -> Feedback:
    """Check the metric with the lowest ``period`` score on the latest date (first to follow up)."""
    rows = summary.metric_rows(kit.scores())
    rows = rows[(rows["period"] == period) & rows["score"].notna()]
    if rows.empty:
        return verdict(exercise, "wrong", f"no metric has a {period} score yet; load data first.")
    lowest = rows.sort_values(["score", "metric"], kind="stable").iloc[0]
    why = f"Its {period} score is {lowest['score']:.2f}: ask that department first."
    return check_text(exercise, answer, str(lowest["metric"]), f"the lowest {period} score", why)
