"""A fictional demo city: about 20 metrics like Boston's, three years of daily data ending yesterday.

Deterministic: a metric's value on a given date depends only on the seed, never on the day the demo
was generated, because each metric's random stream starts at a fixed epoch.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .catalog import EARLIEST

SEED = 2026
EPOCH = dt.date(2020, 1, 1)
YEARS = 3
STALE_METRIC = "Sidewalk Repairs On Time"
STALE_DAYS = 40
TARGET_CHANGE_METRIC = "EMS Response Time"
TARGET_CHANGE_DAYS_AGO = 120
TARGET_CHANGE_TO = 6.0
# Random numbers are drawn in blocks of this many days. The size is the span EPOCH..2026-10-31, so the
# demo ending on that date (the test suite's) has exactly the values earlier versions gave it.
_BLOCK_DAYS = (dt.date(2026, 10, 31) - EPOCH).days + 1

_WEEKDAY = {  # Monday..Sunday multipliers
    "flat": [1, 1, 1, 1, 1, 1, 1],
    "office": [1.15, 1.1, 1.05, 1.05, 1.0, 0.55, 0.4],
    "weekend": [0.85, 0.9, 0.9, 0.95, 1.0, 1.3, 1.25],
}

# fmt: off
# name, category, unit, direction, kind, aggregation, target, baseline, trend, level, weekday, season, noise
_METRICS = [
    ("311 Calls Answered On Time", "Basic City Services", "share of calls", "higher", "ratio", "", 0.90, "target", False, 0.91, "office", 0.03, 0.04),
    ("Pothole Repairs On Time", "Basic City Services", "share of repairs", "higher", "ratio", "", 0.95, "target", False, 0.93, "office", -0.06, 0.05),
    ("Streetlight Repairs On Time", "Basic City Services", "share of repairs", "higher", "ratio", "", 0.90, "target", False, 0.90, "office", -0.03, 0.06),
    ("Graffiti Removal On Time", "Basic City Services", "share of requests", "higher", "ratio", "", 0.90, "target", False, 0.86, "office", 0.02, 0.07),
    ("Missed Trash Pickups Resolved On Time", "Basic City Services", "share of requests", "higher", "ratio", "", 0.92, "target", False, 0.94, "office", 0.02, 0.04),
    (STALE_METRIC, "Basic City Services", "share of repairs", "higher", "ratio", "", 0.85, "target", False, 0.83, "office", -0.04, 0.08),
    ("Tree Maintenance On Time", "Basic City Services", "share of requests", "higher", "ratio", "", 0.80, "target", False, 0.82, "office", 0.05, 0.08),
    ("EMS Response Time", "Public Safety", "minutes", "lower", "value", "median", 6.5, "target", False, 6.2, "flat", 0.04, 0.06),
    ("Fire Response Time", "Public Safety", "minutes", "lower", "value", "median", 4.5, "target", False, 4.4, "flat", 0.03, 0.07),
    ("Police Priority 1 Response Time", "Public Safety", "minutes", "lower", "value", "median", 7.0, "target", False, 7.3, "weekend", 0.03, 0.08),
    ("Homicides", "Public Safety", "incidents", "lower", "value", "mean", None, "history", True, 0.12, "weekend", 0.25, 0.0),
    ("Shootings", "Public Safety", "incidents", "lower", "value", "mean", None, "history", True, 0.6, "weekend", 0.3, 0.0),
    ("Library Users", "Community & Culture", "visitors", "higher", "value", "mean", None, "history", False, 9000, "weekend", -0.08, 0.08),
    ("Community Center Visits", "Community & Culture", "visitors", "higher", "value", "mean", None, "history", False, 4200, "office", 0.12, 0.09),
    ("Park Permits Issued", "Community & Culture", "permits", "higher", "value", "sum", 25.0, "target", False, 26.0, "office", 0.35, 0.2),
    ("Building Permits Issued On Time", "Economic Development", "share of permits", "higher", "ratio", "", 0.85, "target", False, 0.84, "office", 0.03, 0.06),
    ("Permit Application Processing Days", "Economic Development", "days", "lower", "value", "mean", 30.0, "target", False, 31.0, "office", 0.05, 0.12),
    ("Resident Satisfaction Survey", "Government Operations", "points of 5", "higher", "value", "mean", 4.0, "target", False, 3.95, "flat", 0.02, 0.05),
    ("Vendor Invoices Paid On Time", "Government Operations", "share of invoices", "higher", "ratio", "", 0.90, "target", False, 0.92, "office", 0.0, 0.04),
    ("Open Data Requests Answered On Time", "Government Operations", "share of requests", "higher", "ratio", "", 0.75, "target", False, 0.78, "office", 0.04, 0.09),
]
# fmt: on

_DEFINITIONS = {
    "311 Calls Answered On Time": "Share of 311 calls answered within 30 seconds.",
    "EMS Response Time": "Median minutes from dispatch to arrival of the first ambulance, priority 1 calls.",
    "Homicides": "Homicides reported per day; scored against the city's own past year (fewer is better).",
    "Shootings": "Shooting incidents per day; scored against the city's own past year (fewer is better).",
    "Library Users": "Visitors counted at library branch doors per day, against the past year.",
    "Park Permits Issued": "Park and field permits issued; the target is per day, summed over each period.",
}


def demo_metrics() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The demo catalog as (metrics, targets) frames, targets including the one target change."""
    rows, targets = [], []
    for name, category, unit, direction, kind, agg, target, baseline, trend, *_ in _METRICS:
        definition = _DEFINITIONS.get(name, f"{name} ({unit}), measured daily.")
        rows.append(
            {
                "name": name,
                "definition": definition,
                "category": category,
                "unit": unit,
                "direction": direction,
                "kind": kind,
                "aggregation": agg,
                "baseline": baseline,
                "trend": trend,
                "weight": 1.0,
            }
        )
        if target is not None:
            targets.append(
                {"metric": name, "effective_from": pd.Timestamp(EARLIEST), "target": target}
            )
    return pd.DataFrame(rows), pd.DataFrame(targets)


