"""The chat webhook, posting to a real HTTP server in a thread that the tests start.

One server records every post and answers with a scripted list of statuses (500, 500, 200 ...), so
retries, their bound and the refusal of a 4xx can be counted.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cityscore.apps.notify.headline import Headline
from cityscore.apps.notify.webhook import payload, post, redact
from cityscore.core.errors import ConfigError, DeliveryError
from cityscore.core.mail_settings import WEBHOOK_ENV
from cityscore.engine.alerts import Alert
from tests.mailserver import free_port

HEADLINE = Headline(city="Springfield", date="2026-10-31", cityscore="0.95", status="near")
EVIL = '<script>alert(1)</script> & "Q"'
ALERTS = [
    Alert("below_target", "EMS Response Time", "Public Safety", dt.date(2026, 10, 27),
          "EMS Response Time has been below target for 5 days.", "open"),
    Alert("stale", EVIL, None, dt.date(2026, 10, 30), f"{EVIL} has had no new data for 8 days.", "open"),
    Alert("source_failing", "permits", None, dt.date(2026, 10, 1), "Source permits failed.", "cleared"),
]  # fmt: skip
SECRET_PATH = "/services/T000/B000/XyZsecretToken"


@dataclass
class Receiver:
    """What the server got (one dict per post) and the statuses it answers, in turn (then 200)."""

    statuses: list[int] = field(default_factory=list)
    posts: list[dict] = field(default_factory=list)
    url: str = ""


@contextmanager
def receiver(*statuses: int) -> Iterator[Receiver]:
    got = Receiver(list(statuses))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.posts.append(
                {"path": self.path, "type": self.headers["Content-Type"], "json": json.loads(body)}
            )
            status = got.statuses.pop(0) if got.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    got.url = f"http://127.0.0.1:{server.server_port}{SECRET_PATH}"
    try:
        yield got
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_generic_form_posts_the_headline_and_the_open_alerts() -> None:
    with receiver() as got:
        post(HEADLINE, ALERTS, url=got.url)
    (only,) = got.posts
    assert only["path"] == SECRET_PATH
    assert only["type"] == "application/json; charset=utf-8"
    assert only["json"] == {
        "city": "Springfield",
        "date": "2026-10-31",
        "cityscore": "0.95",
        "status": "near",
        "alerts": [
            {"rule": "below_target", "subject": "EMS Response Time", "category": "Public Safety",
             "started": "2026-10-27", "message": "EMS Response Time has been below target for 5 days.",
             "state": "open"},
            {"rule": "stale", "subject": EVIL, "category": None, "started": "2026-10-30",
             "message": f"{EVIL} has had no new data for 8 days.", "state": "open"},
        ],
    }  # fmt: skip


def test_the_text_form_is_what_slack_and_teams_accept(monkeypatch) -> None:
    with receiver() as got:
        monkeypatch.setenv(WEBHOOK_ENV, got.url)
        post(HEADLINE, ALERTS, fmt="text")  # the URL from the environment
    (only,) = got.posts
    assert list(only["json"]) == ["text"]
    assert only["json"]["text"].splitlines() == [
        "Springfield CityScore for 2026-10-31: 0.95 (near)",
        "Open alerts (2):",
        "• EMS Response Time has been below target for 5 days. (since 2026-10-27)",
        '• &lt;script&gt;alert(1)&lt;/script&gt; &amp; "Q" has had no new data for 8 days. (since 2026-10-30)',
    ]


def test_a_mapping_headline_and_no_alerts() -> None:
    body = payload(
        {"city": "X", "date": "2026-01-02", "cityscore": "—", "status": "no score"}, (), "text"
    )
    assert body == {"text": "X CityScore for 2026-01-02: — (no score)\nNo open alerts."}


def test_server_errors_are_retried_with_backoff_then_delivered() -> None:
    with receiver(500, 500) as got:
        post(HEADLINE, ALERTS, url=got.url, backoff=0.01)
    assert len(got.posts) == 3
    assert got.posts[0]["json"] == got.posts[2]["json"]


def test_retries_are_bounded_and_the_failure_is_one_line_without_the_url() -> None:
    with receiver(500, 502, 503, 500, 500) as got, pytest.raises(DeliveryError) as err:
        post(HEADLINE, ALERTS, url=got.url, attempts=3, backoff=0.01)
    assert len(got.posts) == 3
    port = got.url.split(":")[2].split("/")[0]
    assert str(err.value) == (
        f"the webhook at http://127.0.0.1:{port}/… failed after 3 attempt(s): HTTP 503 Service Unavailable; "
        "the chat room was not told"
    )


def test_a_refusal_is_not_retried_and_says_what_to_check() -> None:
    with receiver(400) as got, pytest.raises(DeliveryError) as err:
        post(HEADLINE, ALERTS, url=got.url, backoff=0.01)
    assert len(got.posts) == 1
    message = str(err.value)
    assert "refused the post: HTTP 400 Bad Request" in message
    assert WEBHOOK_ENV in message and 'format = "text"' in message
    assert "XyZsecretToken" not in message and "\n" not in message


def test_a_receiver_that_is_down_is_retried_then_named() -> None:
    url = f"http://127.0.0.1:{free_port()}{SECRET_PATH}"
    with pytest.raises(
        DeliveryError, match=r"failed after 2 attempt\(s\): Connection refused"
    ) as err:
        post(HEADLINE, ALERTS, url=url, attempts=2, backoff=0.01)
    assert "XyZsecretToken" not in str(err.value)


def test_the_url_comes_from_the_environment_only(monkeypatch) -> None:
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    with pytest.raises(ConfigError, match=f"set the environment variable {WEBHOOK_ENV}"):
        post(HEADLINE, ALERTS)
    monkeypatch.setenv(WEBHOOK_ENV, "file:///etc/passwd")
    with pytest.raises(ConfigError, match="must be an http:// or https:// URL"):
        post(HEADLINE, ALERTS)
    monkeypatch.setenv(WEBHOOK_ENV, "https://hooks.example.org:99999/T0/B0/XyZsecretToken")
    with pytest.raises(ConfigError, match="is not a valid URL") as err:
        post(HEADLINE, ALERTS)
    assert "XyZsecretToken" not in str(err.value)
    with pytest.raises(ConfigError, match="webhook format must be one of"):
        payload(HEADLINE, ALERTS, "slack")


def test_redact_keeps_the_host_only() -> None:
    assert (
        redact("https://hooks.slack.com/services/T0/B0/secret?x=1") == "https://hooks.slack.com/…"
    )
    assert redact("http://user:pw@127.0.0.1:8080/hook") == "http://127.0.0.1:8080/…"
