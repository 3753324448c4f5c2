"""The one display step for HTML tables (report and explorer): escaping, rounding, structure."""

from __future__ import annotations

from html.parser import HTMLParser

import pandas as pd
import pytest

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.pages import display
from cityscore.pages.render import round_half_even

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


# --- a shown score never contradicts its status ---------------------------------------------------


@pytest.fixture
def edges() -> pd.DataFrame:
    """Scores a hair from the default band edges, with the statuses scoring gives them."""
    return pd.DataFrame(
        {
            "metric": ["Just under 1", "Just under 0.9", "Exactly 1", "Exactly 0.9", "Far", "None"],
            "score": [0.996, 0.8996, 1.0, 0.9, -2.5, float("nan")],
            "status": ["near", "below", "meeting", "near", "below", None],
        }
    )


def _band(text: str, bands: Bands = DEFAULT_BANDS) -> str:
    number = float(text)
    return "meeting" if number >= bands.meeting else "near" if number >= bands.near else "below"


def test_table_scores_read_in_the_band_of_their_status(edges: pd.DataFrame) -> None:
    cells = parse(display.table_html(edges, ["metric", "score", "status"], caption="T")).cells
    body = [c[2] for c in cells[3:]]
    rows = [body[i : i + 3] for i in range(0, len(body), 3)]
    assert [r[1] for r in rows] == ["0.996", "0.8996", "1.00", "0.90", "-2.50", "—"]
    for _, shown, status in rows[:-1]:
        assert status.endswith(_band(shown))  # "≈ near" beside 0.996, never beside "1.00"


def test_table_follows_the_bands_it_is_given() -> None:
    frame = pd.DataFrame({"metric": ["M", "N"], "score": [1.046, 0.996]})
    custom = Bands(meeting=1.05, near=0.95)
    cells = parse(display.table_html(frame, caption="T", bands=custom)).cells
    assert [c[2] for c in cells[2:]] == ["M", "1.046", "N", "1.00"]
    default = parse(display.table_html(frame, caption="T")).cells
    assert [c[2] for c in default[2:]] == ["M", "1.05", "N", "0.996"]
    assert display.format_value(1.046, "number", bands=custom) == "1.046"
    assert display.format_value(0.125, "percent", 0) == "12%"  # percentages are not scores


def test_board_cells_and_legend_follow_the_bands() -> None:
    scores = pd.DataFrame(
        {
            "metric": ["Potholes", "Potholes", "Library users"],
            "period": ["day", "week", "day"],
            "score": [0.996, 1.046, 0.8996],
            "status": ["near", "near", "below"],
            "note": ["", "", ""],
        }
    )
    metrics = pd.DataFrame(
        {"name": ["Potholes", "Library users"], "category": ["Streets", "Books"]}
    )
    board = display.board_html(scores, metrics, ["day", "week"])
    assert "</span> 0.996<span" in board and "</span> 0.8996<span" in board
    assert "</span> 1.00<span" not in board and "</span> 0.90<span" not in board
    assert "meeting: 1.0 or more; near: 0.9 or more" in board
    custom = display.board_html(
        scores, metrics, ["day", "week"], bands=Bands(meeting=1.05, near=0.95)
    )
    assert "</span> 1.046<span" in custom and "meeting: 1.05 or more; near: 0.95 or more" in custom
