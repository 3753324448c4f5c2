"""The scoring rules written as DuckDB SQL window queries: the yardstick an analyst would reach for.

The same windows and rules as ``cityscore.engine.score``: a calendar of days crossed with the catalog and
left-joined to the observations; day/week/month/quarter windows as ``RANGE`` frames over calendar days;
mean/median/sum of values and sum(numerators)/sum(denominators) for ratios; the fixed target in effect
joined on its validity span (from ``effective_from`` to the next change; an ``ASOF`` join was 5x slower
here); history baselines as mean +/- population std over the 365 days before; the same reasons for no
score; every score settled against float noise as ``cityscore.engine.precision.settle`` does (a score
within 1e-13 of its 12-digit rounding is that rounding), so statuses at a band edge agree; the status
``stale`` for a metric whose latest value in the quarter window is more than its ``stale_after`` days
old (default: the daily schedule's), in every period; and the weighted citywide mean per date and
period of the scores of metrics that are not stale.
It implements the rules the benchmark's city uses: the ``daily`` schedule and the ``target`` and
``history`` baselines, no rates per resident. ``check_catalog`` refuses a catalog using other rules
(schedules, the ``weekday`` and ``last_year`` baselines, ``per_residents``), which the tests check
against the slow reference instead.
Input and output are in-memory DataFrames; the result has the engine's columns, with Categorical
``metric``, ``period``, ``status`` and ``note`` (DuckDB ENUMs) just as the engine returns them.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.vocabulary import (
    BASELINE_DAYS,
    BASELINE_MIN_DAYS,
    CITYWIDE,
    PER_RESIDENTS,
    PERIODS,
    SCHEDULE,
    STALE_AFTER,
    STALE_AFTER_DEFAULTS,
)
from cityscore.engine.statuses import NO_CITY_SCORE, NOTES, STATUSES
from cityscore.frames.dates import as_date

# Windows are written out rather than generated from PERIODS so the query reads like hand-written SQL;
# `check_periods` keeps the two in step.
SQL = """
WITH
catalog AS (
    SELECT name, kind = 'ratio' AS is_ratio, direction = 'higher' AS higher, aggregation AS agg,
           baseline = 'history' AS history, trend::BOOLEAN AS trend, weight::DOUBLE AS weight,
           stale_after::DOUBLE AS stale_after
    FROM metrics
),
calendar AS (
    SELECT unnest(generate_series($first::TIMESTAMP, $end::TIMESTAMP, INTERVAL 1 DAY))::DATE AS d
),
target_spans AS (  -- each target applies from its effective date until the next one
    SELECT metric::VARCHAR AS metric, effective_from::DATE AS valid_from, target,
        lead(effective_from::DATE) OVER (PARTITION BY metric ORDER BY effective_from) AS valid_to
    FROM targets
),
grid AS (  -- one row per metric and calendar day; x is the value (or numerator), NULL on missing days
    SELECT c.name AS metric, cal.d, c.is_ratio, c.agg, c.stale_after,
           CASE WHEN c.is_ratio THEN o.numerator ELSE o.value END AS x,
           CASE WHEN c.is_ratio THEN o.denominator END AS den,
           CASE WHEN NOT c.is_ratio THEN o.value
                WHEN o.denominator > 0 THEN o.numerator / o.denominator END AS daily
    FROM catalog c
    CROSS JOIN calendar cal
    LEFT JOIN (
        SELECT metric::VARCHAR AS metric, date::DATE AS d, value, numerator, denominator
        FROM observations
        WHERE date >= $first::TIMESTAMP AND date <= $end::TIMESTAMP
          AND (value IS NOT NULL OR (numerator IS NOT NULL AND denominator IS NOT NULL))
    ) o ON o.metric = c.name AND o.d = cal.d
),
windows AS (
    SELECT metric, d,
        count(x) OVER w7 AS n7, sum(x) OVER w7 AS s7, sum(den) OVER w7 AS den7,
        count(x) OVER w30 AS n30, sum(x) OVER w30 AS s30, sum(den) OVER w30 AS den30,
        count(x) OVER w90 AS n90, sum(x) OVER w90 AS s90, sum(den) OVER w90 AS den90,
        median(x) FILTER (WHERE agg = 'median') OVER w7 AS med7,
        median(x) FILTER (WHERE agg = 'median') OVER w30 AS med30,
        median(x) FILTER (WHERE agg = 'median') OVER w90 AS med90,
        x, den,
        avg(daily) OVER base AS base_mean,
        stddev_pop(daily) OVER base AS base_std,
        count(daily) OVER base AS base_n,
        max(d) FILTER (WHERE x IS NOT NULL AND (NOT is_ratio OR den IS NOT NULL)) OVER w90 AS last_seen,
        stale_after
    FROM grid
    WINDOW
        w7 AS (PARTITION BY metric ORDER BY d RANGE BETWEEN INTERVAL 6 DAYS PRECEDING AND CURRENT ROW),
        w30 AS (PARTITION BY metric ORDER BY d RANGE BETWEEN INTERVAL 29 DAYS PRECEDING AND CURRENT ROW),
        w90 AS (PARTITION BY metric ORDER BY d RANGE BETWEEN INTERVAL 89 DAYS PRECEDING AND CURRENT ROW),
        base AS (PARTITION BY metric ORDER BY d
                 RANGE BETWEEN INTERVAL 365 DAYS PRECEDING AND INTERVAL 1 DAY PRECEDING)
    QUALIFY d >= $start::DATE
),
daily_target AS (  -- the target per day: fixed (in effect on d) or baseline (year before d)
    SELECT w.*, c.is_ratio, c.agg, c.higher, c.trend, c.history,
        -- stale: the latest value in the quarter window is more than stale_after days old
        coalesce(date_diff('day', w.last_seen, w.d) > w.stale_after, false) AS stale,
        CASE WHEN NOT c.history THEN t.target
             WHEN w.base_n >= $min_days
                 THEN w.base_mean + CASE WHEN c.higher THEN -1 ELSE 1 END * w.base_std END
          AS day_target
    FROM windows w
    JOIN catalog c ON c.name = w.metric
    LEFT JOIN target_spans t
        ON t.metric = w.metric AND w.d >= t.valid_from AND (w.d < t.valid_to OR t.valid_to IS NULL)
),
periods AS (
    SELECT w.metric, w.d, p.period, p.days, w.is_ratio, w.agg, w.higher, w.trend, w.history,
        w.base_n, w.day_target, w.stale,
        CASE p.period WHEN 'day' THEN (w.x IS NOT NULL)::INT WHEN 'week' THEN w.n7
                      WHEN 'month' THEN w.n30 ELSE w.n90 END AS n,
        CASE p.period WHEN 'day' THEN w.x WHEN 'week' THEN w.s7
                      WHEN 'month' THEN w.s30 ELSE w.s90 END AS total,
        CASE p.period WHEN 'day' THEN w.den WHEN 'week' THEN w.den7
                      WHEN 'month' THEN w.den30 ELSE w.den90 END AS den_total,
        CASE p.period WHEN 'day' THEN w.x WHEN 'week' THEN w.med7
                      WHEN 'month' THEN w.med30 ELSE w.med90 END AS med
    FROM daily_target w
    CROSS JOIN (VALUES ('day', 1), ('week', 7), ('month', 30), ('quarter', 90)) p(period, days)
),
valued AS (  -- sum metrics: the daily target times the window's days
    SELECT metric, d, period, n, den_total, is_ratio, higher, trend, history, base_n, stale,
        CASE WHEN n = 0 THEN NULL
             WHEN is_ratio THEN CASE WHEN den_total <> 0 THEN total / den_total END
             WHEN agg = 'sum' THEN total
             WHEN agg = 'median' THEN med
             ELSE total / n END AS value,
        CASE WHEN agg = 'sum' THEN days ELSE 1 END * day_target AS target
    FROM periods
),
noted AS (
    SELECT *,
        CASE WHEN n = 0 THEN 1
             WHEN is_ratio AND den_total = 0 THEN 2
             WHEN NOT history AND target IS NULL THEN 3
             WHEN history AND base_n < $min_days THEN 4
             WHEN target <= 0 THEN 5
             WHEN trend AND value = 0 THEN 6
             WHEN NOT higher AND value = 0 THEN 7
             ELSE 0 END AS note_code
    FROM valued
),
scored AS (
    SELECT metric, d, period, value, target, note_code, stale,
        settle(CASE WHEN note_code = 0 THEN CASE WHEN higher THEN value / target ELSE target / value END
        END) AS score
    FROM noted
),
city AS (
    SELECT 'CityScore' AS metric, s.d, s.period, NULL::DOUBLE AS value, NULL::DOUBLE AS target,
        settle(sum(s.score * c.weight) FILTER (WHERE NOT s.stale)
               / sum(c.weight) FILTER (WHERE s.score IS NOT NULL AND NOT s.stale)) AS score,
        count(s.score) FILTER (WHERE NOT s.stale) AS scored
    FROM scored s JOIN catalog c ON c.name = s.metric
    GROUP BY s.d, s.period
)
SELECT d::TIMESTAMP AS as_of, metric::metric_name AS metric, period::period_name AS period,
    value, target, score, note_code, NULL::BIGINT AS scored, stale
