"""The daily report: `cityscore report` through the real console script, on real databases.

Report runs start a real Jupyter kernel (a few seconds each), so they are shared through a
module-scoped folder and every test that changes files works on a copy of it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from cityscore import Kit
from cityscore.apps.report import convert, outputs, publish
from cityscore.apps.report import notebook as report
from cityscore.core.bands import Bands
from cityscore.core.errors import ConfigError
from cityscore.core.files import write_atomically
from cityscore.engine import summary
from cityscore.pages import charts, display, report_index
from cityscore.pages.render import score_text
from cityscore.store.copy import copy_sqlite
from tests.conftest import DEMO_END

CLI = str(Path(sys.executable).with_name("cityscore"))
DAY = DEMO_END.isoformat()
DAY_BEFORE = (DEMO_END - pd.Timedelta(days=1)).isoformat()


def run_report(
    db: str, out: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **(env or {}), "CITYSCORE_DB": db}
    return subprocess.run(
        [CLI, "report", "--out", str(out), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


class Links(HTMLParser):
    """Collects every src/href attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [(tag, name, value or "") for name, value in attrs if name in ("src", "href")]


def links(page: str) -> list[tuple[str, str, str]]:
    parser = Links()
    parser.feed(page)
    return parser.links


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, demo_db_file: Path) -> dict:
    """Reports for the demo's last day and the day before, then the last day again (twice a day)."""
    root = tmp_path_factory.mktemp("published")
    db = root / "demo.db"
    copy_sqlite(demo_db_file, db)  # consistent even while the demo file has a WAL
    out = root / "reports"
    url = f"sqlite:///{db}"
    # The third run also has a user-installed "python3" kernel that cannot start (like one left by
    # `ipython kernel install --user` for another Python): the report must use its own Python.
    bogus = root / "jupyter" / "kernels" / "python3"
    bogus.mkdir(parents=True)
    (bogus / "kernel.json").write_text(
        json.dumps(
            {"argv": ["/bin/false", "{connection_file}"], "display_name": "x", "language": "python"}
        )
    )
    envs = [None, None, {"JUPYTER_DATA_DIR": str(root / "jupyter"), "JUPYTER_PREFER_ENV_PATH": "0"}]
    runs = [
        run_report(url, out, "--date", d, "--city", "Demo <City>", env=e)
        for d, e in zip((DAY, DAY_BEFORE, DAY), envs, strict=True)
    ]
    return {"out": out, "url": url, "db": db, "runs": runs}


def test_report_writes_page_notebook_latest_and_index(published: dict) -> None:
    for run in published["runs"]:
        assert run.returncode == 0, run.stderr
    out = published["out"]
    page = out / DAY / f"cityscore-{DAY}.html"
    assert page.exists() and (out / DAY / f"cityscore-{DAY}.ipynb").exists()
    assert (out / "latest.html").read_bytes() == page.read_bytes()  # newest date, not the last run
    assert f"wrote {page}" in published["runs"][0].stdout
    saved = json.loads((out / DAY / "summary.json").read_text())
    assert (
        f"CityScore {DAY}: {saved['cityscore']} ({saved['status']})" in published["runs"][0].stdout
    )
    leftovers = [p for p in out.rglob("*.tmp")]
    assert leftovers == []


def test_headline_shows_the_engines_cityscore(published: dict) -> None:
    scores = Kit(published["url"]).scores(DAY)
    city = scores[(scores["metric"] == "CityScore") & (scores["period"] == "day")].iloc[0]
    expected = score_text(city["score"])
    page = (published["out"] / "latest.html").read_text()
    assert f'<p class="big {city["status"]}">{expected}</p>' in page
    assert "Demo &lt;City&gt;" in page and "Demo <City>" not in page


def test_page_is_offline_single_file_without_code(published: dict) -> None:
    page = (published["out"] / "latest.html").read_text()
    outside = [link for link in links(page) if not link[2].startswith("#")]
    assert outside == []
    assert (
        page.count(convert.javascript_bundle()[:300]) == 1
    )  # the Vega bundle, inlined exactly once
    assert page.count('class="chart-box"') == 3
    assert "from cityscore import" not in page and "report.show(" not in page
    assert [tag for tag, _, _ in links(page) if tag in ("script", "link")] == []
    assert "require.js" not in page and "mathjax" not in page.lower()


