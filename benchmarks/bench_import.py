"""Benchmark `cityscore values import` as a user runs it: a fresh process, three cases per database.

    python benchmarks/bench_import.py [--sizes M] [--db sqlite,postgres] [--markdown]

For each size (``benchmarks/data.py``) the synthetic city's values.csv (``benchmarks/files.py``)
is imported with ``cityscore --db URL values import FILE``:

- **first**: into a store holding the catalog and targets but no values (the ``make bench`` case);
- **again**: the same file once more, which must change nothing;
- **10 %**: a copy of the file with one row in ten changed (a value or numerator + 1), which
  updates those rows and keeps their old versions in ``superseded_values``.

Wall seconds, CPU seconds (user + system of the command; on PostgreSQL the server's work is not
in it) and peak resident memory (``getrusage``) are printed with the load average when each ran:
on a shared machine the wall clock waits for other processes, the CPU seconds much less.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import bench_cli  # noqa: E402
from benchmarks.bench_cli import CACHE, cli, load, postgres_url  # noqa: E402
from benchmarks.data import SIZES  # noqa: E402
from benchmarks.files import CityFiles, write_city  # noqa: E402

CASES = ("first", "again", "10 %")


def changed_copy(files: CityFiles, out: Path) -> Path:
    """values.csv with one row in ten (seeded) changed: value + 1, or numerator + 1 for ratios."""
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(files.values, dtype=str, keep_default_na=False)
    pick = np.random.default_rng(7).random(len(frame)) < 0.10
    value = frame["value"] != ""
    for mask, column in ((pick & value, "value"), (pick & ~value, "numerator")):
        frame.loc[mask, column] = (pd.to_numeric(frame.loc[mask, column]) + 1).map(repr)
    path = out / "values_10pct.csv"
    frame.to_csv(path, index=False, lineterminator="\n")
    return path


def measure(url: str, files: CityFiles, changed: Path) -> list[dict]:
    """The three imports into the fresh database at ``url``, in order."""
    for args in (["init"], ["metrics", "import", str(files.metrics)]):
        cli(url, *args)
    cli(url, "targets", "import", str(files.targets))
    rows = []
    for case, path in zip(CASES, (files.values, files.values, changed), strict=True):
        before = load()
        result = cli(url, "values", "import", str(path))
        rows.append({"case": case, "load": before, **result})
    return rows


def table(rows: list[dict], *, markdown: bool) -> str:
    head = ["size", "db", "case", "value rows", "wall s", "CPU s", "peak MB", "load average"]
    cells = [head]
    for r in rows:
        ok = r["rc"] == 0
        cells.append(
            [r["size"], r["db"], r["case"], f"{r['rows']:,}"]
            + ([f"{r['s']:.1f}", f"{r['cpu']:.1f}", f"{r['mb']:,.0f}"] if ok else ["failed"] * 3)
            + [r["load"]]
        )
    if markdown:
        lines = ["| " + " | ".join(c) + " |" for c in cells]
        return "\n".join([lines[0], "|" + "---|" * len(head), *lines[1:]])
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="M", help="comma-separated, of XS, S, M, M2, L (default M)"
    )
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--cli", help="the cityscore command to time (default: this venv's)")
    args = parser.parse_args(argv)
    if args.cli:  # e.g. a wrapper running an older checkout, for before/after figures
        bench_cli.CLI = args.cli
    rows = []
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cityscore-import-")))
        server = None
        if "postgres" in args.db:
            from tests.pgserver import running_postgres

            server = stack.enter_context(running_postgres())
        for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
            files = write_city(SIZES[size], CACHE / size)
            out = tmp / size
            out.mkdir()
            changed = changed_copy(files, out)
            for db in [d.strip() for d in args.db.split(",") if d.strip()]:
                url = f"sqlite:///{out / 'city.db'}" if db == "sqlite" else postgres_url(server)
                for row in measure(url, files, changed):
                    rows.append({"size": size, "db": db, "rows": files.rows, **row})
                    print(table(rows[-1:], markdown=False).splitlines()[-1], flush=True)
    print()
    print(table(rows, markdown=args.markdown))
    print(f"\nload average after: {load()}; {os.cpu_count()} CPUs")
    return 0 if all(r["rc"] == 0 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
