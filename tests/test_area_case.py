"""Area names are matched exactly, so a second spelling of one area ("dorchester" beside a stored
"Dorchester", or "A" and "a" in one file) is refused on every way in: values and targets files in
each accepted CSV form (the fast path and the full path), the entry calls, ``sync`` and the CLI.
Nothing is written when a name is refused."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from cityscore import Kit, StoreError, ValidationError
from cityscore.apps.widgets import ManualEntry, MetricEditor
from cityscore.core.names import area_case_clashes, fold_name
from cityscore.io import load
from cityscore.io.checks import canonical_names
from cityscore.io.fast_values import fast_values

CLI = shutil.which("cityscore", path=str(Path(sys.executable).parent)) or "cityscore"
METRICS = b"name,direction,kind,target\nCalls,higher,ratio,0.8\nPermits,higher,value,10\n"
TODAY = dt.date(2026, 11, 1)
STORED = b"metric,date,area,numerator,denominator\nCalls,2026-10-30,Dorchester,9,10\n"
HEADER = "metric,date,area,numerator,denominator"


@pytest.fixture
def city(city: Kit) -> Kit:
    """The two metrics and one stored area, "Dorchester"."""
    city.import_values(STORED, date_format="%Y-%m-%d")
    return city


def csv_forms(rows: list[str]) -> dict[str, bytes]:
    """One values file (``HEADER`` and ``rows``) in each CSV form the loaders accept."""
    comma = "\n".join([HEADER, *rows]) + "\n"
    forms = {
        "comma": comma.encode(),  # the fast path reads it (when valid)
        "windows": comma.replace("\n", "\r\n").encode("utf-8-sig"),  # Excel: BOM and CRLF
        "semicolon": comma.replace(",", ";").encode(),  # European Excel: the full path
        "quoted": "\n".join(
            ",".join(f'"{c}"' if c else c for c in line.split(",")) for line in [HEADER, *rows]
        ).encode(),  # every text quoted, as R's write.csv writes it
    }
    with contextlib.suppress(UnicodeEncodeError):  # that code page cannot hold every name
        forms["cp1252"] = comma.encode("cp1252")
    return forms


def state(kit: Kit) -> tuple[str, str, int]:
    """Every stored value and target with its area, and how many import batches there are."""
    values = kit.observations(areas=True).to_csv(index=False)
    return values, kit.targets(areas=True).to_csv(index=False), len(kit.store.batches())


def problems_of(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[int, str, str]]:
    frame = exc.value.problems
    return list(zip(frame["line"], frame["column"], frame["reason"], strict=True))


# --- one file, two spellings ------------------------------------------------------------------


@pytest.mark.parametrize("form", list(csv_forms([])))
def test_two_spellings_in_one_file_are_refused_naming_both_lines(kit: Kit, form: str) -> None:
    kit.import_metrics(METRICS)
    data = csv_forms(["Calls,2026-10-30,A,9,10", "Calls,2026-10-31,a,9,10"])[form]
    before = state(kit)
    with pytest.raises(ValidationError) as exc:
        kit.import_values(data)
    found = problems_of(exc)
    assert [(line, column) for line, column, _ in found] == [(2, "area"), (3, "area")]
    assert '"A" differs only in capitals from "a" (line 3) in this file' in found[0][2]
    assert '"a" differs only in capitals from "A" (line 2) in this file' in found[1][2]
    assert state(kit) == before


def test_the_fast_path_leaves_a_file_with_two_spellings_to_the_full_path(kit: Kit) -> None:
    kit.import_metrics(METRICS)
    text = csv_forms(["Calls,2026-10-30,North,9,10", "Calls,2026-10-31,NORTH,9,10"])["comma"]
    assert fast_values(text.decode(), kit.metrics(), TODAY) is None
    same = csv_forms(["Calls,2026-10-30,North,9,10", "Calls,2026-10-31,North,9,10"])["comma"]
    assert fast_values(same.decode(), kit.metrics(), TODAY) is not None


def test_case_folding_is_unicode_and_spaces_around_a_name_do_not_count(kit: Kit) -> None:
    kit.import_metrics(METRICS)
    rows = ["Calls,2026-10-29, Straße ,9,10", "Calls,2026-10-30,STRASSE,9,10"]
    rows.append("Calls,2026-10-31,Straße,9,10")  # the first row's name once stripped: no clash
    with pytest.raises(ValidationError) as exc:
        kit.import_values(csv_forms(rows)["comma"])
    assert [line for line, _, _ in problems_of(exc)] == [2, 3, 4]
    assert 'from "Straße" (line 2) in this file' in problems_of(exc)[1][2]


def test_area_case_clashes_name_the_other_spellings_stored_ones_first() -> None:
    names = (n for n in ["North", "NORTH", "north", "South", "", "Öst", "ÖST"])  # read once
    clashes = area_case_clashes(names, ["North", "Straße"])
    assert clashes == {"NORTH": ["North"], "north": ["North"], "Öst": ["ÖST"], "ÖST": ["Öst"]}
    assert area_case_clashes(["STRASSE", "straße"], ["Straße"]) == {
        "STRASSE": ["Straße"],
        "straße": ["Straße"],
    }
    assert area_case_clashes(["a", "A", "b"]) == {"a": ["A"], "A": ["a"]}
    assert area_case_clashes(["North", "South"], ["North", "north"]) == {}


def test_an_accent_encoded_two_ways_is_one_area_and_refused_as_such(city: Kit) -> None:
    composed, decomposed = "Caf\u00e9", "Cafe\u0301"  # one character, or "e" + combining accent
    assert composed != decomposed and fold_name(composed) == fold_name(decomposed)
    city.import_values(csv_forms([f"Calls,2026-10-29,{composed},9,10"])["comma"])
    before = state(city)
    forms = csv_forms([f"Calls,2026-10-30,{decomposed},8,10"])
    assert "cp1252" not in forms and len(forms) == 4
    for form, data in forms.items():
        with pytest.raises(ValidationError) as exc:
            city.import_values(data)
        (found,) = problems_of(exc)
        assert found[:2] == (2, "area"), form
        assert "differs only in how its accents are encoded" in found[2]
        assert f'the stored area "{composed}"' in found[2]
    assert state(city) == before
    assert city.areas() == [composed, "Dorchester"]


def test_capitals_and_accent_encoding_together_are_named_both(kit: Kit) -> None:
    kit.import_metrics(METRICS)
    rows = ["Calls,2026-10-30,\u00c9ST,9,10", "Calls,2026-10-31,e\u0301st,9,10"]
    with pytest.raises(ValidationError) as exc:
        kit.import_values(csv_forms(rows)["comma"])
    reasons = [reason for _, _, reason in problems_of(exc)]
    assert len(reasons) == 2
    assert all("differs only in capitals or in how its accents are encoded" in r for r in reasons)


def test_a_metric_name_with_its_accent_encoded_another_way_is_the_catalog_metric(kit: Kit) -> None:
    kit.import_metrics("name,direction,kind,target\nCaf\u00e9 visits,higher,value,10\n".encode())
    result = kit.import_values(
        "metric,date,value\nCafe\u0301 visits,2026-10-30,12\n".encode(), date_format="%Y-%m-%d"
    )
    assert result.inserted == 1
    assert kit.observations()["metric"].tolist() == ["Caf\u00e9 visits"]


def test_two_catalog_names_that_fold_to_one_are_known_only_as_spelled() -> None:
    """A catalog from before accents were compared may hold both encodings of one name: each is
    matched exactly, and any other spelling is unknown (never silently the last of the two)."""
    composed, decomposed = "Caf\u00e9 visits", "Cafe\u0301 visits"
    catalog = [composed, decomposed, "Permits"]
    names = pd.Series([composed, decomposed, "CAF\u00c9 VISITS", " permits "], dtype=object)
    found = canonical_names(names, catalog)
    assert found.tolist()[:2] == [composed, decomposed]
    assert pd.isna(found[2]) and found[3] == "Permits"


# --- a stored spelling, then another ------------------------------------------------------------


@pytest.mark.parametrize("form", list(csv_forms([])))
def test_a_stored_area_written_another_way_is_refused_and_nothing_is_written(
    city: Kit, form: str
) -> None:
    rows = [
        "Calls,2026-10-31,Dorchester,9,10",  # as stored: fine on its own
        "Calls,2026-10-31,Roxbury,9,10",  # a new area: fine
        "Calls,2026-10-29,dorchester,8,10",
        "Calls,2026-10-28,DORCHESTER,7,10",
    ]
    before = state(city)
    with pytest.raises(ValidationError) as exc:
        city.import_values(csv_forms(rows)[form])
    found = problems_of(exc)
    assert [(line, column) for line, column, _ in found] == [(4, "area"), (5, "area")]
    assert found[0][2].startswith(
        '"dorchester" differs only in capitals from the stored area "Dorchester"; write it the same way'
    )
    assert '"DORCHESTER" differs only in capitals from the stored area "Dorchester"' in found[1][2]
    assert state(city) == before
    assert city.areas() == ["Dorchester"]


def test_postgresql_refuses_a_stored_area_written_another_way(postgres_url: str) -> None:
    kit = Kit(postgres_url)
    kit.init()
    kit.import_metrics(METRICS)
    kit.import_values(STORED)
    before = state(kit)
    data = csv_forms(["Calls,2026-10-31,Dorchester,9,10", "Calls,2026-10-29,dorchester,8,10"])
    for form in ("comma", "semicolon"):
        with pytest.raises(ValidationError, match='stored area "Dorchester"'):
            kit.import_values(data[form])
    assert state(kit) == before
    kit.store.engine.dispose()


def test_the_same_spelling_is_fine_and_a_reimport_changes_nothing(city: Kit) -> None:
    data = csv_forms(["Calls,2026-10-31,Dorchester,9,10", "Calls,2026-10-31, Roxbury,3,6"])
    first = city.import_values(data["comma"])
    assert (first.inserted, first.updated) == (2, 0)
    before = state(city)
    for form in ("comma", "semicolon", "windows"):
        again = city.import_values(data[form])
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert state(city) == before
    assert city.areas() == ["Dorchester", "Roxbury"]


def test_two_stored_spellings_from_before_the_check_both_stay_usable(kit: Kit) -> None:
    """A database that already holds two spellings: each may still be written exactly as stored;
    a third spelling is refused and both stored ones are named."""
    from cityscore.store.schema import observations_table as o

    kit.import_metrics(METRICS)
    kit.import_values(csv_forms(["Calls,2026-10-30,Dorchester,9,10"])["comma"])
    with kit.store.transaction(write=True) as conn:  # a second spelling, stored by raw SQL
        row = conn.execute(sa.select(o).where(o.c.area == "Dorchester")).mappings().one()
        copy = {k: v for k, v in row.items() if k != "id"}
        conn.execute(o.insert(), {**copy, "area": "dorchester", "numerator": 8.0})
    ok = csv_forms(["Calls,2026-10-31,Dorchester,9,10", "Calls,2026-10-31,dorchester,9,10"])
    assert kit.import_values(ok["comma"]).inserted == 2
    with pytest.raises(ValidationError) as exc:
        kit.import_values(csv_forms(["Calls,2026-10-29,DORCHESTER,9,10"])["comma"])
    assert 'the stored areas "Dorchester", "dorchester"' in problems_of(exc)[0][2]


# --- two imports at one moment -----------------------------------------------------------------


def _checked(kit: Kit, rows: list[str]) -> pd.DataFrame:
    """A values file's rows as checked against the store now (what an import then writes)."""
    data = csv_forms(rows)["comma"]
    return load.load_values(data, kit.metrics(), TODAY, stored_areas=kit.store.areas)


