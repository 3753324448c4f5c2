"""Area benchmark: the full history of 200 metrics x 25 areas x 10 years, scored by area.

Builds the M city of ``benchmarks/data.py`` (200 metrics, 10 years), gives every metric a daily row in
each of 25 areas (the city's own numbers moved by a factor per area and a little daily noise), drops
the citywide rows of half the ratio and sum metrics (so their citywide values are derived from the
areas), and gives the sum metrics and a few others targets of each area's own. Then times
``cityscore.engine.score.score_by_area`` over every as-of date and one date, in this process, and prints
wall seconds, CPU seconds and the peak resident memory while scoring (building the city not counted).

    python benchmarks/bench_areas.py                    # 200 metrics x 25 areas x 10 years
    python benchmarks/bench_areas.py --metrics 20 --areas 5 --years 2   # a quick look

Goal (issue 13): under 60 s and 8 GB for the full history.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.data import Size, make_city  # noqa: E402
from benchmarks.measure import reset_peak, rss_mb  # noqa: E402
from cityscore.engine.score import score_by_area  # noqa: E402

GOAL_SECONDS = 60
GOAL_MB = 8 * 1024


def area_city(metrics: int, areas: int, years: int, seed: int = 13) -> tuple[pd.DataFrame, ...]:
    """(observations with an ``area`` column, metrics, targets with an ``area`` column)."""
    city = make_city(Size("areas", metrics, years))
    rng = np.random.default_rng(seed)
    obs, catalog = city.observations, city.metrics
    names = [f"Area {k + 1:02d}" for k in range(areas)]
    area_type = pd.CategoricalDtype(["", *names])
    n = len(obs)
    frames = []
    for name in names:
        factor = rng.uniform(0.7, 1.1)
        noise = 1 + 0.05 * rng.standard_normal(n)
        denominator = np.floor(obs["denominator"].to_numpy() / areas * rng.uniform(0.5, 1.5) + 0.5)
        share = np.clip(obs["numerator"] / obs["denominator"] * factor * noise, 0, 1)
        frames.append(
            pd.DataFrame(
                {
                    "metric": obs["metric"],
                    "date": obs["date"],
                    "area": pd.Categorical.from_codes(
                        np.full(n, names.index(name) + 1, dtype=np.int8), dtype=area_type
                    ),
                    "value": obs["value"].to_numpy() / areas * factor * noise,
                    "numerator": np.floor(denominator * share.to_numpy() + 0.5),
                    "denominator": denominator,
                }
            )
        )
    kinds = catalog.set_index("name")
    derivable = kinds.index[(kinds["kind"] == "ratio") | (kinds["aggregation"] == "sum")]
    derived = set(derivable[::2])
    keep = ~obs["metric"].isin(derived).to_numpy()
    codes = np.zeros(int(keep.sum()), dtype=np.int8)
    citywide = obs[keep].assign(area=pd.Categorical.from_codes(codes, dtype=area_type))
    observations = pd.concat([citywide, *frames], ignore_index=True)
    observations["area"] = observations["area"].astype(area_type)
    del frames, citywide
    own = kinds.index[(kinds["aggregation"] == "sum") | (np.arange(len(kinds)) % 10 == 0)]
    first = city.targets.groupby("metric", observed=True)["effective_from"].min()
    area_targets = pd.DataFrame(
        [
            {
                "metric": metric,
                "effective_from": first.get(metric, city.first_day),
                "target": float(rng.uniform(0.5, 50.0)),
                "area": area,
            }
            for metric in own
            for area in names
        ]
    )
    targets = pd.concat([city.targets.assign(area=""), area_targets], ignore_index=True)
    return observations, catalog, targets, city.first_day, city.last_day


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=int, default=200)
    parser.add_argument("--areas", type=int, default=25)
    parser.add_argument("--years", type=int, default=10)
    args = parser.parse_args(argv)
    observations, metrics, targets, first, last = area_city(args.metrics, args.areas, args.years)
    gc.collect()
    input_mb = rss_mb("VmRSS")
    reset_peak()
    began = time.perf_counter()
    one = score_by_area(observations, metrics, targets, last, last)
    one_date = time.perf_counter() - began
    del one
    gc.collect()
    began, began_cpu = time.perf_counter(), time.process_time()
    scores = score_by_area(observations, metrics, targets, first, last)
    full, full_cpu = time.perf_counter() - began, time.process_time() - began_cpu
    peak = rss_mb("VmHWM")
    scored = scores.loc[scores["area"] != "", "score"].notna().mean()
    print(f"{args.metrics} metrics x {args.areas} areas x {args.years} years")
    print(f"observations      {len(observations):>14,}")
    print(f"result rows       {len(scores):>14,}   (area rows scored: {scored:.0%})")
    print(f"one date          {one_date:>13.1f} s")
    print(f"full history      {full:>13.1f} s   ({full_cpu:.1f} s CPU)")
    if peak is not None and input_mb is not None:
        print(f"input in memory   {input_mb:>11,.0f} MB")
        print(f"peak memory       {peak:>11,.0f} MB   (while scoring, input included)")
    ok = full < GOAL_SECONDS and (peak is None or peak < GOAL_MB)
    print(f"goal < {GOAL_SECONDS} s and < {GOAL_MB // 1024} GB: {'pass' if ok else 'MISS'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
