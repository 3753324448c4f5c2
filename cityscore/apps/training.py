"""The training course's helpers and answer checkers (``notebooks/training/``).

Each checker takes a learner's answer and returns ``Feedback``: a confirmation, a hint that names the
usual mistake, or "not answered yet" for the ``...`` placeholder. Expected answers are computed from
the learner's own database with the kit, never stored, so they stay right whatever the demo's end date.
Trainers (and the tests) set ``CITYSCORE_TRAINING_STRICT=1`` to make a wrong or missing answer raise
``WrongAnswer`` instead, so a solved notebook that executes without error has every answer right.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import sqlite3
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.errors import CityScoreError, ValidationError
from cityscore.core.runtime import skipped_imports
from cityscore.core.settings import database_url
from cityscore.core.vocabulary import CITYWIDE, PERIODS
from cityscore.dev.notebooks import copy_sqlite
from cityscore.engine import summary
from cityscore.io import load
from cityscore.kit import Kit

STRICT_ENV = "CITYSCORE_TRAINING_STRICT"
TOLERANCE = 0.005  # answers within half a hundredth count: learners read rounded numbers
SOLUTIONS_FILE = "solutions.yml"


class WrongAnswer(CityScoreError):
    """Raised in strict mode when an exercise's answer is wrong or missing."""


@dataclass(frozen=True)
class Feedback:
    """A checker's verdict: ``status`` is ``correct``, ``wrong`` or ``unanswered``."""

    exercise: str
    status: str
    message: str

    @property
    def ok(self) -> bool:
        return self.status == "correct"

    def __repr__(self) -> str:
        mark = {"correct": "✔ Correct", "wrong": "✘ Not yet", "unanswered": "… Not answered yet"}
        return f"Exercise {self.exercise} — {mark[self.status]}: {self.message}"

    __str__ = __repr__


def _verdict(exercise: str, status: str, message: str) -> Feedback:
    feedback = Feedback(exercise, status, message)
    if status != "correct" and os.environ.get(STRICT_ENV) == "1":
        raise WrongAnswer(repr(feedback))
    return feedback


def _unanswered(exercise: str) -> Feedback:
    return _verdict(
        exercise, "unanswered", "replace the `...` with your answer and run the cell again."
    )


def is_placeholder(answer: object) -> bool:
    """True for the ``...`` a learner has not replaced yet."""
    return answer is Ellipsis


def _close(a: float, b: float, tolerance: float = TOLERANCE) -> bool:
    return bool(np.isfinite(a) and np.isfinite(b) and abs(a - b) <= tolerance)


def check_number(
    exercise: str,
    answer: object,
    expected: float,
    what: str,
    mistakes: Mapping[str, float] | None = None,
    tolerance: float = TOLERANCE,
) -> Feedback:
    """Compare a numeric answer with ``expected``; name the mistake if it matches a known wrong result.

    ``mistakes`` maps a hint (what the learner probably did) to the number that mistake produces.
    """
    if is_placeholder(answer):
        return _unanswered(exercise)
    try:
        value = float(answer)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _verdict(
            exercise, "wrong", f"the answer should be a number ({what}); got {answer!r}."
        )
    if _close(value, expected, tolerance):
        return _verdict(exercise, "correct", f"{what} is {expected:.4g}.")
    for hint, wrong in (mistakes or {}).items():
        if _close(value, wrong, tolerance):
            return _verdict(exercise, "wrong", f"{value:.4g} is what you get if you {hint}.")
    return _verdict(
        exercise,
        "wrong",
        f"{value:.4g} is not {what}. Check the formula in the lesson and try again.",
    )


def check_text(
    exercise: str, answer: object, expected: str | Sequence[str], what: str, why: str = ""
) -> Feedback:
    """Compare a name or word with the expected one(s), ignoring case and surrounding spaces."""
    if is_placeholder(answer):
        return _unanswered(exercise)
    allowed = [expected] if isinstance(expected, str) else list(expected)
    given = str(answer).strip().casefold()
    if given in {a.casefold() for a in allowed}:
        return _verdict(exercise, "correct", f"{what} is {' / '.join(allowed)}. {why}".strip())
    hint = load.closest(str(answer), allowed)
    return _verdict(exercise, "wrong", f"{answer!r} is not {what}{hint}. {why}".strip())


# --- a scratch database ------------------------------------------------------------------------


