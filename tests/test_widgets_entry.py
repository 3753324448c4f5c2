"""Data-entry widgets driven headless: set .value, click, read the message and the database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from cityscore import Kit, ValidationError
from cityscore.apps.widgets import (
    Audit,
    CsvUpload,
    ManualEntry,
    MetricEditor,
    SqlServer,
)

METRICS = b"""name,category,direction,kind,aggregation,target
EMS Response,Safety,lower,value,median,6
Potholes On Time,Streets,higher,ratio,,0.9
"""


def upload(panel: CsvUpload, name: str, data: bytes) -> None:
    panel.upload.value = (
        {"name": name, "type": "text/csv", "size": len(data), "content": memoryview(data),
         "last_modified": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)},
    )  # fmt: skip


def test_manual_entry_saves_and_shows_new_scores(city: Kit) -> None:
    panel = ManualEntry(city, default_date=dt.date(2026, 1, 2))
    assert [label for label, _ in panel.metric.options] == [
        "Safety · EMS Response",
        "Streets · Potholes On Time",
    ]
    panel.metric.value = "EMS Response"
    assert panel.numerator.layout.display == "none" and panel.value.layout.display is None
    panel.value.value = "4"
    panel.save.click()
    assert "1 inserted" in panel.message.value
    assert "New scores" in panel.message.value and "1.5" in panel.message.value  # 6 / 4
    assert city.observations()["value"].tolist() == [4.0]


def test_manual_entry_ratio_and_inline_errors(city: Kit) -> None:
    panel = ManualEntry(city, default_date=dt.date(2026, 1, 2))
    panel.metric.value = "Potholes On Time"
    assert panel.value.layout.display == "none" and panel.numerator.layout.display is None
    panel.numerator.value, panel.denominator.value = "9", "0"
    panel.save.click()
    assert "denominator must be greater than 0" in panel.message.value
    assert city.observations().empty
    panel.metric.value = "EMS Response"
    panel.value.value = "<b>fast</b>"
    panel.save.click()
    assert "not a number" in panel.message.value and "<b>fast</b>" not in panel.message.value
    assert "&lt;b&gt;fast&lt;/b&gt;" in panel.message.value


def test_metric_editor_creates_edits_and_changes_targets(city: Kit) -> None:
    editor = MetricEditor(city)
    editor.name.value = "Library Users"
    editor.category.value, editor.direction.value, editor.target.value = "Culture", "higher", "100"
    editor.save.click()
    assert "1 inserted" in editor.message.value
    assert "Library Users" in editor.name.options
    editor.name.value = "EMS Response"  # loads the stored metric into the form
    assert (editor.category.value, editor.aggregation.value, editor.target.value) == (
        "Safety",
        "median",
        "6",
    )
    editor.definition.value = "Median minutes from call to arrival"
    editor.save.click()
    assert (
        city.metrics().set_index("name").loc["EMS Response", "definition"]
        == "Median minutes from call to arrival"
    )
    editor.target_metric.value = "Library Users"
    editor.effective_from.value = dt.date(2026, 3, 1)
    editor.new_target.value = "150"
    editor.change.click()
    assert "1 inserted" in editor.target_message.value
    assert city.targets().query("metric == 'Library Users'")["target"].tolist() == [100.0, 150.0]
    editor.new_target.value = "-1"
    editor.change.click()
    assert "greater than 0" in editor.target_message.value


def test_metric_editor_sets_allow_negative(city: Kit) -> None:
    editor = MetricEditor(city)
    editor.name.value = "Net New Housing Units"
    editor.direction.value, editor.target.value = "higher", "5"
    editor.allow_negative.value = True
    editor.save.click()
    assert "1 inserted" in editor.message.value, editor.message.value
    assert bool(city.metrics().set_index("name").loc["Net New Housing Units", "allow_negative"])
    city.enter("Net New Housing Units", "2026-01-01", value=-3)
    with pytest.raises(ValidationError, match="negative"):  # a metric without the setting refuses
        city.enter("EMS Response", "2026-01-01", value=-3)
    editor.name.value = "EMS Response"
    assert editor.allow_negative.value is False
    editor.name.value = "Net New Housing Units"  # loads the stored setting back into the form
    assert editor.allow_negative.value is True


def test_metric_editor_sets_a_schedule_and_stale_after(city: Kit) -> None:
    editor = MetricEditor(city)
    editor.name.value = "Permits Issued"
    editor.direction.value, editor.aggregation.value, editor.target.value = "higher", "sum", "10"
    editor.schedule.value, editor.stale_after.value = "business_days", "5"
    editor.save.click()
    assert "1 inserted" in editor.message.value, editor.message.value
    stored = city.metrics().set_index("name").loc["Permits Issued"]
    assert stored["schedule"] == "business_days" and float(stored["stale_after"]) == 5
    editor.stale_after.value = "0"
    editor.save.click()
    assert "stale_after" in editor.message.value  # refused inline, nothing written
    editor.name.value = "EMS Response"
    assert (editor.schedule.value, editor.stale_after.value) == ("daily", "")
    editor.name.value = "Permits Issued"  # loads the stored schedule back into the form
    assert (editor.schedule.value, editor.stale_after.value) == ("business_days", "5")


def test_csv_upload_previews_then_imports(city: Kit) -> None:
    city.import_values(b"metric,date,value\nEMS Response,2026-01-01,5\n")
    panel = CsvUpload(city)
    upload(
        panel,
        "bad.csv",
        b"metric,date,value\nEMS Response,2026-01-01,5\nEMS Respons,2026-01-02,x\n",
    )
    assert panel.confirm.disabled
    assert "rejected" in panel.preview.value and "did you mean" in panel.preview.value
    upload(
        panel,
        "good.csv",
        b"metric;date;value\nEMS Response;2026-01-01;6\nEMS Response;2026-01-02;7,5\n",
    )
    assert "1 to insert, 1 to update, 0 unchanged" in panel.preview.value
    assert (
        "To insert" in panel.preview.value and "To update (old value kept)" in panel.preview.value
    )
    assert not panel.confirm.disabled
    assert city.observations()["value"].tolist() == [5.0]  # the preview wrote nothing
    panel.confirm.click()
    assert "good.csv: 1 inserted, 1 updated" in panel.message.value
    assert city.observations()["value"].tolist() == [6.0, 7.5]
    # After the import the preview is refreshed: the same file now has nothing left to write.
    assert "0 to insert, 0 to update, 2 unchanged" in panel.preview.value
    assert "Unchanged (already stored" in panel.preview.value
    assert panel.confirm.disabled and "1 inserted" in panel.message.value


def test_csv_upload_date_format(city: Kit) -> None:
    panel = CsvUpload(city)
    upload(panel, "us.csv", b"metric,date,value\nEMS Response,01/02/2026,5\n")
    assert panel.confirm.disabled and "YYYY-MM-DD" in panel.preview.value
    panel.date_format.value = "%m/%d/%Y"
    assert not panel.confirm.disabled
    panel.confirm.click()
    assert city.observations()["date"].dt.strftime("%Y-%m-%d").tolist() == ["2026-01-02"]


def test_sql_server_panel(city: Kit, postgres_url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE ems (day date, minutes float)"))
        conn.execute(sa.text("INSERT INTO ems VALUES ('2026-01-01', 5), ('2026-01-02', 7)"))
    engine.dispose()
    panel = SqlServer(city, default_start=dt.date(2026, 1, 1))
    panel.url.value = postgres_url
    panel.password.value = "typed-secret-42"
    assert panel.password.value == ""  # moved out of the widget state at once
    panel.test.click()
    assert "connected: postgresql" in panel.message.value
    panel.metric.value = "EMS Response"
    panel.table.value = "ems"
    panel.date_column.value, panel.value_column.value = "day", "minutes"
    panel.preview_button.click()
    assert "2 to insert" in panel.message.value and city.observations().empty
    panel.sync_button.click()
    assert "2 inserted" in panel.message.value
    assert city.observations()["value"].tolist() == [5.0, 7.0]
    panel.query.value = (
        "SELECT day AS date, minutes AS value FROM missing WHERE day BETWEEN :start AND :end"
    )
    panel.sync_button.click()
    assert "missing" in panel.message.value
    assert "typed-secret-42" not in panel.message.value
    assert all("typed-secret-42" not in str(getattr(x, "value", "")) for x in panel.widget.children)


# --- areas ---------------------------------------------------------------------------------------


def test_manual_entry_for_an_area(city: Kit) -> None:
    city.enter("EMS Response", "2026-01-02", value=5, area="Roxbury")
    panel = ManualEntry(city, default_date=dt.date(2026, 1, 2))
    assert panel.area.options == ("Roxbury",)  # stored areas to pick from; free text allowed too
    assert not panel.area.ensure_option and panel.area.value == ""
    panel.metric.value = "EMS Response"
    panel.area.value, panel.value.value = " Back Bay ", "4"
    panel.save.click()
    assert "1 inserted" in panel.message.value
    assert "New scores of Back Bay" in panel.message.value and "1.5" in panel.message.value  # 6 / 4
    stored = city.observations(areas=True)
    assert sorted(zip(stored["area"], stored["value"], strict=True)) == [
        ("Back Bay", 4.0),
        ("Roxbury", 5.0),
    ]
    assert city.observations().empty  # nothing citywide was written
    assert panel.area.options == ("Back Bay", "Roxbury")  # the new area is offered next time
    panel.area.value, panel.value.value = "", "6"  # empty area: a citywide value, as before
    panel.save.click()
    assert "New scores<" in panel.message.value
    assert city.observations()["value"].tolist() == [6.0]


def test_manual_entry_refuses_a_bad_area_and_writes_nothing(city: Kit) -> None:
    panel = ManualEntry(city, default_date=dt.date(2026, 1, 2))
    panel.metric.value = "EMS Response"
    panel.value.value = "4"
    for area, reason in [("<b>" + "x" * 200, "at most 200 characters"), ("=1+1", "formula")]:
        panel.area.value = area
        panel.save.click()
        assert reason in panel.message.value and "<b>x" not in panel.message.value
    assert city.observations(areas=True).empty and panel.area.options == ()


def test_metric_editor_sets_an_area_target(city: Kit) -> None:
    editor = MetricEditor(city)
    editor.target_metric.value = "EMS Response"
    editor.effective_from.value = dt.date(2026, 1, 1)
    editor.target_area.value, editor.new_target.value = "Roxbury", "8"
    editor.change.click()
    assert "1 inserted" in editor.target_message.value
    targets = city.targets(areas=True)
    assert targets.query("area == 'Roxbury'")["target"].tolist() == [8.0]
    assert city.targets()["target"].tolist() == [6.0, 0.9]  # the city's targets are untouched
    assert editor.target_area.options == ("Roxbury",)
    editor.target_area.value, editor.new_target.value = "North\nEnd", "7"
    editor.change.click()
    assert "control character" in editor.target_message.value
    assert len(city.targets(areas=True)) == 3


def test_csv_upload_preview_shows_the_area(city: Kit) -> None:
    panel = CsvUpload(city)
    upload(
        panel,
        "areas.csv",
        b"metric,date,area,value\nEMS Response,2026-01-01,,6\nEMS Response,2026-01-01,Roxbury,9\n",
    )
    assert "2 to insert" in panel.preview.value and "<th>area</th>" in panel.preview.value
    assert "Roxbury" in panel.preview.value
    panel.confirm.click()
    assert city.areas() == ["Roxbury"] and city.observations()["value"].tolist() == [6.0]
    upload(panel, "plain.csv", b"metric,date,value\nEMS Response,2026-01-02,5\n")
    assert "1 to insert" in panel.preview.value and "<th>area</th>" not in panel.preview.value
    upload(panel, "bad.csv", b"metric,date,area,value\nEMS Response,2026-01-03,=cmd,5\n")
    assert panel.confirm.disabled and "formula" in panel.preview.value


def test_sql_server_panel_with_an_area_column(city: Kit, tmp_path: Path) -> None:
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'source.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE ems (day TEXT, hood TEXT, minutes REAL)"))
        conn.execute(
            sa.text("INSERT INTO ems VALUES ('2026-01-01', 'Roxbury', 9), ('2026-01-01', '', 6)")
        )
    engine.dispose()
    panel = SqlServer(city, default_start=dt.date(2026, 1, 1))
    panel.url.value, panel.metric.value, panel.table.value = url, "EMS Response", "ems"
    panel.date_column.value, panel.value_column.value = "day", "minutes"
    panel.area_column.value = "hood"
    panel.blank_area.value = "total"  # the empty hood's row is the city's (a median: no sum)
    panel.preview_button.click()
    assert "2 to insert" in panel.message.value and "Roxbury" in panel.message.value
    panel.sync_button.click()
    assert "2 inserted" in panel.message.value
    assert city.areas() == ["Roxbury"] and city.observations()["value"].tolist() == [6.0]


def test_history_and_undo_show_the_area(city: Kit) -> None:
    city.enter("EMS Response", "2026-01-02", value=5, area="Roxbury")
    city.enter("EMS Response", "2026-01-02", value=6)  # the citywide day is another value
    corrected = city.enter("EMS Response", "2026-01-02", value=7, area="Roxbury", source="fix")
    panel = Audit(city, default_date=dt.date(2026, 1, 2))
    assert "Latest batches" in panel.batches.value and "fix" in panel.batches.value
    panel.metric.value, panel.area.value = "EMS Response", "Roxbury"
    panel.show.click()
    assert "EMS Response on 2026-01-02, in Roxbury" in panel.versions.value
    assert "<th>area</th>" in panel.versions.value and panel.versions.value.count("Roxbury") == 3
    assert "superseded" in panel.versions.value and "6.0" not in panel.versions.value
    panel.area.value = ""
    panel.show.click()
    assert "citywide" in panel.versions.value and "6.0" in panel.versions.value
    panel.area.value = "Back Bay"
    panel.show.click()
    assert "in Back Bay: no value stored" in panel.versions.value
    panel.batch.value = corrected.batch_id
    panel.undo_button.click()
    assert "undo of batch" in panel.message.value and "1 updated" in panel.message.value
    roxbury = city.observations(areas=True).query("area == 'Roxbury'")
    assert roxbury["value"].tolist() == [5.0]  # the overwritten area value is back
    assert "undo of batch" in panel.batches.value  # the list shows the undo as a batch
    # Batches imported the same day read apart by their time; a batch not undone shows nothing.
    undone = city.batches().set_index("id").loc[corrected.batch_id, "undone_at"]
    assert f"<td>{undone:%Y-%m-%d %H:%M:%S}</td>" in panel.batches.value
    assert "None" not in panel.batches.value and "NaT" not in panel.batches.value
    panel.undo_button.click()  # twice: a clear message, nothing changes
    assert "already undone" in panel.message.value
    assert city.observations(areas=True).query("area == 'Roxbury'")["value"].tolist() == [5.0]


@pytest.mark.slow
def test_metric_scores_match_the_whole_city_scored_by_area(tmp_path: Path) -> None:
    """The form's quick one-metric read gives exactly the rows of scoring the whole city by area."""
    from tests.conftest import DEMO_END

    kit = Kit(f"sqlite:///{tmp_path / 'areas.db'}")
    kit.load_demo(DEMO_END, areas=True)
    everything = kit.scores(DEMO_END, by="area")
    checked = 0
    for metric in kit.metrics()["name"]:
        for area in ["", *kit.areas()[:3]]:
            quick = kit.metric_scores(metric, DEMO_END, area=area)
            full = everything[(everything["metric"] == metric) & (everything["area"] == area)]
            pd.testing.assert_frame_equal(  # categoricals of one metric against all of them
                quick, full.reset_index(drop=True), check_categorical=False
            )
            checked += len(quick)
    assert checked > 100


