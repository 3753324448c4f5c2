"""Benchmark the explorer's start-up: ``Explorer(kit)`` (which shows its first view) at N metrics.

    python benchmarks/bench_explorer.py [--metrics 300] [--metrics 2000] [--areas 25] [--dir DIR]

Each size is a synthetic city (``benchmarks/data.py``: N metrics, two years of daily data) written
into ``DIR/city-N.db`` once (kept for the next run). Each measurement is a fresh Python process, as
``cityscore serve`` starts a fresh kernel: the time to import the explorer, to construct it (its
first view: scoreboard, metric detail, change, every chart drawn; wall and CPU seconds) and to
pick another metric. Altair's import is timed apart: it is the same whatever the explorer does.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, resource, sys, time
t0 = time.perf_counter()
from cityscore import Kit
ta = time.perf_counter()
import cityscore.pages.charts  # noqa: F401  (Altair, which the explorer imports: timed apart)
tb = time.perf_counter()
from cityscore.apps.explorer import Explorer
t2, c2 = time.perf_counter(), time.process_time()
altair = tb - ta
kit = Kit(sys.argv[1])
explorer = Explorer(kit)
t3, c3 = time.perf_counter(), time.process_time()
names = list(explorer.metric.options)
explorer.metric.value = names[len(names) // 2]
t4 = time.perf_counter()
t5 = t6 = t4
if explorer.areas:  # the last area; the Compare areas tab (on the CityScore); then on the metric
    explorer.area.value = explorer.areas[-1]
    t5 = time.perf_counter()
    explorer.tabs.selected_index = len(explorer.views) - 1
    t6 = time.perf_counter()
    explorer.compare.value = "metric"
t7 = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"import": t2 - t0 - altair, "altair": altair, "construct": t3 - t2,
                  "construct_cpu": c3 - c2, "pick": t4 - t3, "area": t5 - t4, "compare": t6 - t5,
                  "on_metric": t7 - t6, "peak_mb": peak}))
"""


def city(directory: Path, metrics: int, areas: int = 0) -> Path:
    path = directory / (f"city-{metrics}.db" if not areas else f"city-{metrics}x{areas}areas.db")
    if not path.exists():
        sys.path.insert(0, str(ROOT))
        if areas:
            area_city_db(path, metrics, areas)
        else:
            from benchmarks.bench_report import load_synthetic

            load_synthetic(f"sqlite:///{path}", metrics)
    return path


def area_city_db(path: Path, metrics: int, areas: int, years: int = 2) -> None:
    """The area benchmark's city (``bench_areas.area_city``) written into SQLite."""
    import pandas as pd

    from benchmarks.bench_areas import area_city
    from cityscore import Kit

    obs, catalog, targets, _, end = area_city(metrics, areas, years)
    kit = Kit(f"sqlite:///{path}")
    kit.init()
    none = pd.DataFrame({"metric": [], "target": []})
    kit.store.write_metrics(catalog, none, "synthetic metrics", today=pd.Timestamp(end).date())
    when = pd.to_datetime(targets["effective_from"]).dt.date
    kit.store.write_targets(targets.assign(effective_from=when), "synthetic targets")
    values = obs.assign(
        metric=obs["metric"].astype(str),
        area=obs["area"].astype(str),
        date=pd.to_datetime(obs["date"]).dt.date,
    )
    kit.store.write_observations(values, "synthetic values")
    kit.store.engine.dispose()


def measure(db: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, f"sqlite:///{db}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=int, action="append")
    parser.add_argument("--areas", type=int, default=0, help="areas per metric (default none)")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "cityscore-bench")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    print(f"load average {os.getloadavg()[0]:.1f}; areas per metric: {args.areas}")
    print(
        "| metrics | import kit s | import Altair s | Explorer() s (first view) | its CPU s "
        "| pick a metric s | pick an area s | open Compare areas (CityScore) s "
        "| compare on the metric s | peak MB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.metrics or [300, 2000]:
        r = measure(city(args.dir, n, args.areas))
        print(
            f"| {n} | {r['import']:.1f} | {r['altair']:.1f} | {r['construct']:.1f} "
            f"| {r['construct_cpu']:.1f} | {r['pick']:.2f} | {r['area']:.2f} | {r['compare']:.2f} "
            f"| {r['on_metric']:.2f} | {r['peak_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
