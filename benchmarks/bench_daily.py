"""Benchmark the morning run: `cityscore daily` on the demo city, beside `cityscore report`.

    python benchmarks/bench_daily.py [--runs 3] [--keep DIR]

Makes a city folder as a new city does (``cityscore new``, then ``cityscore demo`` into its
database: about 20 metrics, 3 years ending yesterday), with no SQL sources (its example
``sources.yml`` removed) and no mail or webhook settings, so the run does what it does every
morning without reaching out: score, alerts, the HTML report, the report index. Then times, each a
fresh process as cron starts it and in turn, ``cityscore daily`` and ``cityscore report`` (the
report alone, the largest part of the run). Wall seconds, CPU seconds of the command and its
children, and the largest resident memory of one of them (``getrusage``); the median of ``--runs``.
Goal: the morning run under 15 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_cli import CLI, load, timed  # noqa: E402

GOAL_SECONDS = 15.0
COMMANDS = {"daily": ["daily"], "report": ["report"]}


def make_city(folder: Path) -> Path:
    """A city folder with the demo city in its database, no sources: the folder's path."""
    city = folder / "city"
    for args, cwd in ((["new", str(city)], folder), (["demo"], city)):
        subprocess.run([CLI, *args], check=True, capture_output=True, cwd=cwd, env=clean_env())
    (city / "sources.yml").unlink(missing_ok=True)
    return city


def clean_env() -> dict[str, str]:
    """This environment without CITYSCORE_* settings: the city folder's own settings apply, and no
    database, mail password or webhook from the caller's shell."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CITYSCORE_")}


def measure(city: Path, runs: int) -> dict[str, dict[str, float]]:
    """Per command: median wall s, median CPU s and largest peak MB of ``runs`` fresh processes."""
    results: dict[str, list[dict]] = {name: [] for name in COMMANDS}
    for _ in range(max(runs, 1)):
        for name, args in COMMANDS.items():
            result = timed(CLI, *args, cwd=city, env=clean_env())
            if result["rc"] != 0:
                raise SystemExit(f"cityscore {name} failed: {result['err'].strip()[-400:]}")
            results[name].append(result)
    return {
        name: {
            "s": statistics.median(r["s"] for r in done),
            "cpu": statistics.median(r["cpu"] for r in done),
            "mb": max(r["mb"] for r in done),
            "runs": len(done),
        }
        for name, done in results.items()
    }


def report(figures: dict[str, dict[str, float]]) -> str:
    """The table and the goal's verdict, as printed."""
    lines = [f"{'command':<18}{'wall s':>8}{'CPU s':>8}{'peak MB':>9}  runs"]
    for name, row in figures.items():
        lines.append(
            f"{'cityscore ' + name:<18}{row['s']:>8.1f}{row['cpu']:>8.1f}{row['mb']:>9,.0f}"
            f"  {row['runs']:.0f}"
        )
    daily = figures["daily"]["s"]
    verdict = "pass" if daily < GOAL_SECONDS else "MISS"
    lines.append(
        f"\nGoal: the morning run (`cityscore daily`, demo city) < {GOAL_SECONDS:g} s: "
        f"{daily:.1f} s  {verdict}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each command (default 3)")
    parser.add_argument("--keep", type=Path, help="make the city folder here and keep it")
    args = parser.parse_args(argv)
    print(f"load average before: {load()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="cityscore-bench-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        print("the demo city in a new city folder ...", flush=True)
        city = make_city(folder)
        print(report(measure(city, args.runs)))
    print(f"load average after: {load()} (other processes slow the wall clock down)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
