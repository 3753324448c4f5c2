"""The area catalog: areas.csv imported with its checks, dry run and undo; values, targets and syncs
that name an area not in it refused with the closest names (``East Port`` beside ``Eastport``
too); ``add_areas`` / ``--add-areas`` adding areas on purpose and saying which; an open catalog
(no areas.csv yet) growing with the rows; an older database gaining a catalog of its areas."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from cityscore import Kit, StoreError, ValidationError
from cityscore.cli.main import main
from cityscore.core.settings import TEMPLATES_DIR
from cityscore.io.area_names import area_key, closest_areas

METRICS = b"name,direction,kind,target\nCalls,higher,ratio,0.8\nPermits,higher,value,10\n"
AREAS = (
    b"name,code,population,geometry,parent\n"
    b"Eastport,EP,12000,EP-1,North\n"
    b'Back Bay,BB,"18,500",,Central\n'
    b"Roxbury,RX,49111,,Central\n"
)


@pytest.fixture
def declared(city: Kit) -> Kit:
    """The two metrics and a declared catalog of three areas."""
    city.import_areas(AREAS)
    return city


def problems_of(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[int, str, str]]:
    rows = exc.value.problems
    return list(zip(rows["line"], rows["column"], rows["reason"], strict=True))


def state(kit: Kit) -> tuple[str, str, str, int]:
    """Every stored value, target and catalog row, and how many batches there are."""
    return (
        kit.observations(areas=True).to_csv(index=False),
        kit.targets(areas=True).to_csv(index=False),
        kit.area_catalog().to_csv(index=False),
        len(kit.store.batches()),
    )


# --- areas.csv ------------------------------------------------------------------------------------


def test_an_areas_import_dry_runs_imports_and_undoes(city: Kit) -> None:
    before = state(city)
    dry = city.import_areas(AREAS, dry_run=True)
    assert (dry.inserted, dry.updated, dry.dry_run) == (3, 0, True)
    assert "would insert 3" in str(dry) and "Eastport: code=EP, population=12000" in str(dry)
    assert state(city) == before
    first = city.import_areas(AREAS)
    catalog = city.area_catalog()
    assert catalog["name"].tolist() == ["Back Bay", "Eastport", "Roxbury"]
    assert catalog["population"].tolist() == [18500.0, 12000.0, 49111.0]
    assert catalog["geometry"].tolist() == ["", "EP-1", ""]
    assert catalog["parent"].tolist() == ["Central", "North", "Central"]
    assert city.area_populations().to_dict() == {
        "Back Bay": 18500,
        "Eastport": 12000,
        "Roxbury": 49111,
    }
    again = city.import_areas(AREAS)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    changed = city.import_areas(b"name,population\nEastport,12500\n")
    assert (changed.inserted, changed.updated) == (0, 1)
    assert city.area_populations()["Eastport"] == 12500
    assert city.area_catalog().set_index("name").loc["Eastport", "code"] == "EP"  # kept
    city.undo(changed.batch_id)
    assert city.area_populations()["Eastport"] == 12000
    assert city.undo(first.batch_id).deleted == 3
    assert city.area_catalog().empty


def test_bad_area_rows_are_all_named_and_nothing_is_written(city: Kit) -> None:
    before = state(city)
    bad = (
        b"name,code,population\n"
        b"Eastport,EP,12000\n"
        b"East Port,XX,-5\n"  # one area written two ways, and a negative population
        b"Back Bay,EP,many\n"  # a code taken, and no number
        b",ZZ,\n"
        b"=cmd(),,\n"
    )
    with pytest.raises(ValidationError) as exc:
        city.import_areas(bad)
    found = {(line, column) for line, column, _ in problems_of(exc)}
    assert found == {
        (3, "name"), (3, "population"), (4, "code"), (4, "population"), (5, "name"), (6, "name")
    }  # fmt: skip
    reasons = dict(((line, column), reason) for line, column, reason in problems_of(exc))
    assert '"Eastport" written another way (line 2)' in reasons[(3, "name")]
    assert "line 2" in reasons[(4, "code")]
    assert state(city) == before


def test_an_area_in_the_catalog_cannot_be_renamed_by_another_spelling(city: Kit) -> None:
    city.import_values(b"metric,date,area,value\nPermits,2026-10-30,Eastport,4\n")
    with pytest.raises(ValidationError, match='stored area "Eastport"'):
        city.import_areas(b"name,population\nEast-Port,100\n")


def test_an_areas_import_whose_new_area_has_values_since_cannot_be_undone(declared: Kit) -> None:
    batch = int(declared.batches()["id"].max())
    declared.import_values(b"metric,date,area,value\nPermits,2026-10-30,Roxbury,4\n")
    with pytest.raises(
        StoreError, match=r"added area\(s\) \['Roxbury'\].*undo those batches first"
    ):
        declared.undo(batch)


# --- unknown areas refused ----------------------------------------------------------------------


def test_values_naming_an_unknown_or_misspelt_area_are_refused_with_the_closest(
    declared: Kit,
) -> None:
    before = state(declared)
    data = (
        b"metric,date,area,value\n"
        b"Permits,2026-10-30,Eastport,4\n"  # in the catalog: fine
        b"Permits,2026-10-30,East Port,4\n"
        b"Permits,2026-10-30,Roxbry,4\n"
        b"Permits,2026-10-30,back-bay,4\n"
        b"Permits,2026-10-30,Mattapan,4\n"
    )
    with pytest.raises(ValidationError) as exc:
        declared.import_values(data)
    found = problems_of(exc)
    assert [(line, column) for line, column, _ in found] == [
        (3, "area"),
        (4, "area"),
        (5, "area"),
        (6, "area"),
    ]
    assert 'differs only in capitals, spaces or punctuation from "Eastport"' in found[0][2]
    assert found[1][2].startswith(
        'unknown area "Roxbry": not in the area catalog (areas.csv); closest: "Roxbury"'
    )
    assert '"Back Bay"' in found[2][2]
    assert 'unknown area "Mattapan"' in found[3][2] and "--add-areas" in found[3][2]
    assert state(declared) == before
    plan = declared.preview_values(data)
    assert not plan.ok and plan.rejected["line"].tolist() == [3, 4, 5, 6]


def test_targets_and_the_entry_calls_refuse_an_unknown_area(declared: Kit) -> None:
    before = state(declared)
    with pytest.raises(ValidationError) as exc:
        declared.import_targets(
            b"metric,effective_from,target,area\nCalls,2026-01-01,0.9,Eastpor\n"
        )
    ((line, column, reason),) = problems_of(exc)
    assert (line, column) == (2, "area") and 'closest: "Eastport"' in reason
    with pytest.raises(ValidationError, match='unknown area "Dorchester"'):
        declared.enter("Permits", "2026-10-30", value=3, area="Dorchester")
    with pytest.raises(ValidationError, match='from "Roxbury"'):
        declared.set_target("Calls", "2026-01-01", 0.9, area="ROX BURY")
    assert state(declared) == before


def test_add_areas_adds_new_areas_on_purpose_and_says_which(declared: Kit) -> None:
    data = (
        b"metric,date,area,value\nPermits,2026-10-30,Mattapan,4\nPermits,2026-10-30,Dorchester,5\n"
    )
    dry = declared.import_values(data, dry_run=True, add_areas=True)
    assert dry.added_areas == ("Dorchester", "Mattapan")
    assert "would add 2 new area(s) to the area catalog: Dorchester, Mattapan" in str(dry)
    assert "Mattapan" not in declared.area_catalog()["name"].tolist()
    result = declared.import_values(data, add_areas=True)
    assert "added 2 new area(s) to the area catalog: Dorchester, Mattapan" in str(result)
    assert declared.area_catalog()["name"].tolist() == [
        "Back Bay",
        "Dorchester",
        "Eastport",
        "Mattapan",
        "Roxbury",
    ]
    assert pd.isna(declared.area_catalog().set_index("name").loc["Mattapan", "population"])
    target = declared.set_target("Calls", "2026-01-01", 0.9, area="Hyde Park", add_areas=True)
    assert target.added_areas == ("Hyde Park",)
    with pytest.raises(ValidationError, match='from "Eastport"'):  # never a second spelling
        declared.import_values(
            b"metric,date,area,value\nPermits,2026-10-30,East-Port,4\n", add_areas=True
        )
    declared.undo(result.batch_id)  # the areas it added go with it
    assert "Mattapan" not in declared.area_catalog()["name"].tolist()


def test_an_open_catalog_grows_with_the_rows_and_still_refuses_a_second_spelling(city: Kit) -> None:
    """No areas.csv imported: the first area rows make the catalog, and say so."""
    first = city.import_values(b"metric,date,area,value\nPermits,2026-10-30,Eastport,4\n")
    assert first.added_areas == ("Eastport",) and "added 1 new area(s)" in str(first)
    assert city.import_values(
        b"metric,date,area,value\nPermits,2026-10-31,Roxbury,4\n"
    ).added_areas == ("Roxbury",)
    with pytest.raises(ValidationError, match='from "Eastport"'):
        city.import_values(b"metric,date,area,value\nPermits,2026-10-31,East Port,4\n")
    with pytest.raises(ValidationError, match=r'"Back Bay" and "BackBay" \(line 3\) in this file'):
        city.import_values(
            b"metric,date,area,value\nPermits,2026-10-31,Back Bay,4\nPermits,2026-10-31,BackBay,4\n"
        )
    assert city.area_catalog()["name"].tolist() == ["Eastport", "Roxbury"]


def sql_source(path: Path, hoods: list[str]) -> dict:
    """A SQLite source of one day's permits in each of ``hoods``."""
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE permits (day DATE, hood TEXT, n INT)"))
        for hood in hoods:
            conn.execute(sa.text("INSERT INTO permits VALUES ('2026-10-31', :h, 4)"), {"h": hood})
    engine.dispose()
    return {
        "sources": {"db": {"url": f"sqlite:///{path}"}},
        "metrics": {
            "Permits": {
                "table": "permits",
                "start": "2026-10-01",
                "columns": {"date": "day", "area": "hood", "value": "n"},
            }
        },
    }


