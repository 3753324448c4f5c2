"""The served explorer (Voilà) in real headless Chromium: WCAG 2.1 AA by axe-core on every tab,
text alternatives for every chart, the keyboard alone drives it, and it works at 300 metrics.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cityscore.apps.explorer.areas import AREA_VIEW
from cityscore.apps.explorer.board import BOARD_CHART_ROWS
from cityscore.apps.explorer.widget import VIEWS
from cityscore.store.copy import copy_sqlite

from .axe import axe_violations, describe
from .test_serve import START_TIMEOUT, serving

TABS = [v.capitalize() for v in VIEWS]
WAIT_MS = START_TIMEOUT * 1000
# What has focus, as "role|accessible name" (a labelled control: its label; a tab: its text).
FOCUS_JS = """() => {
  const e = document.activeElement;
  const role = e.getAttribute('role') || e.tagName.toLowerCase();
  const name = (e.labels && e.labels.length) ? e.labels[0].textContent
             : (e.getAttribute('aria-label') || e.textContent || '');
  return role + '|' + name.trim().slice(0, 60);
}"""
OUTLINE_JS = "() => getComputedStyle(document.activeElement).outlineStyle"
DETAIL_LABEL = "svg[aria-label$=': daily values vs target']"


@pytest.fixture(scope="module")
def demo_server(demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    db = copy_sqlite(demo_db_file, tmp_path_factory.mktemp("a11y") / "demo.db")
    with serving(db) as served:
        yield served


def _open(browser, url: str, wait_ms: int = WAIT_MS, zoom: int = 100):
    # 200 % zoom of a 1280 x 900 window: half the CSS pixels, each drawn twice as large.
    viewport = {"width": 1280 * 100 // zoom, "height": 900 * 100 // zoom}
    context = browser.new_context(viewport=viewport, device_scale_factor=zoom / 100)
    page = context.new_page()
    started = time.monotonic()
    page.goto(url, timeout=wait_ms)
    page.locator("figcaption").first.wait_for(state="attached", timeout=wait_ms)
    return context, page, time.monotonic() - started


def _show_tab(page, name: str) -> None:
    tab = page.get_by_role("tab", name=name)
    tab.click()
    assert tab.get_attribute("aria-selected") == "true"
    shown = page.locator("figure.cityscore-figure:visible, table.cityscore-table:visible")
    shown.first.wait_for(state="visible", timeout=30_000)


def _tab_to(page, key: str, limit: int = 40) -> None:
    """Press Tab until the control ``key`` ("role|name") has focus; fail if it never does."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        seen.append(page.evaluate(FOCUS_JS))
        if seen[-1] == key:
            assert page.evaluate(OUTLINE_JS) != "none", f"no visible focus on {key}"
            return
    pytest.fail(f"Tab never reached {key!r}; focus went: {seen}")


def _figures(page) -> list[dict]:
    return page.eval_on_selector_all(
        "figure.cityscore-figure",
        """els => els.map(f => ({
            caption: f.querySelector('figcaption')?.textContent || '',
            label: f.querySelector('svg')?.getAttribute('role') + ':' +
                   f.querySelector('svg')?.getAttribute('aria-label'),
            named: f.getAttribute('aria-labelledby') === f.querySelector('figcaption')?.id,
            rows: f.querySelectorAll('details table tbody tr').length,
        }))""",
    )


def test_explorer_has_no_axe_violations_and_every_chart_has_a_text_alternative(
    demo_server, browser, artifacts_dir
):
    context, page, _ = _open(browser, demo_server["url"])
    try:
        assert page.get_attribute("html", "lang") == "en"
        assert page.title() == "CityScore Explorer"
        assert page.locator("main").count() == 1
        assert page.locator("main h1").first.text_content().startswith("Explore the CityScore")
        page.keyboard.press("Tab")  # the first stop is the skip link
        assert page.evaluate(FOCUS_JS) == "a|Skip to the explorer"
        found = []
        for tab in TABS:
            _show_tab(page, tab)
            for summary in page.locator("details > summary:visible").all():
                summary.click()  # open every data table, so axe checks them too
            found += [(tab, v) for v in axe_violations(page)]
        page.screenshot(path=str(artifacts_dir / "explore-a11y.png"), full_page=True)
        figures = _figures(page)
    finally:
        context.close()
    assert not found, "\n".join(f"[{tab}] {describe([v])}" for tab, v in found)
    assert len(figures) == 4  # board, daily values, score history, change
    for figure in figures:
        assert figure["label"].startswith("img:") and len(figure["label"]) > len("img:") + 5
        assert figure["named"], figure
        assert re.search(r"\d\.\d\d", figure["caption"]), figure  # headline numbers, in words
        assert figure["rows"] > 0, figure
    board = figures[0]["caption"]
    assert re.search(r"CityScore \(week\) \d\.\d\d", board)
    assert re.search(r"\d+ meeting, \d+ near, \d+ below", board)


