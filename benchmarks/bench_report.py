"""Benchmark `cityscore report`: median end-to-end time and page size, demo city and big cities.

    python benchmarks/bench_report.py [--runs 5] [--metrics 300] [--metrics 2000]

Each run is a fresh `cityscore report` process, as cron would start it. For scale, the table also
times the floor we cannot go below: starting the CLI (Python + imports) and papermill running a
one-cell notebook (kernel start). Big cities are synthetic (``benchmarks/data.py``: N metrics, two
years of daily data, seven categories) written straight into SQLite through the kit's Store.
Goals (issues 4 and 14): demo under 8 s and 2.5 MB; 300 metrics at most 2x the demo's time and
under 3 MB; 2,000 metrics succeeds and stays under 6 MB (`tests/test_report_scale.py` checks in
Chromium that every chart draws). The vl-convert bundle cache is warmed by a first run, not counted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BIN = Path(sys.executable).parent
DEMO_END = dt.date(2026, 10, 31)
GOAL_SECONDS = 8.0
GOAL_MB = 2.5
# metrics -> (max ratio to the demo's median time or None, max MB)
BIG_GOALS = {300: (2.0, 3.0), 2000: (None, 6.0)}
BIG_YEARS = 2


def load_synthetic(url: str, metrics: int, years: int = BIG_YEARS, end: dt.date = DEMO_END) -> None:
    """Write a synthetic city of ``metrics`` metrics and ``years`` years of days ending ``end``
    (``benchmarks/data.py``): the catalog with its first targets, the later target changes, then
    every daily value, through the kit's own Store. The tests' big cities are made by this too."""
    import pandas as pd

    from benchmarks.data import Size, make_city
    from cityscore import Kit
    from cityscore.core.vocabulary import EARLIEST

    city = make_city(Size(f"{metrics}x{years}", metrics, years), end=end)
    kit = Kit(url)
    kit.init()
    when = pd.to_datetime(city.targets["effective_from"])
    first = city.targets[when == pd.Timestamp(EARLIEST)]
    later = city.targets[when != pd.Timestamp(EARLIEST)]
    kit.store.write_metrics(city.metrics, first, "synthetic metrics", today=end)
    kit.store.write_targets(later.assign(effective_from=when[later.index].dt.date), "targets")
    obs = city.observations
    values = obs.assign(metric=obs["metric"].astype(str), date=obs["date"].dt.date)
    kit.store.write_observations(values, "synthetic values")
    kit.store.engine.dispose()  # close connections so SQLite folds its WAL into the file


def _timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, capture_output=True)
    return time.perf_counter() - start


def _median(fn: Callable[[], float], runs: int) -> tuple[float, float, float]:
    times = [fn() for _ in range(runs)]
    return statistics.median(times), min(times), max(times)


def _one_cell_notebook(path: Path) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell("1 + 1")])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def _report_command(out: Path) -> list[str]:
    return [str(BIN / "cityscore"), "report", "--out", str(out), "--date", DEMO_END.isoformat()]


def _page_mb(out: Path) -> float:
    day = DEMO_END.isoformat()
    return (out / day / f"cityscore-{day}.html").stat().st_size / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per row (default 5)")
    parser.add_argument(
        "--metrics",
        type=int,
        action="append",
        default=None,
        metavar="N",
        help="also time a synthetic city of N metrics (repeatable; e.g. 300, 2000)",
    )
    args = parser.parse_args(argv)
    from cityscore import Kit

    with tempfile.TemporaryDirectory(prefix="cityscore-bench-report-") as tmp:
        root = Path(tmp)
        db = root / "demo.db"
        kit = Kit(f"sqlite:///{db}")
        kit.load_demo(DEMO_END)
        kit.store.engine.dispose()
        env = {**os.environ, "CITYSCORE_DB": f"sqlite:///{db}"}
        out = root / "reports"
        report = _report_command(out)
        _timed(report, env)  # warm-up: fills the vl-convert bundle cache and the OS file cache
        size_mb = _page_mb(out)
        notebook = _one_cell_notebook(root / "one.ipynb")
        floor_papermill = [
            str(BIN / "papermill"),
            "--no-progress-bar",
            str(notebook),
            str(root / "one-out.ipynb"),
        ]
        rows = [
            ("cityscore report (end to end)", _median(lambda: _timed(report, env), args.runs)),
            (
                "floor: cityscore --help",
                _median(lambda: _timed([str(BIN / "cityscore"), "--help"], env), args.runs),
            ),
            (
                "floor: papermill one-cell notebook",
                _median(lambda: _timed(floor_papermill, env), args.runs),
            ),
        ]
        big = []
        for metrics in args.metrics or []:
            big_db = root / f"city-{metrics}.db"
            start = time.perf_counter()
            load_synthetic(f"sqlite:///{big_db}", metrics)
            load_s = time.perf_counter() - start
            big_env = {**os.environ, "CITYSCORE_DB": f"sqlite:///{big_db}"}
            big_out = root / f"reports-{metrics}"
            big_report = _report_command(big_out)
            runs = args.runs if metrics <= 300 else 1
            timing = _median(lambda: _timed(big_report, big_env), runs)  # noqa: B023
            big.append((metrics, runs, timing, _page_mb(big_out), load_s))
    demo_median = rows[0][1][0]
    print(
        f"cityscore report benchmark: demo city ending {DEMO_END}, {args.runs} runs, {os.cpu_count()} CPUs"
    )
    print()
    print(f"| {'what':<36} | {'median s':>8} | {'min s':>6} | {'max s':>6} |")
    print(f"|{'-' * 38}|{'-' * 10}|{'-' * 8}|{'-' * 8}|")
    for label, (median, low, high) in rows:
        print(f"| {label:<36} | {median:>8.2f} | {low:>6.2f} | {high:>6.2f} |")
    print()
    print(
        f"HTML size: {size_mb:.2f} MB (goal < {GOAL_MB} MB): {'met' if size_mb < GOAL_MB else 'MISSED'}"
    )
    print(
        f"end to end: {demo_median:.2f} s (goal < {GOAL_SECONDS} s): "
        f"{'met' if demo_median < GOAL_SECONDS else 'MISSED'}"
    )
    if big:
        print()
        print(
            f"Synthetic cities, {BIG_YEARS} years of daily data (load time not in the report time):"
        )
        print()
        print("| metrics | runs | median s | min s | max s | x demo | HTML MB | goal | load s |")
        print("|---|---|---|---|---|---|---|---|---|")
        for metrics, runs, (median, low, high), mb, load_s in big:
            ratio_goal, mb_goal = BIG_GOALS.get(metrics, (None, None))
            ratio = median / demo_median
            met = (ratio_goal is None or ratio <= ratio_goal) and (mb_goal is None or mb < mb_goal)
            goal = (f"<= {ratio_goal}x, " if ratio_goal else "") + (
                f"< {mb_goal} MB" if mb_goal else ""
            )
            print(
                f"| {metrics:,} | {runs} | {median:.2f} | {low:.2f} | {high:.2f} | {ratio:.2f} | "
                f"{mb:.2f} | {goal or '—'}: {'met' if met else 'MISSED'} | {load_s:.1f} |"
            )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `benchmarks.data` as a script
    sys.exit(main())
