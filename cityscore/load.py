"""Read and validate input files (metrics.csv, targets.csv, values.csv).

Every loader reads the whole file, checks every row, and either returns clean frames or raises one
``ValidationError`` that lists every bad row as (line, column, value, reason). Line numbers count the
header as line 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import json
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from .catalog import (
    AGGREGATIONS,
    BASELINES,
    DEFAULT_CATEGORY,
    DIRECTIONS,
    EARLIEST,
    KINDS,
    METRIC_COLUMNS,
    TARGET_COLUMNS,
)
from .errors import PROBLEM_COLUMNS, ConfigError, ValidationError

Source = str | Path | bytes | IO[str] | IO[bytes]
VALUE_COLUMNS = ["metric", "date", "value", "numerator", "denominator"]
TRUE_WORDS = {"true", "yes", "y", "1", "t"}
FALSE_WORDS = {"false", "no", "n", "0", "f", ""}


class Problems:
    """Collects (line, column, value, reason) rows; ``raise_if_any`` raises them all at once."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.rows: list[dict[str, object]] = []

    def add(self, line: int, column: str, value: object, reason: str) -> None:
        self.rows.append({"line": int(line), "column": column, "value": value, "reason": reason})

    def add_where(self, rows: pd.DataFrame, mask: pd.Series, column: str, reason: str) -> None:
        """Record ``reason`` for every row where ``mask`` is true, showing that row's ``column``."""
        values = rows[column] if column in rows else pd.Series("", index=rows.index)
        for line, value in zip(rows.loc[mask, "line"], values[mask], strict=True):
            self.add(line, column, value, reason)

    def bad_lines(self) -> set[int]:
        return {int(r["line"]) for r in self.rows}

    def raise_if_any(self, total_rows: int | None = None) -> None:
        if self.rows:
            frame = pd.DataFrame(self.rows, columns=PROBLEM_COLUMNS)
            frame = frame.sort_values(["line", "column"], kind="stable")
            raise ValidationError(self.source, frame, total_rows)


def source_name(source: Source) -> str:
    """A short name for messages: the file name, or ``<upload>`` for in-memory data."""
    if isinstance(source, (str, Path)):
        return Path(source).name
    return getattr(source, "name", None) or "<upload>"


def decode(data: bytes) -> str:
    """Decode file bytes: UTF-8 (with or without BOM), falling back to Windows-1252 as Excel writes."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def read_text(source: Source) -> str:
    """The text of a path, bytes or open file; a ``ValidationError`` for bytes in no known encoding."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            msg = f"file {path} not found; check the path (or run the command from the folder holding it)"
            raise ConfigError(msg)
        data: bytes | str = path.read_bytes()
    else:
        data = source if isinstance(source, bytes) else source.read()
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    try:
        return decode(data)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems = Problems(source_name(source))
        reason = "the file is neither UTF-8 nor Windows-1252 text; save it from your spreadsheet as CSV UTF-8"
        problems.add(line, "encoding", repr(data[exc.start : exc.start + 4]), reason)
        problems.raise_if_any()
        raise


def sniff_delimiter(text: str) -> str:
    """``;`` if the header line has more semicolons than commas (European Excel), else ``,``."""
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def read_rows(
    source: Source,
    required: Iterable[str],
    optional: Iterable[str] = (),
    *,
    text: str | None = None,
    header: list[str] | None = None,
) -> pd.DataFrame:
    """Read a CSV into a frame of stripped strings plus a ``line`` column; blank lines are skipped.

    ``header`` names the columns of a headerless file (its first line is then data, line 1).
    ``rows.attrs["decimal_comma"]`` is true for semicolon files, where Excel writes ``12,5``.
    Raises ``ValidationError`` (line 1) when a required column is missing.
    """
    name = source_name(source)
    text = read_text(source) if text is None else text
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    if header is None:
        header = [h.strip().lower() for h in next(reader, [])]
    required, optional = list(required), list(optional)
    missing = [c for c in required if c not in header]
    if missing:
        problems = Problems(name)
        expected = ",".join(required + [f"[{c}]" for c in optional])
        problems.add(
            1, "header", ",".join(header), f"missing column(s) {missing}; expected {expected}"
        )
        problems.raise_if_any()
    records, lines = [], []
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue
        record = [cell.strip() for cell in record] + [""] * (len(header) - len(record))
        records.append(record[: len(header)])
        lines.append(reader.line_num)
    rows = pd.DataFrame(records, columns=header, dtype=object)
    for column in required + optional:
        if column not in rows:
            rows[column] = ""
    rows["line"] = lines
    rows.attrs["decimal_comma"] = delimiter == ";"
    return rows


