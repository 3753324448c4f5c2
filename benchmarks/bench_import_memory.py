"""Peak memory of `cityscore values import` on a large values file, beside its time.

    python benchmarks/bench_import_memory.py [--mb 400] [--bad] [--keep DIR]

Writes a values.csv of about ``--mb`` megabytes (``metric,date,value``; at least 2,000 value
metrics, more for files above 1.4 GB, a day each since 1950, so every row is a new day) and a catalog for it, then imports it into a fresh
SQLite database with ``cityscore --db URL values import FILE`` as a user runs it: a process of its
own, whose peak resident memory is the kernel's (``wait4``), not sampled. ``--bad`` puts one
bad row near the end (the import must then refuse the file and write nothing). A file larger than
``io.streaming.STREAM_BYTES`` is read in parts, so the peak stays about the same whatever the size:
``--mb 5000`` is the 5 GB case (it needs several GB of free disk for the file and the
database); the default, 400 MB (14 million rows), takes about a minute in ``make bench``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = str(Path(sys.executable).with_name("cityscore"))
METRICS = 2_000
FIRST_DAY = dt.date(1950, 1, 1)


def write_files(folder: Path, megabytes: float, bad: bool) -> tuple[Path, Path, int]:
    """(metrics.csv, values.csv, rows) of about ``megabytes`` MB of values, metric by metric."""
    metrics = folder / "metrics.csv"
    target = int(megabytes * 1_000_000)
    days = [(FIRST_DAY + dt.timedelta(days=d)).isoformat() for d in range(25_000)]
    row_bytes = len(f"Metric 0000,{days[-1]},999.5\n")
    count = max(METRICS, target // (len(days) * row_bytes) + 1)  # enough metrics for the size
    names = [f"Metric {i:05d}" for i in range(count)]
    with metrics.open("w") as out:
        out.write("name,kind,direction,target\n")
        out.writelines(f"{name},value,higher,100\n" for name in names)
    values = folder / "values.csv"
    rows, size = 0, 0
    with values.open("w", buffering=1 << 20) as out:
        out.write("metric,date,value\n")
        for m, name in enumerate(names):
            block = "".join(
                f"{name},{day},{(d * 7 + m) % 1000 + 0.5}\n" for d, day in enumerate(days)
            )
            last = size + len(block) >= target
            if last:
                block = block[: block.rfind("\n", 0, max(target - size, 1)) + 1]
                if bad:  # one bad row near the end
                    block += f"{name},not a date,1\n"
            out.write(block)
            rows += block.count("\n")
            size += len(block)
            if last:
                break
    return metrics, values, rows


def run(args: list[str]) -> tuple[int, float, float, float, str]:
    """(exit status, wall seconds, CPU seconds, peak RSS in MB, stderr's first line) of one command."""
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    last = err.strip().splitlines()[:1]
    cpu = usage.ru_utime + usage.ru_stime
    return process.returncode, seconds, cpu, usage.ru_maxrss / 1024, last[0] if last else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mb", type=float, default=400, help="size of values.csv in MB (default 400)"
    )
    parser.add_argument("--bad", action="store_true", help="one bad row near the end")
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cityscore-bench-") as scratch:
        folder = options.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        metrics, values, rows = write_files(folder, options.mb, options.bad)
        url = f"sqlite:///{folder / 'bench.db'}"
        for step in (["init"], ["metrics", "import", str(metrics)]):
            subprocess.run([CLI, "--db", url, *step], check=True, capture_output=True)
        code, seconds, cpu, peak, said = run([CLI, "--db", url, "values", "import", str(values)])
        size = values.stat().st_size / 1e6
        print(
            f"values import: {size:,.0f} MB, {rows:,} rows{' (one bad)' if options.bad else ''}: "
            f"exit {code}, {seconds:,.1f} s, {cpu:,.1f} CPU s, peak RSS {peak:,.0f} MB"
        )
        if said:
            print(f"  stderr: {said[:200]}")
        expected = 1 if options.bad else 0
        return 0 if code == expected else 1


if __name__ == "__main__":
    sys.exit(main())
