"""Sync benchmark: 5 million 311-style cases in PostgreSQL, push-down sync vs pulling rows into pandas.

Both ways produce the same daily "Pothole Repairs On Time" numerators and denominators (checked);
the push-down sync lets PostgreSQL aggregate and brings back one row per day, the other pulls every
case of the period into pandas and aggregates there. Prints one table with times and the ratio.

    python benchmarks/bench_sync.py                  # starts its own PostgreSQL (as the tests do)
    python benchmarks/bench_sync.py --url postgresql+psycopg://postgres@127.0.0.1:5432 --cases 1000000

Without ``--url`` it starts a throwaway server with ``tests/pgserver.py``, as the tests do.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_DAY = dt.date(2024, 11, 1)
METRIC = "Pothole Repairs On Time"
QUERY = """
SELECT closed_at::date AS day,
       count(*) FILTER (WHERE closed_at - opened_at <= interval '2 days') AS on_time,
       count(*) AS closed
FROM cases
WHERE case_type = 'pothole' AND closed_at >= :start AND closed_at < CAST(:end AS date) + 1
GROUP BY 1
"""
CASE_TYPES = [
    "pothole",
    "streetlight",
    "graffiti",
    "trash",
    "sidewalk",
    "tree",
    "noise",
    "parking",
    "snow",
    "other",
]


def seed(url: str, cases: int, days: int) -> None:
    """``cases`` cases over ``days`` days, generated inside PostgreSQL (deterministic, seeded)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT setseed(0.42)"))
        conn.execute(
            sa.text(
                "CREATE TABLE cases (id bigint, case_type text, opened_at timestamp, closed_at timestamp)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO cases "
                "SELECT n, (CAST(:types AS text[]))[1 + n % 10], o, o + random() * interval '5 days' "
                "FROM (SELECT n, CAST(:first AS timestamp) + random() * (:days * interval '1 day') AS o "
                "      FROM generate_series(1, :cases) AS n) AS s"
            ),
            {"types": CASE_TYPES, "first": FIRST_DAY, "days": days, "cases": cases},
        )
        conn.execute(sa.text("CREATE INDEX ON cases (case_type, closed_at)"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE cases"))
    engine.dispose()


def fresh_kit(tmp: Path):
    from cityscore import Kit

    kit = Kit(f"sqlite:///{tmp / f'{uuid.uuid4().hex}.db'}")
    kit.init()
    kit.import_metrics(
        f"name,direction,kind,category,target\n{METRIC},higher,ratio,Streets,0.9\n".encode()
    )
    return kit


def push_down(kit, url: str, end: dt.date) -> int:
    config = {
        "sources": {"city311": {"url": url}},
        "metrics": {
            METRIC: {"query": QUERY, "start": FIRST_DAY.isoformat(),
                     "columns": {"date": "day", "numerator": "on_time", "denominator": "closed"}},
        },
    }  # fmt: skip
    [result] = kit.sync(config, end=end)
    return result.inserted + result.updated + result.unchanged


def pull_into_pandas(kit, url: str, end: dt.date) -> int:
    """What an ETL without push-down does: bring every case of the period over, aggregate in pandas."""
    import pandas as pd
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    query = sa.text(
        "SELECT case_type, opened_at, closed_at FROM cases WHERE closed_at >= :start AND closed_at < :stop"
    )
    raw = pd.read_sql(
        query, engine, params={"start": FIRST_DAY, "stop": end + dt.timedelta(days=1)}
    )
    engine.dispose()
    potholes = raw[raw["case_type"] == "pothole"]
    on_time = (potholes["closed_at"] - potholes["opened_at"]) <= pd.Timedelta(days=2)
    daily = (
        pd.DataFrame({"date": potholes["closed_at"].dt.strftime("%Y-%m-%d"), "on_time": on_time})
        .groupby("date")["on_time"]
        .agg(numerator="sum", denominator="size")
        .reset_index()
    )
    kit.import_values(daily.assign(metric=METRIC).to_csv(index=False).encode())
    return len(raw)


def timed(function, *args) -> tuple[float, int]:
    start = time.perf_counter()
    rows = function(*args)
    return time.perf_counter() - start, rows


def run(base_url: str, cases: int, days: int) -> int:
    import sqlalchemy as sa

    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(f"{base_url}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = f"{base_url}/{name}"
    try:
        seconds, _ = timed(seed, url, cases, days)
        print(f"seeded {cases:,} cases over {days} days in {seconds:.1f} s")
        end = FIRST_DAY + dt.timedelta(days=days - 1)
        with tempfile.TemporaryDirectory() as tmp:
            kits = [fresh_kit(Path(tmp)), fresh_kit(Path(tmp))]
            t_push, rows_push = timed(push_down, kits[0], url, end)
            t_pull, rows_pull = timed(pull_into_pandas, kits[1], url, end)
            t_incr, rows_incr = timed(
                push_down, kits[0], url, end
            )  # incremental: only the look-back
            columns = ["metric", "date", "numerator", "denominator"]
            same = kits[0].observations()[columns].equals(kits[1].observations()[columns])
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    print()
    print(f"{'method':<44} {'rows transferred':>17} {'seconds':>9} {'vs push-down':>13}")
    for label, rows, secs in [
        ("push-down sync (aggregate in PostgreSQL)", rows_push, t_push),
        ("pull rows into pandas, aggregate there", rows_pull, t_pull),
        ("incremental push-down sync (7-day look-back)", rows_incr, t_incr),
    ]:
        print(f"{label:<44} {rows:>17,} {secs:>9.2f} {secs / t_push:>12.1f}x")
    print(f"\nsame daily values both ways: {'yes' if same else 'NO'}")
    return 0 if same else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", help="PostgreSQL server URL without a database (default: start one)"
    )
    parser.add_argument("--cases", type=int, default=5_000_000)
    parser.add_argument("--days", type=int, default=730)
    args = parser.parse_args(argv)
    if args.url:
        return run(args.url, args.cases, args.days)
    sys.path.insert(0, str(ROOT))
    from tests.pgserver import running_postgres

    with running_postgres() as url:
        return run(url, args.cases, args.days)


if __name__ == "__main__":
    sys.exit(main())
