"""The fast reader of values files (Arrow, typed columns) gives what the full path gives.

``load_values`` tries ``fast_values`` first and falls back to ``read_value_rows`` +
``validate_values`` (the full path, which names every problem). For any file, the two must agree:
the same observations frame, or the same refusal with the same problems.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityscore.core.errors import ValidationError
from cityscore.io import load
from cityscore.io.fast_values import fast_values
from cityscore.io.value_rows import validate_values
from tests.test_load_properties import METRICS, TODAY  # Net Jobs may go below 0

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAMES = ["Library Users", "library users", " Net Jobs", "Potholes On Time", "Potholes", ""]
DATES = ["2026-10-01", "2026-10-02", "2026-02-30", "2027-01-01", "1899-12-31", " 2026-10-03"]
NUMBERS = [
    "", "0", "-0", "12", "-4", "1.5", "+2", ".5", "5.", "1e3", "1_000", "nan", "inf", "1e309",
    "93%", "5e-324", "0.1000000000000000055511151231257827", " 7", "x", "9 permits",
]  # fmt: skip
AREAS = ["", "North", " North ", "=SUM(A1)", "South"]


# (1e-9: small but kept; 5e-324, a subnormal, is refused as too small: io.cells.SMALLEST)
CLEAN_NUMBERS = ["0", "12", "1.5", "+2", ".5", "5.", "1e3", " 7", "1e-9", "0.30000000000000004"]
# A semicolon file's numbers (European Excel): the comma is the decimal mark, a dot groups thousands.
EU_NUMBERS = [
    "", "0", "-0", "12", "-4", "1,5", "-3,25", "+2", "007,50", "12,", ",5", "1.234,5", "1.200",
    "0.93", "1,5e3", "1e3", "93%", "0,1000000000000000055511151231257827", " 7", "1 234,5", "x",
    "1,234.5", "nan", "5e-324",
]  # fmt: skip
CLEAN_EU_NUMBERS = ["0", "12", "1,5", "-0", "+2", "007,50", "0,30000000000000004", "3,25"]
KIND = {"library users": "value", "net jobs": "value", "potholes on time": "ratio"}


def quoted(cell: str, quoting: str) -> st.SearchStrategy[str]:
    """``cell`` as a CSV writer might spell it: bare, quoted (R's ``write.csv`` quotes every text),
    or, for ``odd``, with quotes where no writer puts them (``"b"c``, ``b"c``, ``"b" ``, a line
    break or an unclosed quote)."""
    whole = '"' + cell.replace('"', '""') + '"'
    if quoting == "none":
        return st.just(cell)
    if quoting == "all":
        return st.just(whole)
    if quoting == "some":
        return st.sampled_from([cell, whole])
    odd = [whole + "x", cell + '"', '"' + cell, whole + " ", '"' + cell + '\n"', '""' + cell]
    return st.sampled_from([cell, whole, *odd])


@st.composite
def value_files(draw: st.DrawFn) -> bytes:
    """Comma and semicolon files, half of them valid (so the fast path reads them), half with
    odd cells."""
    header = draw(
        st.sampled_from(
            [
                ["metric", "date", "value"],
                ["metric", "date", "numerator", "denominator"],
                ["metric", "date", "value", "numerator", "denominator"],
                ["Metric", "Date", "Value", "Numerator", "Denominator", "area"],
                ["date", "metric", "value", "area"],
            ]
        )
    )
    noisy = draw(st.booleans())
    delimiter = draw(st.sampled_from([",", ";"]))
    numbers = {",": (NUMBERS, CLEAN_NUMBERS), ";": (EU_NUMBERS, CLEAN_EU_NUMBERS)}[delimiter]
    days = [f"2026-10-{d:02d}" for d in range(1, 29)]
    rows = []
    for _ in range(draw(st.integers(1, 8))):
        metric = draw(st.sampled_from(NAMES if noisy else NAMES[:4]))
        kind = KIND.get(metric.strip().lower(), "value")
        number = st.sampled_from(numbers[0] if noisy else numbers[1])
        cells = {
            "metric": st.just(metric),
            "date": st.sampled_from(DATES if noisy else days),
            "area": st.sampled_from(AREAS if noisy else ["", "North", " South"]),
            "value": number if kind == "value" or noisy else st.just(""),
            "numerator": number if kind == "ratio" or noisy else st.just(""),
            "denominator": number.filter(lambda n: noisy or float(n.replace(",", ".")) > 0)
            if kind == "ratio" or noisy
            else st.just(""),
        }
        rows.append([draw(cells[h.lower()]) for h in header])
    quoting = draw(st.sampled_from(["none", "all", "some", "odd"]))
    lines = [
        delimiter.join(draw(quoted(cell, quoting)) for cell in line) for line in [header, *rows]
    ]
    text = "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n"]))
    ends = draw(st.sampled_from(["\n", "\r\n", "mixed"]))  # Excel writes \r\n
    if ends == "\r\n":
        text = text.replace("\n", "\r\n")
    elif ends == "mixed":
        text = text.replace("\n", "\r\n", 1)
    return text.encode()


def full_path(data: bytes) -> pd.DataFrame:
    rows = load.read_value_rows(data)
    return validate_values(rows, METRICS, "<upload>", today=TODAY)


def outcome(read) -> pd.DataFrame | list:
    try:
        return read()
    except ValidationError as exc:
        return exc.problems.astype(str).values.tolist()


def assert_same(data: bytes) -> None:
    fast, full = (
        outcome(lambda: load.load_values(data, METRICS, today=TODAY)),
        outcome(lambda: full_path(data)),
    )
    assert type(fast) is type(full)
    if isinstance(full, pd.DataFrame):
        pd.testing.assert_frame_equal(fast, full)
    else:
        assert fast == full


@pytest.mark.slow
@SETTINGS
@given(value_files())
def test_fast_and_full_paths_agree(data: bytes) -> None:
    assert_same(data)


CLEAN = (
    b"metric,date,value,numerator,denominator\n"
    b"Library Users,2026-10-01,12,,\n"
    b"library users,2026-10-02,1e-9,,\n"
    b"Net Jobs,2026-10-01,-3.5,,\n"
    b"Potholes On Time,2026-10-01,,9,10\n"
    b"Potholes On Time,2026-10-02,,0,3\n"
)


def test_a_clean_file_takes_the_fast_path_and_matches() -> None:
    fast = fast_values(CLEAN.decode(), METRICS, TODAY)
    assert fast is not None
    pd.testing.assert_frame_equal(fast, full_path(CLEAN))
    assert fast["metric"].tolist()[1] == "Library Users"  # the catalog's spelling


def test_windows_line_ends_take_the_fast_path_and_match() -> None:
    crlf = CLEAN.replace(b"\n", b"\r\n")
    fast = fast_values(crlf.decode(), METRICS, TODAY)
    assert fast is not None
    pd.testing.assert_frame_equal(fast, full_path(crlf))
    pd.testing.assert_frame_equal(fast, full_path(CLEAN))
    lone = CLEAN.replace(b"\n", b"\r", 1)  # a lone carriage return: the full path decides
    assert fast_values(lone.decode(), METRICS, TODAY) is None
    assert_same(lone)


def test_a_semicolon_file_with_decimal_commas_takes_the_fast_path_and_matches() -> None:
    """European Excel: ``;`` between cells, ``,`` as the decimal mark."""
    data = (
        b"metric;date;value;numerator;denominator\n"
        b"Library Users;2026-10-01;12,5;;\n"
        b"library users;2026-10-02;007,50;;\n"
        b"Net Jobs;2026-10-01;-3,25;;\n"
        b"Potholes On Time;2026-10-01;;9;10\n"
    )
    fast = fast_values(data.decode(), METRICS, TODAY)
    assert fast is not None
    pd.testing.assert_frame_equal(fast, full_path(data))
    assert fast["value"].tolist()[:3] == [12.5, 7.5, -3.25]


@pytest.mark.parametrize("number", ["1.234,5", "1.200", "0.93", "12,", "1,5e3", "93%", " 7"])
def test_other_number_forms_of_a_semicolon_file_leave_the_fast_path(number: str) -> None:
    data = f"metric;date;value\nLibrary Users;2026-10-01;{number}\n".encode()
    assert fast_values(data.decode(), METRICS, TODAY) is None
    assert_same(data)


def test_quoted_cells_take_the_fast_path_and_match() -> None:
    """Every text quoted (R's write.csv), and a name holding a comma and quotes."""
    lines = CLEAN.decode().splitlines()
    quoted_all = [",".join(f'"{c}"' if c else c for c in line.split(",")) for line in lines]
    data = ("\n".join(quoted_all) + "\n").encode()
    fast = fast_values(data.decode(), METRICS, TODAY)
    assert fast is not None
    pd.testing.assert_frame_equal(fast, full_path(data))
    pd.testing.assert_frame_equal(fast, full_path(CLEAN))


def test_areas_are_read_on_the_fast_path() -> None:
    header, *rows = CLEAN.decode().splitlines()
    lines = [f"{header},area", *[f"{row},North" for row in rows]]
    lines.append("Library Users,2026-10-01,13,,,")  # citywide, beside North's value of that day
    data = ("\n".join(lines) + "\n").encode()
    fast = fast_values(data.decode(), METRICS, TODAY)
    assert fast is not None
    assert sorted(set(fast["area"])) == ["", "North"]
    pd.testing.assert_frame_equal(fast, full_path(data))


@pytest.mark.parametrize(
    "line",
    [
        b"Library Users,2026-10-03,1_000,,",  # Python's float reads it, Arrow does not
        b"Library Users,2026-10-03,nan,,",  # refused: "NaN is not a value"
        b"Library Users,2026-10-03,-1,,",  # refused: negative
        b"Potholes On Time,2026-10-03,,1,0",  # refused: denominator 0
        b'"Library Users",2026-10-03,4,,\n"Library Users,2026-10-04,4,,',  # an unclosed quote
        b"Library Users,2026-10-01,12,,",  # the same day again: dropped by the full path
        b"Library Users,2026-10-01,13,,",  # the same day, another value: a conflict
        b"Library Users,2026-10-03,4,,,",  # a field too many
        b"Unknown,2026-10-03,4,,",
    ],
)
def test_anything_unusual_leaves_the_fast_path(line: bytes) -> None:
    data = CLEAN + line + b"\n"
    assert fast_values(data.decode(), METRICS, TODAY) is None
    assert_same(data)
