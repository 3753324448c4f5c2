"""The morning digest as one e-mail: text and HTML alternatives, the charts by Content-ID, the report attached.

The message's shape::

    multipart/mixed
        multipart/alternative
            text/plain                   the same facts as the HTML
            multipart/related
                text/html                inline styles, no scripts, images as cid:
                image/png  (x2)          the CityScore chart, the week's movers
        text/html (attachment)          the full report
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

from cityscore.apps.notify.digest_facts import board_rows, summary
from cityscore.apps.notify.digest_html import digest_html
from cityscore.apps.notify.digest_text import digest_text
from cityscore.apps.notify.headline import Headline, headline, open_alerts
from cityscore.apps.notify.images import pictures
from cityscore.core.errors import ConfigError
from cityscore.core.mail_settings import MailSettings

if TYPE_CHECKING:
    from cityscore.engine.alerts import Alert
    from cityscore.pages.report_day import DailyData

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def subject(head: Headline) -> str:
    """E.g. ``Springfield CityScore 2026-10-31: 0.95 (near)``: one header line, whatever the city's name."""
    return _CONTROL.sub(" ", f"{head.city} CityScore {head.date}: {head.cityscore} ({head.status})")


def build_digest(
    daily: DailyData,
    city_name: str,
    mail: MailSettings,
    *,
    alerts: Sequence[Alert] = (),
    report: Path | None = None,
    charts: bool = True,
) -> EmailMessage:
    """The digest of one report day (``apps.report.daily.daily_data``) from ``mail.sender`` to ``mail.to``.

    Lists the open ones of ``alerts``; attaches ``report`` (the day's report HTML) when given, as
    ``cityscore-YYYY-MM-DD.html``;
    ``charts=False`` leaves the pictures out (faster, for previews and tests of the text).
    """
    head = summary(daily, city_name)
    board = board_rows(daily)
    shown = open_alerts(alerts)
    drawn = pictures(daily) if charts else []
    domain = mail.sender.rpartition("@")[2].rstrip(">") or "cityscore.invalid"
    cids = [make_msgid(idstring=p.name, domain=domain) for p in drawn]
    report_name = f"cityscore-{daily.as_of:%Y-%m-%d}.html" if report else None

    message = EmailMessage()
    message["Subject"] = subject(headline(daily, city_name))
    message["From"] = mail.sender
    message["To"] = ", ".join(mail.to)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(idstring="digest", domain=domain)
    message.set_content(
        digest_text(head, board, shown, [(p.title, p.alt) for p in drawn], report_name)
    )
    html = digest_html(
        head,
        board,
        shown,
        [(p.title, p.alt, c[1:-1]) for p, c in zip(drawn, cids, strict=True)],
        report_name,
    )
    message.add_alternative(html, subtype="html")
    html_part = message.get_body(preferencelist=("html",))
    if html_part is None:  # unreachable: the alternative was just added
        raise AssertionError(message)
    for picture, cid in zip(drawn, cids, strict=True):
        html_part.add_related(
            picture.png,
            "image",
            "png",
            cid=cid,
            filename=f"{picture.name}.png",
            disposition="inline",
        )
    if report is not None:
        message.add_attachment(_read(report), maintype="text", subtype="html", filename=report_name)
    return message


def _read(report: Path) -> bytes:
    try:
        return report.read_bytes()
    except OSError as exc:
        msg = f"cannot attach the report {report}: {exc.strerror}; write the report first"
        raise ConfigError(msg) from None