_US_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_EU_NUMBER = re.compile(r"^[+-]?((\d{1,3}(\.\d{3})+)(,\d*)?|\d+,\d*)$")
_DIGIT_GROUPS = re.compile(r"(?<=\d)[ \u00a0\u202f'](?=\d{3})")


def clean_number(text: str, decimal_comma: bool = False, percent: bool = False) -> str:
    """Spreadsheet number text -> plain ``1234.5`` text that ``float`` reads; unknown forms pass through.

    Thousands separators (``1,234.5``; ``1 234``; in semicolon files ``1.234,5`` and ``12,5``) are
    removed; with ``percent``, ``93%`` becomes ``0.93``. A comma is a decimal mark only in semicolon
    files, so ``1,234`` is never read two ways; there a dot groups thousands only in groups of three
    (``1.200`` is 1200, ``0.93`` stays 0.93).
    """
    text = _DIGIT_GROUPS.sub("", text.strip())
    scale = 1.0
    if percent and text.endswith("%"):
        text, scale = text[:-1].strip(), 0.01
    if decimal_comma and _EU_NUMBER.match(text):
        text = text.replace(".", "").replace(",", ".")
    elif _US_THOUSANDS.match(text):
        text = text.replace(",", "")
    if scale != 1.0:
        try:
            return repr(float(text) * scale)
        except ValueError:
            return text + "%"
    return text


def to_number(text: pd.Series, decimal_comma: bool = False, percent: bool = False) -> pd.Series:
    """Parse numbers (see ``clean_number``); anything unparseable or empty becomes NaN."""
    cleaned = text.map(
        lambda t: clean_number(t, decimal_comma, percent) if isinstance(t, str) else t
    )
    return pd.to_numeric(cleaned.replace("", np.nan), errors="coerce").astype(float)


def parse_dates(text: pd.Series, date_format: str = "%Y-%m-%d") -> pd.Series:
    """Parse dates in ``date_format``; unparseable or impossible dates (Feb 30) become NaT."""
    return pd.to_datetime(text, format=date_format, errors="coerce")


def closest(name: str, choices: Iterable[str]) -> str:
    """A hint naming the closest known name, or an empty string."""
    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f"; did you mean {match[0]!r}?" if match else ""


# --- metrics.csv -----------------------------------------------------------------------------