def test_at_2000_metrics_a_find_box_narrows_every_panels_metric_picker(kit: Kit) -> None:
    rows = [
        f"Metric {i:04d},{'Parks' if i % 2 else 'Streets'},higher,value,mean,1" for i in range(2000)
    ]
    kit.import_metrics(
        ("name,category,direction,kind,aggregation,target\n" + "\n".join(rows)).encode()
    )
    panels = [ManualEntry(kit), SqlServer(kit), Audit(kit)]
    editor = MetricEditor(kit)
    pickers = [p.picker for p in panels] + [editor.target_picker]
    for picker in pickers:
        assert len(picker.dropdown.options) == 2000
        picker.find.value = "metric 004"  # any case, part of the name
        shown = [name for _, name in picker.dropdown.options]  # by category, then name
        assert sorted(shown) == [f"Metric {i:04d}" for i in range(40, 50)]
        assert picker.dropdown.value == shown[0]  # what the narrowed list shows is chosen
        picker.dropdown.value = "Metric 0043"
        picker.find.value = "parks · metric 004"  # the category is in the label too
        assert picker.dropdown.value == "Metric 0043"  # still matches: still chosen
        assert len(picker.dropdown.options) == 5
        picker.find.value = "no such <b>"
        assert picker.dropdown.options == () and picker.dropdown.value is None
        assert "“no such &lt;b&gt;”" in picker.note.value  # said, and escaped
        picker.find.value = ""
        assert len(picker.dropdown.options) == 2000 and picker.note.value == ""
    # A metric saved in the editor joins its target picker, which keeps its find text.
    editor.target_picker.find.value = "Metric 2"
    editor.name.value = "Metric 2000 new"
    editor.direction.value, editor.target.value = "higher", "3"
    editor.save.click()
    assert [n for _, n in editor.target_metric.options] == ["Metric 2000 new"]
    # The panels still write through the picked metric.
    entry = panels[0]
    entry.picker.find.value = "0007"
    entry.date.value, entry.value.value = dt.date(2026, 1, 2), "5"
    entry.save.click()
    assert kit.observations()["metric"].tolist() == ["Metric 0007"]
