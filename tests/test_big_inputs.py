"""Inputs that could exhaust the machine: workbooks whose sheets reach far or inflate like zip
bombs, values files larger than memory, headers of 100,000 columns. Each is refused or read in
bounded memory, with a message saying what to do."""

from __future__ import annotations

import io
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from cityscore import ValidationError
from cityscore.io import sheet_size, streaming
from cityscore.io.csvtext import read_rows, read_text
from cityscore.io.load import load_values

CLI = str(Path(sys.executable).with_name("cityscore"))
MEMORY_LIMIT = 2 << 30  # bytes of address space the importing process gets in these tests


def _limited() -> None:
    """In the child: a cap on its memory, so a reader that allocates without bound fails there."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _import(path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    db = f"sqlite:///{tmp_path / 'city.db'}"
    subprocess.run([CLI, "--db", db, "demo"], capture_output=True, check=True, timeout=120)
    return subprocess.run(
        [CLI, "--db", db, "values", "import", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limited,
    )


def _far_cell_workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Values"
    sheet["A1"] = "metric"
    sheet["XFD1048576"] = 1
    book.save(path)
    return path


def _rewritten(path: Path, part: str, change) -> bytes:
    """The zip at ``path`` with ``part`` replaced by ``change(its bytes)``."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, change(data) if info.filename == part else data)
    return out.getvalue()


def test_a_tiny_xlsx_reaching_cell_xfd1048576_is_refused_not_read(tmp_path: Path):
    path = _far_cell_workbook(tmp_path / "far.xlsx")
    assert path.stat().st_size < 10_000
    result = _import(path, tmp_path)
    assert result.returncode == 1, result.stderr[-500:]
    assert "reaches row 1,048,576 and column XFD" in result.stderr
    assert "save the data as CSV UTF-8" in result.stderr
    assert "internal error" not in result.stderr


def test_a_sheet_whose_dimension_hides_its_far_cell_is_still_measured(tmp_path: Path):
    path = _far_cell_workbook(tmp_path / "far.xlsx")
    lying = _rewritten(
        path, "xl/worksheets/sheet1.xml", lambda x: x.replace(b"A1:XFD1048576", b"A1:A1")
    )
    with zipfile.ZipFile(io.BytesIO(lying)) as book:
        xml = book.read("xl/worksheets/sheet1.xml")
    assert b'ref="A1:A1"' in xml and b'r="XFD1048576"' in xml  # declared small, a cell far off
    with pytest.raises(ValidationError, match="reaches row 1,048,576 and column XFD"):
        read_text(lying)


def test_an_xlsx_that_inflates_like_a_zip_bomb_is_refused(tmp_path: Path):
    path = tmp_path / "small.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"] = "metric"
    book.save(path)
    padding = b" " * (40 << 20)  # 40 MB of spaces inside the sheet's XML: about 40 KB zipped
    bomb = _rewritten(
        path,
        "xl/worksheets/sheet1.xml",
        lambda x: x.replace(b"<sheetData>", b"<sheetData>" + padding),
    )
    assert len(bomb) < 200_000
    with pytest.raises(ValidationError, match="inflates to more than"):
        read_text(bomb)


def test_an_ods_row_repeated_past_the_formats_last_row_is_refused(tmp_path: Path):
    out = tmp_path / "values.ods"
    frame = pd.DataFrame({"metric": ["EMS"], "date": ["2024-01-01"], "value": [1.0]})
    frame.to_excel(out, engine="odf", index=False)

    def repeat_second_row(content: bytes) -> bytes:
        second = content.find(b"<table:table-row>", content.find(b"</table:table-row>"))
        opened = b'<table:table-row table:number-rows-repeated="2700000">'
        return content[:second] + opened + content[second + len(b"<table:table-row>") :]

    bomb = _rewritten(out, "content.xml", repeat_second_row)
    assert len(bomb) < 10_000
    with pytest.raises(ValidationError, match="reaches row 2,700,001"):
        read_text(bomb)