@pytest.mark.parametrize("zoom", [100, 200])
def test_keyboard_alone_drives_the_category_and_metric_pickers(
    demo_server, browser, artifacts_dir, zoom
):
    context, page, _ = _open(browser, demo_server["url"], zoom=zoom)
    try:
        # Text reflows: nothing needs scrolling sideways, even at 200 %.
        assert page.evaluate(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
        board = page.locator("figcaption").first
        assert "all categories" in board.text_content()
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # the skip link moves focus to the explorer's heading
        assert page.evaluate("() => document.activeElement.id") == "explorer"

        _tab_to(page, "select|Category")
        page.keyboard.press("ArrowDown")  # All categories -> the first category
        page.wait_for_function(
            "() => document.querySelector('figcaption').textContent"
            ".includes('Basic City Services')",
            timeout=30_000,
        )
        page.get_by_text("Basic City Services (category score)").first.wait_for(state="attached")

        before = page.get_attribute(DETAIL_LABEL, "aria-label")
        _tab_to(page, "select|Metric")
        page.keyboard.press("ArrowDown")
        page.wait_for_function(
            f"() => document.querySelector({DETAIL_LABEL!r}).getAttribute('aria-label') !== {before!r}",
            timeout=30_000,
        )
        after = page.get_attribute(DETAIL_LABEL, "aria-label")
        assert after != before

        page.keyboard.press("Shift+Tab")
        assert page.evaluate(FOCUS_JS) == "input|Find metric"
        page.keyboard.type("pothole")
        page.keyboard.press("Enter")
        page.locator("svg[aria-label='Pothole Repairs On Time: daily values vs target']").wait_for(
            state="attached", timeout=30_000
        )
        assert page.get_by_label("Metric", exact=True).input_value() == "Pothole Repairs On Time"

        _tab_to(page, "tab|Scoreboard")
        page.keyboard.press("ArrowRight")  # arrow keys move between the tabs, Enter opens one
        assert page.evaluate(FOCUS_JS) == "tab|Metric detail"
        page.keyboard.press("Enter")
        detail = page.get_by_role("tab", name="Metric detail")
        assert detail.get_attribute("aria-selected") == "true"
        page.locator(DETAIL_LABEL).first.wait_for(state="visible", timeout=30_000)
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUS_JS).startswith("summary|Data behind the chart")
        page.keyboard.press("Enter")
        assert page.locator("details[open] table:visible").count() == 1
        page.screenshot(path=str(artifacts_dir / f"explore-keyboard-{zoom}.png"))
    finally:
        context.close()


def test_served_explorer_at_300_metrics_draws_every_chart(
    browser, artifacts_dir, tmp_path, big_city
):
    db = copy_sqlite(big_city(300), tmp_path / "city-300.db")
    with serving(db) as served:
        # A big city's first page is slow on a busy 2-core machine: wait longer, assert no time.
        context, page, seconds = _open(browser, served["url"], wait_ms=3 * WAIT_MS)
        try:
            found = []
            for tab in TABS:
                _show_tab(page, tab)
                found += axe_violations(page)
            figures = _figures(page)
            text = page.inner_text("body")
            page.screenshot(path=str(artifacts_dir / "explore-300.png"))
        finally:
            context.close()
    print(f"explorer at 300 metrics: first chart drawn {seconds:.1f} s after the request")
    assert "chart not available" not in text
    assert len(figures) == 4
    assert all(f["label"].startswith("img:") and f["rows"] for f in figures)
    assert figures[0]["rows"] == BOARD_CHART_ROWS
    assert "Of 300 metrics" in figures[0]["caption"]
    assert not found, describe(found)


# --- areas: the picker and the Compare areas tab ----------------------------------------------------

HOSTILE_AREA = '<img src=x onerror="document.title=1"> & Co'
AREA_TABS = [*TABS, AREA_VIEW.capitalize()]


