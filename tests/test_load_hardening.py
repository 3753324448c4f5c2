"""Wrong input never becomes a wrong number (issue 10, the loader half).

Each test feeds a mistake real spreadsheets carry and checks the documented outcome: a message that
says what to fix, and nothing written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cityscore import Kit, StoreError, ValidationError
from cityscore.core.vocabulary import TEXT_LIMITS
from cityscore.store.schema import metrics_table

from .conftest import DEMO_END

METRICS = """name,direction,kind,category,target
Library Users,higher,value,Culture,1000
EMS Response,lower,value,Safety,6
Potholes On Time,higher,ratio,Streets,0.9
"""


def rejected(action, *args, **kwargs) -> pd.DataFrame:
    with pytest.raises(ValidationError) as info:
        action(*args, **kwargs)
    return info.value.problems


def where(problems: pd.DataFrame) -> set[tuple[int, str]]:
    return {(int(r.line), r.column) for r in problems.itertuples()}


def nothing_written(kit: Kit, batches: int) -> None:
    assert len(kit.batches()) == batches


# --- 1. more fields than the header -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "metric,date,value\nLibrary Users,2026-10-01,1,234\nLibrary Users,2026-10-02,5\n",
        "metric;date;value\nLibrary Users;2026-10-01;1;234\nLibrary Users;2026-10-02;5\n",
        # two extra fields, and a quoted cell elsewhere (the csv-module path)
        'metric,date,value\n"Library Users",2026-10-01,1,234,567\nLibrary Users,2026-10-02,5\n',
        # a header whose last column has no name does not make room for a value
        "metric,date,value,\nLibrary Users,2026-10-01,1,234\nLibrary Users,2026-10-02,5,\n",
    ],
)
def test_a_row_with_more_fields_than_the_header_is_rejected_not_truncated(
    city: Kit, text: str
) -> None:
    problems = rejected(city.import_values, text.encode())
    assert where(problems) == {(2, "extra")}
    assert "234" in str(problems["value"].iloc[0])
    assert "thousands separator" in problems["reason"].iloc[0]
    assert city.observations().empty
    nothing_written(city, 1)


def test_empty_trailing_cells_are_not_extra_fields(city: Kit) -> None:
    city.import_values(b"metric,date,value\nLibrary Users,2026-10-01,5,\n")
    assert city.observations()["value"].tolist() == [5.0]


def test_in_a_semicolon_file_the_comma_is_always_the_decimal_mark(city: Kit) -> None:
    text = "metric;date;value\nLibrary Users;2026-10-01;1,234\nLibrary Users;2026-10-02;1,234.5\n"
    problems = rejected(city.import_values, text.encode())
    assert where(problems) == {(3, "value")}
    assert "decimal mark" in problems["reason"].iloc[0]
    city.import_values("".join(text.splitlines(keepends=True)[:2]).encode())
    assert city.observations()["value"].tolist() == [pytest.approx(1.234)]


def test_in_a_comma_file_a_comma_only_groups_thousands(city: Kit) -> None:
    problems = rejected(city.import_values, b'metric,date,value\nLibrary Users,2026-10-01,"12,5"\n')
    assert where(problems) == {(2, "value")}
    city.import_values(b'metric,date,value\nLibrary Users,2026-10-01,"1,234.5"\n')
    assert city.observations()["value"].tolist() == [1234.5]


# --- 2. duplicate column names ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("importer", "text"),
    [
        ("values", "metric,date,value,Value\nLibrary Users,2026-10-01,5,6\n"),
        ("values", "metric;date;value;value\nLibrary Users;2026-10-01;5;6\n"),
        ("metrics", "name,direction,target,target\nNew,higher,1,2\n"),
        ("metrics", "name,definition,direction,historic,target,target\nNew,x,True,False,1,2\n"),
        ("targets", "metric,effective_from,target,target\nLibrary Users,2026-01-01,5,6\n"),
    ],
)
def test_a_column_named_twice_is_rejected(city: Kit, importer: str, text: str) -> None:
    problems = rejected(getattr(city, f"import_{importer}"), text.encode())
    assert problems["column"].tolist() == ["header"]
    assert "more than once" in problems["reason"].iloc[0]
    nothing_written(city, 1)


def test_a_json_key_given_twice_is_rejected(city: Kit) -> None:
    text = '[{"model": "cityscore.value", "fields": {"metric": "Library Users", "entry_date": "2026-10-01", "val": 5, "val": 6}}]'
    problems = rejected(city.import_values, text.encode())
    assert "more than once" in problems["reason"].iloc[0]
    assert city.observations().empty


# --- 3. one value per metric and day, whatever the time ---------------------------------------


def test_two_times_on_one_day_are_a_conflict_on_a_new_day_and_an_existing_one(city: Kit) -> None:
    city.import_values(b"metric,date,value\nLibrary Users,2026-10-01,5\n")
    text = (
        "metric,date,value\n"
        "Library Users,2026-10-01 08:00,6\nLibrary Users,2026-10-01 17:00,7\n"  # existing day
        "Library Users,2026-10-02 08:00,6\nLibrary Users,2026-10-02 17:00,7\n"  # new day
    )
    problems = rejected(city.import_values, text.encode(), date_format="%Y-%m-%d %H:%M")
    assert where(problems) == {(2, "date"), (3, "date"), (4, "date"), (5, "date")}
    assert "time of day does not count" in problems["reason"].iloc[0]
    assert city.observations()["value"].tolist() == [5.0]
    nothing_written(city, 2)


def test_a_time_of_day_is_dropped_and_equal_readings_are_one_value(city: Kit) -> None:
    text = "metric,date,value\nLibrary Users,2026-10-01 08:00,6\nLibrary Users,2026-10-01 17:00,6\n"
    city.import_values(text.encode(), date_format="%Y-%m-%d %H:%M")
    obs = city.observations()
    assert obs["date"].tolist() == [pd.Timestamp("2026-10-01")]
    assert city.import_values(text.encode(), date_format="%Y-%m-%d %H:%M").batch_id is None


# --- 4. metric identity ---------------------------------------------------------------------


def test_values_map_a_name_differing_by_case_or_spaces_to_the_metric(city: Kit) -> None:
    city.import_values(
        b'metric,date,value\n"  library users ",2026-10-01,5\nLIBRARY USERS,2026-10-02,6\n'
    )
    assert set(city.observations()["metric"]) == {"Library Users"}
    assert len(city.metrics()) == 3


def test_targets_map_a_name_differing_by_case(city: Kit) -> None:
    city.import_targets(b"metric,effective_from,target\nlibrary users,2026-06-01,1200\n")
    assert city.targets().query("metric == 'Library Users'")["target"].tolist() == [1000, 1200]


def test_a_metrics_file_never_makes_a_second_metric_differing_only_by_case(city: Kit) -> None:
    problems = rejected(city.import_metrics, b"name,direction,target\nlibrary USERS,higher,5\n")
    assert where(problems) == {(2, "name")}
    assert "'Library Users'" in problems["reason"].iloc[0]
    problems = rejected(
        city.import_metrics, b"name,direction,target\nNew Metric,higher,5\nnew metric,higher,5\n"
    )
    assert where(problems) == {(2, "name"), (3, "name")}
    assert len(city.metrics()) == 3
    nothing_written(city, 1)


# --- 5. partial restatement -----------------------------------------------------------------


def test_a_metrics_file_with_some_columns_changes_only_those(demo_kit: Kit) -> None:
    before_metrics = demo_kit.metrics().set_index("name")
    before_scores = demo_kit.scores(DEMO_END)
    catalog = demo_kit.store.catalog_targets()
    fixed = before_metrics[before_metrics["baseline"] == "target"].index
    text = "name,direction,target\n" + "".join(
        f'"{n}",{before_metrics.loc[n, "direction"]},{catalog[n]!r}\n' for n in fixed
    )
    result = demo_kit.import_metrics(text.encode())
    assert (result.inserted, result.updated) == (0, 0)
    pd.testing.assert_frame_equal(demo_kit.metrics().set_index("name"), before_metrics)
    pd.testing.assert_frame_equal(demo_kit.scores(DEMO_END), before_scores)
    # Changing one column changes that column only; the past scores keep the old target.
    name = fixed[0]
    demo_kit.import_metrics(f'name,unit\n"{name}",new unit\n'.encode())
    after = demo_kit.metrics().set_index("name")
    assert after.loc[name, "unit"] == "new unit"
    now, then = after.loc[name].drop("unit"), before_metrics.loc[name].drop("unit")
    changed = (now != then) & ~(now.isna() & then.isna())  # an empty optional column stays empty
    assert not changed.any()
    pd.testing.assert_frame_equal(demo_kit.scores(DEMO_END), before_scores)
    demo_kit.import_metrics(f'name,target\n"{name}",{catalog[name] * 2!r}\n'.encode())
    assert demo_kit.store.catalog_targets()[name] == catalog[name] * 2
    pd.testing.assert_frame_equal(demo_kit.scores(DEMO_END), before_scores)  # from today on only


def test_a_new_metric_in_a_partial_file_gets_defaults_and_needs_a_direction(city: Kit) -> None:
    problems = rejected(city.import_metrics, b"name,target\nBrand New,5\n")
    assert where(problems) == {(2, "direction")}
    city.import_metrics(b"name,direction,target\nBrand New,higher,5\n")
    row = city.metrics().set_index("name").loc["Brand New"]
    assert (row["category"], row["kind"], row["aggregation"], row["weight"]) == (
        "General",
        "value",
        "mean",
        1.0,
    )


# --- 6. JSON shape --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        "{}",
        '[{"model": "cityscore.city", "fields": {"cityname": "Boston"}}]',
        '{"values": [1, 2, 3]}',
        '[{"model": "cityscore.value", "fields": [1, 2]}]',
        "[" * 100_000 + "]" * 100_000,
    ],
)
def test_json_without_value_records_or_of_the_wrong_shape_is_an_error(city: Kit, text: str) -> None:
    problems = rejected(city.import_values, text.encode())
    assert problems["reason"].str.contains("record|object|nested").all()
    assert city.observations().empty
    nothing_written(city, 1)


def test_json_without_metric_records_is_an_error(kit: Kit) -> None:
    problems = rejected(kit.import_metrics, b'[{"model": "cityscore.value", "fields": {}}]')
    assert "cityscore.metric" in problems["reason"].iloc[0]


@pytest.mark.slow
def test_cli_exits_1_on_a_json_file_without_values(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    (tmp_path / "v.json").write_text("[]")
    cli = [sys.executable, "-m", "cityscore", "--db", db]
    subprocess.run([*cli, "init"], check=True, capture_output=True)
    run = subprocess.run(
        [*cli, "values", "import", str(tmp_path / "v.json")], capture_output=True, text=True
    )
    assert run.returncode == 1
    assert "cityscore.value" in run.stderr and "Traceback" not in run.stderr


# --- 7. negative values ---------------------------------------------------------------------


def test_negative_values_are_a_per_metric_choice(city: Kit) -> None:
    city.import_metrics(b"name,direction,target,allow_negative\nNet New Jobs,higher,10,true\n")
    text = "metric,date,value\nNet New Jobs,2026-10-01,-40\nLibrary Users,2026-10-01,-3\n"
    problems = rejected(city.import_values, text.encode())
    assert where(problems) == {(3, "value")}
    assert "allow_negative=true" in problems["reason"].iloc[0]
    city.import_values(b"metric,date,value\nNet New Jobs,2026-10-01,-40\n")
    assert city.observations()["value"].tolist() == [-40.0]
    day = city.scores("2026-10-01").query("metric == 'Net New Jobs' and period == 'day'")
    assert day["score"].tolist() == [pytest.approx(-4.0)]


@pytest.mark.parametrize(
    "row", ["Net,lower,value,10,true", "Net,higher,ratio,0.5,true", "Net,higher,value,10,maybe"]
)
def test_allow_negative_only_for_higher_is_better_value_metrics(city: Kit, row: str) -> None:
    problems = rejected(
        city.import_metrics, f"name,direction,kind,target,allow_negative\n{row}\n".encode()
    )
    assert where(problems) == {(2, "allow_negative")}


def test_numerators_and_denominators_are_never_negative(city: Kit) -> None:
    problems = rejected(
        city.import_values, b"metric,date,numerator,denominator\nPotholes On Time,2026-10-01,-1,4\n"
    )
    assert where(problems) == {(2, "numerator")}


# --- 8. and 9. text the database cannot keep, control characters, formulas -------------------


def test_text_limits_match_the_store_schema() -> None:
    for column, limit in TEXT_LIMITS.items():
        assert metrics_table.c[column].type.length == limit


BAD_TEXT = [
    ("name", "N" * (TEXT_LIMITS["name"] + 1)),
    ("category", "C" * (TEXT_LIMITS["category"] + 1)),
    ("unit", "u" * (TEXT_LIMITS["unit"] + 1)),
    ("name", "Nul\x00Name"),
    ("name", "Escape\x1b[31mRed"),
    ("category", "Tab\tCategory"),
    ("definition", "bell \x07"),
    ("name", "=HYPERLINK(1)"),
    ("name", "+Potholes"),
    ("name", "-Potholes"),
    ("name", "@SUM"),
    ("category", "=cmd"),
]


def bad_metric_file(column: str, text: str) -> bytes:
    row = {"name": "Fine Name", "direction": "higher", "target": "1", column: text}
    frame = pd.DataFrame([row])
    return frame.to_csv(index=False).encode()


@pytest.mark.parametrize(("column", "text"), BAD_TEXT)
def test_text_the_database_cannot_keep_or_a_spreadsheet_would_run_is_rejected(
    kit: Kit, column: str, text: str
) -> None:
    with pytest.raises(ValidationError) as info:
        kit.import_metrics(bad_metric_file(column, text))
    # A NUL byte makes the whole CSV unreadable text; anything else is the cell's problem.
    assert where(info.value.problems) == {(2, "file" if "\x00" in text else column)}
    message = str(info.value)
    assert "\x00" not in message and "\x1b" not in message and "\x07" not in message
    with pytest.raises(ValidationError) as info:  # the metric editor checks the same
        fields = {"direction": "higher", "target": 1, column: text}
        kit.save_metric(fields.pop("name", "Fine Name"), **fields)
    assert where(info.value.problems) == {(1, column)}
    assert kit.metrics().empty


@pytest.mark.parametrize(("column", "text"), BAD_TEXT[:5])
def test_text_limits_hold_on_postgresql_too(postgres_url: str, column: str, text: str) -> None:
    kit = Kit(postgres_url)
    kit.init()
    with pytest.raises(ValidationError):
        kit.import_metrics(bad_metric_file(column, text))
    assert kit.metrics().empty
    kit.import_metrics(bad_metric_file("name", "N" * TEXT_LIMITS["name"]))  # the limit itself fits
    assert kit.metrics()["name"].str.len().tolist() == [TEXT_LIMITS["name"]]
    kit.store.engine.dispose()


def test_a_nul_byte_in_a_values_file_is_rejected(city: Kit) -> None:
    problems = rejected(city.import_values, b"metric,date,value\nLibrary Users,2026-10-01,5\x00\n")
    assert where(problems) == {(2, "file")}
    assert city.observations().empty


def test_control_characters_in_a_file_name_and_cells_are_escaped_in_messages(city: Kit) -> None:
    with pytest.raises(ValidationError) as info:
        city.import_values(b"metric,date,value\n\x1b[2JEvil,2026-10-01,5\n")
    assert "\x1b" not in str(info.value)
    assert "\\x1b" in str(info.value)


# --- 10. a bounded report ---------------------------------------------------------------------


def test_thousands_of_bad_rows_give_a_bounded_message_and_the_full_list_on_request(
    city: Kit, tmp_path: Path
) -> None:
    rows = [f"Library Users,2026-10-{1 + i % 28:02d},x{i}" for i in range(3000)]
    rows += [f"Librar Users,2026-09-01,{i}" for i in range(2000)]
    text = "metric,date,value\n" + "\n".join(rows) + "\n"
    with pytest.raises(ValidationError) as info:
        city.import_values(text.encode())
    message = str(info.value)
    assert len(message.splitlines()) < 40
    assert "5000 of 5000 row(s) rejected" in message
    assert "value: not a number" in message and "3000" in message
    assert "metric: unknown metric" in message and "2000" in message
    assert "--problems FILE" in message
    assert len(info.value.problems) >= 5000
    path = info.value.write_problems(tmp_path / "problems.csv")
    written = pd.read_csv(path)
    assert list(written.columns) == ["line", "column", "value", "reason"]
    assert len(written) == len(info.value.problems)


@pytest.mark.slow
def test_cli_problems_flag_writes_every_problem(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    (tmp_path / "m.csv").write_text(METRICS)
    bad = "metric,date,value\n" + "".join(f"Library Users,2026-10-01,x{i}\n" for i in range(100))
    (tmp_path / "v.csv").write_text(bad)
    cli = [sys.executable, "-m", "cityscore", "--db", db]
    subprocess.run([*cli, "init"], check=True, capture_output=True)
    subprocess.run(
        [*cli, "metrics", "import", str(tmp_path / "m.csv")], check=True, capture_output=True
    )
    out = tmp_path / "problems.csv"
    run = subprocess.run(
        [*cli, "values", "import", str(tmp_path / "v.csv"), "--problems", str(out)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert len(run.stderr.splitlines()) < 40
    assert len(pd.read_csv(out)) >= 100


# --- 11. dry runs show what would change ----------------------------------------------------


def test_dry_runs_show_rows_to_insert_and_old_to_new_updates(city: Kit) -> None:
    city.import_values(b"metric,date,value\nLibrary Users,2026-10-01,5\n")
    dry = city.import_values(
        b"metric,date,value\nLibrary Users,2026-10-01,7\nLibrary Users,2026-10-02,9\n",
        dry_run=True,
    )
    text = str(dry)
    assert (dry.inserted, dry.updated, dry.dry_run) == (1, 1, True)
    assert "Library Users 2026-10-02: value=9" in text
    assert "Library Users 2026-10-01: value 5 -> 7" in text
    metrics = str(city.import_metrics(b"name,unit,target\nEMS Response,min,5.5\n", dry_run=True))
    assert "EMS Response: unit (empty) -> min, target 6 -> 5.5" in metrics
    targets = str(
        city.import_targets(
            b"metric,effective_from,target\nEMS Response,1900-01-01,7\n", dry_run=True
        )
    )
    assert "EMS Response 1900-01-01: target 6 -> 7" in targets
    assert city.observations()["value"].tolist() == [5.0]
    nothing_written(city, 2)


def test_a_dry_run_lists_the_first_rows_and_counts_the_rest(city: Kit) -> None:
    rows = "".join(f"Library Users,2026-0{1 + i // 28}-{1 + i % 28:02d},{i}\n" for i in range(50))
    text = str(city.import_values(f"metric,date,value\n{rows}".encode(), dry_run=True))
    assert "would insert 50:" in text
    assert "... and 40 more" in text
    assert len(text.splitlines()) < 20


# --- re-imports change nothing ----------------------------------------------------------------


def test_reimporting_the_same_files_changes_nothing(city: Kit) -> None:
    values = b'metric,date,value\n library users ,2026-10-01,"1,234"\n'
    city.import_values(values)
    assert city.import_values(values).batch_id is None
    assert city.import_metrics(METRICS.encode()).batch_id is None
    assert city.import_metrics(b"name,direction\nLibrary Users,higher\n").batch_id is None
    fixture = [
        {
            "model": "cityscore.value",
            "fields": {"metric": "Library Users", "entry_date": "2026-10-01", "val": 1234},
        }
    ]
    assert city.import_values(json.dumps(fixture).encode()).batch_id is None


# --- 12. metric and target imports can be undone ------------------------------------------------


def test_a_metrics_import_is_undone_definitions_restored_and_new_metrics_removed(city: Kit) -> None:
    before = city.metrics()
    before_targets = city.targets()
    result = city.import_metrics(b"name,unit,target,weight\nEMS Response,min,5.5,2\n")
    added = city.import_metrics(b"name,direction,target\nBrand New,higher,3\n")
    assert set(city.metrics()["name"]) == {*before["name"], "Brand New"}
    undone = city.undo(added.batch_id)
    assert (undone.updated, undone.deleted) == (0, 2)  # the metric and its target
    assert "Brand New" not in set(city.metrics()["name"])
    city.undo(result.batch_id)
    pd.testing.assert_frame_equal(city.metrics(), before)
    pd.testing.assert_frame_equal(city.targets(), before_targets)
    assert city.store.catalog_targets()["EMS Response"] == 6.0


def test_undoing_a_metric_that_has_values_is_refused_with_what_to_do(city: Kit) -> None:
    added = city.import_metrics(b"name,direction,target\nBrand New,higher,3\n")
    values = city.import_values(b"metric,date,value\nBrand New,2026-10-01,4\n")
    for _ in range(2):  # refused while it has values, and after, while its value history names it
        with pytest.raises(StoreError, match="undo those batches first"):
            city.undo(added.batch_id)
        if values.batch_id not in set(city.batches().dropna(subset="undone_at")["id"]):
            city.undo(values.batch_id)
    assert "Brand New" in set(city.metrics()["name"])


def test_a_metrics_batch_changed_again_later_is_undone_newest_first(city: Kit) -> None:
    first = city.import_metrics(b"name,unit\nEMS Response,min\n")
    second = city.import_metrics(b"name,unit\nEMS Response,minutes\n")
    with pytest.raises(StoreError, match="undo those first"):
        city.undo(first.batch_id)
    city.undo(second.batch_id)
    assert city.metrics().set_index("name").loc["EMS Response", "unit"] == "min"
    city.undo(first.batch_id)
    assert city.metrics().set_index("name").loc["EMS Response", "unit"] == ""


def test_a_targets_import_is_undone(city: Kit) -> None:
    before = city.targets()
    result = city.import_targets(
        b"metric,effective_from,target\nEMS Response,2026-06-01,5\nEMS Response,1900-01-01,7\n"
    )
    city.undo(result.batch_id)
    pd.testing.assert_frame_equal(city.targets(), before)


# --- a database from an older kit keeps working -------------------------------------------------


def _drop_new_schema(kit: Kit) -> None:
    import sqlalchemy as sa

    with kit.store.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE superseded_metrics"))
        conn.execute(sa.text("ALTER TABLE metrics DROP COLUMN allow_negative"))
        conn.execute(sa.text("ALTER TABLE metrics DROP COLUMN batch_id"))
    kit.store.engine.dispose()


def test_a_database_without_the_new_columns_is_upgraded_on_open(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'old.db'}"
        if database == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    old = Kit(url)
    old.init()
    old.import_metrics(METRICS.encode())
    _drop_new_schema(old)
    kit = Kit(url)  # no init: opening is enough
    metrics = kit.metrics()
    assert metrics["allow_negative"].tolist() == [False, False, False]
    kit.import_metrics(b"name,direction,target,allow_negative\nNet Jobs,higher,5,true\n")
    kit.import_values(b"metric,date,value\nNet Jobs,2026-10-01,-2\n")
    assert kit.observations()["value"].tolist() == [-2.0]
    kit.store.engine.dispose()


def test_a_headerless_boston_row_with_extra_fields_is_rejected(city: Kit) -> None:
    problems = rejected(city.import_values, b"1,2026-10-01,Library Users,234,5\n", fmt="boston")
    assert where(problems) == {(1, "extra")}
    assert city.observations().empty


def test_an_unclosed_quote_is_rejected(city: Kit) -> None:
    text = b'metric,date,value\nLibrary Users,2026-10-01,"5\nLibrary Users,2026-10-02,6\n'
    problems = rejected(city.import_values, text)
    assert problems["reason"].str.contains("never closed").all()


def test_switching_to_a_history_baseline_needs_no_target_column(city: Kit) -> None:
    city.import_metrics(b"name,baseline\nLibrary Users,history\n")
    row = city.metrics().set_index("name").loc["Library Users"]
    assert (row["baseline"], row["category"]) == ("history", "Culture")


def test_a_file_name_with_control_characters_is_printed_escaped(city: Kit, tmp_path: Path) -> None:
    path = tmp_path / "evil\x1b[2J.csv"
    path.write_bytes(b"metric,date,value\nLibrary Users,2026-10-01,5\n")
    result = str(city.import_values(path))
    assert "\x1b" not in result and "evil\\x1b[2J.csv" in result