def load_metrics(source: Source, fmt: str = "auto") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and validate a metrics file; return (metrics frame, targets frame of the fixed targets).

    ``fmt``: ``kit`` (metrics.csv), ``boston`` (the Boston toolkit's metric CSV,
    ``name,definition,direction,historic,target,trend`` with booleans), ``json`` (its fixtures) or
    ``auto`` (decide from the content).
    """
    text = read_text(source)
    fmt = _check_format(fmt) if fmt != "auto" else _detect_metrics_format(text)
    if fmt == "json":
        rows = boston_metric_rows(_json_records(source, text, "metric", _json_metric_fields))
    elif fmt == "boston":
        first = _first_cells(text)
        header = None if first[:1] == ["name"] else BOSTON_METRIC_COLUMNS
        rows = read_rows(
            source, BOSTON_METRIC_COLUMNS[:3], BOSTON_METRIC_COLUMNS, text=text, header=header
        )
        rows = boston_metric_rows(rows)
    else:
        rows = read_rows(source, required=["name", "direction"], optional=METRIC_COLUMNS, text=text)
    return validate_metrics(rows, source_name(source))


def validate_metrics(
    rows: pd.DataFrame, name: str = "metrics.csv"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check metric rows; return (metrics, targets) or raise listing every bad row."""
    problems = Problems(name)
    rows = rows.copy()
    for column, default in [("category", DEFAULT_CATEGORY), ("kind", "value"), ("baseline", "")]:
        rows[column] = rows[column].where(rows[column] != "", default)
    for column in ["direction", "kind", "aggregation", "baseline"]:
        rows[column] = rows[column].str.lower()
    problems.add_where(rows, rows["name"] == "", "name", "metric name is empty")
    dupes = rows["name"].duplicated(keep=False) & (rows["name"] != "")
    problems.add_where(rows, dupes, "name", "metric name appears more than once in the file")
    _check_choice(problems, rows, "direction", DIRECTIONS)
    _check_choice(problems, rows, "kind", KINDS)
    _check_choice(problems, rows, "baseline", ("", *BASELINES))
    aggregation_ok = rows["aggregation"].isin(("", *AGGREGATIONS))
    problems.add_where(
        rows, ~aggregation_ok, "aggregation", f"must be one of {list(AGGREGATIONS)} or empty"
    )
    ratio_agg = (rows["kind"] == "ratio") & ~rows["aggregation"].isin(("",))
    problems.add_where(
        rows,
        ratio_agg & aggregation_ok,
        "aggregation",
        "ratio metrics are always sum(numerators)/sum(denominators); leave aggregation empty",
    )
    target = to_number(rows["target"], rows.attrs.get("decimal_comma", False))
    history = rows["baseline"] == "history"
    has_target = rows["target"] != ""
    problems.add_where(rows, has_target & target.isna(), "target", "target is not a number")
    problems.add_where(
        rows,
        has_target & (target <= 0),
        "target",
        "target must be greater than 0; use baseline=history to score against the metric's own past",
    )
    problems.add_where(
        rows,
        has_target & ~np.isfinite(target.fillna(0)),
        "target",
        "target must be a finite number",
    )
    problems.add_where(
        rows,
        history & has_target,
        "target",
        "a metric with baseline=history has no fixed target; leave target empty",
    )
    problems.add_where(
        rows,
        ~history & ~has_target,
        "target",
        "give a target greater than 0, or set baseline=history",
    )
    trend = rows["trend"].str.lower()
    bad_trend = ~trend.isin(TRUE_WORDS | FALSE_WORDS)
    problems.add_where(rows, bad_trend, "trend", "trend must be true or false")
    weight = to_number(rows["weight"], rows.attrs.get("decimal_comma", False)).where(
        rows["weight"] != "", 1.0
    )
    bad_weight = weight.isna() | ~(weight > 0) | ~np.isfinite(weight.fillna(1))
    problems.add_where(
        rows, bad_weight, "weight", "weight must be a number greater than 0 (default 1)"
    )
    problems.raise_if_any(len(rows))

    metrics = pd.DataFrame(
        {
            "name": rows["name"],
            "definition": rows["definition"],
            "category": rows["category"],
            "unit": rows["unit"],
            "direction": rows["direction"],
            "kind": rows["kind"],
            "aggregation": rows["aggregation"].where(
                (rows["kind"] == "value") & (rows["aggregation"] != ""),
                np.where(rows["kind"] == "value", "mean", ""),
            ),
            "baseline": np.where(history, "history", "target"),
            "trend": trend.isin(TRUE_WORDS),
            "weight": weight.astype(float),
        }
    ).reset_index(drop=True)
    targets = pd.DataFrame(
        {
            "metric": rows.loc[~history, "name"],
            "effective_from": pd.Timestamp(EARLIEST),
            "target": target[~history],
        }
    ).reset_index(drop=True)
    return metrics, targets


def _check_choice(
    problems: Problems, rows: pd.DataFrame, column: str, allowed: tuple[str, ...]
) -> None:
    shown = [a for a in allowed if a]
    problems.add_where(rows, ~rows[column].isin(allowed), column, f"must be one of {shown}")


# --- targets.csv -----------------------------------------------------------------------------


def load_targets(
    source: Source, metrics: pd.DataFrame, date_format: str = "%Y-%m-%d"
) -> pd.DataFrame:
    """Read and validate a targets.csv against the catalog ``metrics``."""
    rows = read_rows(source, required=TARGET_COLUMNS, optional=[AREA])
    return validate_targets(rows, metrics, source_name(source), date_format=date_format)