@pytest.fixture(scope="module")
def areas_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The demo city with its ten neighbourhoods, and an eleventh with a hostile name."""
    from cityscore import Kit

    from .conftest import DEMO_END

    db = tmp_path_factory.mktemp("a11y-areas") / "areas.db"
    kit = Kit(f"sqlite:///{db}")
    kit.load_demo(DEMO_END, areas=True)
    for back in range(7):
        day = DEMO_END - dt.timedelta(days=back)
        kit.enter(
            "311 Calls Answered On Time", day, numerator=80, denominator=100, area=HOSTILE_AREA
        )
    kit.store.engine.dispose()
    with serving(db) as served:
        yield served


def test_area_picker_and_compare_areas_tab_by_keyboard_with_no_axe_violations(
    areas_server, browser, artifacts_dir
):
    context, page, _ = _open(browser, areas_server["url"])
    try:
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # the skip link
        _tab_to(page, "select|Area")
        page.keyboard.press("ArrowDown")  # Citywide -> the hostile name ("<" sorts first)
        page.keyboard.press("ArrowDown")  # -> Ashdown
        board = page.locator("svg[aria-label^='Scoreboard chart — Ashdown']")
        board.wait_for(state="attached", timeout=30_000)
        assert "CityScore of Ashdown" in page.locator("[role=status]").first.text_content()

        _tab_to(page, "tab|Scoreboard", limit=60)
        for _ in AREA_TABS[1:]:
            page.keyboard.press("ArrowRight")
        assert page.evaluate(FOCUS_JS) == "tab|Compare areas"
        page.keyboard.press("Enter")
        figure = page.locator("figure.cityscore-figure:visible")
        figure.first.wait_for(state="visible", timeout=30_000)
        _tab_to(page, "select|Compare areas on")
        found = []
        for tab in AREA_TABS:
            _show_tab(page, tab)
            for summary in page.locator("details > summary:visible").all():
                summary.click()
            found += [(tab, v) for v in axe_violations(page)]
        _show_tab(page, "Compare areas")
        compare = [f for f in _figures(page) if "across" in f["caption"]]
        text = page.inner_text("body")
        title = page.title()
        injected = page.locator("img[src='x']").count()
        page.screenshot(path=str(artifacts_dir / "explore-areas.png"), full_page=True)
    finally:
        context.close()
    assert not found, "\n".join(f"[{tab}] {describe([v])}" for tab, v in found)
    assert len(compare) == 1
    assert compare[0]["label"].startswith("img:CityScore across the areas")
    assert compare[0]["rows"] == 11  # every area in the data table
    assert re.search(r"best \w+ \d\.\d\d, worst .+ \d\.\d\d, gap", compare[0]["caption"])
    assert HOSTILE_AREA in text  # shown as text...
    assert injected == 0 and title == "CityScore Explorer"  # ...never as markup


def test_board_chart_keeps_long_metric_names_inside_the_picture_at_200_percent(browser):
    """A name longer than the label limit is cut at its end ("…"), never at its first letters."""
    import pandas as pd

    from cityscore.apps.explorer.markup import chart_svg
    from cityscore.pages import charts

    names = ["Wide Wombat Waste Water Wells Maintained Within Window Of Warning", "Short"]
    day = pd.Timestamp("2026-10-31")
    scores = pd.DataFrame(
        [
            {"as_of": day, "metric": n, "period": p, "value": 1.0, "target": 1.0}
            | {"score": 0.95, "status": "near", "note": ""}
            for n in names
            for p in ("day", "week", "month", "quarter")
        ]
    )
    metrics = pd.DataFrame({"name": names, "category": ["Basic City Services", "Public Safety"]})
    svg = chart_svg(charts.scoreboard_chart(scores, metrics, day), "board")
    page_html = (
        "<!doctype html><html lang='en'><style>svg { max-width: 100%; height: auto; }</style>"
        f"<body><figure>{svg}</figure></body></html>"
    )
    outside = """() => { const s = document.querySelector('svg').getBoundingClientRect();
      return [...document.querySelectorAll('svg text')]
        .map(t => [t.textContent, t.getBoundingClientRect()])
        .filter(([, r]) => r.left < s.left || r.right > s.right).map(([name]) => name); }"""
    # Each category's heading sits clear of the Day/Week/... labels (none overlaps another).
    overlaps = """(words) => { const box = t => t.getBoundingClientRect();
      const texts = [...document.querySelectorAll('svg text')];
      const heads = texts.filter(t => words.heads.includes(t.textContent));
      const cols = texts.filter(t => words.cols.includes(t.textContent));
      const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
      return [heads.length, cols.length, heads.flatMap(h => cols.filter(c => hit(box(h), box(c)))
        .map(c => [h.textContent, c.textContent]))]; }"""
    words = {"heads": ["Basic City Services", "Public Safety"], "cols": ["Day", "Week", "Month"]}
    for zoom in (100, 200):
        context = browser.new_context(
            viewport={"width": 1280 * 100 // zoom, "height": 900 * 100 // zoom},
            device_scale_factor=zoom / 100,
        )
        try:
            page = context.new_page()
            page.set_content(page_html)
            clipped = page.evaluate(outside)
            shown = page.locator("svg text", has_text="Wide Wombat").text_content()
            heads, cols, overlapping = page.evaluate(overlaps, words)
        finally:
            context.close()
        assert clipped == [], f"at {zoom} %: {clipped}"
        assert shown.startswith("Wide Wombat") and shown.endswith("…")
        assert heads == 2 and cols >= 3 and overlapping == [], f"at {zoom} %: {overlapping}"
