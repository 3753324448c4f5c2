"""The daily report in a real headless Chromium with every network request blocked.

One report is built for a demo city that also has a metric named like an XSS attack; the page must
draw every chart offline, log no console error, and show the hostile name as text.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cityscore.store.copy import copy_sqlite
from tests.conftest import DEMO_END
from tests.test_report import run_report

EVIL = "<img src=x onerror=alert(1)>"
EVIL_CATEGORY = "</script><script>alert(2)</script>"


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory, demo_db_file: Path) -> Path:
    from cityscore import Kit

    root = tmp_path_factory.mktemp("hostile")
    db = root / "demo.db"
    copy_sqlite(demo_db_file, db)
    kit = Kit(f"sqlite:///{db}")
    metric = {
        "name": EVIL,
        "definition": "a metric whose name is an attack",
        "category": EVIL_CATEGORY,
        "unit": "share",
        "direction": "higher",
        "kind": "value",
        "aggregation": "mean",
        "target": 0.5,
        "baseline": "target",
        "trend": False,
        "weight": 1,
    }
    pd.DataFrame([metric]).to_csv(root / "metrics.csv", index=False)
    kit.import_metrics(root / "metrics.csv")
    days = pd.date_range(end=pd.Timestamp(DEMO_END), periods=120)
    values = pd.DataFrame({"metric": EVIL, "date": days.strftime("%Y-%m-%d"), "value": 0.4})
    values.to_csv(root / "values.csv", index=False)
    kit.import_values(root / "values.csv")
    out = root / "reports"
    run = run_report(f"sqlite:///{db}", out, "--date", DEMO_END.isoformat())
    assert run.returncode == 0, run.stderr
    return out / "latest.html"


def test_report_draws_offline_without_errors_and_escapes_names(
    browser, hostile_report: Path, artifacts_dir: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    dialogs: list[str] = []
    requests: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    def block_network(route) -> None:
        requests.append(route.request.url)
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", block_network)
    try:
        page.goto(hostile_report.as_uri())
        boxes = page.locator("figure.chart-box")
        page.wait_for_function(
            "document.querySelectorAll('figure.chart-box').length > 0 && "
            "[...document.querySelectorAll('figure.chart-box')].every(b => b.querySelector('svg, canvas'))",
            timeout=30_000,
        )
        page.wait_for_timeout(300)  # let any late handler (e.g. an injected onerror) run
        page.screenshot(path=str(artifacts_dir / "report.png"), full_page=True)

        assert boxes.count() == 3
        for i in range(boxes.count()):
            assert boxes.nth(i).locator("svg, canvas").count() >= 1
        assert errors == []
        assert dialogs == []
        assert [url for url in requests if not url.startswith("file://")] == []
        assert page.locator('img[src="x"]').count() == 0
        assert page.locator("script:not([type]), script[type='text/javascript']").count() == 2
        # The hostile name is drawn as text: on the scoreboard and in the follow-up list.
        assert page.get_by_text(EVIL, exact=True).count() >= 2
        assert page.get_by_text(EVIL_CATEGORY, exact=True).count() >= 1
        headline = page.locator(".headline .big").inner_text()
        assert headline.replace(".", "").isdigit()
    finally:
        page.close()


def test_policy_blocks_injected_handlers_and_network(
    browser, hostile_report: Path, tmp_path: Path
) -> None:
    # Second wall behind escaping: even markup that slipped through could neither run nor fetch.
    page_text = hostile_report.read_text(encoding="utf-8")
    assert page_text.index("<body>") < page_text.index("<main")  # the page's own body tag
    injected = '<img id="probe" src="missing.png" onerror="window.ran = true"><img src="https://example.org/x.png">'
    tampered = tmp_path / "tampered.html"
    tampered.write_text(page_text.replace("<body>", "<body>" + injected, 1), encoding="utf-8")
    page = browser.new_page()
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if msg.type == "error" else None)
    requests: list[str] = []

    def record(route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            requests.append(route.request.url)
            route.abort()

    page.route("**/*", record)
    try:
        page.goto(tampered.as_uri())
        page.wait_for_function("document.querySelectorAll('figure.chart-box svg').length > 0")
        assert page.evaluate("window.ran === undefined")
        assert any("Content Security Policy" in text for text in violations)
        assert requests == []  # the policy stops the request before the network layer sees it
    finally:
        page.close()