def validate_targets(
    rows: pd.DataFrame,
    metrics: pd.DataFrame,
    name: str = "targets.csv",
    date_format: str = "%Y-%m-%d",
) -> pd.DataFrame:
    """Check target-change rows; return ``metric, effective_from, target`` or raise."""
    problems = Problems(name)
    _check_metric_names(problems, rows, metrics)
    history = set(metrics.loc[metrics["baseline"] == "history", "name"])
    problems.add_where(
        rows,
        rows["metric"].isin(history),
        "metric",
        "this metric is scored against its own history (baseline=history); it takes no target",
    )
    when = parse_dates(rows["effective_from"], date_format)
    problems.add_where(
        rows, when.isna(), "effective_from", f"not a valid date in {_format_hint(date_format)} form"
    )
    target = to_number(rows["target"], rows.attrs.get("decimal_comma", False))
    problems.add_where(rows, target.isna(), "target", "target is not a number")
    problems.add_where(
        rows, ~(target > 0) & target.notna(), "target", "target must be greater than 0"
    )
    problems.add_where(rows, np.isinf(target), "target", "target must be a finite number")
    frame = pd.DataFrame({"metric": rows["metric"], "effective_from": when, "target": target})
    frame, keys = _with_area(problems, rows, frame, ["metric", "effective_from"])
    _check_conflicts(problems, frame, rows["line"], keys, ["target"])
    problems.raise_if_any(len(rows))
    return frame.drop_duplicates().reset_index(drop=True)


# --- values.csv ------------------------------------------------------------------------------


def load_values(
    source: Source,
    metrics: pd.DataFrame,
    today: dt.date | None = None,
    date_format: str = "%Y-%m-%d",
    fmt: str = "auto",
) -> pd.DataFrame:
    """Read and validate a values file; return observations or raise listing every bad row."""
    rows = read_value_rows(source, fmt)
    return validate_values(rows, metrics, source_name(source), today=today, date_format=date_format)


def read_value_rows(source: Source, fmt: str = "auto") -> pd.DataFrame:
    """Rows of ``metric, date, value, numerator, denominator`` text from any accepted values format.

    ``kit``: values.csv with a header (``metric,date,value`` or ``metric,date,numerator,denominator``);
    ``boston``: the Boston toolkit's headerless ``value,date,metric`` CSV; ``json``: its fixtures
    (``cityscore.value`` records, metric given by name or by the id of a ``cityscore.metric`` record).
    """
    text = read_text(source)
    fmt = _check_format(fmt) if fmt != "auto" else _detect_values_format(text)
    if fmt == "json":
        return _json_records(source, text, "value", _json_value_fields)
    if fmt == "boston":
        return read_rows(
            source, BOSTON_VALUE_COLUMNS, VALUE_COLUMNS, text=text, header=BOSTON_VALUE_COLUMNS
        )
    return read_rows(source, ["metric", "date"], [*VALUE_COLUMNS[2:], AREA], text=text)


# --- the Boston toolkit's formats --------------------------------------------------------------

FORMATS = ("auto", "kit", "boston", "json")
BOSTON_VALUE_COLUMNS = ["value", "date", "metric"]
BOSTON_METRIC_COLUMNS = ["name", "definition", "direction", "historic", "target", "trend"]


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        msg = f"unknown file format {fmt!r}; use one of {list(FORMATS)}"
        raise ConfigError(msg)
    return fmt


def _first_cells(text: str) -> list[str]:
    first = next(csv.reader(io.StringIO(text), delimiter=sniff_delimiter(text)), [])
    return [c.strip().lower() for c in first]


def _detect_values_format(text: str) -> str:
    if text.lstrip()[:1] in ("[", "{"):
        return "json"
    cells = _first_cells(text)
    # Boston's value CSV has no header: its first cell is a number. Anything else is read as a
    # kit file, whose header is then checked (use fmt="boston" to force the Boston reading).
    first_is_number = bool(cells) and _is_number(
        clean_number(cells[0], sniff_delimiter(text) == ";", True)
    )
    return "boston" if len(cells) == 3 and first_is_number else "kit"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _detect_metrics_format(text: str) -> str:
    if text.lstrip()[:1] in ("[", "{"):
        return "json"
    cells = _first_cells(text)
    if "historic" in cells or (cells[:1] != ["name"] and len(cells) == len(BOSTON_METRIC_COLUMNS)):
        return "boston"
    return "kit"