def test_an_ods_with_librelffices_empty_rows_to_the_end_still_reads(tmp_path: Path):
    out = tmp_path / "values.ods"
    frame = pd.DataFrame({"metric": ["EMS"], "date": ["2024-01-01"], "value": [1.0]})
    frame.to_excel(out, engine="odf", index=False)
    empty_rows = (
        b'<table:table-row table:number-rows-repeated="1048574">'
        b'<table:table-cell table:number-columns-repeated="1024"/></table:table-row></table:table>'
    )
    padded = _rewritten(out, "content.xml", lambda x: x.replace(b"</table:table>", empty_rows, 1))
    sheet_size.check_workbook(padded)  # empty repeated rows reach no further than the data
    assert "EMS,2024-01-01,1.0" in read_text(padded)


def test_an_ordinary_workbook_is_measured_and_read(tmp_path: Path):
    path = tmp_path / "values.xlsx"
    frame = pd.DataFrame(
        {"metric": ["EMS Response Time"] * 500, "date": ["2024-01-01"] * 500, "value": range(500)}
    )
    frame.to_excel(path, index=False)
    sheet_size.check_workbook(path.read_bytes())
    assert read_text(path).count("\n") == 501


def test_a_header_of_100000_columns_is_checked_in_linear_time():
    header = ",".join(f"c{i}" for i in range(100_000)) + ",c7\n"  # one repeated, at the end
    started = time.perf_counter()
    with pytest.raises(ValidationError) as refused:
        read_rows(header.encode(), ["metric", "date"], ["value"])
    assert time.perf_counter() - started < 1.0
    reasons = " ".join(refused.value.problems["reason"])
    assert "'c7' appears more than once" in reasons
    assert "missing column(s) ['metric', 'date']" in reasons
    assert "the header has 100,001 columns" in reasons


# --- a values file read in parts -----------------------------------------------------------------

METRIC_NAMES = ["Repairs", "Permits", "Calls, answered"]  # one name needs quotes in CSV


def _values_file(path: Path, days: int = 1500, bad: dict[int, str] | None = None) -> list[str]:
    """A values.csv of every metric on ``days`` days; ``bad`` puts a bad date on those lines.
    Returns its lines (line 1 is the header)."""
    lines = ["metric,date,value"]
    start = pd.Timestamp("2015-01-01")
    for m, name in enumerate(METRIC_NAMES):
        shown = f'"{name}"' if "," in name else name
        lines += [
            f"{shown},{(start + pd.Timedelta(days=d)).date()},{(d * 3 + m) % 97 + 0.25}"
            for d in range(days)
        ]
    for line, text in (bad or {}).items():
        metric, _, value = lines[line - 1].rpartition(",")[0].rpartition(",")[0], "", "1"
        lines[line - 1] = f"{metric},{text},{value}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def catalog_kit(request: pytest.FixtureRequest, tmp_path: Path):
    """An empty kit with three value metrics, on SQLite and on PostgreSQL."""
    kit = request.getfixturevalue("kit" if request.param == "sqlite" else "pg_kit")
    metrics = tmp_path / "metrics.csv"
    rows = [f'"{n}",value,higher,50' for n in METRIC_NAMES]
    metrics.write_text("name,kind,direction,target\n" + "\n".join(rows) + "\n", "utf-8")
    kit.import_metrics(metrics)
    return kit


@pytest.fixture
def in_parts(monkeypatch: pytest.MonkeyPatch):
    """Files above 10 KB read in parts of about 20 KB (the real sizes are 64 MB and 16 MB)."""
    monkeypatch.setattr(streaming, "STREAM_BYTES", 10_000)
    monkeypatch.setattr(streaming, "PART_BYTES", 20_000)


def test_a_large_file_read_in_parts_gives_what_the_whole_file_gives(
    catalog_kit, tmp_path, in_parts
):
    path = tmp_path / "values.csv"
    _values_file(path)
    metrics = catalog_kit.metrics()
    parts = list(streaming.ValuesInParts(path, metrics))
    assert len(parts) >= 5
    whole = load_values(path, metrics)
    together = pd.concat(parts, ignore_index=True)
    pd.testing.assert_frame_equal(together, whole, check_dtype=False)

    assert streaming.streams(path)
    result = catalog_kit.import_values(path)
    assert (result.inserted, result.updated) == (len(whole), 0)
    stored = catalog_kit.observations()
    assert len(stored) == len(whole)
    again = catalog_kit.import_values(path)  # the same file: nothing changes
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(whole))