FROM scored
UNION ALL
SELECT d::TIMESTAMP, metric::metric_name, period::period_name, value, target, score, NULL, scored,
    false
FROM city
"""

FINAL = """
SELECT as_of, metric, period, value, target, score,
    CASE WHEN stale THEN 'stale' WHEN score >= $meeting THEN 'meeting' WHEN score >= $near THEN 'near'
         WHEN score < $near THEN 'below' END::status_name AS status,
    CASE WHEN note_code IS NOT NULL THEN ($notes::note_name[])[note_code + 1]
         WHEN scored = 0 THEN $no_city::note_name
         ELSE (scored::VARCHAR || ' of ' || $m::VARCHAR || ' metrics scored')::note_name END AS note
FROM ({query})
"""

# engine.precision.settle as a macro: a score within 1e-13 (relative) of its 12-significant-digit
# rounding is that rounding; infinities are no score; NaN, 0 and magnitudes outside 1e-200..1e200 stay.
SETTLE = """
CREATE MACRO settle_to(x, r) AS CASE WHEN abs(r - x) <= 1e-13 * abs(x) THEN r ELSE x END;
CREATE MACRO settle_shift(x) AS 11 - floor(log10(abs(x)));
CREATE MACRO settle(x) AS CASE
    WHEN isinf(x) THEN NULL
    WHEN isnan(x) OR abs(x) < 1e-200 OR abs(x) > 1e200 THEN x
    WHEN settle_shift(x) < 0
        THEN settle_to(x, round(x / pow(10, -settle_shift(x))) * pow(10, -settle_shift(x)))
    ELSE settle_to(x, round(x * pow(10, settle_shift(x))) / pow(10, settle_shift(x)))
