"""What cities' spreadsheets and Boston's toolkit produce: encodings, delimiters, numbers, formats."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cityscore import Kit, ValidationError

METRICS = """name,direction,kind,category,target
Café Inspections,higher,value,Health,10
On-time Rate,higher,value,Streets,0.9
Potholes On Time,higher,ratio,Streets,0.9
"""


def stored(kit: Kit) -> dict[tuple[str, str], tuple[float, ...]]:
    obs = kit.observations()
    return {
        (r.metric, r.date.strftime("%Y-%m-%d")): tuple(
            x for x in (r.value, r.numerator, r.denominator) if x == x
        )
        for r in obs.itertuples()
    }


def test_utf8_with_bom_and_windows_1252(city: Kit) -> None:
    text = "metric,date,value\nCafé Inspections,2026-01-01,12\n"
    city.import_values(b"\xef\xbb\xbf" + text.encode("utf-8"))
    city.import_values(text.replace("12", "13").replace("01-01", "01-02").encode("cp1252"))
    assert stored(city) == {
        ("Café Inspections", "2026-01-01"): (12.0,),
        ("Café Inspections", "2026-01-02"): (13.0,),
    }


def test_semicolons_decimal_commas_thousands_percent_and_blank_lines(city: Kit) -> None:
    text = (
        "metric;date;value;numerator;denominator\r\n"
        "Café Inspections;2026-01-01;1.234,5;;\r\n"
        "On-time Rate;2026-01-01;93,5%;;\r\n"
        "Potholes On Time;2026-01-01;;1.200;1.500\r\n"
        "\r\n;;;;\r\n\r\n"
    )
    city.import_values(text.encode("cp1252"))
    got = stored(city)
    assert got[("Café Inspections", "2026-01-01")] == (1234.5,)
    assert got[("On-time Rate", "2026-01-01")] == (pytest.approx(0.935),)
    assert got[("Potholes On Time", "2026-01-01")] == (1200.0, 1500.0)


def test_comma_file_thousands_and_percent(city: Kit) -> None:
    text = 'metric,date,value\nCafé Inspections,2026-01-01,"1,234"\nOn-time Rate,2026-01-01,87%\n'
    city.import_values(text.encode())
    assert stored(city) == {
        ("Café Inspections", "2026-01-01"): (1234.0,),
        ("On-time Rate", "2026-01-01"): (0.87,),
    }


def test_percent_is_not_a_count(city: Kit) -> None:
    with pytest.raises(ValidationError) as info:
        city.import_values(
            b"metric,date,numerator,denominator\nPotholes On Time,2026-01-01,50%,10\n"
        )
    assert info.value.problems[["line", "column"]].values.tolist() == [[2, "numerator"]]


def test_boston_headerless_value_csv(city: Kit) -> None:
    city.import_values(
        b"9810,2026-01-09,Caf\xc3\xa9 Inspections\n12,2026-01-10,Caf\xc3\xa9 Inspections\n"
    )
    assert stored(city) == {
        ("Café Inspections", "2026-01-09"): (9810.0,),
        ("Café Inspections", "2026-01-10"): (12.0,),
    }


def test_boston_value_csv_errors_use_file_lines(city: Kit) -> None:
    with pytest.raises(ValidationError) as info:
        city.import_values(
            b"1,2026-01-09,Cafe Inspections\nlots,2026-01-10,Caf\xc3\xa9 Inspections\n"
        )
    assert info.value.problems[["line", "column"]].values.tolist() == [[1, "metric"], [2, "value"]]
    assert "did you mean 'Café Inspections'" in info.value.problems["reason"].iloc[0]


@pytest.mark.parametrize("with_header", [True, False])
def test_boston_metric_csv_with_booleans(kit: Kit, with_header: bool) -> None:
    header = "name,definition,direction,historic,target,trend\n" if with_header else ""
    text = header + (
        "Library Users,People who come to the library,True,False,10000,False\n"
        "Homicides,Homicides this day,False,True,0,True\n"
    )
    kit.import_metrics(text.encode())
    metrics = kit.metrics().set_index("name")
    assert metrics.loc["Library Users", ["direction", "baseline", "trend"]].tolist() == [
        "higher",
        "target",
        False,
    ]
    assert metrics.loc["Homicides", ["direction", "baseline", "trend"]].tolist() == [
        "lower",
        "history",
        True,
    ]
    assert kit.targets()["metric"].tolist() == ["Library Users"]


def test_boston_json_fixtures(kit: Kit) -> None:
    fixture = [
        {"model": "cityscore.city", "id": 1, "fields": {"cityname": "Boston", "input_spec": "1", "user": 1}},
        {
            "model": "cityscore.metric",
            "id": 1,
            "fields": {"name": "Library Users", "definition": "Visits", "direction": True, "historic": False,
                       "target": 10000, "city": 1},
        },
    ]  # fmt: skip
    values = [
        {
            "model": "cityscore.value",
            "id": 1,
            "fields": {"val": 1000, "entry_date": "2012-04-23", "metric": 1},
        },
        {
            "model": "cityscore.value",
            "pk": 2,
            "fields": {"val": 9000, "entry_date": "2012-04-27", "metric": 1},
        },
    ]
    kit.import_metrics(json.dumps(fixture).encode())
    assert kit.targets()["target"].tolist() == [10000.0]
    # values.json refers to metric 1, defined in the metrics fixture: give both records together.
    kit.import_values(json.dumps(fixture + values).encode())
    # and the template's form, with the metric by name
    named = [
        {
            "model": "Value",
            "fields": {"val": "12000", "entry_date": "2012-04-28", "metric": "Library Users"},
        }
    ]
    kit.import_values(json.dumps(named).encode())
    obs = kit.observations()
    assert obs["value"].tolist() == [1000.0, 9000.0, 12000.0]
    assert obs["date"].tolist() == [
        pd.Timestamp(d) for d in ("2012-04-23", "2012-04-27", "2012-04-28")
    ]


def test_json_fixture_errors_name_the_record(city: Kit) -> None:
    bad = [
        {
            "model": "cityscore.value",
            "fields": {"val": 5, "entry_date": "2026-01-01", "metric": "Café Inspections"},
        },
        {
            "model": "cityscore.value",
            "fields": {"val": -5, "entry_date": "2026-13-01", "metric": 7},
        },
    ]
    with pytest.raises(ValidationError) as info:
        city.import_values(json.dumps(bad).encode())
    # The value of an unknown metric is not judged (its kind is unknown); its date is.
    assert set(map(tuple, info.value.problems[["line", "column"]].values.tolist())) == {
        (2, "date"),
        (2, "metric"),
    }
    assert city.observations().empty


def test_invalid_json_is_reported(city: Kit) -> None:
    with pytest.raises(ValidationError) as info:
        city.import_values(b'[{"model": "cityscore.value", ]')
    assert info.value.problems["column"].tolist() == ["json"]


def test_unreadable_empty_and_header_only_files(city: Kit, tmp_path) -> None:
    with pytest.raises(ValidationError) as info:
        city.import_values(b"metric,date,value\nCaf\x81 Inspections,2026-01-01,1\n")
    assert info.value.problems[["line", "column"]].values.tolist() == [[2, "encoding"]]
    with pytest.raises(ValidationError, match="missing column"):
        city.import_values(b"")
    assert city.import_values(b"metric,date,value\n\n").batch_id is None
    from cityscore import ConfigError

    with pytest.raises(ConfigError, match="not found"):
        city.import_values(tmp_path / "nope.csv")
