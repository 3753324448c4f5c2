"""Issue 13: the daily report's "Across neighbourhoods" section.

A tiny city worked by hand (three metrics, four areas, constant daily values, so every month score is
value ÷ target) is written through the kit and reported by the real ``cityscore report``: once without
a map (the heat table) and once with a GeoJSON (the map, drawn offline in headless Chromium). One area
and one metric carry hostile names. The section is absent for a city without areas, and stays small
at 300 metrics.

Month scores (target 10 a day, higher is better, mean of the days):

    area                     A (gap 0.5)   B (gap 0.75)  <script> metric (gap 1)  area CityScore
    <script>… & Co (HOSTILE)  10 → 1.0      10 → 1.0      10 → 1.0                 1.0
    East                      8 → 0.8       12 → 1.2      10 → 1.0                 1.0
    North                     10 → 1.0      9 → 0.9       10 → 1.0                 0.9667
    South                     5 → 0.5       9 → 0.9       10 → 1.0                 0.8

A: best 1.0 (tie North / HOSTILE: the first by name, "<" sorts before letters), worst South 0.5,
gap 0.5, 2 of 4 areas below 1. B: best East 1.2, worst 0.9 (tie North / South: North), gap 0.75,
2 of 4 below. The hostile metric: every area 1.0, gap 1, 0 of 4 below. Widest first: A, B, then it.
Area CityScores: best 1.0 (tie HOSTILE / East: HOSTILE), worst South 0.8, 2 of 4 below 1 (North, South).
"""

from __future__ import annotations

import html
import itertools
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from IPython.utils.capture import capture_output

from cityscore import Kit
from cityscore.apps.report import notebook as report
from cityscore.pages import report_areas
from cityscore.pages.charts.area_charts import NO_SCORE_COLOR
from cityscore.store.copy import copy_sqlite
from tests.axe import axe_violations, describe
from tests.test_cli_errors import assert_clean_failure, cli
from tests.test_report import run_report

AS_OF = "2026-10-31"
HOSTILE = "<script>alert(1)</script> & Co"
EVIL_METRIC = '<script>alert("m")</script>'
VALUES = {  # metric -> area -> constant daily value (target 10)
    "A": {HOSTILE: 10, "East": 8, "North": 10, "South": 5},
    "B": {HOSTILE: 10, "East": 12, "North": 9, "South": 9},
    EVIL_METRIC: {HOSTILE: 10, "East": 10, "North": 10, "South": 10},
}
AREAS = sorted(VALUES["A"])


def write_tiny_city(url: str, folder: Path) -> Kit:
    kit = Kit(url)
    kit.init()
    metrics = pd.DataFrame(
        {
            "name": list(VALUES),
            "definition": "a hand-worked metric",
            "category": "Tiny & <b>bold</b>",
            "unit": "count",
            "direction": "higher",
            "kind": "value",
            "aggregation": "mean",
            "target": 10,
            "baseline": "",
            "trend": "false",
            "weight": 1,
        }
    )
    metrics.to_csv(folder / "metrics.csv", index=False)
    kit.import_metrics(folder / "metrics.csv")
    days = pd.date_range(end=AS_OF, periods=40).strftime("%Y-%m-%d")
    rows = [
        {"metric": m, "date": d, "value": v, "area": area}
        for m, by_area in VALUES.items()
        for area, v in [("", 9), *by_area.items()]  # a citywide row too, for the headline
        for d in days
    ]
    pd.DataFrame(rows).to_csv(folder / "values.csv", index=False)
    kit.import_values(folder / "values.csv")
    kit.store.engine.dispose()
    return kit