def boston_metric_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Translate Boston toolkit metric rows (boolean direction/historic) into metrics.csv rows.

    ``direction`` true means higher is better (Boston's "do you want this value to go up?");
    ``historic`` true means baseline=history, and then Boston's target field is ignored.
    """
    out = rows.copy()
    for column in BOSTON_METRIC_COLUMNS:
        if column not in out:
            out[column] = ""
    direction = out["direction"].str.lower()
    yes, no = direction.isin(TRUE_WORDS - {""}), direction.isin(FALSE_WORDS - {""})
    out["direction"] = np.select([yes, no], ["higher", "lower"], direction).astype(object)
    historic = out["historic"].str.lower()
    is_history = historic.isin(TRUE_WORDS - {""})
    out["baseline"] = np.select(
        [is_history, historic.isin(FALSE_WORDS)], ["history", ""], out["historic"]
    ).astype(object)
    out["target"] = out["target"].where(~is_history, "")
    for column in METRIC_COLUMNS:
        if column not in out:
            out[column] = ""
    return out


def _json_value_fields(fields: dict, metric_names: dict[str, str]) -> dict[str, object]:
    metric = fields.get("metric")
    return {
        "metric": metric_names.get(str(metric), metric),
        "date": fields.get("entry_date", fields.get("date")),
        "value": fields.get("val", fields.get("value")),
        "numerator": fields.get("numerator"),
        "denominator": fields.get("denominator"),
    }


def _json_metric_fields(fields: dict, _names: dict[str, str]) -> dict[str, object]:
    return {c: fields.get(c) for c in BOSTON_METRIC_COLUMNS}


def _json_records(source: Source, text: str, model: str, convert) -> pd.DataFrame:
    """Rows (as text) from the ``cityscore.<model>`` records of a Boston toolkit JSON fixture.

    The ``line`` of a row is the record's position in the list (1 = first record).
    """
    name = source_name(source)
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        problems = Problems(name)
        problems.add(
            exc.lineno,
            "json",
            text.splitlines()[exc.lineno - 1][:60] if text else "",
            f"not valid JSON: {exc.msg}",
        )
        problems.raise_if_any()
    if isinstance(records, dict):
        records = [records]
    metric_names = {
        str(r.get("pk", r.get("id"))): str(r.get("fields", {}).get("name"))
        for r in records
        if isinstance(r, dict) and _is_model(r, "metric")
    }
    out, lines = [], []
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict) or not _is_model(record, model):
            continue
        fields = record.get("fields") or {}
        row = convert(fields, metric_names)
        out.append({k: _json_text(v) for k, v in row.items()})
        lines.append(number)
    rows = pd.DataFrame(out, columns=list(convert({}, {})), dtype=object)
    rows["line"] = lines
    return rows


def _is_model(record: dict, model: str) -> bool:
    """``cityscore.value`` in fixtures, ``Value`` in the toolkit's data input template."""
    return str(record.get("model", "")).lower().rpartition(".")[2] == model


def _json_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def validate_values(
    rows: pd.DataFrame,
    metrics: pd.DataFrame,
    name: str = "values.csv",
    today: dt.date | None = None,
    date_format: str = "%Y-%m-%d",
) -> pd.DataFrame:
    """Check daily value rows against the catalog; return observations or raise listing every bad row."""
    problems = Problems(name)
    today = today or dt.date.today()
    known = _check_metric_names(problems, rows, metrics)
    kind = rows["metric"].map(dict(zip(metrics["name"], metrics["kind"], strict=True)))
    date = parse_dates(rows["date"], date_format)
    problems.add_where(
        rows, date.isna(), "date", f"not a valid date in {_format_hint(date_format)} form"
    )
    problems.add_where(rows, date > pd.Timestamp(today), "date", "date is in the future")
    is_value, is_ratio = known & (kind == "value"), known & (kind == "ratio")
    value = _check_number(problems, rows, "value", is_value, "a value metric needs a value")
    numerator = _check_number(
        problems, rows, "numerator", is_ratio, "a ratio metric needs a numerator"
    )
    denominator = _check_number(
        problems, rows, "denominator", is_ratio, "a ratio metric needs a denominator"
    )
    problems.add_where(
        rows,
        is_ratio & (denominator == 0),
        "denominator",
        "denominator must be greater than 0; leave out days with no cases",
    )
    frame = pd.DataFrame(
        {
            "metric": rows["metric"],
            "date": date,
            "value": value.where(is_value),
            "numerator": numerator.where(is_ratio),
            "denominator": denominator.where(is_ratio),
        }
    )
    frame, keys = _with_area(problems, rows, frame, ["metric", "date"])
    _check_conflicts(problems, frame, rows["line"], keys, ["value", "numerator", "denominator"])
    problems.raise_if_any(len(rows))
    return frame.drop_duplicates(keys).reset_index(drop=True)


AREA = "area"  # optional column: the area (neighbourhood) a row belongs to; empty = citywide
AREA_MAX_LENGTH = 200


def _with_area(
    problems: Problems, rows: pd.DataFrame, frame: pd.DataFrame, keys: list[str]
) -> tuple[pd.DataFrame, list[str]]:
    """(frame, its key columns) with an ``area`` column when any row names an area."""
    area = rows[AREA].fillna("").astype(str).str.strip() if AREA in rows else None
    if area is None or not (area != "").any():
        return frame, keys
    too_long = area.str.len() > AREA_MAX_LENGTH
    problems.add_where(rows, too_long, AREA, f"area names are at most {AREA_MAX_LENGTH} characters")
    return frame.assign(area=area.to_numpy()), [keys[0], AREA, *keys[1:]]


def _format_hint(date_format: str) -> str:
    return date_format.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD")


def _check_metric_names(problems: Problems, rows: pd.DataFrame, metrics: pd.DataFrame) -> pd.Series:
    names = set(metrics["name"])
    known = rows["metric"].isin(names)
    for line, metric in zip(rows.loc[~known, "line"], rows.loc[~known, "metric"], strict=True):
        reason = "metric name is empty" if not metric else "unknown metric" + closest(metric, names)
        problems.add(line, "metric", metric, reason)
    return known


def _check_number(
    problems: Problems, rows: pd.DataFrame, column: str, needed: pd.Series, missing_reason: str
) -> pd.Series:
    """Parse ``column`` where ``needed``; record empty, non-numeric, NaN/infinite and negative cells."""
    text = rows[column]
    # Only a value may be written as a percentage (a rate such as 93%); counts may not.
    number = to_number(text, rows.attrs.get("decimal_comma", False), percent=column == "value")
    empty = needed & (text == "")
    problems.add_where(rows, empty, column, missing_reason)
    not_number = needed & ~empty & number.isna() & ~text.str.lower().isin(["nan", "-nan"])
    problems.add_where(rows, not_number, column, "not a number")
    nan_text = needed & text.str.lower().isin(["nan", "-nan"])
    problems.add_where(rows, nan_text, column, "NaN is not a value; leave the day out instead")
    infinite = needed & np.isinf(number)
    problems.add_where(rows, infinite, column, "infinity is not a value")
    negative = needed & (number < 0) & ~infinite
    problems.add_where(
        rows, negative, column, "negative values cannot be scored (counts and times are >= 0)"
    )
    return number


def _check_conflicts(
    problems: Problems, frame: pd.DataFrame, lines: pd.Series, keys: list[str], values: list[str]
) -> None:
    """Flag rows that share ``keys`` with another row of the file but differ in ``values``."""
    valid = frame[keys].notna().all(axis=1)
    subset = frame[valid].assign(line=lines[valid])
    if subset.empty:
        return
    distinct = subset.drop_duplicates(keys + values).groupby(keys, dropna=False).size()
    clashing = distinct[distinct > 1].index
    if len(clashing) == 0:
        return
    key_index = (
        pd.MultiIndex.from_frame(subset[keys]) if len(keys) > 1 else pd.Index(subset[keys[0]])
    )
    clash = subset[key_index.isin(clashing)]
    for key, group in clash.groupby(keys, dropna=False):
        others = group["line"].tolist()
        for line in others:
            rest = ", ".join(str(o) for o in others if o != line)
            label = " and ".join(
                str(_plain(k)) for k in (key if isinstance(key, tuple) else (key,))
            )
            problems.add(
                line,
                keys[-1],
                label,
                f"lines {rest} give a different value for the same {' and '.join(keys)}",
            )


def _plain(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, float) and math.isnan(value):
        return ""
    return value