def scratch_kit(empty: bool = False) -> Kit:
    """A private copy of the course database (``$CITYSCORE_DB``, normally the demo city) to write to.

    The copy lives in a fresh temporary folder, so exercises never change the shared database.
    With ``empty=True`` the copy has the schema and no data (lesson 5: your own city).
    """
    folder = Path(tempfile.mkdtemp(prefix="cityscore-training-"))
    kit = Kit(f"sqlite:///{folder / 'scratch.db'}")
    if empty:
        kit.init()
        return kit
    source = database_url()
    if source.startswith("sqlite:///") and Path(source[len("sqlite:///") :]).is_file():
        copy_sqlite(Path(source[len("sqlite:///") :]), folder / "scratch.db")
    else:
        kit.load_demo(Kit(source).latest_date())
    return kit


# --- lesson 1: what a score is -----------------------------------------------------------------


def _row(kit: Kit, metric: str, period: str, as_of: dt.date | None) -> pd.Series:
    scores = kit.scores(as_of)
    match = scores[(scores["metric"] == metric) & (scores["period"] == period)]
    if match.empty:
        hint = load.closest(metric, kit.metrics()["name"])
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
            return _verdict(exercise, "correct", f"{metric} has no {period} score: {row['note']}.")
        if is_placeholder(answer):
            return _unanswered(exercise)
        return _verdict(
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


# --- lesson 2: designing metrics ---------------------------------------------------------------

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
        return _unanswered(exercise)
    try:
        return load.load_metrics(str(csv_text).strip().encode())
    except ValidationError as error:
        return _verdict(exercise, "wrong", f"the file does not import yet:\n{error}")


def check_metric_row(exercise: str, csv_text: object, expected: Mapping[str, Any]) -> Feedback:
    """Check a metrics.csv (header + one row) against the settings the exercise describes."""
    parsed = _parse_metrics(exercise, csv_text)
    if isinstance(parsed, Feedback):
        return parsed
    metrics, targets = parsed
    if len(metrics) != 1:
        return _verdict(exercise, "wrong", f"give exactly one metric row; found {len(metrics)}.")
    got = metrics.iloc[0].to_dict()
    got["target"] = float(targets["target"].iloc[0]) if len(targets) else None
    for field, want in expected.items():
        have = got.get(field)
        same = (
            _close(float(have), float(want))
            if field == "target" and have is not None
            else have == want
        )
        if not same:
            hint = FIELD_HINTS.get(field, "")
            return _verdict(exercise, "wrong", f"{field} is {have!r}, expected {want!r}: {hint}")
    return _verdict(exercise, "correct", "the row imports and every setting fits the description.")


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
        return _unanswered(exercise)
    right, explanations = QUESTIONS[exercise]
    letter = str(answer).strip().lower().strip("()")
    if letter not in explanations:
        return _verdict(exercise, "wrong", f"answer one of {sorted(explanations)}; got {answer!r}.")
    status = "correct" if letter == right else "wrong"
    return _verdict(exercise, status, explanations[letter])


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


# --- lesson 3: getting data in -----------------------------------------------------------------

_MISTAKES = [
    # (metric, column to spoil, how it is spoiled) — each a slip people make in a spreadsheet
    ("Pothole Repairs On Time", "metric", lambda text: text.replace("Repairs", "Repair")),
    ("EMS Response Time", "value", lambda text: text.replace(".", ",")),
    ("Library Users", "date", lambda text: pd.Timestamp(text).strftime("%d/%m/%Y")),
    ("Park Permits Issued", "value", lambda text: f"{text} permits"),
]


def _clean_rows(kit: Kit) -> pd.DataFrame:
    """The rows the lesson-3 file should hold: one new day (after the latest) for a few metrics."""
    day = (kit.latest_date() + dt.timedelta(days=1)).isoformat()
    last = kit.observations(kit.latest_date() - dt.timedelta(days=6), kit.latest_date())
    rows = []
    for metric, *_ in [*_MISTAKES, ("311 Calls Answered On Time", "", None)]:
        recent = last[last["metric"] == metric].iloc[-1]
        rows.append(
            {
                "metric": metric,
                "date": day,
                "value": "" if pd.isna(recent["value"]) else f"{recent['value']:g}",
                "numerator": "" if pd.isna(recent["numerator"]) else f"{recent['numerator']:g}",
                "denominator": ""
                if pd.isna(recent["denominator"])
                else f"{recent['denominator']:g}",
            }
        )
    return pd.DataFrame(rows)


def csv_with_mistakes(kit: Kit) -> str:
    """A values.csv for the day after the latest, with four typical mistakes to fix from the error report."""
    rows = _clean_rows(kit)
    for metric, column, spoil in _MISTAKES:
        at = rows.index[rows["metric"] == metric][0]
        rows.loc[at, column] = spoil(rows.loc[at, column])
    return rows.to_csv(index=False, lineterminator="\n")


def check_fixed_csv(kit: Kit, exercise: str, fixed: object) -> Feedback:
    """Check a corrected lesson-3 file: it must import cleanly and keep every row's intended value."""
    if is_placeholder(fixed):
        return _unanswered(exercise)
    try:
        got = load.load_values(str(fixed).encode(), kit.metrics())
    except ValidationError as error:
        return _verdict(exercise, "wrong", f"some rows are still rejected:\n{error}")
    want = load.load_values(_clean_rows(kit).to_csv(index=False).encode(), kit.metrics())
    if len(got) < len(want):
        return _verdict(
            exercise,
            "wrong",
            f"the file has {len(got)} rows, the original {len(want)}: fix rows, don't delete them.",
        )
    merged = want.merge(got, on=["metric", "date"], how="left", suffixes=("", "_got"))
    for column in ("value", "numerator", "denominator"):
        differs = ~np.isclose(merged[column], merged[f"{column}_got"], equal_nan=True)
        if differs.any():
            bad = merged[differs].iloc[0]
            return _verdict(
                exercise,
                "wrong",
                f"{bad['metric']} on {bad['date'].date()} now has {column} {bad[column + '_got']}; "
                f"the source system says {bad[column]}. Fix the typing, keep the number.",
            )
    return _verdict(
        exercise, "correct", f"all {len(got)} rows import with the values the source meant."
    )


def check_entered(
    kit: Kit, exercise: str, result: object, metric: str, date: dt.date, value: float
) -> Feedback:
    """Check that ``value`` was typed in for ``metric`` on ``date`` (``result`` is what ``kit.enter`` returned)."""
    if is_placeholder(result):
        return _unanswered(exercise)
    day = pd.Timestamp(date)
    stored = kit.observations(day, day)
    stored = stored[stored["metric"] == metric]
    if stored.empty:
        return _verdict(
            exercise, "wrong", f"no value is stored for {metric} on {day.date()}: check the date."
        )
    have = float(stored["value"].iloc[0])
    if not _close(have, value, 1e-9):
        return _verdict(
            exercise,
            "wrong",
            f"{metric} on {day.date()} is {have:g}; the exercise asks for {value:g}.",
        )
    return _verdict(
        exercise,
        "correct",
        f"{metric} on {day.date()} is now {value:g}; the old value is kept in its history.",
    )


def city_system(kit: Kit) -> str:
    """A small SQLite "city system" (a work-order table) for the kit's last 30 days; returns its URL.

    It plays the part of a department's database that the lesson queries with SQL.
    """
    folder = Path(tempfile.mkdtemp(prefix="cityscore-city-system-"))
    path = folder / "work_orders.db"
    orders = _work_orders(kit.latest_date())
    with sqlite3.connect(path) as con:
        orders.to_sql("work_orders", con, index=False)
    return f"sqlite:///{path}"


def _work_orders(end: dt.date, days: int = 30, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for offset in range(days):
        day = pd.Timestamp(end) - pd.Timedelta(days=days - 1 - offset)
        for kind, n, due_days in (("pothole", 12, 2), ("streetlight", 6, 5)):
            for _ in range(int(rng.poisson(n))):
                late = rng.random() < 0.1  # about one order in ten waits past its due date
                waited = due_days if late else int(rng.integers(0, due_days))
                opened = day - pd.Timedelta(days=waited, hours=int(rng.integers(0, 12)))
                closed = day + pd.Timedelta(hours=int(rng.integers(8, 17)))
                rows.append(
                    {
                        "kind": kind,
                        "opened_at": opened.isoformat(sep=" "),
                        "due_at": (opened + pd.Timedelta(days=due_days)).isoformat(sep=" "),
                        "closed_at": closed.isoformat(sep=" "),
                    }
                )
        if offset == days - 1:  # still open: must not count
            rows.append(
                {
                    "kind": "pothole",
                    "opened_at": day.isoformat(sep=" "),
                    "due_at": None,
                    "closed_at": None,
                }
            )
    frame = pd.DataFrame(rows)
    frame.insert(0, "id", np.arange(1, len(frame) + 1))
    return frame


def expected_work_order_values(url: str, kind: str, metric: str) -> pd.DataFrame:
    """What the lesson-3 query should return, computed in pandas: on-time closures per closing day."""
    import sqlalchemy as sa

    with sa.create_engine(url).connect() as con:
        orders = pd.read_sql_table("work_orders", con)
    closed = orders[(orders["kind"] == kind) & orders["closed_at"].notna()]
    closed_at, due_at = pd.to_datetime(closed["closed_at"]), pd.to_datetime(closed["due_at"])
    frame = pd.DataFrame(
        {"date": closed_at.dt.strftime("%Y-%m-%d"), "on_time": closed_at <= due_at}
    )
    out = frame.groupby("date")["on_time"].agg(numerator="sum", denominator="size").reset_index()
    out.insert(0, "metric", metric)
    return out.astype({"numerator": float, "denominator": float})


def check_query(exercise: str, url: str, query: object, kind: str, metric: str) -> Feedback:
    """Run a learner's SQL on the city system and compare its rows with the expected daily values."""
    if is_placeholder(query):
        return _unanswered(exercise)
    import sqlalchemy as sa

    want = expected_work_order_values(url, kind, metric)
    days = {"start": min(want["date"]), "end": max(want["date"])}  # as `cityscore sync` binds them
    try:
        with sa.create_engine(url).connect() as con:
            got = pd.read_sql(sa.text(str(query)), con, params=days)
    except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        return _verdict(
            exercise,
            "wrong",
            f"the database rejected the query: {reason}. Use :start and :end for the days.",
        )
    missing = [c for c in want.columns if c not in got.columns]
    if missing:
        return _verdict(
            exercise,
            "wrong",
            f"the result lacks column(s) {missing}; name them with AS (e.g. COUNT(*) AS denominator).",
        )
    got = got[list(want.columns)].astype({"numerator": float, "denominator": float})
    got["date"] = got["date"].astype(str).str[:10]
    if len(got) != len(want):
        return _verdict(
            exercise,
            "wrong",
            f"{len(got)} rows; expected {len(want)}, one per day. Did you GROUP BY the closing day?",
        )
    merged = want.merge(got, on=["metric", "date"], how="left", suffixes=("", "_got"))
    if merged["numerator_got"].isna().any():
        return _verdict(
            exercise, "wrong", "the metric name or the dates do not match the expected rows."
        )
    if not np.allclose(merged["denominator"], merged["denominator_got"]):
        return _verdict(
            exercise,
            "wrong",
            "the daily totals differ: count only this kind of order, and only closed ones.",
        )
    if not np.allclose(merged["numerator"], merged["numerator_got"]):
        return _verdict(
            exercise, "wrong", "the on-time counts differ: on time means closed_at <= due_at."
        )
    return _verdict(exercise, "correct", f"{len(got)} days of {metric}, ready to import.")


# --- lesson 4: reading the scoreboard ----------------------------------------------------------


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
    if score >= bands.meeting:
        status = "meeting"
    elif score >= bands.near:
        status = "near"
    else:
        status = "below"
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


# --- lesson 5: your city -----------------------------------------------------------------------


def check_my_metrics(exercise: str, csv_text: object) -> Feedback:
    """Check a learner's own metrics.csv: five or more metrics that import and can score on a month of data."""
    parsed = _parse_metrics(exercise, csv_text)
    if isinstance(parsed, Feedback):
        return parsed
    metrics = parsed[0]
    if len(metrics) < 5:
        return _verdict(exercise, "wrong", f"define at least five metrics; found {len(metrics)}.")
    history = metrics.loc[metrics["baseline"] == "history", "name"].tolist()
    if history:
        return _verdict(
            exercise,
            "wrong",
            f"{history} use baseline=history, which needs 90 days of past data; with one month, give a fixed target.",
        )
    if set(metrics["direction"]) != {"higher", "lower"}:
        return _verdict(
            exercise,
            "wrong",
            "include at least one higher-is-better and one lower-is-better metric.",
        )
    return _verdict(exercise, "correct", f"{len(metrics)} metrics import cleanly.")


EXAMPLE_METRICS = """name,definition,category,unit,direction,kind,aggregation,target,baseline,trend,weight
Permits Issued On Time,Building permits issued within 30 days,Economic Development,share of permits,higher,ratio,,0.85,,false,1
Ambulance Response Time,Median minutes from call to arrival,Public Safety,minutes,lower,value,median,8,,false,1
Library Visits,Visitors counted at the library doors,Community & Culture,visitors,higher,value,mean,400,,false,1
Streetlights Fixed On Time,Streetlight outages fixed within 3 days,Basic City Services,share of repairs,higher,ratio,,0.9,,false,1
Days To Pay Invoices,Mean days from invoice to payment,Government Operations,days,lower,value,mean,20,,false,1
"""


def course_date() -> dt.date:
    """The latest date in the course database: lessons use it instead of today, so they never go stale."""
    return Kit(database_url()).latest_date()


def scratch_folder() -> Path:
    """A fresh temporary folder for files a lesson writes (reports, exports)."""
    return Path(tempfile.mkdtemp(prefix="cityscore-training-files-"))


def daily_report(kit: Kit, city_name: str) -> Path:
    """Run ``cityscore report`` for ``kit`` into a scratch folder; the path of the HTML page.

    It runs the command line in a child process, as a scheduled task would, so the report kernel's
    start-up chatter stays out of the lesson; a failure raises ``CityScoreError`` with its message.
    """
    import subprocess
    import sys

    folder = scratch_folder()
    command = [sys.executable, "-m", "cityscore.cli.main", "--db", kit.store.url, "report"]
    command += ["--out", str(folder), "--city", city_name]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    pages = sorted(folder.glob("*/cityscore-*.html"))
    if done.returncode != 0 or not pages:
        msg = f"the daily report failed: {done.stderr.strip() or done.stdout.strip()}"
        raise CityScoreError(msg)
    return pages[-1]


def check_lowest(kit: Kit, exercise: str, answer: object, period: str = "week") -> Feedback:
    """Check the metric with the lowest ``period`` score on the latest date (first to follow up)."""
    rows = summary.metric_rows(kit.scores())
    rows = rows[(rows["period"] == period) & rows["score"].notna()]
    if rows.empty:
        return _verdict(exercise, "wrong", f"no metric has a {period} score yet; load data first.")
    lowest = rows.sort_values(["score", "metric"], kind="stable").iloc[0]
    why = f"Its {period} score is {lowest['score']:.2f}: ask that department first."
    return check_text(exercise, answer, str(lowest["metric"]), f"the lowest {period} score", why)


def sample_month(kit: Kit, end: dt.date, seed: int = 5) -> str:
    """A values.csv with 30 days of made-up data around each metric's target, standing in for your city's data."""
    rng = np.random.default_rng(seed)
    metrics, targets = (
        kit.metrics(),
        kit.targets().drop_duplicates("metric", keep="last").set_index("metric"),
    )
    days = pd.date_range(end=pd.Timestamp(end), periods=30, freq="D").strftime("%Y-%m-%d")
    rows = []
    for metric in metrics.itertuples(index=False):
        target = float(targets.loc[metric.name, "target"])
        for day in days:
            if metric.kind == "ratio":
                total = int(rng.integers(20, 60))
                share = min(1.0, max(0.0, target * rng.normal(1.0, 0.08)))
                rows.append(
                    {
                        "metric": metric.name,
                        "date": day,
                        "numerator": round(total * share),
                        "denominator": total,
                    }
                )
            else:
                value = max(0.0, target * rng.normal(1.0, 0.12))
                rows.append({"metric": metric.name, "date": day, "value": round(value, 2)})
    frame = pd.DataFrame(rows, columns=load.VALUE_COLUMNS)
    return frame.to_csv(index=False, lineterminator="\n")


# --- solutions (trainers and tests) ------------------------------------------------------------


def load_solutions(path: str | Path) -> dict[str, dict[str, str]]:
    """The solutions file: ``{notebook file name: {exercise cell id: code}}``."""
    import yaml

    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return {str(k): {str(c): str(code) for c, code in v.items()} for k, v in data.items()}


def solved(notebook: str | Path, solutions: Mapping[str, Mapping[str, str]] | None = None) -> Any:
    """A copy of a lesson notebook with every exercise cell replaced by its solution (an nbformat node).

    Raises ``CityScoreError`` naming any exercise cell that has no solution, or any solution whose
    cell is missing, so the solutions file cannot silently drift from the lessons.
    """
    with skipped_imports():  # 1.6-2 s of an unused grammar under nbformat's jsonschema
        import nbformat

    notebook = Path(notebook)
    if solutions is None:
        solutions = load_solutions(notebook.parent / SOLUTIONS_FILE)
    mine = dict(solutions.get(notebook.name, {}))
    nb = nbformat.read(notebook, as_version=4)
    exercise_ids = [
        c["id"] for c in nb.cells if "exercise" in c.get("metadata", {}).get("tags", [])
    ]
    unsolved = [i for i in exercise_ids if i not in mine]
    orphans = [i for i in mine if i not in exercise_ids]
    if unsolved or orphans:
        msg = f"{notebook.name}: exercise cells without a solution {unsolved}; solutions without a cell {orphans}"
        raise CityScoreError(msg)
    for cell in nb.cells:
        if cell["id"] in mine:
            cell["source"] = mine[cell["id"]].rstrip("\n")
            cell["outputs"], cell["execution_count"] = [], None
    return nb


def read_csv_text(text: str) -> pd.DataFrame:
    """A CSV text as a table of strings, to look at a file inside a lesson."""
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