def test_a_dry_run_of_a_large_file_reads_it_in_parts_and_writes_nothing(
    catalog_kit, tmp_path, in_parts, monkeypatch
):
    path = tmp_path / "values.csv"
    lines = _values_file(path)
    read_whole = []
    monkeypatch.setattr(streaming, "streams", lambda *a, **k: read_whole.append(1) is None)
    plan = catalog_kit.import_values(path, dry_run=True)
    assert read_whole  # the dry run took the path in parts
    assert plan.dry_run and plan.batch_id is None
    assert (plan.inserted, plan.updated, plan.unchanged) == (len(lines) - 1, 0, 0)
    assert catalog_kit.observations().empty
    assert catalog_kit.batches()["kind"].tolist() == ["metrics"]  # no values batch
    catalog_kit.import_values(path)
    again = catalog_kit.import_values(path, dry_run=True)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(lines) - 1)


def test_bad_rows_in_any_part_write_nothing_and_are_named_by_their_line(
    catalog_kit, tmp_path, in_parts
):
    path = tmp_path / "values.csv"
    lines = _values_file(path, bad={40: "2015-02-30", 4000: "tomorrow"})
    assert len(path.read_bytes()) > 5 * 20_000  # the second bad row is parts away from the first
    with pytest.raises(ValidationError) as refused:
        catalog_kit.import_values(path)
    problems = refused.value.problems
    assert sorted(problems["line"]) == [40, 4000]
    assert set(problems["value"]) == {"2015-02-30", "tomorrow"}
    assert lines[4000 - 1].split(",")[-2] == "tomorrow"  # the line as the file numbers it
    assert catalog_kit.observations().empty  # all or nothing


def test_the_problems_of_a_large_file_are_bounded(catalog_kit, tmp_path, in_parts, monkeypatch):
    monkeypatch.setattr(streaming, "MAX_PROBLEMS", 5)
    path = tmp_path / "values.csv"
    _values_file(path, bad={line: "soon" for line in range(100, 4000, 100)})
    with pytest.raises(ValidationError) as refused:
        catalog_kit.import_values(path)
    assert len(refused.value.problems) == 5
    assert "39 problems in all; the first 5 are listed" in str(refused.value)
    assert catalog_kit.observations().empty


def test_a_day_given_twice_in_parts_far_apart(catalog_kit, tmp_path, in_parts):
    path = tmp_path / "values.csv"
    lines = _values_file(path)
    same = lines[1]  # Repairs on the first day, given again at the end
    other = same.rpartition(",")[0] + ",999"
    path.write_text("\n".join([*lines, other]) + "\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="given twice in the file with different values"):
        catalog_kit.import_values(path)
    assert catalog_kit.observations().empty  # nothing written
    path.write_text("\n".join([*lines, same]) + "\n", encoding="utf-8")
    result = catalog_kit.import_values(path)
    assert result.inserted == len(lines) - 1  # the repeat with the same value is one day
    assert result.unchanged == 1
    # Again over the stored file: the first part keeps the stored value, the last changes it.
    stored = catalog_kit.observations()
    path.write_text("\n".join([*lines, other]) + "\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="given twice in the file with different values"):
        catalog_kit.import_values(path)
    pd.testing.assert_frame_equal(catalog_kit.observations(), stored)
    changed = [lines[0], other, *lines[2:]]  # one day changed, once: an update
    path.write_text("\n".join(changed) + "\n", encoding="utf-8")
    assert catalog_kit.import_values(path).updated == 1


def test_the_memory_benchmark_runs_at_a_tiny_size(tmp_path: Path):
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_import_memory.py"
    result = subprocess.run(
        [sys.executable, str(script), "--mb", "0.3", "--keep", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "exit 0" in result.stdout and "peak RSS" in result.stdout
    assert (tmp_path / "values.csv").stat().st_size > 250_000
