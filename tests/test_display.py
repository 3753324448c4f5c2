"""The one display step for HTML tables (report and explorer): escaping, rounding, structure."""

from __future__ import annotations

from html.parser import HTMLParser

import pandas as pd
import pytest

from cityscore import display
from cityscore.render import round_half_even

EVIL = "<img src=x onerror=alert(1)>"


class Cells(HTMLParser):
    """The table's cells as (tag, attributes, text), in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str, dict[str, str | None], str]] = []
        self.caption = ""
        self._open: tuple[str, dict[str, str | None]] | None = None
        self._text: list[str] = []
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("td", "th"):
            self._open, self._text = (tag, dict(attrs)), []
        self._in_caption = self._in_caption or tag == "caption"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._open:
            self.cells.append((*self._open, "".join(self._text)))
            self._open = None
        if tag == "caption":
            self._in_caption = False

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text.append(data)
        if self._in_caption:
            self.caption += data


def parse(text: str) -> Cells:
    parser = Cells()
    parser.feed(text)
    return parser


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "metric": [EVIL, "Potholes", "Library users"],
            "score": [0.125, 0.135, float("nan")],
            "status": ["below", "near", None],
            "last_date": pd.to_datetime(["2026-10-30", "2026-10-31", None]),
            "days": [3, 10, 0],
        }
    )


def test_cells_are_escaped_rounded_half_even_and_dated_one_way(frame: pd.DataFrame) -> None:
    copy = frame.copy()
    text = display.table_html(frame, caption=f"Caption {EVIL}")
    pd.testing.assert_frame_equal(frame, copy)  # input untouched
    assert EVIL not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    cells = parse(text)
    assert cells.caption == f"Caption {EVIL}"
    body = [c for c in cells.cells if c[1].get("scope") != "col"]
    rows = [body[i : i + 5] for i in range(0, len(body), 5)]
    assert [r[1][2] for r in rows] == [round_half_even(v) for v in frame["score"]]
    assert [r[1][2] for r in rows] == ["0.12", "0.14", "—"]
    assert [r[3][2] for r in rows] == ["2026-10-30", "2026-10-31", "—"]
    assert [r[4][2] for r in rows] == ["3", "10", "0"]


def test_headers_are_scoped_and_the_first_column_heads_each_row(frame: pd.DataFrame) -> None:
    cells = parse(display.table_html(frame, {"metric": "Metric", "score": "Score"}, caption="T"))
    heads = [(tag, attrs.get("scope"), text) for tag, attrs, text in cells.cells]
    assert heads[:2] == [("th", "col", "Metric"), ("th", "col", "Score")]
    assert [h for h in heads[2:] if h[0] == "th"] == [
        ("th", "row", EVIL),
        ("th", "row", "Potholes"),
        ("th", "row", "Library users"),
    ]
    plain = parse(display.table_html(frame, ["score"], caption="T", row_header=False))
    assert [c[0] for c in plain.cells[1:]] == ["td"] * 3


def test_status_is_a_word_and_a_symbol_not_only_a_colour(frame: pd.DataFrame) -> None:
    cells = parse(display.table_html(frame, ["metric", "status"], caption="T")).cells
    statuses = [(attrs.get("class"), text) for tag, attrs, text in cells if tag == "td"]
    assert statuses == [
        ("status-cell below", "✗ below"),
        ("status-cell near", "≈ near"),
        ("status-cell none", "– no score"),
    ]
    assert display.status_text("meeting") == "✓ meeting"
    assert display.status_word(float("nan")) == "no score"
    assert display.status_word("<script>") == "no score"  # unknown text never becomes a class


def test_max_rows_leaves_a_note_and_places_choose_decimals(frame: pd.DataFrame) -> None:
    text = display.table_html(
        frame, ["metric", "score"], caption="T", max_rows=1, places={"score": 3}
    )
    cells = parse(text).cells
    assert [c[2] for c in cells] == ["Metric", "Score", EVIL, "0.125"]
    assert '<p class="more">2 more rows not shown.</p>' in text
    one = display.table_html(frame, ["metric"], caption="T", max_rows=2, more="{n} {rows} left")
    assert '<p class="more">1 row left</p>' in one
    assert "more" not in display.table_html(frame, ["metric"], caption="T", max_rows=3)


def test_columns_choose_format_and_empty_frames_say_so(frame: pd.DataFrame) -> None:
    share = pd.DataFrame({"share": [0.125, 0.5]})
    columns = [display.Column("share", "Share", "percent", 0)]
    assert [c[2] for c in parse(display.table_html(share, columns, caption="T")).cells] == [
        "Share",
        "12%",
        "50%",
    ]
    empty = display.table_html(frame.iloc[0:0], ["metric"], caption="Stale", empty=EVIL)
    assert "<table" not in empty and "Stale" in empty and EVIL not in empty
    with pytest.raises(KeyError, match="'nope' is not in the frame"):
        display.table_html(frame, ["nope"], caption="T")
    with pytest.raises(ValueError, match="unknown column format 'money'"):
        display.table_html(frame, [display.Column("score", fmt="money")], caption="T")
