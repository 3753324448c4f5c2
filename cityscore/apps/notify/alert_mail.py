"""Alert mails: one short plain-text mail when an alert starts and one when it clears, to its category's people too."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING

from cityscore.apps.notify.mail import recipients_for
from cityscore.core.mail_settings import MailSettings

if TYPE_CHECKING:
    from cityscore.engine.alerts import Alert

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
RULE_WORDS = {
    "below_target": "below target",
    "cityscore_drop": "CityScore drop",
    "stale": "data late",
    "source_failing": "source failing",
}


def build_alert(
    alert: Alert,
    city_name: str,
    mail: MailSettings,
    by_category: Mapping[str, Sequence[str]] | None = None,
) -> EmailMessage:
    """The mail telling that ``alert`` started (state ``open``) or cleared, to ``[mail] to`` and to
    the recipients of the alert's category (``by_category``, the ``[alerts.recipients]`` lists)."""
    opened = alert.state == "open"
    word = RULE_WORDS.get(alert.rule, alert.rule)
    title = f"{'Alert' if opened else 'Cleared'}: {alert.subject} ({word}) · {city_name} CityScore"
    message = EmailMessage()
    message["Subject"] = _CONTROL.sub(" ", title)
    message["From"] = mail.sender
    message["To"] = ", ".join(recipients_for(mail.to, [alert.category], by_category))
    message["Date"] = formatdate(localtime=True)
    domain = mail.sender.rpartition("@")[2].rstrip(">") or "cityscore.invalid"
    message["Message-ID"] = make_msgid(idstring="alert", domain=domain)
    when = (
        f"Open since {alert.started.isoformat()}."
        if opened
        else f"Cleared; it had been open since {alert.started.isoformat()}."
    )
    lines = [
        alert.message,
        "",
        when,
        f"What: {alert.subject} ({word})",
        *([f"Category: {alert.category}"] if alert.category else []),
        "",
        f"{city_name} CityScore: the morning digest lists every open alert.",
    ]
    message.set_content("\n".join(lines) + "\n")
    return message


def build_alerts(
    alerts: Sequence[Alert],
    city_name: str,
    mail: MailSettings,
    by_category: Mapping[str, Sequence[str]] | None = None,
) -> list[EmailMessage]:
    """``build_alert`` of each alert, oldest first: the mails of the alerts that started or cleared."""
    ordered = sorted(alerts, key=lambda a: (a.started, a.subject, a.rule))
    return [build_alert(a, city_name, mail, by_category) for a in ordered]
