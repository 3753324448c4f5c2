"""``cityscore daily``: one run at a time, the run log, atomic publishing, per-source timeouts and
failures, the dry run, bad settings, and the whole morning against a real SMTP server and a real
HTTP webhook receiver."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cityscore import Kit, StoreError
from cityscore.apps.city import new_city
from cityscore.apps.daily.lock import LOCK_FILE, RunLockedError, run_lock
from cityscore.apps.daily.publish import publish_reports
from cityscore.apps.daily.runlog import RunLog
from cityscore.apps.daily.sources import sync_each
from cityscore.cli.main import main
from cityscore.io.sources import load_config
from cityscore.store.copy import copy_sqlite
from tests.conftest import DEMO_END
from tests.mailserver import free_port, inbox


@pytest.fixture(autouse=True)
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CITYSCORE_DB", "CITYSCORE_CITY", "CITYSCORE_REPORTS", "CITYSCORE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CITYSCORE_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("CITYSCORE_SMTP_PASSWORD", raising=False)


# --- one run at a time ---------------------------------------------------------------------------


def test_a_second_run_waits_a_bounded_time_then_names_the_run_holding_the_lock(tmp_path: Path):
    with run_lock(tmp_path, wait=0) as holder:
        began = time.monotonic()
        with pytest.raises(RunLockedError) as info, run_lock(tmp_path, wait=0.4):
            pass
        waited = time.monotonic() - began
    assert 0.35 <= waited < 3
    message = str(info.value)
    assert f"pid {holder['pid']}" in message and str(holder["host"]) in message
    assert str(holder["started"]) in message and "--wait" in message
    with run_lock(tmp_path, wait=0):  # released: the next run takes it at once
        pass


def test_a_waiting_run_starts_once_the_first_one_ends(tmp_path: Path):
    taken = threading.Event()

    def first() -> None:
        with run_lock(tmp_path, wait=0):
            taken.set()
            time.sleep(0.5)

    thread = threading.Thread(target=first)
    thread.start()
    taken.wait(5)
    began = time.monotonic()
    with run_lock(tmp_path, wait=10):
        waited = time.monotonic() - began
    thread.join()
    assert 0.2 < waited < 5
    assert (tmp_path / LOCK_FILE).read_text() == ""  # no holder left recorded


def test_the_command_says_which_run_holds_the_lock_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    city = new_city(tmp_path / "c", "C")
    monkeypatch.chdir(city)
    with run_lock(city, wait=0) as holder:
        code = main(["daily", "--wait", "0.2"])
    _, err = capsys.readouterr()
    assert code == 2 and f"pid {holder['pid']}" in err and "--wait" in err
    assert not (city / "logs").exists()  # the second run did nothing


# --- the run log ---------------------------------------------------------------------------------


def test_the_run_log_has_one_json_line_per_step_without_secrets(tmp_path: Path):
    log = RunLog(tmp_path / "logs" / "daily.jsonl", secrets=["hunter22-secret"])
    with log.step("sync a") as counts:
        counts["inserted"] = 3
    with pytest.raises(StoreError), log.step("sync b"):
        raise StoreError("cannot connect to db as user:hunter22-secret@host")
    lines = [json.loads(x) for x in (tmp_path / "logs" / "daily.jsonl").read_text().splitlines()]
    assert [(x["step"], x["ok"]) for x in lines] == [("sync a", True), ("sync b", False)]
    assert lines[0]["counts"] == {"inserted": 3} and lines[0]["seconds"] >= 0
    assert dt.datetime.fromisoformat(lines[0]["start"]).tzinfo is not None
    assert "hunter22-secret" not in json.dumps(lines) and "user:***@host" in lines[1]["error"]


# --- publishing ----------------------------------------------------------------------------------


def reports_folder(folder: Path, day: str, text: str) -> Path:
    (folder / day).mkdir(parents=True, exist_ok=True)
    (folder / day / f"cityscore-{day}.html").write_text(text)
    (folder / "latest.html").write_text(text)
    (folder / "index.html").write_text(f"<a href='{day}/cityscore-{day}.html'>{day}</a>")
    return folder


def test_publish_copies_the_day_first_and_the_archive_pages_last(tmp_path: Path):
    reports = reports_folder(tmp_path / "reports", "2026-10-30", "older")
    reports_folder(reports, "2026-10-31", "page one")
    (reports / "failed").mkdir()
    (reports / "failed" / "daily_report-1.ipynb").write_text("{}")
    (reports / ".lock").write_text("")
    target = tmp_path / "www"
    written = publish_reports(reports, target, "2026-10-31")
    names = [str(p.relative_to(target)) for p in written]
    assert names[0] == "2026-10-31/cityscore-2026-10-31.html"
    assert names[-2:] == ["latest.html", "index.html"]
    assert "2026-10-30/cityscore-2026-10-30.html" in names
    assert not (target / "failed").exists() and not (target / ".lock").exists()
    assert (target / "latest.html").read_text() == "page one"
    assert (
        publish_reports(reports, target, "2026-10-31") == []
    )  # nothing changed: nothing rewritten
    with pytest.raises(Exception, match="same folder or inside it"):
        publish_reports(reports, reports / "www")


def test_a_reader_polling_during_publish_never_sees_a_partial_page(tmp_path: Path):
    versions = [("<html>" + letter * 2_000_000 + "</html>") for letter in "ab"]
    reports = tmp_path / "reports"
    target = tmp_path / "www"
    seen: set[int] = set()
    bad: list[int] = []
    stop = threading.Event()

    def reader() -> None:
        page = target / "latest.html"
        while not stop.is_set():
            try:
                text = page.read_text()
            except FileNotFoundError:
                continue
            if text in versions:
                seen.add(versions.index(text))
            else:
                bad.append(len(text))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(12):
            reports_folder(reports, "2026-10-31", versions[i % 2])
            publish_reports(reports, target, "2026-10-31")
    finally:
        stop.set()
        thread.join()
    assert bad == [] and seen == {0, 1}
    assert not [p for p in target.rglob("*") if p.name.endswith(".partial")]


# --- sources: a time limit each, one failing stops nothing ---------------------------------------


def slow_source(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (day TEXT, value REAL)")
    return path


def test_a_source_query_that_runs_too_long_is_stopped_at_its_timeout(tmp_path: Path):
    config = load_config(
        {
            "sources": {
                "slow": {"url": f"sqlite:///{slow_source(tmp_path / 's.db')}", "timeout": 0.5}
            },
            "metrics": {
                "Library Users": {
                    "query": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                    "WHERE i < 1000000000) SELECT :start AS date, count(*) AS value FROM n "
                    "WHERE :end IS NOT NULL"
                }
            },
        }
    )
    assert config.sources["slow"].timeout == 0.5
    from cityscore.io.sources import fetch

    began = time.monotonic()
    with pytest.raises(StoreError, match="took longer than the source's time limit"):
        fetch(config, config.metrics, _catalog(), {}, lambda: [], end=DEMO_END)
    assert time.monotonic() - began < 10


def _catalog():
    import pandas as pd

    return pd.DataFrame({"name": ["Library Users"], "kind": ["value"]})


def test_a_source_timeout_must_be_a_positive_number():
    with pytest.raises(Exception, match="timeout must be a number of seconds above 0"):
        load_config(
            {
                "sources": {"a": {"url": "sqlite:///x.db", "timeout": "soon"}},
                "metrics": {"m": {"query": ":start :end"}},
            }
        )


def test_server_sources_get_connect_and_statement_timeouts():
    from sqlalchemy.engine import make_url

    from cityscore.io.sources import _timeout_args

    postgres = _timeout_args(make_url("postgresql+psycopg://u@db/x"), 2.5)
    assert postgres == {"connect_timeout": 2, "options": "-c statement_timeout=2500"}
    mysql = _timeout_args(make_url("mysql+pymysql://u@db/x"), 30)
    assert mysql == {"connect_timeout": 30, "read_timeout": 30}
    assert _timeout_args(make_url("postgresql+psycopg://u@db/x"), None) == {}


@pytest.mark.postgres
def test_a_postgres_query_is_cancelled_at_the_sources_timeout(postgres_url: str):
    config = load_config(
        {
            "sources": {"pg": {"url": postgres_url, "timeout": 0.5}},
            "metrics": {
                "Library Users": {
                    "query": "SELECT CAST(:start AS date) AS date, 1 AS value FROM pg_sleep(5) "
                    "WHERE CAST(:end AS date) IS NOT NULL"
                }
            },
        }
    )
    from cityscore.io.sources import fetch

    began = time.monotonic()
    with pytest.raises(StoreError, match="statement timeout"):
        fetch(config, config.metrics, _catalog(), {}, lambda: [], end=DEMO_END)
    assert time.monotonic() - began < 4


def library_source(path: Path, first: dt.date, days: int) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE daily (day TEXT, visits REAL)")
        conn.executemany(
            "INSERT INTO daily VALUES (?, ?)",
            [((first + dt.timedelta(days=i)).isoformat(), 400.0 + i) for i in range(days)],
        )
    return path


def sources_yml(folder: Path, good: Path, broken: Path) -> Path:
    path = folder / "sources.yml"
    path.write_text(
        "sources:\n"
        f"  library: {{url: 'sqlite:///{good}'}}\n"
        f"  ems: {{url: 'sqlite:///{broken}'}}\n"
        "metrics:\n"
        "  Library Users: {source: library, table: daily, columns: {date: day, value: visits}}\n"
        "  EMS Response Time: {source: ems, table: ems_daily, columns: {date: day, value: minutes}}\n",
        encoding="utf-8",
    )
    return path


def test_one_failing_source_stops_nothing_and_marks_its_metrics(demo_kit: Kit, tmp_path: Path):
    good = library_source(tmp_path / "library.db", DEMO_END - dt.timedelta(days=2), 3)
    config = sources_yml(tmp_path, good, tmp_path / "missing.db")
    log = RunLog(None)
    outcome = sync_each(demo_kit, config, 30, log)
    assert list(outcome.failed) == ["ems"] and "missing.db" in outcome.failed["ems"]
    assert outcome.stale_metrics == ["EMS Response Time"]
    assert outcome.written == {"library": 3}
    stored = demo_kit.observations(DEMO_END, DEMO_END)
    assert stored.set_index("metric").loc["Library Users", "value"] == 402.0
    assert [(x["step"], x["ok"]) for x in log.lines] == [
        ("sync library", True),
        ("sync ems", False),
    ]


# --- the command ---------------------------------------------------------------------------------


@pytest.fixture
def demo_city(tmp_path: Path, demo_db_file: Path) -> Path:
    city = new_city(tmp_path / "spring field", "Springfield")
    copy_sqlite(demo_db_file, city / "cityscore.db")
    (city / "sources.yml").unlink()
    return city


def test_dry_run_says_what_it_would_do_and_writes_nothing(
    demo_city: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    good = library_source(demo_city.parent / "library.db", DEMO_END, 1)
    sources_yml(demo_city, good, demo_city.parent / "missing.db")

    def files() -> list[str]:  # SQLite's -wal and -shm files come and go with any reader
        return sorted(p.name for p in demo_city.rglob("*") if not p.name.endswith(("-wal", "-shm")))

    before = files()
    db_before = (demo_city / "cityscore.db").read_bytes()
    monkeypatch.chdir(demo_city)
    code = main(["daily", "--dry-run", "--publish", str(demo_city.parent / "www")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "would sync source library (1 metric(s): Library Users)" in out
    assert f"would score and write the report for {DEMO_END}" in out
    assert "would publish" in out and "would mail nothing: no [mail] settings" in out
    assert "would open alert:" in out
    assert files() == before  # no log, report or lock
    assert (demo_city / "cityscore.db").read_bytes() == db_before
    assert not (demo_city.parent / "www").exists()


def test_an_empty_database_gives_exit_2_no_report(tmp_path: Path, monkeypatch, capsys):
    city = new_city(tmp_path / "empty", "Empty")
    (city / "sources.yml").unlink()
    monkeypatch.chdir(city)
    assert main(["init"]) == 0
    code = main(["daily"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "score: the database has no values yet" in err and "no report could be made" in err
    assert "Traceback" not in err
    log = [json.loads(x) for x in (city / "logs" / "daily.jsonl").read_text().splitlines()]
    assert [(x["step"], x["ok"]) for x in log] == [("score", False)]


BAD_MAIL = [
    ("[mail]\nhots = 'x'\n", "unknown key 'mail.hots'"),
    ("[mail]\nfrom = 'a@x.org'\nto = ['b@x.org']\n", "[mail] has no host"),
    (
        "[mail]\nhost = 'x'\nport = 99999\nfrom = 'a@x.org'\nto = ['b@x.org']\n",
        "port must be a number from 1 to 65535",
    ),
    ("[webhook]\nformat = 'slack'\n", "[webhook] format must be one of"),
]


def add_setting(city: Path, setting: str) -> None:
    """Add ``setting`` (a table and its keys) to the folder's cityscore.toml, under the table's
    header when the file has it already."""
    path = city / "cityscore.toml"
    text, header = path.read_text(encoding="utf-8"), setting.partition("\n")[0] + "\n"
    path.write_text(text.replace(header, setting) if header in text else text + setting)


@pytest.mark.parametrize(("setting", "expected"), BAD_MAIL)
def test_bad_mail_settings_are_one_line_and_only_the_morning_run_goes_on_without_them(
    demo_city: Path, monkeypatch: pytest.MonkeyPatch, setting: str, expected: str
):
    from cityscore.cli.options import city_settings
    from cityscore.core.errors import ConfigError

    add_setting(demo_city, setting)
    monkeypatch.chdir(demo_city)
    with pytest.raises(ConfigError, match=re.escape(expected)), city_settings(None, "report"):
        pass  # every other command stops on it
    with city_settings(None, "daily") as settings:
        assert os.environ["CITYSCORE_LENIENT_SECTIONS"] == "mail,webhook"
        (problem,) = settings.problems
    assert expected in problem and "\n" not in problem
    assert settings.mail is None and settings.city == "Springfield"  # the rest is read
    assert "CITYSCORE_LENIENT_SECTIONS" not in os.environ


def test_a_bad_setting_outside_mail_stops_the_run_in_one_line(demo_city: Path, monkeypatch, capsys):
    add_setting(demo_city, "[daily]\nwiat = 5\n")
    monkeypatch.chdir(demo_city)
    code = main(["daily"])
    _, err = capsys.readouterr()
    assert code == 1 and "unknown key 'daily.wiat'" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (demo_city / "reports").exists()


@pytest.mark.slow
def test_with_bad_mail_settings_the_run_still_writes_the_report_and_keeps_the_alerts_to_tell(
    demo_city: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    add_setting(demo_city, BAD_MAIL[1][0])
    monkeypatch.chdir(demo_city)
    code = main(["daily"])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    (line,) = [x for x in err.splitlines() if x.startswith("cityscore: failed: settings:")]
    assert "[mail] has no host" in line
    assert (demo_city / "reports" / "latest.html").is_file() and "wrote " in out
    kit = Kit(f"sqlite:///{demo_city / 'cityscore.db'}")
    assert kit.open_alerts() and kit.unsent_alerts() == kit.open_alerts()  # told once mail works


# --- the messages --------------------------------------------------------------------------------


def test_a_refused_password_fails_the_mail_in_one_line_and_the_webhook_still_goes(
    demo_kit: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from dataclasses import replace

    from cityscore.apps.daily.notify import Notices, send_notices
    from cityscore.apps.report.daily import daily_data
    from cityscore.core.mail_settings import MailSettings
    from cityscore.core.settings import Settings
    from cityscore.engine.alerts import Alert

    demo_kit.record_alerts(
        [Alert("stale", "EMS Response Time", "Public Safety", DEMO_END, "late", "open")], DEMO_END
    )
    monkeypatch.setenv("CITYSCORE_SMTP_PASSWORD", "wrong-Pa55word")
    with inbox(login=("cityscore", "right-Pa55word")) as box, webhook_receiver() as (url, calls):
        monkeypatch.setenv("CITYSCORE_WEBHOOK_URL", url)
        mail = MailSettings(
            host="127.0.0.1",
            sender="c@x.org",
            to=("m@x.org",),
            port=box.port,
            user="cityscore",
            tls="none",
        )
        settings = replace(Settings(), city="Springfield", mail=mail)
        notices = Notices(demo_kit, settings, daily_data(demo_kit, str(DEMO_END)), None)
        log = RunLog(tmp_path / "log.jsonl", secrets=["wrong-Pa55word", url])
        failures: dict[str, str] = {}
        said = send_notices(notices, log, failures, {})
    assert set(failures) == {"digest", "alert mails"} and box.received == []
    for why in failures.values():
        assert "refused the login of user 'cityscore'" in why and "\n" not in why
    assert len(calls) == 1 and said == ["posted the headline and 1 open alert(s) to the webhook"]
    assert [a.subject for a in demo_kit.unsent_alerts()] == ["EMS Response Time"]  # told next run
    text = (tmp_path / "log.jsonl").read_text()
    assert "wrong-Pa55word" not in text and "hooks" not in text


# --- the whole morning ---------------------------------------------------------------------------


@contextmanager
def webhook_receiver() -> Iterator[tuple[str, list[dict]]]:
    """A local HTTP server recording each JSON POST; yields its URL and the bodies."""
    calls: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            calls.append(json.loads(body))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks/T0k3n-secret", calls
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def mail_settings(port: int) -> str:
    return (
        f'\n[mail]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\n'
        'from = "cityscore@springfield.example"\nto = ["mayor@springfield.example"]\n'
    )


def board_row(page: str, name: str) -> str:
    """The scoreboard row of one metric (``data-name`` is its lower-case name)."""
    start = page.index(f'<tr data-name="{name}">')
    return page[start : page.index("</tr>", start)]


@pytest.mark.slow
def test_the_morning_run_delivers_once_and_alerts_once(
    demo_city: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    good = library_source(demo_city.parent / "library.db", DEMO_END - dt.timedelta(days=2), 3)
    sources_yml(demo_city, good, demo_city.parent / "missing.db")
    config = (demo_city / "cityscore.toml").read_text(encoding="utf-8")
    config = config.replace(
        '# [alerts.recipients]\n# "Public Safety" = ["safety-ops@example.org"]',
        '[alerts.recipients]\n"Public Safety" = ["safety@springfield.example"]',
    ).replace('# publish = "/srv/www/cityscore"', 'publish = "../www"')
    monkeypatch.chdir(demo_city)
    with inbox() as box, webhook_receiver() as (url, calls):
        (demo_city / "cityscore.toml").write_text(
            config + mail_settings(box.port), encoding="utf-8"
        )
        monkeypatch.setenv("CITYSCORE_WEBHOOK_URL", url)
        code = main(["daily"])
        out, err = capsys.readouterr()
        first_mail, first_calls = len(box.received), len(calls)
        assert main(["daily"]) == 1  # the same day again
        again_out, again_err = capsys.readouterr()

    # The broken source is named; the run finished with failures and wrote the report.
    assert code == 1, err
    assert "source ems" in err and "missing.db" in err and "library" not in err
    assert "Traceback" not in err + again_err
    report = demo_city / "reports" / str(DEMO_END) / f"cityscore-{DEMO_END}.html"
    assert report.is_file() and f"wrote {report}" in out
    page = report.read_text(encoding="utf-8")
    assert "Open alerts" in page and "Source ems failed" in page
    assert "EMS Response Time has no fresh data" in page
    # The failed source's metric is marked stale on the board; the synced one is not.
    assert 'class="cell stale' in board_row(page, "ems response time")
    assert 'class="cell stale' not in board_row(page, "library users")
    # Published to [daily] publish, the archive pages too.
    www = demo_city.parent / "www"
    assert (www / str(DEMO_END) / report.name).read_bytes() == report.read_bytes()
    assert (www / "index.html").is_file() and (www / "latest.html").is_file()

    # One digest and one webhook call per run; the alert mails only on the first run.
    subjects = [m["Subject"] for _, m in box.received]
    digests = [s for s in subjects if s.startswith("Springfield CityScore")]
    alerts = [s for s in subjects if s.startswith("Alert:")]
    assert len(digests) == 2 and first_calls == 1 and len(calls) == 2
    assert first_mail == 1 + len(alerts) and len(box.received) == first_mail + 1
    assert any("ems (source failing)" in s for s in alerts)
    digest = next(m for _, m in box.received if m["Subject"].startswith("Springfield CityScore"))
    types = [part.get_content_type() for part in digest.walk()]
    assert {"text/plain", "text/html", "image/png"} <= set(types)
    attached = [part.get_filename() for part in digest.iter_attachments()]
    assert report.name in attached
    stale = [(to, m) for to, m in box.received if "EMS Response Time (data late)" in m["Subject"]]
    assert len(stale) == 1 and "safety@springfield.example" in stale[0][0]
    assert "mailed the digest" in again_out and "alert notice" not in again_out
    hook = calls[0]
    assert hook["city"] == "Springfield" and hook["date"] == str(DEMO_END)
    assert {"source_failing", "stale"} <= {a["rule"] for a in hook["alerts"]}

    # The log: one line per step, the failure named, no secret (the webhook URL's token).
    log = (demo_city / "logs" / "daily.jsonl").read_text(encoding="utf-8")
    lines = [json.loads(x) for x in log.splitlines()]
    assert ("sync ems", False) in [(x["step"], x["ok"]) for x in lines]
    assert {"score", "alerts", "report", "publish", "digest", "webhook"} <= {
        x["step"] for x in lines
    }
    assert "T0k3n-secret" not in log


@pytest.mark.slow
def test_an_unreachable_mail_server_is_one_line_and_the_report_is_still_written(
    demo_city: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    with open(demo_city / "cityscore.toml", "a", encoding="utf-8") as handle:
        handle.write(mail_settings(free_port()))  # nobody listens there
    monkeypatch.chdir(demo_city)
    code = main(["daily"])
    out, err = capsys.readouterr()
    assert code == 1
    failed = [line for line in err.splitlines() if line.startswith("cityscore: failed: digest")]
    assert len(failed) == 1 and "127.0.0.1" in failed[0] and "Traceback" not in err
    assert (demo_city / "reports" / "latest.html").is_file() and "wrote " in out