def square(name: str, x: float) -> dict[str, Any]:
    ring = [[x, 0.0], [x + 1, 0.0], [x + 1, 1.0], [x, 1.0], [x, 0.0]]
    return {
        "type": "Feature",
        "properties": {"name": name},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def write_geojson(path: Path, names: list[str]) -> Path:
    features = [square(name, 1.2 * i) for i, name in enumerate(names)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny-areas")
    write_tiny_city(f"sqlite:///{root / 'tiny.db'}", root)
    return root


@pytest.fixture(scope="module")
def tiny_daily(tiny: Path) -> report.DailyData:
    return report.daily_data(Kit(f"sqlite:///{tiny / 'tiny.db'}"), AS_OF)


def cells(page: str, table_class: str) -> list[list[str]]:
    """The text of every body row of the first table whose class holds ``table_class``."""
    table = re.search(rf'<table class="[^"]*{table_class}[^"]*".*?</table>', page, re.S)
    assert table, f"no {table_class} table"
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(0).split("<tbody>")[1], re.S)
    strip = re.compile(r'<span class="visually-hidden">.*?</span>|<[^>]+>')
    return [
        [
            html.unescape(strip.sub("", c))
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in rows
    ]


# --- the section's parts, without a kernel ----------------------------------------------------------


def test_widest_gaps_match_the_hand_worked_city(tiny_daily: report.DailyData) -> None:
    parts = report_areas.areas_section(tiny_daily)
    assert all(isinstance(p, str) for p in parts)  # no map for this city: the heat table
    gaps = cells(parts[-1], "cityscore-table")
    assert [row[0] for row in gaps] == ["A", "B", EVIL_METRIC]
    # metric, worst area, worst score, its status, best area, best score, gap, areas below 1
    assert gaps[0] == ["A", "South", "0.50", "✗ below", HOSTILE, "1.00", "0.50", "2 of 4"]
    assert gaps[1] == ["B", "North", "0.90", "≈ near", "East", "1.20", "0.75", "2 of 4"]
    assert gaps[2] == [EVIL_METRIC, HOSTILE, "1.00", "✓ meeting", HOSTILE, "1.00", "1.00", "0 of 4"]
    intro = parts[0]
    assert "from 0.80 in South to 1.00 in" in intro and "2 of 4 areas are below 1" in intro


def test_the_heat_table_shows_areas_by_metrics_with_status_words(
    tiny_daily: report.DailyData,
) -> None:
    heat = report_areas.areas_section(tiny_daily)[1]
    assert 'class="heat"' in heat and "<caption>" in heat
    rows = {r[0]: r[1:] for r in cells(heat, "heat")}
    assert list(rows) == AREAS
    # columns: CityScore, then the metrics widest gap first (A, B, the hostile one)
    assert [c.split()[-1] for c in rows["South"]] == ["0.80", "0.50", "0.90", "1.00"]
    assert [c.split()[-1] for c in rows["North"]] == ["0.97", "1.00", "0.90", "1.00"]
    assert "below" in heat and "✗" in heat  # status as a symbol and a word
    assert "<script>" not in heat and "&lt;script&gt;" in heat


def test_a_heat_cell_without_a_score_gives_the_engines_reason() -> None:
    from cityscore.pages import areas

    table = pd.DataFrame({"A": [0.5, None]}, index=["South", "North <b>"])
    statuses = pd.DataFrame({"A": ["below", None]}, index=table.index)
    notes = pd.DataFrame({"A": [None, "no data <in> the window"]}, index=table.index)
    heat = areas.heat_html(table, statuses, notes, caption="c")
    assert "no score: no data &lt;in&gt; the window" in heat
    assert 'title="no data &lt;in&gt; the window"' in heat
    assert "North &lt;b&gt;" in heat
    assert "no score: no score" in areas.heat_html(table, statuses, caption="c")  # no notes


def test_a_map_whose_names_match_no_area_falls_back_to_the_table(
    tiny_daily: report.DailyData, tmp_path: Path
) -> None:
    geo = write_geojson(tmp_path / "areas.geojson", ["Elsewhere", "Nowhere"])
    parts = report_areas.areas_section(tiny_daily, geo)
    assert not any(isinstance(p, report.Figure) for p in parts)
    assert "None of the 4 areas in the data has a shape in areas.geojson" in parts[0]
    assert "Elsewhere, Nowhere" in parts[0] and 'class="heat"' in parts[1]


def test_a_map_lists_the_names_it_does_not_share_with_the_data(
    tiny_daily: report.DailyData, tmp_path: Path
) -> None:
    geo = write_geojson(tmp_path / "areas.geojson", ["East", "North", "Nowhere"])
    parts = report_areas.areas_section(tiny_daily, geo)
    figure = next(p for p in parts if isinstance(p, report.Figure))
    assert f"No shape in areas.geojson for: {html.escape(HOSTILE)}, South" in parts[0]
    assert "with no area in the data (grey): Nowhere" in parts[0]
    spec = figure.chart.to_dict()
    assert spec["mark"]["type"] == "geoshape" and len(spec["data"]["values"]) == 3
    assert "Data behind this chart" in figure.table and "South" in figure.table


def test_the_section_is_absent_for_a_city_without_areas(demo_db_file: Path, tmp_path: Path) -> None:
    daily = report.daily_data(Kit(f"sqlite:///{copy_sqlite(demo_db_file, tmp_path / 'd.db')}"))
    assert daily.areas is None and daily.equity is None
    assert report_areas.areas_section(daily) == []
    with capture_output() as shown:
        report.show_areas(daily)
    assert shown.outputs == [] and shown.stdout == ""  # no heading, no nav link, nothing


def test_daily_data_defaults_to_the_date_the_cli_picks(demo_db_file: Path, tmp_path: Path) -> None:
    kit = Kit(f"sqlite:///{copy_sqlite(demo_db_file, tmp_path / 'd.db')}")
    # One metric reported a week ahead: the latest date moves, the default as-of date does not.
    ahead = tmp_path / "ahead.csv"
    ahead.write_text("metric,date,value\nLibrary Users,2026-11-07,500\n", encoding="utf-8")
    kit.import_values(ahead)
    assert kit.latest_date().isoformat() == "2026-11-07"
    daily = report.daily_data(kit, history_days=30)
    assert daily.as_of == pd.Timestamp(kit.default_as_of()) != pd.Timestamp("2026-11-07")


def test_at_300_metrics_the_section_stays_small_and_says_what_it_left_out() -> None:
    from benchmarks.bench_areas import area_city
    from cityscore.engine import summary
    from cityscore.engine.score import score_by_area

    observations, metrics, targets, _, last = area_city(300, 4, 1)
    scored = score_by_area(observations, metrics, targets, last, last)
    area_scores = scored[scored["area"] != ""].reset_index(drop=True)
    daily = report.DailyData(
        as_of=pd.Timestamp(last),
        **dict.fromkeys(
            [
                "scores",
                "history",
                "metrics",
                "targets",
                "citywide",
                "contributions",
                "exceeding",
                "follow_up",
                "freshness",
            ],
            pd.DataFrame(),
        ),
        areas=area_scores,
        equity=summary.equity(area_scores),
    )
    parts = report_areas.areas_section(daily)
    html = "".join(parts)
    heat = cells(parts[1], "heat")
    assert len(heat) == 4 and all(len(r) == 1 + 1 + report_areas.TOP_GAPS for r in heat)
    gaps = summary.widest_gaps(daily.equity, daily.as_of, report_areas.AREA_PERIOD)
    assert len(gaps) > report_areas.TOP_GAPS
    rest = len(gaps) - report_areas.TOP_GAPS
    assert f"{rest} more metrics with a gap between areas not shown" in html
    assert f"{rest} more metrics scored in two or more areas not shown" in html
    assert len(cells(parts[-1], "cityscore-table")) == report_areas.TOP_GAPS
    assert len(html) < 40_000  # a few tables, whatever the number of metrics
    shown = [r[0] for r in cells(parts[-1], "cityscore-table")]
    assert shown == gaps["metric"].head(report_areas.TOP_GAPS).tolist()
    assert np.all(np.diff(gaps["gap"].to_numpy()) >= 0)


# --- the command: where the map comes from ------------------------------------------------------------


@pytest.mark.slow
def test_a_missing_or_bad_areas_map_is_one_line_from_the_cli(tiny: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tiny / 'tiny.db'}"
    out = str(tmp_path / "out")
    missing = tmp_path / "missing.geojson"
    result = cli("report", "--out", out, "--areas-map", str(missing), db=url)
    assert_clean_failure(result, "no areas map at", "missing.geojson")
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json", encoding="utf-8")
    assert_clean_failure(
        cli("report", "--out", out, "--areas-map", str(bad), db=url), "bad.geojson"
    )
    folder = cli("report", "--out", out, "--areas-map", str(tmp_path), db=url)
    assert_clean_failure(folder, "cannot read the areas map", "Is a directory")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("*/*.html"))


@pytest.mark.slow
def test_the_areas_map_setting_comes_from_flag_then_environment_then_toml(
    tiny: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tiny / 'tiny.db'}"
    (tmp_path / "cityscore.toml").write_text('areas_map = "from-toml.geojson"\n', "utf-8")

    def run(*a, **env):
        return cli("report", "--out", str(tmp_path / "o"), *a, db=url, cwd=tmp_path, **env)

    assert_clean_failure(run(), str(tmp_path / "from-toml.geojson"))
    assert_clean_failure(run(CITYSCORE_AREAS_MAP="from-env.geojson"), "from-env.geojson")
    flag = run("--areas-map", "from-flag.geojson", CITYSCORE_AREAS_MAP="from-env.geojson")
    assert_clean_failure(flag, "from-flag.geojson")


# --- the report in a real Chromium ------------------------------------------------------------------


def drawn_page(browser: Any, path: Path) -> tuple[Any, list[str], list[str]]:
    """The page with every chart drawn, every request it made recorded (CSP bypassed for axe)."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_function(
        "document.querySelectorAll('figure.chart-box').length === "
        "document.querySelectorAll('figure.chart-box.drawn svg').length",
        timeout=120_000,
    )
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    return page, requests, errors


def report_of(tiny: Path, tmp_path: Path, *args: str) -> Path:
    db = copy_sqlite(tiny / "tiny.db", tmp_path / "tiny.db")
    run = run_report(f"sqlite:///{db}", tmp_path / "reports", "--date", AS_OF, *args)
    assert run.returncode == 0, run.stderr
    return tmp_path / "reports" / "latest.html"


def assert_section_is_accessible(page: Any) -> None:
    violations = axe_violations(page)
    assert violations == [], describe(violations)
    levels = page.evaluate(
        "Array.from(document.querySelectorAll('h1,h2,h3')).map(h => Number(h.tagName[1]))"
    )
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels
    nav = page.evaluate("Array.from(document.querySelectorAll('nav a')).map(a => a.hash)")
    assert "#Across-neighbourhoods" in nav and page.locator("#Across-neighbourhoods").count() == 1


def test_report_with_a_map_draws_the_areas_offline(
    browser: Any, tiny: Path, tmp_path: Path, artifacts_dir: Path
) -> None:
    geo = write_geojson(tmp_path / "areas.geojson", [*AREAS, "Nowhere"])
    page, requests, errors = drawn_page(browser, report_of(tiny, tmp_path, "--areas-map", str(geo)))
    try:
        assert requests and all(u.startswith(("file://", "data:")) for u in requests), requests
        assert errors == []  # no console error, no dialog
        chart = page.locator("figure.chart-box").filter(has_text="Month CityScore by area")
        assert chart.count() == 1
        label = chart.locator("div.chart[role=graphics-document]").get_attribute("aria-label")
        assert label.startswith("Month CityScore by area") and HOSTILE in label
        fills = chart.locator("g.mark-shape path").evaluate_all(
            "ps => ps.map(p => p.getAttribute('fill'))"
        )
        # Every area's shape, and the one with no area in the data in grey.
        assert len(fills) == len(AREAS) + 1 and fills.count(NO_SCORE_COLOR) == 1, fills
        assert page.locator("table.heat").count() == 0  # the map replaces the heat table
        assert page.get_by_text("with no area in the data (grey): Nowhere").count() == 1
        assert page.locator("script:not([type]), script[type='text/javascript']").count() == 2
        assert_section_is_accessible(page)
        page.screenshot(path=str(artifacts_dir / "report-areas-map.png"), full_page=True)
    finally:
        page.context.close()


def test_report_without_a_map_shows_the_heat_table_escaped(
    browser: Any, tiny: Path, tmp_path: Path
) -> None:
    page, requests, errors = drawn_page(browser, report_of(tiny, tmp_path))
    try:
        assert all(u.startswith(("file://", "data:")) for u in requests), requests
        assert errors == []
        heat = page.locator("table.heat")
        assert heat.count() == 1
        assert heat.locator("caption").inner_text().startswith("Month scores by area")
        first_column = heat.locator("tbody th[scope=row]").all_inner_texts()
        assert first_column == AREAS  # the hostile name shown as text, not run
        assert page.get_by_text(EVIL_METRIC, exact=True).count() >= 1
        assert_section_is_accessible(page)
    finally:
        page.context.close()