def test_index_lists_every_report_once_with_score_and_sparkline(published: dict) -> None:
    out = published["out"]
    index = (out / "index.html").read_text()
    assert index.count(f'href="{DAY}/cityscore-{DAY}.html"') == 1
    assert index.count(f'href="{DAY_BEFORE}/cityscore-{DAY_BEFORE}.html"') == 1
    assert index.index(DAY) < index.index(DAY_BEFORE)  # newest first
    assert index.count('<svg class="spark"') == 2
    for day in (DAY, DAY_BEFORE):
        saved = json.loads((out / day / "summary.json").read_text())
        assert f">{saved['cityscore']}</td>" in index
    assert [link for link in links(index) if "://" in link[2]] == []


def test_database_url_is_not_written_anywhere(published: dict) -> None:
    db_path = str(published["db"]).encode()
    leaked = [name for name, data in files_under(published["out"]).items() if db_path in data]
    assert leaked == []


def test_bad_date_fails_names_the_cell_and_keeps_the_previous_report(
    published: dict, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    shutil.copytree(published["out"], out)
    before = files_under(out)
    # The command checks the date before a kernel starts (a future one is a usage error) ...
    early = run_report(published["url"], out, "--date", "2031-01-01")
    assert early.returncode == 2 and "in the future" in early.stderr
    assert files_under(out) == before
    # ... and a notebook that fails anyway names the cell and is kept, the report left as it was.
    with pytest.raises(publish.ReportError) as run:
        publish.publish(out, {"report_date": "2031-01-01"}, db=published["url"])
    assert "cell" in str(run.value) and "report.daily_data(" in str(run.value)
    assert "no data for report date 2031-01-01" in str(run.value)
    failed = list((out / "failed").glob("*.ipynb"))
    assert len(failed) == 1 and "2031-01-01" in failed[0].read_text()
    after = files_under(out)
    assert {k: v for k, v in after.items() if not k.startswith("failed/")} == before


def test_postgres_password_never_reaches_reports(
    postgres_url: str, demo_db_file: Path, tmp_path: Path
) -> None:
    # The test server trusts local connections, so any password works and none may leak.
    password = "Sup3r-Secret-pw"
    with_password = postgres_url.replace("postgres@", f"postgres:{password}@")
    Kit(postgres_url).load_demo(DEMO_END)
    out = tmp_path / "reports"
    ok = run_report(with_password, out, "--date", DAY)
    assert ok.returncode == 0, ok.stderr
    broken = with_password.rsplit("/", 1)[0] + "/no_such_database"
    failed = run_report(broken, out, "--date", DAY)  # refused before a kernel starts
    assert failed.returncode == 1 and "does not exist" in failed.stderr
    assert password not in failed.stderr + failed.stdout
    with pytest.raises(publish.ReportError) as in_kernel:  # the same failure inside the notebook
        publish.publish(out, {"report_date": DAY}, db=broken, secrets=[password])
    assert "cell" in str(in_kernel.value) and password not in str(in_kernel.value)
    assert list((out / "failed").glob("*.ipynb"))
    leaked = [name for name, data in files_under(out).items() if password.encode() in data]
    assert leaked == []
    assert (out / "latest.html").read_bytes() == (out / DAY / f"cityscore-{DAY}.html").read_bytes()


def test_notebook_parameters_are_typed_with_help() -> None:
    import papermill

    params = papermill.inspect_notebook(str(publish.NOTEBOOK))
    assert {"report_date", "city_name", "periods", "history_days", "stale_after"} <= set(params)
    assert (
        params["report_date"]["inferred_type_name"] == "str"
        and params["report_date"]["default"] == '""'
    )
    assert all(p["help"] for p in params.values())
    assert not any("db" in name or "url" in name for name in params)


# --- pieces, without a kernel -----------------------------------------------------------------------


def test_script_json_cannot_close_its_script() -> None:
    text = convert.script_json({"name": "</script><script>alert(1)</script>&\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"name": "</script><script>alert(1)</script>&\u2028"}


def test_tables_and_index_escape_user_text() -> None:
    evil = "<img src=x onerror=alert(1)>"
    table = display.table_html(
        pd.DataFrame({"metric": [evil], "score": [0.5]}), {"metric": "M", "score": "S"}, caption="T"
    )
    assert evil not in table and "&lt;img src=x onerror=alert(1)&gt;" in table and ">0.50<" in table
    index = report_index.index_html(
        [{"as_of": "2026-10-31", "city_name": evil, "cityscore": "1.00", "status": "near"}]
    )
    assert evil not in index and "&lt;img" in index


def test_write_atomic_replaces_whole_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "a" / "page.html"
    write_atomically(target, "old")
    write_atomically(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in target.parent.iterdir()] == ["page.html"]


def test_sparkline_scales_points_into_the_box() -> None:
    svg = report_index.sparkline_svg([0.5, None, 1.5], width=100, height=20)
    points = svg.split('points="')[1].split('"')[0].split()
    assert points == ["0.0,18.0", "100.0,2.0"]
    assert report_index.sparkline_svg([1.0]) == ""


# --- chart specs ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_history(demo_db_file: Path) -> tuple[Kit, pd.DataFrame]:
    kit = Kit(f"sqlite:///{demo_db_file}")
    return kit, kit.scores(start=pd.Timestamp(DEMO_END) - pd.Timedelta(days=199), end=DEMO_END)


def _datasets(spec: dict) -> list[dict]:
    return [row for rows in spec["datasets"].values() for row in rows]


def test_scoreboard_cells_match_scores_and_explain_missing(
    demo_history: tuple[Kit, pd.DataFrame],
) -> None:
    kit, history = demo_history
    day = history[history["as_of"] == pd.Timestamp(DEMO_END)]
    copy = day.copy()
    spec = charts.scoreboard_chart(day, kit.metrics(), DEMO_END).to_dict()
    pd.testing.assert_frame_equal(day, copy)  # input untouched
    cells = {(r["metric"], r["period"]): r for r in _datasets(spec)}
    metric_rows = day[day["metric"] != "CityScore"]
    assert len(cells) == len(metric_rows)
    for row in metric_rows.itertuples():
        cell = cells[(row.metric, row.period)]
        assert cell["label"] == score_text(row.score)
        if pd.isna(row.score):
            unscored = "stale" if row.status == "stale" else "no score"  # stale: said even so
            assert (
                cell["label"] == "—" and cell["reason"] == row.note and cell["status"] == unscored
            )
        else:
            assert cell["status"] == row.status and cell["reason"] == ""
    assert spec["facet"]["row"]["field"] == "category"


def test_small_multiples_mark_target_changes_in_range(
    demo_history: tuple[Kit, pd.DataFrame],
) -> None:
    kit, history = demo_history
    targets = kit.targets()
    spec = charts.small_multiples_chart(history, targets).to_dict()
    rows = _datasets(spec)
    first = history["as_of"].min()
    in_range = targets[pd.to_datetime(targets["effective_from"]) > first]
    marks = [r for r in rows if r["mark"] == "target change"]
    assert sorted((r["metric"], r["as_of"]) for r in marks) == sorted(
        (m, pd.Timestamp(d).strftime("%Y-%m-%d"))
        for m, d in zip(in_range["metric"], in_range["effective_from"], strict=True)
    )
    assert len(rows) <= charts.MAX_ROWS


def test_small_multiples_take_chosen_metrics_from_any_iterable(
    demo_history: tuple[Kit, pd.DataFrame],
) -> None:
    """The panels, their order and the description are the same for a list and for a generator."""
    kit, history = demo_history
    names = sorted(history.loc[history["metric"] != "CityScore", "metric"].astype(str).unique())
    chosen = [names[3], names[0]]
    targets = kit.targets()
    as_list = charts.small_multiples_chart(history, targets, metrics=chosen).to_dict()
    as_iter = charts.small_multiples_chart(history, targets, metrics=iter(chosen)).to_dict()
    assert as_iter == as_list
    assert as_list["facet"]["sort"] == chosen
    assert {r["metric"] for r in _datasets(as_list)} == set(chosen)


def test_contributions_chart_shows_both_comparisons(demo_history: tuple[Kit, pd.DataFrame]) -> None:
    kit, history = demo_history
    frames = [
        summary.contributions(history, kit.metrics(), DEMO_END, since_days=d).assign(since=label)
        for d, label in ((1, "since yesterday"), (7, "since last week"))
    ]
    spec = charts.contributions_chart(pd.concat(frames)).to_dict()
    rows = _datasets(spec)
    assert {r["since"] for r in rows} == {"since yesterday", "since last week"}
    assert all((r["direction"] == "up") == (r["contribution"] >= 0) for r in rows)


def test_detail_and_history_charts_follow_the_target(
    demo_history: tuple[Kit, pd.DataFrame],
) -> None:
    kit, history = demo_history
    metric = "EMS Response Time"
    targets = kit.targets()
    obs = kit.observations(pd.Timestamp(DEMO_END) - pd.Timedelta(days=199), DEMO_END)
    rows = _datasets(charts.metric_detail_chart(obs, targets, metric).to_dict())
    mine = targets[targets["metric"] == metric].sort_values("effective_from")
    earlier, change = mine.iloc[-2], mine.iloc[-1]
    changed = pd.Timestamp(change["effective_from"])
    assert any(pd.Timestamp(r["date"]) < changed for r in rows)  # the change falls inside the chart
    for row in rows:
        expected = change["target"] if pd.Timestamp(row["date"]) >= changed else earlier["target"]
        assert row["target"] == pytest.approx(expected)
    spec = charts.score_history_chart(history, metric).to_dict()
    assert {r["period"] for r in _datasets(spec) if "period" in r} == {
        "day",
        "week",
        "month",
        "quarter",
    }
    city = charts.citywide_chart(summary.citywide(history)).to_dict()
    assert {r["period"] for r in _datasets(city) if "period" in r} == {"day", "week"}


def test_outputs_are_scrubbed_of_the_password_but_sources_and_short_ones_kept() -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    secrets = publish.output_secrets("postgresql+psycopg://me:p%40ssw0rd@db/city")
    assert secrets == ["p%40ssw0rd", "p@ssw0rd"]
    cell = new_code_cell("kit = Kit()")
    cell.outputs = [
        new_output(
            "error",
            ename="OperationalError",
            evalue="auth failed for p@ssw0rd",
            traceback=["p%40ssw0rd"],
        ),
        new_output("display_data", data={outputs.VEGALITE_MIME: {"title": ["x p@ssw0rd"]}}),
    ]
    nb = publish._scrub_outputs(new_notebook(cells=[cell]), secrets)
    text = nbformat.writes(nb)
    assert "p@ssw0rd" not in text and "p%40ssw0rd" not in text and text.count("***") == 3
    assert nb.cells[0].source == "kit = Kit()"
    assert publish.output_secrets("postgresql://me:ab@db/city") == []  # too short to search for
    assert publish.output_secrets("sqlite:///data/cityscore.db") == []


def test_daily_data_defaults_to_latest_and_validates(
    demo_history: tuple[Kit, pd.DataFrame],
) -> None:
    kit, _ = demo_history
    daily = report.daily_data(kit, periods=["week", "month"], history_days=30)
    assert daily.as_of == pd.Timestamp(kit.latest_date())
    assert set(daily.scores["period"].astype(str)) == {"week", "month"}
    assert daily.history["as_of"].nunique() == 30
    assert set(daily.contributions["since"].str.split(":").str[0]) == {
        "since yesterday",
        "since last week",
    }
    city = daily.city("day")
    assert f"day {score_text(city['score'])}" in daily.key_numbers()
    with pytest.raises(ConfigError, match="unknown period"):
        report.daily_data(kit, periods=["weekly"])
    with pytest.raises(ConfigError, match="no data for report date 2031-01-01"):
        report.daily_data(kit, "2031-01-01")


def test_chart_descriptions_state_the_headline_numbers(
    demo_history: tuple[Kit, pd.DataFrame],
) -> None:
    kit, history = demo_history
    city = summary.citywide(history)
    spec = charts.citywide_chart(city).to_dict()
    day = city[city["period"] == "day"].dropna(subset=["score"])
    low, last = day.loc[day["score"].idxmin()], day.iloc[-1]
    assert f"lowest {score_text(low['score'])} on {low['as_of']:%Y-%m-%d}" in spec["description"]
    assert f"{score_text(last['score'])} on the last day" in spec["description"]
    assert spec["config"]["mark"]["aria"] is False  # marks are described by the chart as a whole
    chosen = ["Shootings", "Homicides"]
    panels = charts.small_multiples_chart(history, kit.targets(), metrics=chosen).to_dict()
    assert {r["metric"] for r in _datasets(panels)} == set(chosen)
    assert panels["spec"]["layer"][0]["mark"]["type"] == "line"
    assert panels["facet"]["sort"] == chosen
    assert "for 2 metrics" in panels["description"]


def _near_edge_daily(bands: str = "1.0,0.9") -> report.DailyData:
    """A report day: CityScore 0.996 (near), week 0.8996 (below), month 1.0, quarter 0.9."""
    as_of = pd.Timestamp(DAY)
    city = pd.DataFrame(
        {
            "as_of": [as_of] * 4,
            "period": ["day", "week", "month", "quarter"],
            "score": [0.996, 0.8996, 1.0, 0.9],
            "status": ["near", "below", "meeting", "near"],
            "note": ["2 of 2 metrics scored"] * 4,
            "share_below_one": [1.0] * 4,
            "below_one": [2] * 4,
            "scored": [2] * 4,
        }
    )
    empty = pd.DataFrame()
    return report.DailyData(
        as_of, empty, empty, empty, empty, city, empty, empty, empty, empty,
        bands=Bands.parse(bands),
    )  # fmt: skip


def test_headline_never_reads_1_00_near() -> None:
    daily = _near_edge_daily()
    page = report.headline_html(daily, "Springfield")
    assert '<p class="big near">0.996</p>' in page and '"big near">1.00<' not in page
    assert "Week <b>0.8996</b>" in page  # below: "0.90" would read as near
    assert "Month <b>1.00</b> · Quarter <b>0.90</b>" in page  # on an edge: 2 places
    assert "day 0.996, week 0.8996, month 1.00, quarter 0.90" in daily.key_numbers()
    assert daily.summary("Springfield")["cityscore"] == "0.996"
    custom = report.headline_html(_near_edge_daily("1.05,0.95"), "Springfield")
    assert '<p class="big near">1.00</p>' in custom  # 1 is no edge of these bands


def test_chart_labels_and_captions_keep_a_score_in_its_band() -> None:
    as_of = pd.Timestamp(DAY)
    scores = pd.DataFrame(
        {
            "as_of": [as_of] * 2,
            "metric": ["Potholes", "Library users"],
            "period": ["day"] * 2,
            "value": [0.996, 0.8996],
            "target": [1.0, 1.0],
            "score": [0.996, 0.8996],
            "status": ["near", "below"],
            "note": ["", ""],
        }
    )
    metrics = pd.DataFrame({"name": ["Potholes", "Library users"], "category": ["Streets"] * 2})
    cells = {
        r["metric"]: r for r in _datasets(charts.scoreboard_chart(scores, metrics, as_of).to_dict())
    }
    assert (cells["Potholes"]["cell"], cells["Potholes"]["label"]) == ("≈ 0.996", "0.996")
    assert cells["Library users"]["cell"] == "✗ 0.8996"
    city = pd.DataFrame(
        {"as_of": [as_of], "period": ["day"], "score": [0.996], "share_below_one": [0.5]}
    )
    assert "0.996 on the last day" in charts.citywide_description(city)
    areas = pd.DataFrame({"area": ["North"], "score": [0.996], "status": ["near"]})
    bars = charts.area_comparison_chart(areas, "CityScore", "day", "d").to_dict()
    assert _datasets(bars)[0]["cell"] == "≈ near 0.996"


def test_custom_bands_reach_the_report_tables_and_chart_captions() -> None:
    """With bands 1.05/0.95, a day CityScore of 1.046 is near: no table or caption shows 1.05."""
    daily = _near_edge_daily("1.05,0.95")
    daily.citywide["score"] = [1.046, 0.9496, 1.0, 0.9]
    figure = report.citywide_figure(daily)
    assert "1.046" in figure.table and ">1.05<" not in figure.table
    assert "1.046 on the last day" in figure.chart.to_dict()["description"]
    default = report.citywide_figure(_near_edge_daily())
    assert ">0.996<" in default.table
