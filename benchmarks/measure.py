"""One measurement in a fresh process: ``python -m benchmarks.measure SIZE TOOL`` prints one JSON line.

TOOL is ``engine`` (``cityscore.score_range``), ``duckdb`` (``benchmarks.duckdb_reference``),
``reference`` (``cityscore.engine.reference``, on the last as-of dates only: it is slow by design) or ``check``
(do the three agree?). Times are wall-clock seconds from in-memory frames to an in-memory result
frame; generating the synthetic city is not timed. Peak memory is the process's peak resident set
size while scoring (the input frames included), read from /proc after resetting the peak once the
city is built, so that building the city does not count.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.data import SIZES, City, make_city
from benchmarks.duckdb_reference import score_range_sql
from cityscore.engine.reference import reference_scores
from cityscore.engine.score import score_range
from cityscore.engine.statuses import STALE

TOOLS = ("engine", "duckdb", "reference", "check")
REFERENCE_DATES = 30  # the reference is timed and checked on this many last as-of dates
TOLERANCE = 1e-9  # largest relative difference allowed between two implementations
Scorer = Callable[[pd.DataFrame, pd.DataFrame, pd.DataFrame, object, object], pd.DataFrame]
SCORERS: dict[str, Scorer] = {"engine": score_range, "duckdb": score_range_sql}
STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", choices=sorted(SIZES))
    parser.add_argument("tool", choices=TOOLS)
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing; the median is kept")
    args = parser.parse_args(argv)
    city = make_city(SIZES[args.size])
    if args.tool == "check":
        result = check(city)
    elif args.tool == "reference":
        result = time_reference(city)
    else:
        result = time_scorer(SCORERS[args.tool], city, args.repeat)
    print(json.dumps(result))
    return 0


def time_scorer(scorer: Scorer, city: City, repeat: int) -> dict[str, object]:
    """Median seconds for the last date and for every date, peak MB, and how big input and output are."""
    frames = (city.observations, city.metrics, city.targets)
    gc.collect()
    input_mb = rss_mb("VmRSS")
    reset_peak()
    one_date, _, _ = _median_seconds(lambda: scorer(*frames, city.last_day, city.last_day), repeat)
    full, full_cpu, rows = _median_seconds(
        lambda: scorer(*frames, city.first_day, city.last_day), repeat
    )
    return {
        "observations": len(city.observations),
        "metrics": len(city.metrics),
        "days": _days(city),
        "rows": rows,
        "one_date_s": one_date,
        "full_s": full,
        "full_cpu_s": full_cpu,
        "input_mb": input_mb,
        "peak_mb": rss_mb("VmHWM"),
    }


def time_reference(city: City) -> dict[str, object]:
    """Seconds per as-of date for the reference and the engine on the last ``REFERENCE_DATES`` dates."""
    start = city.last_day - pd.Timedelta(days=REFERENCE_DATES - 1)
    frames = (city.observations, city.metrics, city.targets)
    began = time.perf_counter()
    reference_scores(*frames, start.date(), city.last_day.date())
    reference = time.perf_counter() - began
    engine, _, _ = _median_seconds(lambda: score_range(*frames, start, city.last_day), 3)
    return {
        "dates": REFERENCE_DATES,
        "reference_s_per_date": reference / REFERENCE_DATES,
        "engine_s_per_date": engine / REFERENCE_DATES,
    }


def check(city: City) -> dict[str, object]:
    """How far DuckDB (every date) and the reference (last dates) are from the engine."""
    frames = (city.observations, city.metrics, city.targets)
    engine = score_range(*frames, city.first_day, city.last_day)
    sql = score_range_sql(*frames, city.first_day, city.last_day)
    start = city.last_day - pd.Timedelta(days=REFERENCE_DATES - 1)
    reference = pd.DataFrame(reference_scores(*frames, start.date(), city.last_day.date()))
    recent = engine[engine["as_of"] >= start]
    return {"duckdb": compare(engine, sql), "reference": compare(recent, reference)}


def compare(engine: pd.DataFrame, other: pd.DataFrame) -> dict[str, object]:
    """Largest differences between two score frames, matched on (as_of, metric, period).

    ``ok`` is true when both have the same rows, the same scores within ``TOLERANCE`` (relative),
    no score where the other has none, the same notes, the same metrics stale (``status == "stale"``,
    or the reference's ``stale`` flag) and, where both frames have a status, the same statuses.
    """
    keys = ["as_of", "metric", "period"]
    left, right = _keyed(engine), _keyed(other)
    both = left.merge(right, on=keys, how="outer", suffixes=("", "_other"), indicator=True)
    unmatched = int((both["_merge"] != "both").sum())
    out: dict[str, object] = {"rows": len(left), "unmatched_rows": unmatched}
    for column in ("value", "target", "score"):
        a, b = both[column].to_numpy(float), both[f"{column}_other"].to_numpy(float)
        known = ~np.isnan(a) & ~np.isnan(b)
        diff = np.abs(a[known] - b[known])
        out[f"{column}_nan_mismatches"] = int((np.isnan(a) != np.isnan(b)).sum())
        out[f"{column}_max_abs_diff"] = float(diff.max(initial=0.0))
        out[f"{column}_max_rel_diff"] = float(
            (diff / np.maximum(np.abs(a[known]), 1e-300)).max(initial=0.0)
        )
    out["note_mismatches"] = int((both["note"] != both["note_other"]).sum())
    out["stale_rows"] = int(left["stale"].sum())
    out["stale_mismatches"] = int((both["stale"] != both["stale_other"]).sum())
    statuses = both["status"].notna() & both["status_other"].notna()
    differ = statuses & (both["status"] != both["status_other"])
    out["status_mismatches"] = int(differ.sum())
    out["ok"] = (
        unmatched == 0
        and out["score_nan_mismatches"] == 0
        and out["score_max_rel_diff"] <= TOLERANCE
        and out["note_mismatches"] == 0
        and out["stale_mismatches"] == 0
        and out["status_mismatches"] == 0
    )
    return out


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    """The comparable columns with plain types (dates as datetime64[ns], labels as str, None as NaN).

    ``status`` is "" where there is no score and None (not compared) for a frame without statuses
    (the reference's rows); ``stale`` comes from the status, or from the reference's flag.
    """
    if "status" in frame:
        status = frame["status"].astype(object).where(frame["status"].notna(), "").astype(str)
        stale = (status == STALE).to_numpy()
    else:
        status = pd.Series(None, index=frame.index, dtype=object)
        stale = frame["stale"].fillna(False).astype(bool).to_numpy()
    return pd.DataFrame(
        {
            "as_of": pd.to_datetime(frame["as_of"]).astype("datetime64[ns]"),
            "metric": frame["metric"].astype(str),
            "period": frame["period"].astype(str),
            "value": pd.to_numeric(frame["value"], errors="coerce").astype(float),
            "target": pd.to_numeric(frame["target"], errors="coerce").astype(float),
            "score": pd.to_numeric(frame["score"], errors="coerce").astype(float),
            "note": frame["note"].astype(str),
            "status": status.to_numpy(),
            "stale": stale,
        }
    )


def _days(city: City) -> int:
    return (city.last_day - city.first_day).days + 1


def _median_seconds(run: Callable[[], pd.DataFrame], repeat: int) -> tuple[float, float, int]:
    """(median wall seconds, median CPU seconds of all threads, rows in the result) of ``repeat`` runs.

    CPU seconds show the work done even when other processes slow the wall clock down.
    """
    wall, cpu, rows = [], [], 0
    for _ in range(max(repeat, 1)):
        began, began_cpu = time.perf_counter(), time.process_time()
        rows = len(run())
        wall.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
        gc.collect()
    return statistics.median(wall), statistics.median(cpu), rows


def rss_mb(field: str) -> float | None:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process in MB, or None where /proc is missing."""
    if not STATUS.exists():
        return None
    for line in STATUS.read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return None


def reset_peak() -> None:
    """Make the peak RSS start from now (Linux: write 5 to /proc/self/clear_refs)."""
    if CLEAR_REFS.exists():
        CLEAR_REFS.write_text("5")


if __name__ == "__main__":
    raise SystemExit(main())
