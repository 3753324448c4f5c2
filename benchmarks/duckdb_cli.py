"""DuckDB as an analyst would run it on the kit's CSV files, one fresh process per run.

    python -m benchmarks.duckdb_cli DIR OUT.csv --from D1 --to D2

Reads metrics.csv, targets.csv and values.csv from DIR with DuckDB's CSV reader, scores every as-of
date from D1 to D2 with the SQL of ``benchmarks/duckdb_reference.py`` and writes the rows to OUT.csv
with DuckDB's ``COPY``. Prints the number of rows written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
import pandas as pd

from benchmarks.duckdb_reference import score_range_sql
from cityscore.core.vocabulary import EARLIEST


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--from", dest="start", required=True)
    parser.add_argument("--to", dest="end", required=True)
    args = parser.parse_args(argv)
    metrics, targets, observations = read_city(args.directory)
    scores = score_range_sql(observations, metrics, targets, args.start, args.end)
    with duckdb.connect() as con:
        con.register("scores", scores)
        con.execute(f"COPY scores TO '{args.out}' (HEADER, DELIMITER ',')")
    print(len(scores))
    return 0


def read_city(directory: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The three files as frames: metrics.csv's targets in effect from the start, then targets.csv."""
    with duckdb.connect() as con:
        metrics = con.read_csv(str(directory / "metrics.csv"), all_varchar=True).df()
        changes = con.read_csv(
            str(directory / "targets.csv"),
            columns={"metric": "VARCHAR", "effective_from": "DATE", "target": "DOUBLE"},
        ).df()
        observations = con.sql(
            "SELECT metric, date::TIMESTAMP AS date, value, numerator, denominator "
            "FROM read_csv($path, columns = {'metric': 'VARCHAR', 'date': 'DATE', "
            "'value': 'DOUBLE', 'numerator': 'DOUBLE', 'denominator': 'DOUBLE'}, header = true)",
            params={"path": str(directory / "values.csv")},
        ).df()
    metrics = metrics.fillna("").assign(
        trend=metrics["trend"].str.lower() == "true", weight=metrics["weight"].astype(float)
    )
    first = metrics.loc[metrics["target"] != "", ["name", "target"]].rename(
        columns={"name": "metric"}
    )
    first = first.assign(
        effective_from=pd.Timestamp(EARLIEST), target=first["target"].astype(float)
    )
    targets = pd.concat([first[["metric", "effective_from", "target"]], changes], ignore_index=True)
    targets["effective_from"] = pd.to_datetime(targets["effective_from"])
    return metrics.drop(columns="target"), targets, observations


if __name__ == "__main__":
    raise SystemExit(main())
