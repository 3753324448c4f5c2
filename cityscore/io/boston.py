"""The Boston CityScore toolkit's input formats (metric CSV, value CSV, JSON fixtures) as kit rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from cityscore.core.vocabulary import METRIC_FILE_COLUMNS
from cityscore.io.cells import FALSE_WORDS, TRUE_WORDS
from cityscore.io.csvtext import Source, source_name
from cityscore.io.problems import Problems

BOSTON_VALUE_COLUMNS = ["value", "date", "metric"]
BOSTON_METRIC_COLUMNS = ["name", "definition", "direction", "historic", "target", "trend"]
JSON_SHAPE = (
    'a list of records such as [{"model": "cityscore.value", "fields": {"metric": "Library Users", '
    '"entry_date": "2026-10-01", "val": 1234}}]'
)


def boston_metric_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Translate Boston toolkit metric rows (boolean direction/historic) into metrics.csv rows.

    ``direction`` true means higher is better (Boston's "do you want this value to go up?");
    ``historic`` true means baseline=history, and then Boston's target field is ignored.
    """
    given = set(rows.attrs.get("given", BOSTON_METRIC_COLUMNS))
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
    for column in METRIC_FILE_COLUMNS:
        if column not in out:
            out[column] = ""
    out.attrs["given"] = {("baseline" if c == "historic" else c) for c in given}
    return out


def json_metric_rows(source: Source, text: str) -> pd.DataFrame:
    """metrics.csv rows from the ``cityscore.metric`` records of a JSON fixture."""
    return boston_metric_rows(_json_records(source, text, "metric", _json_metric_fields))


def json_value_rows(source: Source, text: str) -> pd.DataFrame:
    """values.csv rows from the ``cityscore.value`` records of a JSON fixture (a metric named, or
    given by the id of a ``cityscore.metric`` record)."""
    return _json_records(source, text, "value", _json_value_fields)


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

    The ``line`` of a row is the record's position in the list (1 = first record). A file that is
    not a list of records, or holds no ``cityscore.<model>`` record, is refused.
    """
    problems = Problems(source_name(source))
    records = _json_parse(text, problems)
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list):
        problems.add(1, "json", type(records).__name__, f"expected {JSON_SHAPE}")
        problems.refuse()
    metric_names = {
        str(r.get("pk", r.get("id"))): str(r["fields"].get("name"))
        for r in records
        if isinstance(r, dict) and _is_model(r, "metric") and isinstance(r.get("fields"), dict)
    }
    out, lines = [], []
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict) or not _is_model(record, model):
            continue
        fields = record.get("fields") or {}
        if not isinstance(fields, dict):
            problems.add(
                number,
                "fields",
                _json_text(fields),
                'the record\'s "fields" must be an object {...}',
            )
            continue
        row = convert(fields, metric_names)
        out.append({k: _json_text(v) for k, v in row.items()})
        lines.append(number)
    if not out and not problems:
        problems.add(
            1, "json", f"{len(records)} record(s)",
            f'no "cityscore.{model}" record in the file; expected {JSON_SHAPE.replace("value", model, 1)}',
        )  # fmt: skip
    problems.raise_if_any(len(records))
    rows = pd.DataFrame(out, columns=list(convert({}, {})), dtype=object)
    rows["line"] = lines
    return rows


def _json_parse(text: str, problems: Problems) -> object:
    """``json.loads`` that refuses repeated keys in one object and reports every failure as a problem."""

    def no_repeats(pairs: list[tuple[str, object]]) -> dict:
        keys = [k for k, _ in pairs]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            msg = f"key(s) {repeated} appear more than once in one object; keep one of each"
            raise ValueError(msg)
        return dict(pairs)

    try:
        return json.loads(text, object_pairs_hook=no_repeats)
    except json.JSONDecodeError as exc:
        lines = text.splitlines()  # the error may point past the last line ("[\n")
        shown = lines[exc.lineno - 1][:60] if 0 < exc.lineno <= len(lines) else ""
        problems.add(exc.lineno, "json", shown, f"not valid JSON: {exc.msg}")
    except ValueError as exc:
        problems.add(1, "json", "", str(exc))
    except RecursionError:
        problems.add(1, "json", "", "the JSON is nested too deeply; expected " + JSON_SHAPE)
    problems.refuse()


def _is_model(record: dict, model: str) -> bool:
    """``cityscore.value`` in fixtures, ``Value`` in the toolkit's data input template."""
    return str(record.get("model", "")).lower().rpartition(".")[2] == model


def _json_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()
