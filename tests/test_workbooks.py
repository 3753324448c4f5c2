"""Workbooks (Excel ``.xlsx``, OpenDocument ``.ods``) are imported as their first sheet's rows: the
same checks, the same messages (line N is row N of the sheet), the same stored rows as the CSV twin
of the sheet."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from cityscore import Kit, ValidationError
from cityscore.io import workbook

CLI = shutil.which("cityscore", path=str(Path(sys.executable).parent)) or "cityscore"
METRICS = (
    b"name,direction,kind,target\n"
    b"Library Users,higher,value,100\n"
    b"Pothole Repairs On Time,higher,ratio,0.9\n"
)
HEADER = ["metric", "date", "value", "numerator", "denominator", "area"]
ROWS = [
    ["Library Users", dt.date(2026, 10, 29), 120, None, None, None],
    ["Library Users", dt.datetime(2026, 10, 30, 9, 30), 2.675, None, None, "North"],
    ["Pothole Repairs On Time", "2026-10-30", None, 45, 50, None],  # a date typed as text
    ["Pothole Repairs On Time", dt.date(2026, 10, 31), None, 7.0, 8, "North"],
]


def workbook_bytes(rows: list[list[object]], *sheets: str) -> bytes:
    """A workbook whose first sheet holds ``rows`` (more, empty sheets after it if named)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Values"
    for row in rows:
        sheet.append(row)
    for name in sheets:
        book.create_sheet(name)["A1"] = "notes, not data"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_twin(rows: list[list[object]], date_format: str = "%Y-%m-%d") -> bytes:
    """The rows as a CSV file, written by hand: dates in ``date_format``, numbers as Python prints
    them, empty cells empty."""

    def text(cell: object) -> str:
        if cell is None:
            return ""
        if isinstance(cell, dt.date):
            return cell.strftime(date_format)
        return str(cell)

    return "".join(",".join(text(c) for c in row) + "\n" for row in rows).encode()


def stored(kit: Kit) -> str:
    return kit.observations(areas=True).to_csv(index=False)


def test_a_workbook_stores_what_its_csv_twin_stores(city: Kit, tmp_path: Path) -> None:
    result = city.import_values(workbook_bytes([HEADER, *ROWS], "Notes"))
    assert (result.inserted, result.updated) == (4, 0)
    from_workbook = stored(city)
    twin = Kit(f"sqlite:///{tmp_path / 'twin.db'}")
    twin.init()
    twin.import_metrics(METRICS)
    twin.import_values(csv_twin([HEADER, *ROWS]))
    assert from_workbook == stored(twin)
    values = city.observations(areas=True).set_index(["metric", "area"])
    assert values.loc[("Library Users", "North"), "value"] == 2.675  # to the last bit
    again = city.import_values(workbook_bytes([HEADER, *ROWS]))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    assert stored(city) == from_workbook


def test_bad_rows_are_named_by_their_sheet_row_and_nothing_is_written(city: Kit) -> None:
    rows = [HEADER, ROWS[0], [], ["Library Users", dt.date(2026, 10, 30), "n/a"], ROWS[2]]
    rows.append(["Unknown metric", dt.date(2026, 10, 30), 5])
    with pytest.raises(ValidationError) as exc:
        city.import_values(workbook_bytes(rows))
    found = exc.value.problems[["line", "column"]].values.tolist()
    assert found == [[4, "value"], [6, "metric"]]  # row 3 is empty and skipped
    assert city.observations().empty


def test_date_cells_follow_the_import_date_format(city: Kit) -> None:
    """Date cells are written in the given format, so they read back beside dates typed as text
    in that format (here day/month/year); targets too."""
    rows = [HEADER[:3], ["Library Users", dt.date(2026, 10, 29), 5]]
    rows.append(["Library Users", "30/10/2026", 6])
    city.import_values(workbook_bytes(rows), date_format="%d/%m/%Y")
    dates = city.observations()["date"].dt.date.tolist()
    assert dates == [dt.date(2026, 10, 29), dt.date(2026, 10, 30)]
    targets = [["metric", "effective_from", "target"], ["Library Users", dt.date(2026, 1, 1), 90]]
    city.import_targets(workbook_bytes(targets), date_format="%d/%m/%Y")
    mine = city.targets().query("metric == 'Library Users'")
    assert mine["target"].tolist()[-1] == 90.0


