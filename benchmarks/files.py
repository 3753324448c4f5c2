"""The synthetic city as the CSV files a user imports: metrics.csv, targets.csv, values.csv.

The CLI benchmark imports these files and DuckDB reads the very same ones. Two differences from the
in-memory city, both because a user's files cannot say otherwise: days with a denominator of 0 are
left out (the loader rejects them: "leave out days with no cases"), and each fixed-target metric's
first target is its metrics.csv target, in effect from the start of time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.data import City, Size, make_city
from cityscore.core.vocabulary import EARLIEST


@dataclass(frozen=True)
class CityFiles:
    """Where a size's three files are, and how many value rows the values file has."""

    directory: Path
    metrics: Path
    targets: Path
    values: Path
    rows: int
    first_day: pd.Timestamp
    last_day: pd.Timestamp


def write_city(size: Size, directory: Path) -> CityFiles:
    """Write (once) the three CSV files of ``size`` under ``directory``; reused when present."""
    directory.mkdir(parents=True, exist_ok=True)
    city = make_city(size)
    paths = [directory / f"{name}.csv" for name in ("metrics", "targets", "values")]
    values = importable_values(city)
    if not all(p.exists() for p in paths):
        targets = city.targets.sort_values(["metric", "effective_from"], kind="stable")
        first = targets.drop_duplicates("metric")
        catalog = city.metrics.assign(
            target=city.metrics["name"].map(
                dict(zip(first["metric"], first["target"], strict=True))
            ),
            trend=city.metrics["trend"].map({True: "true", False: "false"}),
        )
        catalog.to_csv(paths[0], index=False, lineterminator="\n", float_format="%.15g")
        later = targets.drop(first.index)
        later = later.assign(effective_from=later["effective_from"].dt.strftime("%Y-%m-%d"))
        later.to_csv(paths[1], index=False, lineterminator="\n", float_format="%.15g")
        out = values.assign(date=values["date"].dt.strftime("%Y-%m-%d"))
        out.to_csv(paths[2], index=False, lineterminator="\n", float_format="%.15g")
    return CityFiles(directory, *paths, len(values), city.first_day, city.last_day)


def importable_values(city: City) -> pd.DataFrame:
    """The observations a user could import: no day with a zero denominator."""
    obs = city.observations
    return obs[~(obs["denominator"] == 0)].reset_index(drop=True)


def read_targets(files: CityFiles) -> pd.DataFrame:
    """The targets the kit holds after importing the files: metrics.csv's from the start, then changes."""
    catalog = pd.read_csv(files.metrics)
    first = catalog.loc[catalog["target"].notna(), ["name", "target"]].rename(
        columns={"name": "metric"}
    )
    first.insert(1, "effective_from", pd.Timestamp(EARLIEST))
    later = pd.read_csv(files.targets, parse_dates=["effective_from"])
    return pd.concat([first, later], ignore_index=True)


def read_values(path: Path) -> pd.DataFrame:
    """values.csv back as the engine's observations frame (what DuckDB is handed)."""
    frame = pd.read_csv(path, dtype={"metric": "category"}, parse_dates=["date"])
    for column in ("value", "numerator", "denominator"):
        frame[column] = frame[column].astype(np.float64)
    return frame
