"""A refused date says how to read it in the place the file came in: the command line's
``--date-format`` for a file import, the upload panel's own "Date format" field in its preview."""

from __future__ import annotations

import pytest

from cityscore import Kit, ValidationError
from cityscore.apps.widgets import CsvUpload

from .test_widgets_entry import upload

METRICS = "name,direction,aggregation,target\nLibrary Users,higher,sum,10\n"
DAY_FIRST = b"metric,date,value\nLibrary Users,2026-01-02,3\nLibrary Users,25/01/2026,3\n"
UNREADABLE = b"metric,date,value\nLibrary Users,someday,3\n"


def test_a_file_import_names_the_command_line_option(city: Kit) -> None:
    with pytest.raises(ValidationError, match="import with --date-format %d/%m/%Y"):
        city.import_values(DAY_FIRST)


def test_the_upload_preview_names_its_own_date_format_field(city: Kit) -> None:
    panel = CsvUpload(city)
    assert panel.date_format.description == "Date format"
    upload(panel, "values.csv", DAY_FIRST)
    shown = panel.preview.value
    assert "--date-format" not in shown
    assert 'it reads as DD/MM/YYYY: set "Date format" to %d/%m/%Y' in shown
    upload(panel, "other.csv", UNREADABLE)
    shown = panel.preview.value
    assert "--date-format" not in shown
    assert 'for dates written another way, set "Date format" (e.g. %d/%m/%Y)' in shown
    # Following the hint reads the file.
    upload(panel, "values.csv", DAY_FIRST)
    panel.date_format.value = "%d/%m/%Y"
    assert "1 row(s) rejected" in panel.preview.value  # 2026-01-02 is not day-first
    assert "25/01/2026" not in panel.preview.value.split("To insert")[0]
