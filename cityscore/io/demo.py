"""A fictional demo city: about 20 metrics like Boston's, three years of daily data ending yesterday.

Deterministic: a metric's value on a given date depends only on the seed, never on the day the demo
was generated, because each metric's random stream starts at a fixed epoch.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from cityscore.core.vocabulary import EARLIEST

SEED = 2026
EPOCH = dt.date(2020, 1, 1)
YEARS = 3
STALE_METRIC = "Sidewalk Repairs On Time"
STALE_METRIC_DAYS_AGO = 40
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
            frame = frame[
                frame["date"] <= pd.Timestamp(end - dt.timedelta(days=STALE_METRIC_DAYS_AGO))
            ]
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


# --- neighbourhoods (an optional extra: the plain demo above never changes) ---------------------

AREAS_GEOJSON = Path(__file__).parent.parent / "data" / "areas.geojson"
# Ten invented neighbourhoods and their share of the city's residents (and of its requests).
AREA_SHARES = {
    "Ashdown": 0.14,
    "Brookfield": 0.12,
    "Eastmarsh": 0.11,
    "Harbourside": 0.11,
    "Kingsbridge": 0.10,
    "Millbank": 0.10,
    "Northgate": 0.09,
    "Old Quarry": 0.08,
    "Riverside": 0.08,
    "Westhill": 0.07,
}
AREAS = list(AREA_SHARES)
LEFT_BEHIND = "Eastmarsh"  # clearly behind on 311, potholes, EMS and park permits
# metric -> (how area rows are made, {area: factor}); a factor below 1 is worse for that area.
# "split": the citywide day's counts shared out among the areas, so the areas always add up to the
# city (and the citywide numbers stay exactly as in the plain demo); "own": a series of each area's own
# (mean and median metrics are never derived from areas, so the city's value is untouched).
_AREA_METRICS: dict[str, tuple[str, dict[str, float]]] = {
    "311 Calls Answered On Time": ("split", {LEFT_BEHIND: 0.84, "Harbourside": 1.03}),
    "Pothole Repairs On Time": ("split", {LEFT_BEHIND: 0.78, "Westhill": 0.96}),
    "Streetlight Repairs On Time": ("split", {"Old Quarry": 0.93, "Kingsbridge": 1.04}),
    "Missed Trash Pickups Resolved On Time": ("split", {LEFT_BEHIND: 0.95}),
    "Park Permits Issued": ("split", {LEFT_BEHIND: 0.5, "Ashdown": 1.15}),
    "EMS Response Time": ("own", {LEFT_BEHIND: 0.8, "Northgate": 0.95, "Millbank": 1.04}),
    "Fire Response Time": ("own", {"Westhill": 0.9, "Riverside": 1.03}),
}
AREA_TARGET_METRIC = "Park Permits Issued"  # a sum metric: each area gets its own daily target


def demo_area_observations(end: dt.date | None = None, seed: int = SEED) -> pd.DataFrame:
    """The neighbourhoods' daily rows (``area`` column) for the demo's three years ending ``end``."""
    end = end or dt.date.today() - dt.timedelta(days=1)
    start = end - dt.timedelta(days=365 * YEARS - 1)
    all_days = pd.date_range(EPOCH, end, freq="D")
    index = {spec[0]: i for i, spec in enumerate(_METRICS)}
    frames = []
    for name, (how, factors) in _AREA_METRICS.items():
        spec = _METRICS[index[name]]
        quality = np.array([factors.get(area, 1.0) for area in AREAS])
        if how == "split":
            city = _simulate(spec, all_days, np.random.default_rng([seed, index[name]]))
            frame = _split(city, spec, quality, all_days, seed, index[name])
        else:
            frame = pd.concat(
                [
                    _own_series(spec, all_days, seed, index[name], a, q)
                    for a, q in enumerate(quality)
                ],
                ignore_index=True,
            )
        frames.append(frame[frame["date"] >= pd.Timestamp(start)])
    return pd.concat(frames, ignore_index=True)[
        ["metric", "date", "area", "value", "numerator", "denominator"]
    ]


def demo_area_targets() -> pd.DataFrame:
    """Each neighbourhood's own daily park-permit target: the city's 25 a day by its share."""
    (city_target,) = [s[6] for s in _METRICS if s[0] == AREA_TARGET_METRIC]
    if city_target is None:
        raise AssertionError(AREA_TARGET_METRIC)  # unreachable: _METRICS gives it one
    return pd.DataFrame(
        {
            "metric": AREA_TARGET_METRIC,
            "effective_from": pd.Timestamp(EARLIEST),
            "target": [round(city_target * share, 2) for share in AREA_SHARES.values()],
            "area": AREAS,
        }
    )


def _area_rng(seed: int, metric: int, area: int) -> np.random.Generator:
    return np.random.default_rng([seed, 100 + metric, area])


def _own_series(
    spec: tuple, days: pd.DatetimeIndex, seed: int, metric: int, area: int, quality: float
) -> pd.DataFrame:
    """An area's own series of a value metric, like the city's with its level moved by ``quality``."""
    name, cat, unit, direction, *rest = spec
    level = rest[5] / quality if direction == "lower" else rest[5] * quality
    frame = _simulate(
        (name, cat, unit, direction, *rest[:5], level, *rest[6:]),
        days,
        _area_rng(seed, metric, area),
    )
    return frame.assign(area=AREAS[area])


def _split(
    city: pd.DataFrame,
    spec: tuple,
    quality: np.ndarray,
    days: pd.DatetimeIndex,
    seed: int,
    metric: int,
) -> pd.DataFrame:
    """Each citywide day's counts shared out among the areas: they add up to the city's exactly."""
    position = ((city["date"] - days[0]).dt.days).to_numpy()
    noise = np.stack(
        [_draws(_area_rng(seed, metric, a), len(days))[0] for a in range(len(AREAS))], axis=1
    )[position]
    shares = np.array(list(AREA_SHARES.values()))
    is_ratio = spec[4] == "ratio"
    total = city["denominator" if is_ratio else "value"].to_numpy()
    volume = shares * np.exp(0.15 * noise)
    if not is_ratio:  # a count: the areas get the permits their factor says
        volume = volume * quality
    parts = _largest_remainder(total, volume / volume.sum(axis=1, keepdims=True) * total[:, None])
    frame = pd.DataFrame(
        {
            "metric": spec[0],
            "date": np.repeat(city["date"].to_numpy(), len(AREAS)),
            "area": np.tile(AREAS, len(city)),
            "value": np.nan,
            "numerator": np.nan,
            "denominator": np.nan,
        }
    )
    if not is_ratio:
        frame["value"] = parts.ravel()
        return frame
    on_time = _fill_capped(city["numerator"].to_numpy(), parts, quality * (1 + 0.03 * noise))
    frame["numerator"] = on_time.ravel()
    frame["denominator"] = parts.ravel()
    return frame[frame["denominator"] > 0].reset_index(drop=True)  # no requests: no data


def _fill_capped(total: np.ndarray, capacity: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Whole numbers per area, adding up to ``total``, each at most its ``capacity``, spread in
    proportion to capacity x weight (water-filling: areas at their cap pass the rest on)."""
    want = capacity * weight
    share = np.zeros_like(want)
    full = np.zeros(want.shape, dtype=bool)
    for _ in range(want.shape[1]):
        left = total - np.where(full, capacity, 0).sum(axis=1)
        free = np.where(full, 0.0, want)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(full, capacity, free * (left / free.sum(axis=1))[:, None])
        share = np.nan_to_num(share)
        over = share > capacity
        if not over.any():
            break
        full |= over
    return _largest_remainder(total, np.minimum(share, capacity))


def _largest_remainder(total: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """Whole numbers per row adding up to ``total``: floors, then one more to the largest fractions."""
    floor = np.floor(exact + 1e-9)
    short = np.rint(total - floor.sum(axis=1)).astype(int)
    order = np.argsort(-(exact - floor), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(exact.shape[1])[None, :], axis=1)
    return floor + (rank < short[:, None])
