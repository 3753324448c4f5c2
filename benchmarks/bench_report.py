"""Benchmark `cityscore report`: median end-to-end time on the demo city and the size of the page.

    python benchmarks/bench_report.py [--runs 5]

Each run is a fresh `cityscore report` process, as cron would start it. For scale, the table also
times the floor we cannot go below: starting the CLI (Python + imports) and papermill running a
one-cell notebook (kernel start). Goals (issue 4): under 8 s end to end, under 2.5 MB of HTML.
The vl-convert bundle cache is warmed by the first run, which is not counted.
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per row (default 5)")
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
        report = [
            str(BIN / "cityscore"),
            "report",
            "--out",
            str(out),
            "--date",
            DEMO_END.isoformat(),
        ]
        _timed(report, env)  # warm-up: fills the vl-convert bundle cache and the OS file cache
        page = out / DEMO_END.isoformat() / f"cityscore-{DEMO_END.isoformat()}.html"
        size_mb = page.stat().st_size / 1e6
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
    print(
        f"cityscore report benchmark: demo city ending {DEMO_END}, {args.runs} runs, {os.cpu_count()} CPUs"
    )
    print()
    print(f"| {'what':<36} | {'median s':>8} | {'min s':>6} | {'max s':>6} |")
    print(f"|{'-' * 38}|{'-' * 10}|{'-' * 8}|{'-' * 8}|")
    for label, (median, low, high) in rows:
        print(f"| {label:<36} | {median:>8.2f} | {low:>6.2f} | {high:>6.2f} |")
    print()
    median = rows[0][1][0]
    print(
        f"HTML size: {size_mb:.2f} MB (goal < {GOAL_MB} MB): {'met' if size_mb < GOAL_MB else 'MISSED'}"
    )
    print(
        f"end to end: {median:.2f} s (goal < {GOAL_SECONDS} s): {'met' if median < GOAL_SECONDS else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
