"""`make bench`: time the scoring engine on sizes S, M and L against DuckDB SQL and the reference.

Each measurement runs in a fresh process (``benchmarks.measure``) so that its peak memory is its own.
Prints one table, the agreement checks and the goals with pass/miss; ``--markdown`` prints the table
as Markdown for benchmarks/README.md. Exits non-zero if DuckDB or the reference disagree with the
engine, or a measurement fails; a missed speed goal is reported, not an error.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPEATS = {"S": 5, "M": 3, "L": 1}  # full-history runs per size (the median is kept)
MB_LIMIT = 4096


@dataclass(frozen=True)
class Goal:
    """One goal of issue 2, e.g. L full history under 60 s."""

    label: str
    size: str
    field: str  # a key of the size's row (see `_row`)
    limit: float


GOALS = [
    Goal("M full history < 5 s", "M", "full_s", 5.0),
    Goal("L full history < 60 s", "L", "full_s", 60.0),
    Goal(f"L peak memory < {MB_LIMIT} MB", "L", "peak_mb", MB_LIMIT),
    Goal("L one date < 2 s", "L", "one_date_s", 2.0),
    Goal("M full history <= 2x DuckDB", "M", "vs_duckdb_full", 2.0),
    Goal("M one date <= 2x DuckDB", "M", "vs_duckdb_one", 2.0),
    Goal("L full history <= 2x DuckDB", "L", "vs_duckdb_full", 2.0),
    Goal("L one date <= 2x DuckDB", "L", "vs_duckdb_one", 2.0),
]
COLUMNS = [  # (heading, key, format)
    ("size", "size", "{}"),
    ("metrics", "metrics", "{:,}"),
    ("days", "days", "{:,}"),
    ("observations", "observations", "{:,}"),
    ("result rows", "rows", "{:,}"),
    ("one date s", "one_date_s", "{:.3f}"),
    ("full history s", "full_s", "{:.2f}"),
    ("peak MB", "peak_mb", "{:,.0f}"),
    ("DuckDB one date s", "duckdb_one_date_s", "{:.3f}"),
    ("DuckDB full s", "duckdb_full_s", "{:.2f}"),
    ("DuckDB peak MB", "duckdb_peak_mb", "{:,.0f}"),
    ("vs DuckDB (full)", "vs_duckdb_full", "{:.2f}x"),
    ("vs reference (per date)", "vs_reference", "{:.4f}x"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size", action="append", choices=list(REPEATS), help="repeatable; default all"
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)
    sizes = args.size or list(REPEATS)
    print(_machine(), flush=True)
    rows, agreement_ok = [], True
    for size in sizes:
        row = _row(size)
        rows.append(row)
        if size == "S":
            agreement_ok = _print_agreement(_measure("S", "check"))
    print()
    print(_table(rows, markdown=args.markdown))
    print()
    _print_notes(rows)
    _print_goals({row["size"]: row for row in rows})
    print(f"load average at the end: {_load()} (other processes slow the wall clock down)")
    return 0 if agreement_ok else 1


def _row(size: str) -> dict[str, object]:
    """Engine and DuckDB timings (and on S the reference's) for one size, as one table row."""
    print(f"measuring {size} ...", flush=True)
    engine = _measure(size, "engine", REPEATS[size])
    duck = _measure(size, "duckdb", REPEATS[size])
    row = {"size": size, **engine}
    row.update(
        {f"duckdb_{key}": duck[key] for key in ("one_date_s", "full_s", "full_cpu_s", "peak_mb")}
    )
    row["vs_duckdb_full"] = engine["full_s"] / duck["full_s"]
    row["vs_duckdb_one"] = engine["one_date_s"] / duck["one_date_s"]
    if size == "S":
        ref = _measure(size, "reference")
        row["vs_reference"] = ref["engine_s_per_date"] / ref["reference_s_per_date"]
        row["reference"] = ref
    return row


def _measure(size: str, tool: str, repeat: int = 1) -> dict:
    """Run one measurement in a fresh Python process and return its JSON result."""
    command = [sys.executable, "-m", "benchmarks.measure", size, tool, "--repeat", str(repeat)]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        msg = f"{size} {tool} failed (exit {done.returncode}):\n{done.stderr[-3000:]}"
        raise SystemExit(msg)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _print_agreement(result: dict) -> bool:
    """Print how far DuckDB and the reference are from the engine on S; True if both agree."""
    labels = {"duckdb": "DuckDB, every date", "reference": "reference, last 30 dates"}
    for name, diff in result.items():
        verdict = "agree" if diff["ok"] else "DISAGREE"
        print(
            f"  S engine vs {labels[name]}: {verdict} on {diff['rows']:,} rows; max |score diff| "
            f"{diff['score_max_abs_diff']:.1e} (relative {diff['score_max_rel_diff']:.1e}), max |value diff| "
            f"{diff['value_max_abs_diff']:.1e}, max |target diff| {diff['target_max_abs_diff']:.1e}; "
            f"scored/unscored mismatches {diff['score_nan_mismatches']}, note mismatches "
            f"{diff['note_mismatches']}, stale mismatches {diff['stale_mismatches']} (of "
            f"{diff['stale_rows']:,} stale rows), status mismatches {diff['status_mismatches']}, "
            f"unmatched rows {diff['unmatched_rows']}",
            flush=True,
        )
    return all(diff["ok"] for diff in result.values())


def _table(rows: list[dict], *, markdown: bool) -> str:
    cells = [[heading for heading, _, _ in COLUMNS]]
    for row in rows:
        cells.append([fmt.format(row[key]) if key in row else "" for _, key, fmt in COLUMNS])
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    if markdown:
        lines = [
            "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
            for line in cells
        ]
        lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
        return "\n".join(lines)
    lines = ["  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _print_notes(rows: list[dict]) -> None:
    for row in rows:
        print(
            f"  {row['size']}: full history CPU s (all threads): engine {row['full_cpu_s']:.2f}, DuckDB "
            f"{row['duckdb_full_cpu_s']:.2f}; interpreter and input frames {row['input_mb']:,.0f} MB "
            "before scoring"
        )
        if "reference" in row:
            ref = row["reference"]
            print(
                f"  {row['size']}: reference {ref['reference_s_per_date']:.3f} s per as-of date, engine "
                f"{ref['engine_s_per_date']:.5f} s per date on the same last {ref['dates']} dates, "
                f"{row['full_s'] / row['days']:.5f} s per date over the full history (the reference "
                f"would take about {ref['reference_s_per_date'] * row['days']:.0f} s for it)"
            )
    print("  ratios are engine time / other time: below 1 means the engine is faster")
    print()


def _print_goals(by_size: dict[str, dict]) -> None:
    print("goals:")
    for goal in GOALS:
        row = by_size.get(goal.size)
        if row is None:
            print(f"  {goal.label:32} not measured (run without --size)")
            continue
        value = row[goal.field]
        verdict = "pass" if value <= goal.limit else "MISS"
        print(f"  {goal.label:32} {value:10.2f}  {verdict}")


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if "model name" in line
        ),
        cpu,
    )
    memory = next(
        (line.split()[1] for line in _read("/proc/meminfo").splitlines() if "MemTotal" in line), ""
    )
    gib = f", {int(memory) / 1024**2:.0f} GiB RAM" if memory else ""
    return f"machine: {os.cpu_count()} CPUs ({model}){gib}, Python {platform.python_version()}, load {_load()}"


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


if __name__ == "__main__":
    raise SystemExit(main())
