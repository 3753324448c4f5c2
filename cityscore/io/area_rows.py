"""Check area rows (areas.csv: the city's area catalog) and read an areas file.

``name`` (required, as values and targets write the area), ``code`` (optional, unique), ``population``
(residents; empty = unknown), ``geometry`` (the value of the feature property that names the
area's shape in the city's GeoJSON; empty = the name), ``parent`` (optional, e.g. a district).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from cityscore.core.errors import printable
from cityscore.io.area_names import area_key
from cityscore.io.cells import to_number
from cityscore.io.checks import AREA_MAX_LENGTH, check_text_cells
from cityscore.io.csvtext import Source, noting_workbook_cells, read_rows, read_text, source_name
from cityscore.io.problems import Problems

AREA_FILE_COLUMNS = ["name", "code", "population", "geometry", "parent"]
CODE_MAX_LENGTH = 100


def load_areas(
    source: Source, stored: Iterable[str] = (), existing: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Read and validate an areas.csv (or a workbook's first sheet) against the ``stored`` area
    names; return ``AREA_FILE_COLUMNS`` rows or raise one ``ValidationError`` listing every bad row.
    ``existing`` (the catalog): the columns a file leaves out keep their stored values."""
    text = read_text(source)
    with noting_workbook_cells(text):
        rows = read_rows(source, required=["name"], optional=AREA_FILE_COLUMNS[1:], text=text)
        areas = validate_areas(rows, source_name(source), stored)
        return restate_areas(areas, existing, rows.attrs.get("given", set(AREA_FILE_COLUMNS)))


def restate_areas(
    areas: pd.DataFrame, existing: pd.DataFrame | None, given: set[str]
) -> pd.DataFrame:
    """``areas`` with the columns not ``given`` taken from ``existing`` for the areas it holds (a
    file of ``name,population`` changes only the populations)."""
    missing = [c for c in AREA_FILE_COLUMNS[1:] if c not in given]
    if existing is None or existing.empty or not missing:
        return areas
    stored = existing.set_index("name")
    known = areas["name"].isin(stored.index)
    return areas.assign(
        **{c: areas[c].where(~known, areas["name"].map(stored[c])) for c in missing}
    )


def validate_areas(
    rows: pd.DataFrame, name: str = "areas.csv", stored: Iterable[str] = ()
) -> pd.DataFrame:
    """Check area rows; return the catalog rows (population as float, NaN if empty) or raise."""
    problems = Problems(name)
    rows = rows.copy()
    for column in AREA_FILE_COLUMNS:
        if column not in rows:
            rows[column] = ""
    problems.add_where(rows, rows["name"] == "", "name", "an area needs a name")
    for column, limit in [
        ("name", AREA_MAX_LENGTH),
        ("code", CODE_MAX_LENGTH),
        ("geometry", AREA_MAX_LENGTH),
        ("parent", AREA_MAX_LENGTH),
    ]:
        check_text_cells(problems, rows, column, limit, formula=True)
    _check_names(problems, rows, set(stored))
    _check_codes(problems, rows)
    population = _check_population(problems, rows)
    problems.raise_if_any(len(rows))
    return rows[AREA_FILE_COLUMNS].assign(population=population).reset_index(drop=True)


def _check_names(problems: Problems, rows: pd.DataFrame, stored: set[str]) -> None:
    """One row per area, and no area written two ways (in the file or beside a stored one)."""
    keys = rows["name"].map(area_key)
    first: dict[str, tuple[str, int]] = {}
    stored_by_key = {area_key(s): s for s in sorted(stored)}
    for line, name, key in zip(rows["line"], rows["name"], keys, strict=True):
        if not name:
            continue
        if key in first:
            other, other_line = first[key]
            how = (
                "is named again"
                if other == name
                else f'is "{printable(other)}" written another way'
            )
            problems.add(
                line, "name", name, f"this area {how} (line {other_line}); give each area one row"
            )
            continue
        first[key] = (name, int(line))
        known = stored_by_key.get(key)
        if known is not None and known != name:
            problems.add(
                line,
                "name",
                name,
                f'differs only in capitals, spaces or punctuation from the stored area "{printable(known)}", '
                "which values or targets already name; write it the same way",
            )


def _check_codes(problems: Problems, rows: pd.DataFrame) -> None:
    coded = rows[rows["code"] != ""]
    repeated = coded["code"].duplicated(keep="first")
    firsts = coded.drop_duplicates("code").set_index("code")["line"]
    for line, code in zip(coded.loc[repeated, "line"], coded.loc[repeated, "code"], strict=True):
        problems.add(
            line, "code", code, f"code already given to another area on line {firsts[code]}"
        )


def _check_population(problems: Problems, rows: pd.DataFrame) -> pd.Series:
    text = rows["population"]
    given = text != ""
    number = to_number(text, rows.attrs.get("decimal_comma", False))
    bad = given & (number.isna() | ~np.isfinite(number.fillna(0)))
    problems.add_where(
        rows, bad, "population", "population is not a number; give residents, e.g. 52000"
    )
    problems.add_where(
        rows, given & ~bad & ~(number > 0), "population",
        "population must be greater than 0; leave it empty if unknown",
    )  # fmt: skip
    return number.where(given).astype(float)
