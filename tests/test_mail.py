"""The digest and alert mails, sent to a real SMTP server (aiosmtpd) that the tests start.

A three-metric city with hand-worked numbers: "Potholes Filled" (higher is better, target 10, 8 a
day: score 0.8, below), "Response Minutes" (lower is better, target 5, 4 a day: 5/4 = 1.25,
meeting) and a metric named like an attack (target 2, 2 a day: 1.00, meeting). The CityScore is
their mean, (0.8 + 1.25 + 1.0) / 3 = 1.0167: "1.02", meeting.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import socket
from dataclasses import replace
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from cityscore import Kit
from cityscore.apps.notify.alert_mail import build_alert, build_alerts
from cityscore.apps.notify.digest import build_digest
from cityscore.apps.notify.mail import recipients_for, send
from cityscore.apps.report.daily import daily_data
from cityscore.core.errors import ConfigError, DeliveryError
from cityscore.core.mail_settings import PASSWORD_ENV, MailSettings
from cityscore.core.settings import load_settings
from cityscore.engine.alerts import Alert
from tests.axe import axe_violations, describe
from tests.mailserver import free_port, inbox, self_signed

# The login tests' server takes a password without TLS on purpose (a local test server).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

EVIL = '<script>alert(1)</script> & "Q"'
EVIL_CATEGORY = "Ops </table><img src=x onerror=alert(2)>"
END = dt.date(2026, 10, 31)
METRICS = [
    ("Potholes Filled", "Streets", "potholes", "higher", 10.0, 8.0),
    ("Response Minutes", "Safety", "minutes", "lower", 5.0, 4.0),
    (EVIL, EVIL_CATEGORY, "<i>units</i>", "higher", 2.0, 2.0),
]
ALERTS = [
    Alert("below_target", "Potholes Filled", "Streets", dt.date(2026, 10, 27),
          "Potholes Filled has been below target for 5 days.", "open"),
    Alert("below_target", EVIL, EVIL_CATEGORY, dt.date(2026, 10, 29),
          f"{EVIL} has been below target for 3 days.", "open"),
    Alert("stale", "Response Minutes", "Safety", dt.date(2026, 10, 20),
          "Response Minutes had no new data for 8 days.", "cleared"),
]  # fmt: skip


@pytest.fixture(scope="module")
def daily(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("mailcity")
    kit = Kit(f"sqlite:///{root / 'city.db'}")
    kit.init()
    rows = [
        {"name": name, "definition": f"{name} per day", "category": category, "unit": unit,
         "direction": direction, "kind": "value", "aggregation": "mean", "target": target,
         "baseline": "target", "trend": False, "weight": 1}
        for name, category, unit, direction, target, _ in METRICS
    ]  # fmt: skip
    pd.DataFrame(rows).to_csv(root / "metrics.csv", index=False)
    kit.import_metrics(root / "metrics.csv")
    days = pd.date_range(end=pd.Timestamp(END), periods=120).strftime("%Y-%m-%d")
    values = pd.concat(
        pd.DataFrame({"metric": name, "date": days, "value": value}) for name, *_, value in METRICS
    )
    values.to_csv(root / "values.csv", index=False)
    kit.import_values(root / "values.csv")
    return daily_data(kit, END.isoformat())


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "index.html"
    path.write_text("<!DOCTYPE html><title>Report</title><p>The full report.</p>", encoding="utf-8")
    return path


def settings(port: int, **changes) -> MailSettings:
    values = {"host": "127.0.0.1", "port": port, "sender": "cityscore@example.org",
              "to": ("mayor@example.org", "ops@example.org"), "tls": "none", "timeout": 5.0}  # fmt: skip
    return MailSettings(**(values | changes))


@pytest.fixture(scope="module")
def digest(daily, report) -> EmailMessage:
    return build_digest(daily, "Springfield", settings(25), alerts=ALERTS, report=report)


@pytest.fixture(scope="module")
def received(digest) -> tuple[list[str], EmailMessage]:
    with inbox() as box:
        send(digest, settings(box.port))
    assert len(box.received) == 1
    return box.received[0]


# --- what the server received ------------------------------------------------------------------


def test_the_small_city_scores_as_worked_by_hand(daily) -> None:
    for name, *_, direction, target, value in METRICS:
        expected = value / target if direction == "higher" else target / value
        row = daily.scores[(daily.scores["metric"] == name) & (daily.scores["period"] == "week")]
        assert row["score"].iloc[0] == pytest.approx(expected)
    assert daily.city("day")["score"] == pytest.approx((0.8 + 1.25 + 1.0) / 3)


def test_the_digest_arrives_with_alternatives_images_by_cid_and_the_report(
    received, report
) -> None:
    rcpt, message = received
    assert rcpt == ["mayor@example.org", "ops@example.org"]
    assert message.get_content_type() == "multipart/mixed"
    alternative = message.get_payload()[0]
    assert alternative.get_content_type() == "multipart/alternative"
    plain, related = alternative.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, *images = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    assert [i.get_content_type() for i in images] == ["image/png", "image/png"]
    html = html_part.get_content()
    for image in images:
        cid = image["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in html
        assert image.get_content().startswith(b"\x89PNG\r\n\x1a\n")
    attachment = message.get_payload()[1]
    assert attachment.get_filename() == "cityscore-2026-10-31.html"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_payload(decode=True) == report.read_bytes()
    assert message["Subject"] == "Springfield CityScore 2026-10-31: 1.02 (meeting)"


def test_the_text_part_tells_values_targets_scores_and_open_alerts(received) -> None:
    text = received[1].get_body(("plain",)).get_content()
    assert "Springfield · CityScore for Saturday, October 31, 2026" in text
    assert "CityScore 1.02 (✓ meeting; 3 of 3 metrics scored)" in text
    assert "  Potholes Filled (potholes)" in text
    assert "    week: 0.80 ✗ below; value 8.00, target 10.00" in text
    assert "    day: 1.25 ✓ meeting; value 4.00, target 5.00" in text
    assert f"  {EVIL} (<i>units</i>)" in text  # plain text: as typed
    assert "Open alerts (2):" in text
    assert (
        "- Potholes Filled: Potholes Filled has been below target for 5 days. (since 2026-10-27)"
        in text
    )
    assert "Response Minutes had no new data" not in text  # cleared: not an open alert
    assert "Share of scored metrics below 1 today: 33% (1 of 3)" in text


def test_the_html_part_has_the_same_facts_and_escapes_every_name(received) -> None:
    html = received[1].get_body(("html",)).get_content()
    found = _Tags()
    found.feed(html)
    assert found.tags.count("script") == 0
    assert "<style" not in html and "http://" not in html and "https://" not in html
    assert not [a for a in found.attributes if a.startswith("on")]
    assert all(src.startswith("cid:") for src in found.images)
    assert all(found.alts), "every image has alt text"
    assert "CityScore over 120 days to 2026-10-31" in found.alts[0]
    # The attack is shown as text, escaped, in the board, the alerts and never as markup.
    assert EVIL not in html and EVIL_CATEGORY not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Q&quot;" in html
    assert "Ops &lt;/table&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert "&lt;i&gt;units&lt;/i&gt;" in html
    text = found.text()
    for fact in ("value 8.00 target 10.00", "0.80 ✗ below", "1.25 ✓ meeting", "1.02",
                 "Potholes Filled has been below target for 5 days. (since 2026-10-27)"):  # fmt: skip
        assert fact in text
    assert "Response Minutes had no new data" not in text


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[str] = []
        self.images: list[str] = []
        self.alts: list[str] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]
        if tag == "img":
            self.images.append(dict(attrs)["src"] or "")
            self.alts.append(dict(attrs).get("alt") or "")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


def test_the_received_html_draws_its_cid_images_in_chromium_and_is_axe_clean(
    browser, received, tmp_path: Path, artifacts_dir: Path
) -> None:
    message = received[1]
    html = message.get_body(("html",)).get_content()
    for part in message.walk():
        if part["Content-ID"]:
            data = base64.b64encode(part.get_content()).decode("ascii")
            html = html.replace(
                f"cid:{part['Content-ID'].strip('<>')}", f"data:image/png;base64,{data}"
            )
    assert "cid:" not in html
    page_file = tmp_path / "digest.html"
    page_file.write_text(html, encoding="utf-8")
    page = browser.new_page(viewport={"width": 640, "height": 900})
    dialogs: list[str] = []
    outside: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    def block(route) -> None:
        url = route.request.url
        if url.startswith(("file://", "data:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", block)
    try:
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        widths = page.eval_on_selector_all(
            "img", "imgs => imgs.map(i => i.complete && i.naturalWidth)"
        )
        assert len(widths) == 2 and all(w and w > 600 for w in widths)
        assert page.get_by_text(EVIL, exact=True).count() >= 1
        assert dialogs == [] and outside == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 640  # no sideways scroll
        page.screenshot(path=str(artifacts_dir / "digest.png"), full_page=True)
        violations = axe_violations(page)
        assert violations == [], describe(violations)
    finally:
        page.close()


# --- login, TLS and failures -------------------------------------------------------------------


def test_login_with_the_password_from_the_environment(digest, monkeypatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "s3cret-Pa55")
    with inbox(login=("cityscore", "s3cret-Pa55")) as box:
        send(digest, settings(box.port, user="cityscore"))
    assert len(box.received) == 1


def test_a_refused_password_is_one_line_without_the_password(digest, monkeypatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "wrong-Pa55")
    with inbox(login=("cityscore", "s3cret-Pa55")) as box, pytest.raises(DeliveryError) as err:
        send(digest, settings(box.port, user="cityscore"))
    text = str(err.value)
    assert "refused the login of user 'cityscore' (535)" in text
    assert PASSWORD_ENV in text and "wrong-Pa55" not in text and "\n" not in text
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert box.received == []


def test_a_password_beyond_ascii_is_refused_without_showing_it(digest, monkeypatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "pässwörd-Ünïcode")
    with inbox(login=("cityscore", "x")) as box, pytest.raises(DeliveryError) as err:
        send(digest, settings(box.port, user="cityscore"))
    assert "has a character beyond ASCII" in str(err.value)
    assert "pässwörd" not in str(err.value) and err.value.__suppress_context__


def test_a_user_without_the_password_variable_is_refused_before_connecting(
    digest, monkeypatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    with pytest.raises(ConfigError, match=f"{PASSWORD_ENV} is not set"):
        send(digest, settings(free_port(), user="cityscore"))


def test_starttls_with_a_trusted_self_signed_certificate(digest, tmp_path, monkeypatch) -> None:
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with inbox(starttls=(cert, key)) as box:
        send(digest, settings(box.port, tls="starttls"))
    assert len(box.received) == 1


def test_starttls_with_an_untrusted_certificate_fails_in_one_line(digest, tmp_path) -> None:
    cert, key = self_signed(tmp_path)
    with inbox(starttls=(cert, key)) as box, pytest.raises(DeliveryError) as err:
        send(digest, settings(box.port, tls="starttls"))
    assert "TLS with the SMTP server 127.0.0.1" in str(err.value)
    assert "CERTIFICATE_VERIFY_FAILED" in str(err.value) and "\n" not in str(err.value)
    assert box.received == []


def test_ssl_from_the_start(digest, tmp_path, monkeypatch) -> None:
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with inbox(implicit_tls=(cert, key)) as box:
        send(digest, settings(box.port, tls="ssl"))
    assert len(box.received) == 1


def test_starttls_to_a_server_without_it_says_what_to_set(digest) -> None:
    with (
        inbox() as box,
        pytest.raises(DeliveryError, match='does not offer STARTTLS; use tls = "ssl"'),
    ):
        send(digest, settings(box.port, tls="starttls"))


def test_a_refused_connection(digest) -> None:
    port = free_port()
    with pytest.raises(DeliveryError) as err:
        send(digest, settings(port))
    assert str(err.value) == (
        f"cannot connect to the SMTP server 127.0.0.1:{port}: connection refused; "
        "check [mail] host and port and that the server runs"
    )


def test_an_unknown_host(digest) -> None:
    with pytest.raises(DeliveryError, match=r"cannot find the SMTP server 'no-such-host\.invalid'"):
        send(digest, settings(25, host="no-such-host.invalid"))


def test_a_server_that_never_answers_times_out(digest) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        with pytest.raises(DeliveryError, match=r"did not answer within 0\.5 s"):
            send(digest, settings(port, timeout=0.5))


def test_refused_recipients_are_named(digest) -> None:
    with inbox(refuse=("ops@example.org",)) as box, pytest.raises(DeliveryError) as err:
        send(digest, settings(box.port))
    assert "delivered to 1 of 2 recipients; refused: ops@example.org (550" in str(err.value)
    with (
        inbox(refuse=("mayor@example.org", "ops@example.org")) as box,
        pytest.raises(DeliveryError) as err,
    ):
        send(digest, settings(box.port))
    assert "refused every recipient" in str(err.value)
    assert box.received == []


def test_a_refused_sender_names_the_from_setting(digest) -> None:
    with inbox(refuse=("cityscore@example.org",)) as box, pytest.raises(DeliveryError) as err:
        send(digest, settings(box.port))
    assert str(err.value) == (
        f"the SMTP server 127.0.0.1:{box.port} refused the sender 'cityscore@example.org' (553); "
        "check [mail] from"
    )


# --- alerts to each category's people ----------------------------------------------------------


def test_alerts_go_also_to_their_categorys_recipients() -> None:
    to = ["ops@example.org"]
    by_category = {
        "streets": ["streets@example.org"],
        "Safety": ["chief@example.org", "ops@example.org"],
    }
    assert recipients_for(to, ["Streets"], by_category) == [
        "ops@example.org",
        "streets@example.org",
    ]
    assert recipients_for(to, ["Safety", None], by_category) == [
        "ops@example.org",
        "chief@example.org",
    ]
    with pytest.raises(ConfigError, match="is not a mail address"):
        recipients_for(to, ["Parks"], {"Parks": ["not an address"]})


def test_an_alert_mail_reaches_the_category_and_says_started_or_cleared() -> None:
    by_category = {"Streets": ["streets@example.org"]}
    with inbox() as box:
        for message in build_alerts(ALERTS[:1], "Springfield", settings(box.port), by_category):
            send(message, settings(box.port))
        send(
            build_alert(ALERTS[2], "Springfield", settings(box.port), by_category),
            settings(box.port),
        )
    (rcpt, opened), (rcpt_cleared, cleared) = box.received
    assert rcpt == ["mayor@example.org", "ops@example.org", "streets@example.org"]
    assert opened["Subject"] == "Alert: Potholes Filled (below target) · Springfield CityScore"
    assert "Open since 2026-10-27." in opened.get_content()
    assert rcpt_cleared == ["mayor@example.org", "ops@example.org"]  # Safety has no list
    assert cleared["Subject"].startswith("Cleared: Response Minutes (data late)")


def test_a_stale_metric_shows_its_score_marked_stale(daily) -> None:
    late = daily.scores["metric"] == "Response Minutes"
    scores = daily.scores.assign(status=daily.scores["status"].where(~late, "stale"))
    message = build_digest(replace(daily, scores=scores), "Springfield", settings(25), charts=False)
    text = message.get_body(("plain",)).get_content()
    assert "    week: 1.25 ◷ stale; value 4.00, target 5.00" in text
    assert "1.25 ◷ stale" in message.get_body(("html",)).get_content()


def test_a_city_name_cannot_add_header_lines(daily) -> None:
    message = build_digest(
        daily, "Springfield\r\nBcc: everyone@example.org", settings(25), charts=False
    )
    assert "\n" not in message["Subject"] and message["Bcc"] is None
    assert message.get_body(("html",)) is not None


# --- [mail] settings ---------------------------------------------------------------------------

GOOD = '[mail]\nhost = "smtp.example.org"\nfrom = "CityScore <cityscore@example.org>"\nto = ["a@example.org"]\n'


def _load(tmp_path: Path, text: str):
    path = tmp_path / "cityscore.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def test_mail_settings_are_read_with_defaults(tmp_path: Path) -> None:
    mail = _load(tmp_path, GOOD + 'user = "cs"\n').mail
    assert mail == MailSettings(host="smtp.example.org", sender="CityScore <cityscore@example.org>",
                                to=("a@example.org",), port=587, user="cs", tls="starttls")  # fmt: skip
    assert _load(tmp_path, GOOD + 'tls = "ssl"\n').mail.port == 465
    assert _load(tmp_path, GOOD + 'tls = "none"\nport = 2525\n').mail.port == 2525
    assert _load(tmp_path, 'city = "X"\n').mail is None
    assert _load(tmp_path, '[webhook]\nformat = "text"\n').webhook_format == "text"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[mail]\nfrom = "a@example.org"\nto = ["b@example.org"]\n', r"\[mail\] has no host; add host = "),
        (GOOD + "port = 0\n", r"\[mail\] port must be a number from 1 to 65535 \(e\.g\. 587\); got 0"),
        (GOOD + "port = 70000\n", r"port must be a number from 1 to 65535"),
        (GOOD + 'port = "587"\n', r"key 'mail.port' must be like port = 587"),
        (GOOD.replace('["a@example.org"]', '["a@example.org", "not mail"]'), r"'not mail' is not a mail address"),
        (GOOD.replace('["a@example.org"]', '["a@example.org", 3]'), r"\[mail\] to: '3' is not a mail address"),
        (GOOD.replace('["a@example.org"]', '"a@example.org"'), r"key 'mail.to' must be like to = \["),
        (GOOD.replace('"CityScore <cityscore@example.org>"', '"cityscore"'), r"\[mail\] from: 'cityscore' is not"),
        (GOOD + 'tls = "tls"\n', r"\[mail\] tls must be one of 'starttls', 'ssl', 'none'; got 'tls'"),
        (GOOD + 'hots = "x"\n', r"unknown key 'mail.hots'; did you mean 'mail.host'\?"),
        (GOOD + 'password = "hunter2"\n', r"\[mail\] password is not read from files .* set the environment variable CITYSCORE_SMTP_PASSWORD"),
        ('[webhook]\nurl = "https://hooks.example.org/T/B/T0k3nXYZ"\n', r"\[webhook\] url is not read from files .*CITYSCORE_WEBHOOK_URL"),
        ('[webhook]\nformat = "slack"\n', r"\[webhook\] format must be one of 'generic', 'text'; got 'slack'"),
    ],
)  # fmt: skip
def test_bad_mail_settings_are_one_clear_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text)
    message = str(err.value)
    assert re.search(expected, message), message
    assert "\n" not in message and "hunter2" not in message and "T0k3nXYZ" not in message