END;
"""


def score_range_sql(
    observations: pd.DataFrame,
    metrics: pd.DataFrame,
    targets: pd.DataFrame,
    start: object,
    end: object,
    *,
    bands: Bands = DEFAULT_BANDS,
) -> pd.DataFrame:
    """Scores for every as-of date ``start..end``, computed by DuckDB; the engine's columns."""
    first, last = as_date(start), as_date(end)
    check_periods()
    check_catalog(metrics)
    metrics = _with_stale_after(metrics)
    names = metrics["name"].tolist()
    city_notes = [NO_CITY_SCORE] + [
        f"{k} of {len(names)} metrics scored" for k in range(1, len(names) + 1)
    ]
    with duckdb.connect() as con:
        con.register("observations", observations)
        con.register("metrics", metrics)
        con.register("targets", targets)
        _create_enum(con, "metric_name", [CITYWIDE, *names])
        _create_enum(con, "period_name", list(PERIODS))
        _create_enum(con, "status_name", STATUSES)
        _create_enum(con, "note_name", NOTES + city_notes)
        con.execute(SETTLE)
        params = {
            "first": first - pd.Timedelta(days=BASELINE_DAYS),
            "start": first,
            "end": last,
            "min_days": BASELINE_MIN_DAYS,
            "meeting": bands.meeting,
            "near": bands.near,
            "notes": NOTES,
            "no_city": NO_CITY_SCORE,
            "m": len(names),
        }
        return con.execute(FINAL.format(query=SQL), params).df()


def check_periods() -> None:
    """The SQL spells out the engine's windows; fail loudly if the engine's windows ever change."""
    expected = {"day": 1, "week": 7, "month": 30, "quarter": 90}
    if dict(PERIODS) != expected or BASELINE_DAYS != 365:
        msg = f"benchmarks/duckdb_reference.py hard-codes {expected} and 365 baseline days; update its SQL"
        raise RuntimeError(msg)


def check_catalog(metrics: pd.DataFrame) -> None:
    """The SQL implements the daily schedule, the target and history baselines and no rates per
    resident; fail loudly on a catalog that uses another rule, rather than return other numbers."""
    used = {
        SCHEDULE: _labels(metrics, SCHEDULE) - {"", "daily"},
        "baseline": _labels(metrics, "baseline") - {"", "target", "history"},
        PER_RESIDENTS: _labels(metrics, PER_RESIDENTS) - {""},
    }
    found = {column: sorted(labels) for column, labels in used.items() if labels}
    if found:
        msg = f"benchmarks/duckdb_reference.py implements no {found}; score such a city with the engine"
        raise RuntimeError(msg)


def _labels(metrics: pd.DataFrame, column: str) -> set[str]:
    """The distinct cells of ``column`` as text (missing cells and a missing column as "")."""
    if column not in metrics:
        return set()
    return set(metrics[column].fillna("").astype(str).str.strip())


def _with_stale_after(metrics: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``metrics`` whose ``stale_after`` is a number: the one given, else the daily default."""
    given = metrics[STALE_AFTER] if STALE_AFTER in metrics else pd.Series(index=metrics.index)
    days = pd.to_numeric(given, errors="coerce")  # an empty cell: the default
    return metrics.assign(**{STALE_AFTER: days.fillna(STALE_AFTER_DEFAULTS["daily"]).astype(float)})


def _create_enum(con: duckdb.DuckDBPyConnection, name: str, labels: list[str]) -> None:
    """An ENUM type, so labels come back as Categoricals; DDL takes no parameters, hence the quoting."""
    quoted = ", ".join("'" + label.replace("'", "''") + "'" for label in labels)
    con.execute(f"CREATE TYPE {name} AS ENUM ({quoted})")