def demo_target_change(end: dt.date) -> pd.DataFrame:
    """The demo's one target change: EMS response target tightened ``TARGET_CHANGE_DAYS_AGO`` days ago."""
    when = pd.Timestamp(end - dt.timedelta(days=TARGET_CHANGE_DAYS_AGO))
    return pd.DataFrame(
        [{"metric": TARGET_CHANGE_METRIC, "effective_from": when, "target": TARGET_CHANGE_TO}]
    )


def demo_observations(end: dt.date | None = None, seed: int = SEED) -> pd.DataFrame:
    """Three years of daily observations ending ``end`` (default: yesterday)."""
    end = end or dt.date.today() - dt.timedelta(days=1)
    start = end - dt.timedelta(days=365 * YEARS - 1)
    all_days = pd.date_range(EPOCH, end, freq="D")
    frames = []
    for index, spec in enumerate(_METRICS):
        rng = np.random.default_rng([seed, index])
        frame = _simulate(spec, all_days, rng)
        frame = frame[frame["date"] >= pd.Timestamp(start)]
        if spec[0] == STALE_METRIC:
            frame = frame[frame["date"] <= pd.Timestamp(end - dt.timedelta(days=STALE_DAYS))]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _simulate(spec: tuple, days: pd.DatetimeIndex, rng: np.random.Generator) -> pd.DataFrame:
    name, _cat, unit, _dir, kind, _agg, _t, _b, trend, level, weekday, season, noise = spec
    n = len(days)
    normal, uniform, counts_u = _draws(rng, n)
    seasonal = 1 + season * np.sin(2 * np.pi * (days.day_of_year.to_numpy() - 80) / 365.25)
    week = np.asarray(_WEEKDAY[weekday])[days.day_of_week.to_numpy()]
    drift = 1 + 0.02 * (np.arange(n) / 365.25) * (1 if level > 1 else 0)
    missing = uniform < 0.02
    if weekday == "office" and kind == "value" and unit == "visitors":
        missing |= days.day_of_week.to_numpy() == 6  # centres closed on Sundays
    frame = pd.DataFrame({"metric": name, "date": days})
    if kind == "ratio":
        volume = 40 * week * seasonal
        denominator = _poisson_from_uniform(volume, counts_u)
        share = np.clip(
            level * (1 + season * 0.5 * np.sin(2 * np.pi * days.day_of_year.to_numpy() / 365.25))
            + noise * 0.5 * normal,
            0,
            1,
        )
        numerator = np.floor(denominator * share + 0.5)
        frame["value"] = np.nan
        frame["numerator"] = numerator
        frame["denominator"] = denominator
        missing |= denominator == 0
    elif trend:
        frame["value"] = _poisson_from_uniform(level * week * seasonal, counts_u)
        frame["numerator"] = frame["denominator"] = np.nan
    else:
        value = level * seasonal * (week if unit in ("visitors", "permits") else 1) * drift
        value = np.maximum(value * (1 + noise * normal), 0)
        decimals = 0 if unit in ("visitors", "permits") else 2
        frame["value"] = np.round(value, decimals)
        frame["numerator"] = frame["denominator"] = np.nan
    return frame[~missing].reset_index(drop=True)


def _draws(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(normals, uniforms, uniforms) for the first ``n`` days since ``EPOCH``.

    Day i's numbers must not depend on how many days are drawn (that would make a date's value depend
    on ``end``), so the three streams are drawn in fixed-size blocks, one block of each in turn.
    """
    blocks = [
        (rng.standard_normal(_BLOCK_DAYS), rng.random(_BLOCK_DAYS), rng.random(_BLOCK_DAYS))
        for _ in range(-(-n // _BLOCK_DAYS))
    ]
    normal, uniform, counts_u = (np.concatenate([b[k] for b in blocks])[:n] for k in range(3))
    return normal, uniform, counts_u


def _poisson_from_uniform(lam: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Poisson counts by inverting the CDF with given uniforms (keeps the random stream aligned)."""
    lam = np.asarray(lam, dtype=float)
    k = np.zeros_like(lam)
    p = np.exp(-lam)
    cdf = p.copy()
    for step in range(1, 400):
        more = u > cdf
        if not more.any():
            break
        k += more
        p = p * lam / step
        cdf += p
    return k