def test_a_sync_naming_an_unknown_area_is_refused_with_the_closest(
    declared: Kit, tmp_path: Path
) -> None:
    config = sql_source(tmp_path / "source.db", ["Eastport", "East Port", "Roxbery / Highlands"])
    before = state(declared)
    with pytest.raises(ValidationError) as exc:
        declared.sync(config, end="2026-10-31")
    reasons = [reason for _, _, reason in problems_of(exc)]
    assert len(reasons) == 2
    assert 'from "Eastport"' in reasons[0]
    assert 'unknown area "Roxbery / Highlands"' in reasons[1] and '"Roxbury"' in reasons[1]
    assert state(declared) == before
    fine = sql_source(tmp_path / "fine.db", ["Eastport", "Hyde Park"])
    (result,) = declared.sync(fine, end="2026-10-31", add_areas=True)
    assert result.inserted == 2 and result.added_areas == ("Hyde Park",)


# --- an older database --------------------------------------------------------------------------


def test_an_existing_database_gains_a_catalog_of_the_areas_it_holds(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    kit = Kit(url)
    kit.init()
    kit.import_metrics(METRICS)
    kit.import_values(
        b"metric,date,area,value\nPermits,2026-10-30,Roxbury,4\nPermits,2026-10-30,,9\n"
    )
    kit.import_targets(b"metric,effective_from,target,area\nPermits,2026-01-01,8,Back Bay\n")
    with kit.store.engine.begin() as conn:  # as a kit from before the catalog left it
        conn.execute(sa.text("DROP TABLE superseded_areas"))
        conn.execute(sa.text("DROP TABLE areas"))
    kit.close()
    older = Kit(url)
    catalog = older.area_catalog()
    assert catalog["name"].tolist() == ["Back Bay", "Roxbury"]
    assert catalog["population"].isna().all() and (catalog["geometry"] == "").all()
    assert older.area_populations().empty
    with pytest.raises(ValidationError, match='"Roxbury"'):  # a second spelling of a stored area
        older.import_values(b"metric,date,area,value\nPermits,2026-10-31,Rox bury,4\n")
    older.close()


# --- the command line ---------------------------------------------------------------------------


def run_cli(capsys: pytest.CaptureFixture[str], db: str, *args: str) -> tuple[int, str, str]:
    code = main(["--db", db, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_areas_command_imports_lists_exports_and_refuses(
    city: Kit, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = city.url
    city.close()
    areas = tmp_path / "areas.csv"
    areas.write_bytes(AREAS)
    code, out, _ = run_cli(capsys, db, "areas", "import", str(areas), "--dry-run")
    assert code == 0 and "(dry run: nothing written)" in out and "would insert 3" in out
    code, out, _ = run_cli(capsys, db, "areas", "list")
    assert code == 0 and "the area catalog is empty" in out
    assert run_cli(capsys, db, "areas", "import", str(areas))[0] == 0
    code, out, _ = run_cli(capsys, db, "areas", "list")
    assert code == 0 and "Eastport" in out and "18,500" in out and "EP-1" in out
    exported = tmp_path / "out" / "areas.csv"
    assert run_cli(capsys, db, "areas", "export", "--out", str(exported))[0] == 0
    again = run_cli(capsys, db, "areas", "import", str(exported))
    assert again[0] == 0 and "0 inserted, 0 updated, 3 unchanged" in again[1]
    values = tmp_path / "values.csv"
    values.write_text("metric,date,area,value\nPermits,2026-10-30,Mattapn,4\n", encoding="utf-8")
    problems = tmp_path / "problems.csv"
    code, out, err = run_cli(
        capsys, db, "values", "import", str(values), "--problems", str(problems)
    )
    assert code == 1 and 'unknown area "Mattapn"' in err and "Traceback" not in err
    assert "--add-areas" in problems.read_text(encoding="utf-8")
    code, out, err = run_cli(capsys, db, "values", "import", str(values), "--add-areas")
    assert code == 0 and "added 1 new area(s) to the area catalog: Mattapn" in out, err
    bad = tmp_path / "bad.csv"
    bad.write_text("name,population\nSouth End,lots\n", encoding="utf-8")
    code, _, err = run_cli(capsys, db, "areas", "import", str(bad))
    assert code == 1 and "line 2, column population" in err


def test_the_starter_areas_csv_imports(city: Kit) -> None:
    result = city.import_areas(TEMPLATES_DIR / "areas.csv")
    assert result.inserted == 2 and city.area_populations().sum() > 0


def test_area_keys_and_the_closest_names() -> None:
    assert (
        area_key("East Port")
        == area_key("eastport")
        == area_key("East-Port")
        == area_key("ÉAST PORT")
    )
    assert area_key("Roxbury") != area_key("Roxbury Crossing")
    assert closest_areas("Roxbry", ["Roxbury", "Back Bay", "Eastport"]) == ["Roxbury"]
    assert closest_areas("Zzz", ["Roxbury"]) == []


@pytest.mark.postgres
def test_the_catalog_on_postgresql(pg_kit: Kit) -> None:
    """Import, refusal with the closest names, --add-areas and undo, and an older database's
    catalog, on PostgreSQL."""
    kit = pg_kit
    kit.import_metrics(METRICS)
    kit.import_values(b"metric,date,area,value\nPermits,2026-10-29,Mattapan,4\n")
    with kit.store.engine.begin() as conn:  # as a kit from before the catalog left it
        conn.execute(sa.text("DROP TABLE superseded_areas"))
        conn.execute(sa.text("DROP TABLE areas"))
    kit.close()
    kit = Kit(kit.url)
    assert kit.area_catalog()["name"].tolist() == ["Mattapan"]
    areas = kit.import_areas(AREAS)
    assert areas.inserted == 3
    with pytest.raises(ValidationError, match='closest: "Roxbury"'):
        kit.import_values(b"metric,date,area,value\nPermits,2026-10-30,Roxbry,4\n")
    added = kit.import_values(
        b"metric,date,area,value\nPermits,2026-10-30,Dorchester,4\n", add_areas=True
    )
    assert added.added_areas == ("Dorchester",)
    kit.undo(added.batch_id)
    kit.undo(areas.batch_id)
    assert kit.area_catalog()["name"].tolist() == ["Mattapan"]
    kit.close()
