"""Property: whatever text or bytes a loader is given, the outcome is a clean import or a clean
``CityScoreError`` (never another exception), and a clean import holds only valid values."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cityscore import CityScoreError
from cityscore.core.vocabulary import EARLIEST
from cityscore.io import load

TODAY = dt.date(2026, 10, 31)
METRICS, _ = load.load_metrics(
    b"name,direction,kind,target,allow_negative\n"
    b"Library Users,higher,value,10,false\nNet Jobs,higher,value,5,true\n"
    b"Potholes On Time,higher,ratio,0.9,false\n"
)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Words the loaders react to, and the mistakes spreadsheets carry.
WORDS = [
    "metric",
    "date",
    "value",
    "numerator",
    "denominator",
    "name",
    "direction",
    "target",
    "higher",
    "true",
    "Library_Users",
    "library_users_",
    "Net_Jobs",
    "Potholes_On_Time",
    "2026-10-01",
    "2026-02-30",
    "2026-10-01_08:00",
    "0001-01-01",
    "1,234",
    "1.234,5",
    "12,5",
    "93%",
    "-4",
    "nan",
    "inf",
    "1e309",
    "=1+1",
]
CELLS = st.one_of(
    st.sampled_from([w.replace("_", " ") for w in WORDS] + ["", " ", '"', '""', "\x00", "\x1b"]),
    st.text(max_size=8),
)


@st.composite
def csv_texts(draw: st.DrawFn) -> str:
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    rows = draw(st.lists(st.lists(CELLS, max_size=6), max_size=8))
    quote = draw(st.booleans())
    lines = [delimiter.join(f'"{c}"' if quote and '"' not in c else c for c in row) for row in rows]
    return newline.join(lines)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | CELLS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(CELLS, inner, max_size=4),
    max_leaves=12,
)
RECORDS = st.lists(
    st.fixed_dictionaries(
        {
            "model": st.sampled_from(["cityscore.value", "cityscore.metric", "Value", "x"]),
            "fields": st.dictionaries(
                st.sampled_from(["metric", "val", "entry_date", "name", "direction", "target"]),
                JSON_VALUES,
                max_size=5,
            )
            | JSON_VALUES,
        },
        optional={"id": st.integers(0, 3)},
    )
    | JSON_VALUES,
    max_size=5,
)


def check_values(data: bytes) -> None:
    try:
        values = load.load_values(data, METRICS, today=TODAY)
    except CityScoreError as exc:
        str(exc)  # the message itself must build
        return
    assert values["metric"].isin(set(METRICS["name"])).all()
    assert values["date"].notna().all()
    assert (values["date"] >= pd.Timestamp(EARLIEST)).all()
    assert (values["date"] <= pd.Timestamp(TODAY)).all()
    assert not values.duplicated(["metric", "date"]).any()
    numbers = values[["value", "numerator", "denominator"]].to_numpy(dtype=float)
    assert not np.isinf(numbers).any()
    assert (values.loc[values["metric"] != "Net Jobs", "value"].dropna() >= 0).all()


def check_metrics(data: bytes) -> None:
    try:
        metrics, targets = load.load_metrics(data)
    except CityScoreError as exc:
        str(exc)
        return
    assert metrics["name"].str.len().between(1, 200).all()
    assert not metrics["name"].str.casefold().duplicated().any()
    assert (targets["target"] > 0).all()


@pytest.mark.slow
@SETTINGS
@given(csv_texts())
def test_values_csv_of_any_shape(text: str) -> None:
    check_values(("metric,date,value\n" + text).encode())
    check_values(text.encode())


@SETTINGS
@given(st.text(max_size=200))
def test_values_of_any_text(text: str) -> None:
    check_values(text.encode("utf-8", "surrogatepass"))


@SETTINGS
@given(st.binary(max_size=200))
@example(b"[\n")  # JSON whose error points past its last line (found by this test in CI)
def test_values_of_any_bytes(data: bytes) -> None:
    check_values(data)
    check_metrics(data)


@pytest.mark.slow
@SETTINGS
@given(csv_texts())
def test_metrics_csv_of_any_shape(text: str) -> None:
    check_metrics(("name,direction,target\n" + text).encode())
    check_metrics(text.encode())


@pytest.mark.slow
@SETTINGS
@given(RECORDS)
def test_json_of_any_shape(records: object) -> None:
    data = json.dumps(records).encode()
    check_values(data)
    check_metrics(data)
