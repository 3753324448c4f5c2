"""The morning run's messages, through ``apps.notify``: the digest mail, one mail per alert that
started or cleared (then marked sent, so a second run sends none again), and the webhook call.

Each is its own logged step; one that fails is named and the others still go out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cityscore.apps.daily.runlog import RunLog
from cityscore.core.mail_settings import WEBHOOK_ENV
from cityscore.core.settings import Settings

if TYPE_CHECKING:
    from cityscore.kit import Kit
    from cityscore.pages.report_day import DailyData


@dataclass(frozen=True)
class Notices:
    """What the messages are made of: the kit (for the alert state), the settings, the day, the report."""

    kit: Kit
    settings: Settings
    daily: DailyData
    report: Path | None


def city_name(settings: Settings) -> str:
    return settings.city or "Demo City"  # the report notebook's own default name


def send_notices(
    notices: Notices, log: RunLog, failures: dict[str, str], counts: dict
) -> list[str]:
    """Send the digest, the alert mails and the webhook call; a failure of one goes into
    ``failures`` (by step) and the others are still sent. Returns a line per message sent."""
    said: list[str] = []
    for name, send in (("digest", _digest), ("alert mails", _alert_mails), ("webhook", _webhook)):
        try:
            with log.step(name) as step_counts:
                line = send(notices, step_counts)
            if line:
                said.append(line)
        except Exception as exc:  # one message failing never stops the others
            failures[name] = log.text(exc)
    counts.update(sent=len(said))
    return said


def _digest(notices: Notices, counts: dict) -> str:
    mail = notices.settings.mail
    if mail is None:
        counts.update(skipped="no [mail] settings")
        return ""
    from cityscore.apps.notify.digest import build_digest  # charts: only when mail goes out
    from cityscore.apps.notify.mail import send

    message = build_digest(
        notices.daily,
        city_name(notices.settings),
        mail,
        alerts=notices.kit.open_alerts(),
        report=notices.report,
    )
    send(message, mail)
    counts.update(to=len(mail.to))
    return f"mailed the digest to {', '.join(mail.to)}"


def _alert_mails(notices: Notices, counts: dict) -> str:
    """One mail per alert that started or cleared since the last notice; with no ``[mail]`` the
    alerts are marked told (nobody to tell), so setting up mail later sends no backlog."""
    kit, mail = notices.kit, notices.settings.mail
    unsent = kit.unsent_alerts()
    if mail is None:
        if not notices.settings.problems:  # no mail at all: nobody to tell, now or later
            kit.mark_alerts_sent(unsent)
        counts.update(skipped="no [mail] settings", alerts=len(unsent))
        return ""
    from cityscore.apps.notify.alert_mail import build_alert
    from cityscore.apps.notify.mail import send

    recipients = notices.settings.alerts.recipients
    sent = []
    try:
        for alert in unsent:
            send(build_alert(alert, city_name(notices.settings), mail, recipients), mail)
            sent.append(alert)
    finally:
        kit.mark_alerts_sent(sent)  # what went out is never sent again, even if a later one failed
        counts.update(sent=len(sent), unsent=len(unsent) - len(sent))
    return f"mailed {len(sent)} alert notice(s)" if sent else ""


def _webhook(notices: Notices, counts: dict) -> str:
    import os

    from cityscore.apps.notify.headline import headline
    from cityscore.apps.notify.webhook import post

    if not os.environ.get(WEBHOOK_ENV):
        counts.update(skipped=f"{WEBHOOK_ENV} is not set")
        return ""
    alerts = notices.kit.open_alerts()
    post(
        headline(notices.daily, city_name(notices.settings)),
        alerts,
        fmt=notices.settings.webhook_format,
    )
    counts.update(alerts=len(alerts))
    return f"posted the headline and {len(alerts)} open alert(s) to the webhook"


def plan_lines(settings: Settings, environ: Mapping[str, str]) -> list[str]:
    """What a run would send, for ``--dry-run``."""
    mail = settings.mail
    lines = [
        f"would mail the digest and alert notices to {', '.join(mail.to)} via {mail.host}:{mail.port}"
        if mail
        else "would mail nothing: no [mail] settings in cityscore.toml"
    ]
    for category, addresses in settings.alerts.recipients.items():
        lines.append(f"would also mail {category} alerts to {', '.join(addresses)}")
    lines.append(
        "would post to the webhook ($CITYSCORE_WEBHOOK_URL)"
        if environ.get(WEBHOOK_ENV)
        else f"would post no webhook: {WEBHOOK_ENV} is not set"
    )
    return lines
