"""Benchmark what users run: `cityscore` commands as fresh processes, beside DuckDB on the same files.

    python benchmarks/bench_cli.py [--sizes S,M] [--db sqlite,postgres] [--markdown] [--no-report]
                                   [--no-duckdb]

For each size (``benchmarks/data.py``; L is 2,000 metrics x 10 years, opt-in) the synthetic city
is written once as metrics.csv, targets.csv and values.csv (``benchmarks/files.py``, kept in the
temporary folder for the next run) and imported into a fresh database; these commands are timed,
each a fresh process as a user or cron starts it:

- ``cityscore values import values.csv``
- ``cityscore score --from FIRST --to LAST --format csv --out full.csv`` (every date of the data)
- ``cityscore score --date LAST --format csv --out one.csv``
- ``cityscore report --date LAST`` (the daily HTML report)

beside DuckDB (``benchmarks/duckdb_cli.py``) reading the same CSV files and writing the same scores
as a fresh process. Wall seconds, CPU seconds (user + system, all threads) and the child's peak
resident memory (``getrusage``) are printed, with the load average: on a shared machine the wall
clock waits for other processes, the CPU seconds do not. PostgreSQL is a throwaway server from
``tests/pgserver.py``. On XS and S the CLI's scores are checked against DuckDB's, row by row.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.data import SIZES  # noqa: E402
from benchmarks.files import CityFiles, write_city  # noqa: E402

CLI = str(Path(sys.executable).parent / "cityscore")
CACHE = Path(tempfile.gettempdir()) / "cityscore-bench-cities"  # the CSV files, kept between runs
# Runs a command and reports its wall time and its peak RSS: the wrapper's only child is the command.
WRAPPER = (
    "import json, resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "s = time.perf_counter() - t\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "cpu = u.ru_utime + u.ru_stime\n"
    "out = {'s': s, 'cpu': cpu, 'mb': u.ru_maxrss / 1024, 'rc': p.returncode, 'err': p.stderr[-800:]}\n"
    "print(json.dumps(out))\n"
)
GOALS = [
    ("M full history through the CLI vs DuckDB (fresh processes)", "M", "vs_duckdb", 1.0, "x"),
    ("L full history through the CLI", "L", "full_s", 60.0, "s"),
    ("L full history peak memory", "L", "full_mb", 4096.0, "MB"),
    ("M import (values import)", "M", "import_s", 5.0, "s"),
    ("L one-date score, end to end", "L", "one_s", 1.0, "s"),
]
COLUMNS = [
    ("size", "size", "{}"),
    ("db", "db", "{}"),
    ("value rows", "rows", "{:,}"),
    ("import s", "import_s", "{:.1f}"),
    ("import CPU s", "import_cpu", "{:.1f}"),
    ("import MB", "import_mb", "{:,.0f}"),
    ("full CSV s", "full_s", "{:.1f}"),
    ("full CPU s", "full_cpu", "{:.1f}"),
    ("full MB", "full_mb", "{:,.0f}"),
    ("one date s", "one_s", "{:.2f}"),
    ("one date CPU s", "one_cpu", "{:.2f}"),
    ("floor s", "floor_s", "{:.2f}"),
    ("one date MB", "one_mb", "{:,.0f}"),
    ("report s", "report_s", "{:.1f}"),
    ("DuckDB full s", "duck_full_s", "{:.1f}"),
    ("DuckDB CPU s", "duck_full_cpu", "{:.1f}"),
    ("DuckDB MB", "duck_full_mb", "{:,.0f}"),
    ("DuckDB one date s", "duck_one_s", "{:.2f}"),
    ("CLI/DuckDB full", "vs_duckdb", "{:.2f}x"),
]


def timed(*command: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> dict:
    """Run ``command`` as a fresh process in ``cwd`` (with ``env``, default this one's); its wall
    seconds, CPU seconds, peak MB, exit code and stderr tail."""
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
        env={**(os.environ if env is None else env), "PYTHONPATH": str(ROOT)},
    )
    return json.loads(done.stdout)


def cli(url: str, *args: str) -> dict:
    result = timed(CLI, "--db", url, *args)
    if result["rc"] != 0:
        print(
            f"  cityscore {' '.join(args[:2])} failed: {result['err'].strip()[-300:]}", flush=True
        )
    return result


def measure_cli(url: str, files: CityFiles, out: Path, report: bool) -> dict:
    """Import the files into the empty database at ``url`` and time the user's commands."""
    first, last = files.first_day.date().isoformat(), files.last_day.date().isoformat()
    for args in (["init"], ["metrics", "import", str(files.metrics)]):
        cli(url, *args)
    cli(url, "targets", "import", str(files.targets))
    row = {"rows": files.rows}
    full = str(out / "full.csv")
    steps = {
        "import": ["values", "import", str(files.values)],
        "full": ["score", "--from", first, "--to", last, "--format", "csv", "--out", full],
        "one": ["score", "--date", last, "--format", "csv", "--out", str(out / "one.csv")],
    }
    if report:
        steps["report"] = ["report", "--date", last, "--out", str(out / "reports")]
    for name, args in steps.items():
        result = cli(url, *args)
        ok = result["rc"] == 0
        row[f"{name}_s"] = result["s"] if ok else None
        row[f"{name}_mb"] = result["mb"] if ok else None
        row[f"{name}_cpu"] = result["cpu"] if ok else None
    return row


def measure_floor() -> dict:
    """The least a one-date score can take: a fresh interpreter importing pandas and SQLAlchemy."""
    result = timed(sys.executable, "-c", "import pandas, sqlalchemy")
    return {"floor_s": result["s"], "floor_cpu": result["cpu"]}


def measure_duckdb(files: CityFiles, out: Path) -> dict:
    first, last = files.first_day.date().isoformat(), files.last_day.date().isoformat()
    module = [sys.executable, "-m", "benchmarks.duckdb_cli", str(files.directory)]
    full = timed(*module, str(out / "duck_full.csv"), "--from", first, "--to", last)
    one = timed(*module, str(out / "duck_one.csv"), "--from", last, "--to", last)
    for result in (full, one):
        if result["rc"] != 0:
            raise SystemExit(f"DuckDB failed: {result['err']}")
    return {
        "duck_full_s": full["s"],
        "duck_full_cpu": full["cpu"],
        "duck_full_mb": full["mb"],
        "duck_one_s": one["s"],
    }


def agreement(out: Path) -> str:
    """CLI and DuckDB scores on the same files, row by row (XS and S only: reading both files is slow)."""
    import numpy as np
    import pandas as pd

    keys = ["as_of", "metric", "period"]
    cli_rows = pd.read_csv(out / "full.csv", keep_default_na=False, na_values=[""])
    duck = pd.read_csv(out / "duck_full.csv", keep_default_na=False, na_values=[""])
    duck["as_of"] = duck["as_of"].str[:10]
    both = cli_rows.merge(duck, on=keys, suffixes=("", "_duck"))
    a, b = both["score"].to_numpy(), both["score_duck"].to_numpy()
    same_scored = np.isnan(a) == np.isnan(b)
    scored = ~np.isnan(a) & ~np.isnan(b)
    worst = float(np.max(np.abs(a[scored] - b[scored]) / np.maximum(np.abs(b[scored]), 1e-300)))
    ok = len(both) == len(cli_rows) == len(duck) and same_scored.all() and worst < 1e-9
    notes = (both["note"].fillna("") != both["note_duck"].fillna("")).sum()
    statuses = (both["status"].fillna("") != both["status_duck"].fillna("")).sum()
    stale = int((both["status"] == "stale").sum())
    return (
        f"{'agree' if ok and not notes and not statuses else 'DISAGREE'}: {len(both):,} rows "
        f"matched of {len(cli_rows):,}, largest relative score difference {worst:.1e}, {notes} note "
        f"mismatches, {statuses} status mismatches ({stale:,} stale rows)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S,M", help="comma-separated, of S, M, L (default S,M)")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--no-report", action="store_true", help="skip `cityscore report`")
    parser.add_argument(
        "--no-duckdb", action="store_true", help="skip DuckDB (at L it takes about 10 minutes)"
    )
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    databases = [d.strip() for d in args.db.split(",") if d.strip()]
    print(f"load average before: {load()}", flush=True)
    rows, checks = [], []
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cityscore-bench-")))
        server = None
        if "postgres" in databases:
            from tests.pgserver import running_postgres

            server = stack.enter_context(running_postgres())
        for size in sizes:
            print(f"{size}: writing the city's CSV files ...", flush=True)
            files = write_city(SIZES[size], CACHE / size)
            out = tmp / size
            out.mkdir()
            duck = {} if args.no_duckdb else measure_duckdb(files, out)
            for db in databases:
                print(f"{size} on {db} ...", flush=True)
                url = sqlite_url(out) if db == "sqlite" else postgres_url(server)
                row = {"size": size, "db": db, **measure_cli(url, files, out, not args.no_report)}
                row |= duck | measure_floor()
                if row["full_s"] and duck:
                    row["vs_duckdb"] = row["full_s"] / duck["duck_full_s"]
                rows.append(row)
                if size in ("XS", "S") and row["full_s"] and duck:
                    checks.append(f"{size} on {db}, CLI vs DuckDB: {agreement(out)}")
                (out / "full.csv").unlink(missing_ok=True)
                print(table([row], markdown=False).splitlines()[-1], flush=True)
    print()
    print(table(rows, markdown=args.markdown))
    print()
    for line in checks:
        print(line)
    print_goals(rows)
    print(f"load average after: {load()} (other processes slow the wall clock down)")
    return 0 if all("DISAGREE" not in c for c in checks) else 1


def sqlite_url(out: Path) -> str:
    return f"sqlite:///{out / 'city.db'}"


def postgres_url(server: str) -> str:
    import sqlalchemy as sa

    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{server}/{name}"


def table(rows: list[dict], *, markdown: bool) -> str:
    cells = [[title for title, _, _ in COLUMNS]]
    for row in rows:
        cells.append(
            [
                "failed" if row.get(key, "") is None else fmt.format(row[key]) if key in row else ""
                for _, key, fmt in COLUMNS
            ]
        )
    if markdown:
        lines = ["| " + " | ".join(r) + " |" for r in cells]
        return "\n".join([lines[0], "|" + "---|" * len(COLUMNS), *lines[1:]])
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells)


def print_goals(rows: list[dict]) -> None:
    print("\nGoals (issue 14), SQLite / PostgreSQL:")
    for label, size, key, limit, unit in GOALS:
        found = [r for r in rows if r["size"] == size and r.get(key) is not None]
        if not found:
            print(f"  {label} < {limit:g} {unit}: not measured")
            continue
        for row in found:
            verdict = "pass" if row[key] <= limit else "MISS"
            print(f"  {label} <= {limit:g} {unit} ({row['db']}): {row[key]:,.2f} {unit}  {verdict}")
            if key == "one_s" and row.get("floor_s") is not None:
                print(
                    f"    floor (fresh python importing pandas and SQLAlchemy): "
                    f"{row['floor_s']:.2f} s wall, {row['floor_cpu']:.2f} CPU s"
                )


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


if __name__ == "__main__":
    raise SystemExit(main())
