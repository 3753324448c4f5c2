"""Validation of values files: every bad row reported at once, nothing written when any is bad."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from cityscore import Kit, ValidationError
from cityscore.io.cells import clean_number

METRICS = """name,definition,category,unit,direction,kind,aggregation,target,baseline,trend,weight
EMS Response,Median minutes,Safety,minutes,lower,value,median,6,,false,1
Potholes On Time,"Repairs in 2 days, of all",Streets,share,higher,ratio,,0.9,,false,1
"""


def problems_of(kit: Kit, text: str, **kwargs: object) -> set[tuple[int, str]]:
    with pytest.raises(ValidationError) as info:
        kit.import_values(text.encode(), **kwargs)
    return {(int(r.line), r.column) for r in info.value.problems.itertuples()}


def test_every_bad_row_is_reported_at_once_and_nothing_is_written(city: Kit) -> None:
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    text = (
        "metric,date,value,numerator,denominator\n"
        "EMS Response,2026-01-01,5,,\n"  # 2: fine
        "EMS Respons,2026-01-02,5,,\n"  # 3: unknown metric
        "EMS Response,2026-02-30,5,,\n"  # 4: impossible date
        f"EMS Response,{tomorrow},5,,\n"  # 5: future
        "EMS Response,2026-01-05,fast,,\n"  # 6: non-numeric
        "EMS Response,2026-01-06,NaN,,\n"  # 7: NaN
        "EMS Response,2026-01-07,inf,,\n"  # 8: infinity
        "EMS Response,2026-01-08,-3,,\n"  # 9: negative time
        "Potholes On Time,2026-01-01,,5,0\n"  # 10: zero denominator
        "Potholes On Time,2026-01-02,,5,-2\n"  # 11: negative denominator
        "EMS Response,2026-01-09,4,,\n"  # 12 and 13: same day, different values
        "EMS Response,2026-01-09,7,,\n"
        "Potholes On Time,2026-01-03,,-1,4\n"  # 14: negative count
    )
    found = problems_of(city, text)
    assert found == {
        (3, "metric"), (4, "date"), (5, "date"), (6, "value"), (7, "value"), (8, "value"), (9, "value"),
        (10, "denominator"), (11, "denominator"), (12, "date"), (13, "date"), (14, "numerator"),
    }  # fmt: skip
    assert city.observations().empty
    assert city.batches()["kind"].tolist() == ["metrics"]


def test_rejection_names_line_column_value_and_reason(city: Kit) -> None:
    with pytest.raises(ValidationError) as info:
        city.import_values(b"metric,date,value\nEMS Respons,2026-01-02,5\n")
    row = info.value.problems.iloc[0]
    assert (row["line"], row["column"], row["value"]) == (2, "metric", "EMS Respons")
    assert "did you mean 'EMS Response'" in row["reason"]
    assert "line 2, column metric" in str(info.value)


def test_identical_repeated_rows_are_one_value(city: Kit) -> None:
    result = city.import_values(
        b"metric,date,value\nEMS Response,2026-01-01,5\nEMS Response,2026-01-01,5.0\n"
    )
    assert result.inserted == 1
    assert city.observations()["value"].tolist() == [5.0]


def test_missing_required_column_is_named(city: Kit) -> None:
    with pytest.raises(ValidationError) as info:
        city.import_values(b"name,day,value\nEMS Response,2026-01-01,5\n")
    assert "missing column(s) ['metric', 'date']" in str(info.value)


def test_ambiguous_dates_are_never_guessed(city: Kit) -> None:
    text = "metric,date,value\nEMS Response,03/04/2026,5\n"
    assert problems_of(city, text) == {(2, "date")}
    city.import_values(text.encode(), date_format="%d/%m/%Y")
    assert city.observations()["date"].tolist() == [pd.Timestamp("2026-04-03")]


@pytest.mark.parametrize(
    ("text", "decimal_comma", "percent", "expected"),
    [
        ("1,234.5", False, False, "1234.5"),
        ("1 234", False, False, "1234"),
        ("1\u00a0234,5", True, False, "1234.5"),
        ("1.234,5", True, False, "1234.5"),
        ("12,5", True, False, "12.5"),
        ("1,234", False, False, "1234"),
        ("93%", False, True, "0.93"),
        ("93%", False, False, "93%"),
        ("12,34,5", False, False, "12,34,5"),
    ],
)
def test_clean_number(text: str, decimal_comma: bool, percent: bool, expected: str) -> None:
    assert clean_number(text, decimal_comma, percent) == expected


def test_validation_does_not_mutate_its_input(city: Kit) -> None:
    from cityscore.io.value_rows import validate_values

    rows = pd.DataFrame(
        {"metric": ["EMS Response"], "date": ["2026-01-01"], "value": ["5"], "line": [2]}
    )
    rows = rows.assign(numerator="", denominator="")
    before = rows.copy()
    validate_values(rows, city.metrics())
    pd.testing.assert_frame_equal(rows, before)