def test_a_metrics_workbook_is_read_too(kit: Kit) -> None:
    rows = [["name", "direction", "kind", "target"], ["Library Users", "higher", "value", 100]]
    kit.import_metrics(workbook_bytes(rows))
    assert kit.metrics()["name"].tolist() == ["Library Users"]


def test_cells_become_exact_text() -> None:
    assert workbook.cell_text(None) == ""
    assert workbook.cell_text(0.1 + 0.2) == "0.30000000000000004"
    assert float(workbook.cell_text(5e-324)) == 5e-324
    assert workbook.cell_text(12) == "12"
    assert workbook.cell_text(True) == "TRUE"
    assert workbook.cell_text(dt.datetime(2026, 10, 30, 23, 59), "%m/%d/%Y") == "10/30/2026"
    assert workbook.cell_text(" Library Users ") == " Library Users "  # stripped by the loader


def test_damaged_and_old_excel_files_get_one_clear_message(city: Kit) -> None:
    good = workbook_bytes([HEADER, ROWS[0]])
    damaged = good[: len(good) // 2]  # a zip cut short
    broken = good.replace(b"xl/worksheets/sheet1.xml", b"xl/worksheets/sheetX.xml")
    old = workbook.OLE_MAGIC + b"\x00" * 600
    messages = {}
    for name, data in {"broken": broken, "old": old, "damaged": damaged}.items():
        with pytest.raises(ValidationError) as exc:
            city.import_values(data)
        messages[name] = str(exc.value)
    for name in ("broken", "damaged"):
        assert (
            "line 1, column file: the file is a zip archive, as an Excel workbook" in messages[name]
        )
        assert "cannot be read as one" in messages[name]
        assert "spreadsheet and save it again, or save it as CSV UTF-8" in messages[name]
    assert "old Excel 97-2003 workbook (.xls) or a password-protected one" in messages["old"]
    assert (
        "save it as an Excel Workbook (.xlsx) without a password, or as CSV UTF-8"
        in messages["old"]
    )
    assert city.observations().empty


@pytest.mark.slow
def test_the_cli_imports_a_workbook_and_says_so_plainly(city: Kit, tmp_path: Path) -> None:
    path = tmp_path / "values.xlsx"
    path.write_bytes(workbook_bytes([HEADER, *ROWS]))
    url = city.store.url
    done = subprocess.run(
        [CLI, "--db", url, "values", "import", str(path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    # The city has no areas.csv yet (an open catalog): the workbook's area is added and named.
    assert done.stdout.strip() == (
        "values.xlsx: 4 inserted, 0 updated, 0 unchanged (batch 2); "
        "added 1 new area(s) to the area catalog: North"
    )
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook_bytes([HEADER, ["Library Users", "not a date", 1]]))
    done = subprocess.run(
        [CLI, "--db", url, "values", "import", str(bad)], capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "line 2, column date" in done.stderr


def test_the_upload_panel_previews_and_imports_a_workbook(city: Kit) -> None:
    from cityscore.apps.widgets import CsvUpload

    from .test_widgets_entry import upload

    panel = CsvUpload(city)
    assert ".xlsx" in panel.upload.accept.split(",")
    upload(panel, "values.xlsx", workbook_bytes([HEADER, *ROWS]))
    assert "4 to insert, 0 to update, 0 unchanged" in panel.preview.value
    assert city.observations().empty  # the preview wrote nothing
    panel.confirm.click()
    assert "values.xlsx: 4 inserted" in panel.message.value
    upload(panel, "bad.xlsx", workbook_bytes([HEADER, ["Library Users", "someday", 3]]))
    assert panel.confirm.disabled and "1 row(s) rejected" in panel.preview.value
    assert "<td>2</td>" in panel.preview.value  # the sheet's row
    assert "not a valid date in YYYY-MM-DD form" in panel.preview.value


def test_the_first_visible_worksheet_is_read(city: Kit) -> None:
    """A hidden sheet and a chart sheet before the data are passed over; a workbook whose every
    worksheet is hidden is refused with a message."""
    book = openpyxl.Workbook()
    old = book.active
    old.title, old.sheet_state = "old", "hidden"
    old.append(HEADER[:3])
    old.append(["Library Users", dt.date(2026, 10, 29), 999])
    book.create_chartsheet("Chart", 1)
    current = book.create_sheet("current")
    current.append(HEADER[:3])
    current.append(["Library Users", dt.date(2026, 10, 29), 5])
    out = io.BytesIO()
    book.save(out)
    assert workbook.read_sheet(out.getvalue()).name == "current"
    city.import_values(out.getvalue())
    assert city.observations()["value"].tolist() == [5.0]
    current.sheet_state = "hidden"
    book.active = 0
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(ValidationError, match="the workbook has no visible worksheet"):
        city.import_values(out.getvalue())


def test_a_cell_with_a_line_break_keeps_the_rows_numbered(city: Kit) -> None:
    """A line break typed in a cell (Alt+Enter) makes that row take two lines of CSV text; the
    messages still name the sheet's rows."""
    rows = [HEADER, ["Library Users", dt.date(2026, 10, 28), 3, None, None, "North\nEnd"]]
    rows.append(["Library Users", "someday", 4])
    with pytest.raises(ValidationError) as exc:
        city.import_values(workbook_bytes(rows))
    found = exc.value.problems[["line", "column"]].values.tolist()
    assert found == [[2, "area"], [3, "date"]]


def test_a_number_typed_as_text_with_a_comma_is_refused_not_guessed(city: Kit) -> None:
    """1,250 typed as text is a thousand and more in one country and one and a quarter in the
    next; a number cell is never in doubt."""
    rows = [HEADER[:3], ["Library Users", dt.date(2026, 10, 28), "1,250"]]
    rows += [["Library Users", dt.date(2026, 10, 29), "12,5"]]
    rows += [["Library Users", dt.date(2026, 10, 30), 1250.5], ["Library Users", "2026-10-31", "7"]]
    with pytest.raises(ValidationError) as exc:
        city.import_values(workbook_bytes(rows))
    found = exc.value.problems[["line", "column", "value"]].values.tolist()
    assert found == [[2, "value", "1,250"], [3, "value", "12,5"]]
    assert "format the cell as a Number" in str(exc.value)
    assert city.observations().empty
    city.import_values(workbook_bytes([rows[0], *rows[3:]]))
    assert city.observations()["value"].tolist() == [1250.5, 7.0]


def test_an_opendocument_spreadsheet_stores_what_its_csv_twin_stores(
    city: Kit, tmp_path: Path
) -> None:
    """LibreOffice's own format (.ods), written here by pandas through odfpy."""
    import pandas as pd

    frame = pd.DataFrame(ROWS, columns=HEADER)
    out = io.BytesIO()
    frame.to_excel(out, engine="odf", index=False)
    assert workbook.is_workbook(out.getvalue())
    result = city.import_values(out.getvalue())
    assert (result.inserted, result.updated) == (4, 0)
    twin = Kit(f"sqlite:///{tmp_path / 'twin.db'}")
    twin.init()
    twin.import_metrics(METRICS)
    twin.import_values(csv_twin([HEADER, *ROWS]))
    assert stored(city) == stored(twin)
    bad = pd.DataFrame([["Library Users", "someday", 1.0]], columns=HEADER[:3])
    out = io.BytesIO()
    bad.to_excel(out, engine="odf", index=False)
    with pytest.raises(ValidationError, match="line 2, column date"):
        city.import_values(out.getvalue())


def test_an_error_cell_reads_as_empty_and_the_message_says_why(city: Kit) -> None:
    """python-calamine gives no value for a cell showing #DIV/0! (nor for a formula never
    calculated): the row is refused as empty, and the message says what such a cell may be."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["metric", "date", "value"])
    sheet.append(["Library Users", "2026-10-29", 120])
    sheet.append(["Library Users", "2026-10-30", "#DIV/0!"])
    sheet["C3"].data_type = "e"  # an error cell, as Excel saves one
    sheet.append(["Library Users", "2026-10-31", "=1/0"])  # a formula with no saved result
    data = io.BytesIO()
    book.save(data)
    with pytest.raises(ValidationError) as caught:
        city.import_values(data.getvalue())
    assert caught.value.problems["line"].tolist() == [3, 4]
    assert "#DIV/0!" in str(caught.value) and caught.value.note
    with pytest.raises(ValidationError) as plain:  # the same rows as CSV: no word of workbooks
        city.import_values(b"metric,date,value\nLibrary Users,2026-10-30,\n")
    assert plain.value.note == "" and "workbook" not in str(plain.value)
    assert city.observations().empty
