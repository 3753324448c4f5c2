"""The report's board and heat table as a reader sees them, in a real headless Chromium.

The hand-worked areas city of ``test_report_areas`` (values against a target of 10 a day, in
"count") is reported by the real ``cityscore report`` without a map, so the page has the board and
the "Scores by area" heat table. Read from the drawn page: each coloured cell's computed background
is its status's colour (the heat table's grey default must not win), and at 640 px, on screen and in
print, the board fits without scrolling sideways, each score with its value and target beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.axe import axe_violations, describe
from tests.test_report import run_report
from tests.test_report_areas import AS_OF, drawn_page, write_tiny_city

pytestmark = pytest.mark.slow

# The report's palette (templates/report/index.html.j2) as the browser computes it.
COLOURS = {
    "meeting": "rgb(0, 158, 115)",
    "near": "rgb(240, 228, 66)",
    "below": "rgb(213, 94, 0)",
    "none": "rgb(163, 168, 165)",
    "stale": "rgb(163, 168, 165)",
}
CELL_COLOURS = """cells => cells.map(c => [
    [...c.classList].find(k => k !== 'cell'), getComputedStyle(c).backgroundColor])"""


@pytest.fixture(scope="module")
def page_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("board-browser")
    url = f"sqlite:///{root / 'tiny.db'}"
    write_tiny_city(url, root)
    run = run_report(url, root / "reports", "--date", AS_OF)
    assert run.returncode == 0, run.stderr
    return root / "reports" / "latest.html"


def _colours(page: Any, selector: str) -> list[list[str]]:
    return page.locator(selector).evaluate_all(CELL_COLOURS)


def test_heat_and_board_cells_show_their_status_colour(browser: Any, page_file: Path) -> None:
    page, _, errors = drawn_page(browser, page_file)
    try:
        assert errors == []
        heat = _colours(page, "table.heat td.cell")
        statuses = {status for status, _ in heat}
        assert {"meeting", "near", "below"} <= statuses, heat  # South's A is 0.5, North's B 0.9
        assert all(colour == COLOURS[status] for status, colour in heat), heat
        board = _colours(page, ".board-table td.cell")
        assert board and all(colour == COLOURS[status] for status, colour in board), board
    finally:
        page.context.close()


def _no_sideways_scroll(page: Any) -> None:
    overflow = page.evaluate(
        """() => [...document.querySelectorAll('.board .table-wrap, .board')]
            .filter(e => e.scrollWidth > e.clientWidth + 1)
            .map(e => e.className + ' ' + e.scrollWidth + '>' + e.clientWidth)"""
    )
    assert overflow == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 640


def test_board_at_640_px_fits_and_shows_values_and_targets(
    browser: Any, page_file: Path, artifacts_dir: Path
) -> None:
    page, _, errors = drawn_page(browser, page_file)
    try:
        page.set_viewport_size({"width": 640, "height": 1200})
        assert errors == []
        _no_sideways_scroll(page)
        shown = page.locator(".board-table td.cell .vt").all_inner_texts()
        assert shown and all(text.endswith(", target 10") for text in shown), shown
        assert "9 count, target 10" in shown  # the citywide value of each metric
        assert page.locator(".board-table td.cell .vt").first.is_visible()
        page.screenshot(path=str(artifacts_dir / "report-board-640.png"), full_page=True)
        violations = axe_violations(page)
        assert violations == [], describe(violations)
        page.emulate_media(media="print")
        _no_sideways_scroll(page)
        assert page.locator(".board-table td.cell .vt").first.is_visible()
        below = _colours(page, ".board-table td.cell.below, table.heat td.cell.below")
        assert below and all(colour == COLOURS["below"] for _, colour in below)
        page.pdf(path=str(artifacts_dir / "report-board-print.pdf"), width="640px")
    finally:
        page.context.close()