def test_a_spelling_stored_by_another_import_after_the_check_is_refused_at_the_write(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Two imports at one moment, each adding a spelling of one new area: both pass the check
    (neither is stored yet); the second to write is refused inside its write transaction."""
    url = f"sqlite:///{tmp_path / 'city.db'}"
    kit = Kit(request.getfixturevalue("postgres_url") if database == "postgresql" else url)
    kit.init()
    kit.import_metrics(METRICS)
    kit.import_values(STORED)
    mine = _checked(kit, ["Calls,2026-10-31,Dorchester,9,10", "Calls,2026-10-31,Mattapan,3,4"])
    my_targets = load.load_targets(
        b"metric,effective_from,target,area\nCalls,2026-01-01,0.9,mattapan\n",
        kit.metrics(),
        stored_areas=kit.store.areas,
    )
    theirs = _checked(kit, ["Calls,2026-10-30,MATTAPAN,5,6"])
    kit.store.write_observations(theirs, "theirs.csv")
    before = state(kit)
    with pytest.raises(StoreError) as exc:
        kit.store.write_observations(mine, "mine.csv")
    assert str(exc.value) == (
        'the area "Mattapan" differs only in capitals from "MATTAPAN", which another import '
        'stored while this one was being checked; nothing was written: write it "MATTAPAN" and '
        "import again (area names are matched exactly)"
    )
    with pytest.raises(StoreError, match='"mattapan" differs only in capitals from "MATTAPAN"'):
        kit.store.write_targets(my_targets, "targets.csv")
    assert state(kit) == before
    kit.store.engine.dispose()


def test_rows_never_checked_that_name_one_area_twice_are_refused_at_the_write(kit: Kit) -> None:
    kit.import_metrics(METRICS)
    frame = pd.DataFrame(
        {
            "metric": ["Calls", "Calls"],
            "date": pd.to_datetime(["2026-10-30", "2026-10-31"]),
            "area": ["Caf\u00e9", "Cafe\u0301"],
            "value": [float("nan")] * 2,
            "numerator": [9.0, 8.0],
            "denominator": [10.0, 10.0],
        }
    )
    with pytest.raises(StoreError, match=r"the rows name one area twice, as .* how its accents"):
        kit.store.write_observations(frame, "unchecked")
    assert kit.areas() == []


def test_the_write_reads_stored_areas_only_for_an_area_new_to_its_metric(
    city: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file of stored series (the daily case) costs one key seek per area name; an area new to
    a metric (or altogether) reads the stored areas once, inside the write transaction."""
    from cityscore.store import columnar

    stored = _checked(city, ["Calls,2026-10-31,Dorchester,9,10"])
    permits = b"metric,date,area,value\nPermits,2026-10-31,Dorchester,4\n"  # new to Permits
    new_here = load.load_values(permits, city.metrics(), TODAY, stored_areas=city.store.areas)
    new = _checked(city, ["Calls,2026-10-31,Roxbury,1,2"])
    reads: list[list[str]] = []
    real = columnar.stored_areas
    monkeypatch.setattr(
        columnar, "stored_areas", lambda conn: reads.append(real(conn)) or reads[-1]
    )
    city.store.write_observations(stored, "a")
    assert reads == []
    city.store.write_observations(new_here, "b")
    city.store.write_observations(new, "c")
    assert reads == [["Dorchester"], ["Dorchester"]]
    assert city.areas() == ["Dorchester", "Roxbury"]


def test_stored_areas_are_asked_once_and_only_for_a_file_with_areas(kit: Kit) -> None:
    kit.import_metrics(METRICS)
    asked: list[int] = []

    def stored() -> list[str]:
        asked.append(1)
        return ["Dorchester"]

    citywide = b"metric,date,area,value\nPermits,2026-10-30,,4\nPermits,2026-10-31,,5\n"
    for form in ("kit", "auto"):
        load.load_values(citywide, kit.metrics(), TODAY, fmt=form, stored_areas=stored)
    load.load_values(b"metric,date,value\nPermits,2026-10-30,4\n", kit.metrics(), TODAY)
    assert asked == []
    rows = [f"Calls,2026-10-{d},Dorchester,9,10" for d in range(10, 31)]
    for form, data in csv_forms(rows).items():
        asked.clear()
        load.load_values(data, kit.metrics(), TODAY, stored_areas=stored)
        assert len(asked) == 1, form


# --- targets ------------------------------------------------------------------------------------


def test_targets_are_checked_against_stored_areas_and_each_other(city: Kit) -> None:
    before = state(city)
    targets = (
        b"metric,effective_from,target,area\n"
        b"Calls,2026-01-01,0.9,Dorchester\n"  # as stored (by a value): fine
        b"Calls,2026-01-01,0.9,dorchester\n"
        b"Calls,2026-01-01,0.7,Back Bay\n"
        b"Calls,2026-02-01,0.7,back bay\n"
    )
    with pytest.raises(ValidationError) as exc:
        city.import_targets(targets)
    found = problems_of(exc)
    assert [line for line, _, _ in found] == [3, 4, 5]
    assert 'from the stored area "Dorchester"' in found[0][2]
    assert 'from "back bay" (line 5) in this file' in found[1][2]
    assert state(city) == before


def test_an_area_named_only_by_a_target_is_a_stored_area_for_values(kit: Kit) -> None:
    kit.import_metrics(METRICS)
    kit.import_targets(b"metric,effective_from,target,area\nCalls,2026-01-01,0.9,Mattapan\n")
    with pytest.raises(ValidationError, match='stored area "Mattapan"'):
        kit.import_values(csv_forms(["Calls,2026-10-31,MATTAPAN,9,10"])["comma"])
    exact = kit.import_targets(
        b"metric,effective_from,target,area\nCalls,2026-01-01,0.9,Mattapan\n"
    )
    assert (exact.inserted, exact.updated, exact.unchanged) == (0, 0, 1)


# --- the entry calls, the dry run, sync -----------------------------------------------------------


def test_the_entry_calls_refuse_another_spelling(city: Kit) -> None:
    before = state(city)
    with pytest.raises(ValidationError, match='stored area "Dorchester"'):
        city.enter("Calls", "2026-10-31", numerator=9, denominator=10, area="dorchester")
    with pytest.raises(ValidationError, match='stored area "Dorchester"'):
        city.set_target("Calls", "2026-01-01", 0.9, area=" DORCHESTER ")
    assert state(city) == before
    city.enter("Calls", "2026-10-31", numerator=9, denominator=10, area="Dorchester")
    assert city.areas() == ["Dorchester"]


def test_the_entry_panels_show_the_message_and_write_nothing(city: Kit) -> None:
    before = state(city)
    panel = ManualEntry(city, default_date=dt.date(2026, 10, 31))
    panel.metric.value = "Calls"
    panel.area.value, panel.numerator.value, panel.denominator.value = "DORCHESTER", "9", "10"
    panel.save.click()
    assert "differs only in capitals from the stored area" in panel.message.value
    editor = MetricEditor(city)
    editor.target_metric.value, editor.effective_from.value = "Calls", dt.date(2026, 1, 1)
    editor.target_area.value, editor.new_target.value = "dorchester", "0.9"
    editor.change.click()
    assert "differs only in capitals from the stored area" in editor.target_message.value
    assert state(city) == before
    assert panel.area.options == editor.target_area.options == ("Dorchester",)


def test_the_upload_preview_names_the_refused_rows(city: Kit) -> None:
    plan = city.preview_values(csv_forms(["Calls,2026-10-31,dorchester,9,10"])["comma"])
    assert not plan.ok
    assert plan.rejected[["line", "column"]].to_numpy().tolist() == [[2, "area"]]


def sync_source(path: Path, calls_hood: str, permits_hood: str) -> dict:
    """A SQLite source with one day of calls and of permits, each in one neighbourhood."""
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE calls (day DATE, hood TEXT, ok INT, n INT)"))
        conn.execute(
            sa.text("INSERT INTO calls VALUES ('2026-10-31', :h, 9, 10)"), {"h": calls_hood}
        )
        conn.execute(sa.text("CREATE TABLE permits (day DATE, hood TEXT, n INT)"))
        conn.execute(
            sa.text("INSERT INTO permits VALUES ('2026-10-31', :h, 4)"), {"h": permits_hood}
        )
    engine.dispose()
    columns = {"date": "day", "area": "hood"}
    calls = {"numerator": "ok", "denominator": "n", **columns}
    return {
        "sources": {"db": {"url": url}},
        "metrics": {
            "Calls": {"table": "calls", "start": "2026-10-01", "columns": calls},
            "Permits": {
                "table": "permits",
                "start": "2026-10-01",
                "columns": {"value": "n", **columns},
            },
        },
    }


def test_sync_refuses_another_spelling_of_a_stored_area(city: Kit, tmp_path: Path) -> None:
    config = sync_source(tmp_path / "source.db", "DorChester", "Dorchester")
    before = state(city)
    with pytest.raises(
        ValidationError, match='"DorChester" differs only in capitals from the stored'
    ):
        city.sync(config, end="2026-10-31")
    assert state(city) == before


def test_sync_refuses_two_spellings_across_its_metrics_and_reads_stored_areas_once(
    city: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[int] = []
    stored_areas = city.store.areas
    monkeypatch.setattr(city.store, "areas", lambda: asked.append(1) or stored_areas())
    before = state(city)
    with pytest.raises(ValidationError, match='"ROXBURY" differs only in capitals from'):
        city.sync(sync_source(tmp_path / "one.db", "Roxbury", "ROXBURY"), end="2026-10-31")
    assert state(city) == before
    assert len(asked) == 1
    results = city.sync(sync_source(tmp_path / "two.db", "Roxbury", "Roxbury"), end="2026-10-31")
    assert [r.inserted for r in results] == [1, 1]
    assert city.areas() == ["Dorchester", "Roxbury"]


# --- the command line ---------------------------------------------------------------------------


@pytest.mark.slow
def test_the_cli_prints_one_clear_message_and_exits_non_zero(city: Kit, tmp_path: Path) -> None:
    db = city.store.engine.url.database
    city.store.engine.dispose()
    path = tmp_path / "values.csv"
    path.write_bytes(
        csv_forms(["Calls,2026-10-31,Dorchester,9,10", "Calls,2026-10-29,dorchester,8,10"])["comma"]
    )
    env = {k: v for k, v in os.environ.items() if k != "CITYSCORE_DB"}
    result = subprocess.run(
        [CLI, "--db", f"sqlite:///{db}", "values", "import", str(path)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith("cityscore: error: values.csv: 1 of 2 row(s) rejected")
    assert "nothing was written" in result.stderr
    assert (
        'line 3, column area: "dorchester" differs only in capitals from the stored area '
        '"Dorchester"; write it the same way'
    ) in result.stderr
    assert "line 2," not in result.stderr
    again = Kit(f"sqlite:///{db}")
    assert again.observations(areas=True)["area"].tolist() == ["Dorchester"]
