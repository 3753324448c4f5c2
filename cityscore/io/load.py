"""Read an input file of each kind (metrics, targets, values) in any format the kit accepts.

The format (the kit's CSV, the Boston toolkit's CSV or JSON; a workbook's first sheet reads as CSV)
is given or told from the content; the rows then go to the validator of their kind. Every loader
reads the whole file, checks every row, and either returns clean frames or raises one
``ValidationError`` that lists every bad row as (line, column, value, reason). Line numbers count the
header as line 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
import datetime as dt

import pandas as pd

from cityscore.core.errors import ConfigError
from cityscore.core.vocabulary import AREA, METRIC_FILE_COLUMNS, TARGET_COLUMNS, VALUE_COLUMNS
from cityscore.io.boston import (
    BOSTON_METRIC_COLUMNS,
    BOSTON_VALUE_COLUMNS,
    boston_metric_rows,
    json_metric_rows,
    json_value_rows,
)
from cityscore.io.cells import clean_number, reads_as_number
from cityscore.io.checks import StoredAreas
from cityscore.io.csvtext import (
    Source,
    first_line,
    noting_workbook_cells,
    read_rows,
    read_text,
    sniff_delimiter,
    source_name,
)
from cityscore.io.fast_values import fast_values
from cityscore.io.metric_rows import validate_metrics
from cityscore.io.target_rows import validate_targets
from cityscore.io.value_rows import validate_values

# The formats a loader accepts (``fmt``); "auto" tells the others apart by the content.
INPUT_FORMATS = ("auto", "kit", "boston", "json")


def load_metrics(
    source: Source,
    fmt: str = "auto",
    existing: pd.DataFrame | None = None,
    catalog_targets: dict[str, float | None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and validate a metrics file; return (metrics frame, targets frame of the fixed targets).

    ``fmt``: ``kit`` (metrics.csv), ``boston`` (the Boston toolkit's metric CSV,
    ``name,definition,direction,historic,target,trend`` with booleans), ``json`` (its fixtures) or
    ``auto`` (decide from the content). ``existing`` (the stored catalog) and ``catalog_targets``
    let a file restate only some columns of a metric: the others keep their stored values.
    """
    text = read_text(source)
    with noting_workbook_cells(text):  # a sheet's empty cells may show errors
        fmt = _check_format(fmt) if fmt != "auto" else _detect_metrics_format(text)
        if fmt == "json":
            rows = json_metric_rows(source, text)
        elif fmt == "boston":
            first = _first_cells(text)
            header = None if first[:1] == ["name"] else BOSTON_METRIC_COLUMNS
            rows = read_rows(
                source, BOSTON_METRIC_COLUMNS[:1], BOSTON_METRIC_COLUMNS, text=text, header=header
            )
            rows = boston_metric_rows(rows)
        else:
            rows = read_rows(source, required=["name"], optional=METRIC_FILE_COLUMNS, text=text)
        return validate_metrics(rows, source_name(source), existing, catalog_targets)


# --- targets.csv -----------------------------------------------------------------------------


def load_targets(
    source: Source,
    metrics: pd.DataFrame,
    date_format: str = "%Y-%m-%d",
    *,
    stored_areas: StoredAreas = None,
) -> pd.DataFrame:
    """Read and validate a targets.csv against the catalog ``metrics`` (and the stored areas)."""
    text = read_text(source, date_format)  # a workbook's date cells in that format
    with noting_workbook_cells(text):  # a sheet's empty cells may show errors
        rows = read_rows(source, required=TARGET_COLUMNS, optional=[AREA], text=text)
        name = source_name(source)
        return validate_targets(
            rows, metrics, name, date_format=date_format, stored_areas=stored_areas
        )


# --- values.csv ------------------------------------------------------------------------------


def load_values(
    source: Source,
    metrics: pd.DataFrame,
    today: dt.date | None = None,
    date_format: str = "%Y-%m-%d",
    fmt: str = "auto",
    *,
    stored_areas: StoredAreas = None,
) -> pd.DataFrame:
    """Read and validate a values file; return observations or raise listing every bad row.

    A plain comma file whose every row is valid is read by ``fast_values``; any other file, and
    any file with a bad row, by ``read_value_rows`` and ``validate_values``, which name each problem.
    ``stored_areas``: see ``validate_values``.
    """
    text = read_text(source, date_format)
    with noting_workbook_cells(text):  # a sheet's empty cells may show errors
        fmt = _check_format(fmt) if fmt != "auto" else _detect_values_format(text)
        today = today or dt.date.today()
        if fmt == "kit":
            fast = fast_values(text, metrics, today, date_format, stored_areas=stored_areas)
            if fast is not None:
                return fast
        rows = read_value_rows(source, fmt, text=text)
        name = source_name(source)
        return validate_values(
            rows, metrics, name, today=today, date_format=date_format, stored_areas=stored_areas
        )


def read_value_rows(source: Source, fmt: str = "auto", *, text: str | None = None) -> pd.DataFrame:
    """Rows of ``metric, date, value, numerator, denominator`` text from any accepted values format.

    ``kit``: values.csv with a header (``metric,date,value`` or ``metric,date,numerator,denominator``);
    ``boston``: the Boston toolkit's headerless ``value,date,metric`` CSV; ``json``: its fixtures
    (``cityscore.value`` records, metric given by name or by the id of a ``cityscore.metric`` record).
    ``text`` is the source's text when the caller has read it already.
    """
    text = read_text(source) if text is None else text
    fmt = _check_format(fmt) if fmt != "auto" else _detect_values_format(text)
    if fmt == "json":
        return json_value_rows(source, text)
    if fmt == "boston":
        return read_rows(
            source, BOSTON_VALUE_COLUMNS, VALUE_COLUMNS, text=text, header=BOSTON_VALUE_COLUMNS
        )
    return read_rows(source, ["metric", "date"], [*VALUE_COLUMNS[2:], AREA], text=text)


# --- which format a file is in -----------------------------------------------------------------


def _check_format(fmt: str) -> str:
    if fmt not in INPUT_FORMATS:
        msg = f"unknown file format {fmt!r}; use one of {list(INPUT_FORMATS)}"
        raise ConfigError(msg)
    return fmt


def _first_cells(text: str) -> list[str]:
    first = next(csv.reader([first_line(text)], delimiter=sniff_delimiter(text)), [])
    return [c.strip().lower() for c in first]


def _detect_values_format(text: str) -> str:
    if text.lstrip()[:1] in ("[", "{"):
        return "json"
    cells = _first_cells(text)
    # Boston's value CSV has no header: its first cell is a number. Anything else is read as a
    # kit file, whose header is then checked (use fmt="boston" to force the Boston reading).
    first_is_number = bool(cells) and reads_as_number(
        clean_number(cells[0], sniff_delimiter(text) == ";", True)
    )
    return "boston" if len(cells) == 3 and first_is_number else "kit"


def _detect_metrics_format(text: str) -> str:
    if text.lstrip()[:1] in ("[", "{"):
        return "json"
    cells = _first_cells(text)
    if "historic" in cells or (cells[:1] != ["name"] and len(cells) == len(BOSTON_METRIC_COLUMNS)):
        return "boston"
    return "kit"
