"""WCAG 2.1 AA for the daily report and its archive, in a real headless Chromium (issue 11).

axe-core runs after every chart has drawn and with every collapsible section open, so hidden
content is checked too. Beyond axe: text alternatives a test can read, status never by colour
alone, landmarks and headings, the skip link and the keyboard, reflow at 640 px (a 1280 px screen
at 200 % zoom), and the print stylesheet.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from cityscore.pages.display import STATUS_SYMBOLS
from cityscore.store.copy import copy_sqlite
from tests.axe import axe_violations, describe
from tests.conftest import DEMO_END
from tests.test_report import run_report

DRAWN = (
    "document.querySelectorAll('figure.chart-box').length > 0 && "
    "document.querySelectorAll('figure.chart-box').length === "
    "document.querySelectorAll('figure.chart-box.drawn svg').length"
)


def open_page(browser: Any, path: Path, width: int = 1280, charts: bool = True) -> Any:
    """A page (in a context that lets axe in past the CSP) with every chart drawn."""
    context = browser.new_context(bypass_csp=True, viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    page.goto(path.as_uri())
    if charts:
        page.wait_for_function(DRAWN, timeout=120_000)
    return page


def open_all_sections(page: Any) -> None:
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")


def assert_no_axe_violations(page: Any) -> None:
    violations = axe_violations(page)
    assert violations == [], describe(violations)


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory, demo_db_file: Path) -> Path:
    root = tmp_path_factory.mktemp("a11y")
    db = copy_sqlite(demo_db_file, root / "demo.db")
    out = root / "reports"
    run = run_report(f"sqlite:///{db}", out, "--date", DEMO_END.isoformat())
    assert run.returncode == 0, run.stderr
    return out


def test_report_has_no_axe_violations_once_drawn(
    browser, demo_report: Path, artifacts_dir: Path
) -> None:
    page = open_page(browser, demo_report / "latest.html")
    try:
        assert_no_axe_violations(page)
        open_all_sections(page)
        assert_no_axe_violations(page)
        assert page.errors == []
        page.screenshot(path=str(artifacts_dir / "report-a11y.png"), full_page=True)
    finally:
        page.context.close()


def test_archive_has_no_axe_violations(browser, demo_report: Path) -> None:
    page = open_page(browser, demo_report / "index.html", charts=False)
    try:
        assert_no_axe_violations(page)
        labels = page.eval_on_selector_all(
            "svg.spark", "els => els.map(e => e.getAttribute('aria-label'))"
        )
        assert labels and all(label.startswith("CityScore over the last") for label in labels)
        assert page.locator("main h1").count() == 1
    finally:
        page.context.close()


def test_every_chart_has_a_description_with_numbers_and_a_data_table(
    browser, demo_report: Path
) -> None:
    page = open_page(browser, demo_report / "latest.html")
    try:
        figures = page.locator("figure.chart-box")
        assert figures.count() == 3
        for i in range(figures.count()):
            figure = figures.nth(i)
            chart = figure.locator("div.chart")
            caption = figure.locator("figcaption")
            text = caption.inner_text()
            # Vega makes the chart one graphics document named by the spec's description.
            assert chart.get_attribute("role") == "graphics-document"
            assert chart.get_attribute("aria-label") == text
            assert any(ch.isdigit() for ch in text), text
            table = figure.locator("details.data table")
            assert table.count() == 1 and table.locator("caption").text_content()
            assert table.locator("tbody tr").count() >= 1
        city = figures.nth(0).locator("figcaption").inner_text()
        big = page.locator(".headline .big").inner_text()
        assert f": {big} on the last day" in city  # the description quotes the headline number
    finally:
        page.context.close()


def test_status_is_never_colour_alone(browser, demo_report: Path) -> None:
    page = open_page(browser, demo_report / "latest.html", charts=False)
    try:
        cells = page.eval_on_selector_all(".board td.cell", "els => els.map(e => e.textContent)")
        rows = page.locator(".board tbody tr").count()
        periods = page.locator(".board details:first-of-type thead th").count() - 1
        assert rows == 20 and periods == 4 and len(cells) == rows * periods
        words = ("meeting", "near", "below", "stale", "no score")
        assert all(any(w in text for w in words) for text in cells)
        symbols = [s for s in STATUS_SYMBOLS.values()] + ["—"]
        assert all(any(s in text for s in symbols) for text in cells)
        listed = page.eval_on_selector_all(
            "table.cityscore-table td.status-cell", "els => els.map(e => e.textContent)"
        )
        assert listed and all(any(w in text for w in words) for text in listed)
        headline = page.locator(".headline .status-line").inner_text()
        assert any(w in headline for w in words)
    finally:
        page.context.close()


def test_structure_landmarks_headings_and_skip_link(browser, demo_report: Path) -> None:
    page = open_page(browser, demo_report / "latest.html", charts=False)
    try:
        assert page.get_attribute("html", "lang") == "en"
        assert "CityScore" in page.title()
        for landmark in ("header", "nav", "main", "footer"):
            assert page.locator(f"body > {landmark}, body > header > {landmark}").count() == 1
        levels = page.eval_on_selector_all(
            "h1, h2, h3, h4, h5, h6", "els => els.map(e => Number(e.tagName[1]))"
        )
        assert levels[0] == 1 and levels.count(1) == 1
        assert all(b - a <= 1 for a, b in itertools.pairwise(levels))
        links = page.eval_on_selector_all("nav a", "els => els.map(e => e.getAttribute('href'))")
        assert len(links) >= 6
        for href in links:
            assert page.locator(href).count() == 1  # every section link has its target
        page.keyboard.press("Tab")
        skip = page.locator(":focus")
        assert skip.inner_text() == "Skip to the report"
        box = skip.bounding_box()
        assert box is not None and box["x"] >= 0  # shown on focus, not left off-screen
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
    finally:
        page.context.close()


def test_keyboard_finds_a_metric_and_opens_a_category(browser, demo_report: Path) -> None:
    page = open_page(browser, demo_report / "latest.html", charts=False)
    try:
        search = page.get_by_label("Find a metric")
        search.focus()
        page.keyboard.type("ems resp")
        visible = page.eval_on_selector_all(
            ".board tbody tr", "rows => rows.filter(r => !r.hidden).map(r => r.dataset.name)"
        )
        assert visible == ["ems response time"]
        assert page.locator(".board [role=status]").inner_text() == "1 metric matches"
        page.keyboard.press("Control+A")
        page.keyboard.press("Backspace")
        assert page.locator(".board tbody tr:not([hidden])").count() == 20
        summary = page.locator(".board details summary").first
        summary.focus()
        assert page.evaluate("document.querySelector('.board details').open")
        page.keyboard.press("Enter")
        assert not page.evaluate("document.querySelector('.board details').open")
    finally:
        page.context.close()


@pytest.mark.parametrize("name", ["latest.html", "index.html"])
def test_reflows_at_200_percent_zoom(
    browser, demo_report: Path, artifacts_dir: Path, name: str
) -> None:
    # A 1280 px window at 200 % zoom lays out like a 640 px one: no sideways scrolling of the page.
    page = open_page(browser, demo_report / name, width=640, charts=name == "latest.html")
    try:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 640
        page.screenshot(path=str(artifacts_dir / f"zoom200-{name}.png"), full_page=True)
    finally:
        page.context.close()


def test_print_stylesheet_hides_navigation_and_fits_a4_and_letter(
    browser, demo_report: Path, artifacts_dir: Path
) -> None:
    page = open_page(browser, demo_report / "latest.html")
    try:
        page.emulate_media(media="print")
        hidden = page.eval_on_selector_all(
            ".skip, .site, .board-tools", "els => els.map(e => getComputedStyle(e).display)"
        )
        assert hidden == ["none", "none", "none"]
        for paper, width_pt in (("A4", 595), ("Letter", 612)):
            pdf = page.pdf(format=paper, print_background=True)
            assert pdf.startswith(b"%PDF")
            assert f"/MediaBox [0 0 {width_pt}".encode() in pdf
            (artifacts_dir / f"report-{paper}.pdf").write_bytes(pdf)
        page.emulate_media(media="screen")
        page.set_viewport_size({"width": 700, "height": 900})  # about A4's printable width
        assert page.evaluate("document.documentElement.scrollWidth") <= 700
    finally:
        page.context.close()
