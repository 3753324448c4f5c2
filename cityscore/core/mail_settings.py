"""Mail and webhook settings: ``[mail]`` and ``[webhook]`` of ``cityscore.toml``, checked into dataclasses.

The SMTP password and the webhook URL never come from a file: ``CITYSCORE_SMTP_PASSWORD`` and
``CITYSCORE_WEBHOOK_URL`` are read from the environment when a message is sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr

from cityscore.core.errors import ConfigError

PASSWORD_ENV = "CITYSCORE_SMTP_PASSWORD"
WEBHOOK_ENV = "CITYSCORE_WEBHOOK_URL"
TLS_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
WEBHOOK_FORMATS = ("generic", "text")
DEFAULT_TIMEOUT = 30.0

# cityscore.toml keys of this module: key -> (type, example), merged into settings.CONFIG_KEYS.
MAIL_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "mail.host": (str, '"smtp.example.org"'),
    "mail.port": (int, "587"),
    "mail.from": (str, '"cityscore@example.org"'),
    "mail.to": (list, '["mayor@example.org", "ops@example.org"]'),
    "mail.user": (str, '"cityscore"'),
    "mail.tls": (str, '"starttls"'),
    "mail.timeout": ((int, float), "30"),
    "webhook.format": (str, '"generic"'),
}
# Keys refused with the reason, before the unknown-key check would name them.
REFUSED_KEYS = {
    "mail.password": (
        "[mail] password is not read from files (they end up in backups and git); "
        f"remove it and set the environment variable {PASSWORD_ENV} instead"
    ),
    "webhook.url": (
        "[webhook] url is not read from files (a webhook URL is a secret: anyone holding it can "
        f"post to the room); remove it and set the environment variable {WEBHOOK_ENV} instead"
    ),
}
# One address: no spaces, one "@", a domain of letters, digits, dots and hyphens.
_ADDRESS = re.compile(r"^[^@\s,;<>\"]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


@dataclass(frozen=True)
class MailSettings:
    """Where and how the digest is sent (``[mail]``); the password comes from the environment."""

    host: str
    sender: str  # the ``from`` key
    to: tuple[str, ...]
    port: int = 587
    user: str | None = None
    tls: str = "starttls"  # one of TLS_MODES
    timeout: float = DEFAULT_TIMEOUT


def check_address(address: object, where: str) -> str:
    """``address`` (``a@b.org`` or ``Name <a@b.org>``) if it is one valid mail address, else an error."""
    text = str(address)
    _name, addr = parseaddr(text)
    if not isinstance(address, str) or "\n" in text or "\r" in text or not _ADDRESS.match(addr):
        msg = f'{where}: {text!r} is not a mail address; write it like "ops@example.org"'
        raise ConfigError(msg)
    return text.strip()


def mail_settings(values: Mapping[str, object], origin: str) -> MailSettings:
    """The ``[mail]`` keys of ``values`` (flattened, types already checked) as ``MailSettings``."""
    host = str(values.get("mail.host", "")).strip()
    if not host:
        msg = f'{origin}: [mail] has no host; add host = "smtp.example.org" (the SMTP server)'
        raise ConfigError(msg)
    tls = str(values.get("mail.tls", "starttls"))
    if tls not in TLS_MODES:
        msg = f"{origin}: [mail] tls must be one of {', '.join(map(repr, TLS_MODES))}; got {tls!r}"
        raise ConfigError(msg)
    port = values.get("mail.port", DEFAULT_PORTS[tls])
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        msg = f"{origin}: [mail] port must be a number from 1 to 65535 (e.g. 587); got {port!r}"
        raise ConfigError(msg)
    if "mail.from" not in values:
        msg = f'{origin}: [mail] has no from; add from = "cityscore@example.org"'
        raise ConfigError(msg)
    sender = check_address(values["mail.from"], f"{origin}: [mail] from")
    to = values.get("mail.to", [])
    if not isinstance(to, list) or not to:
        msg = f'{origin}: [mail] to must be a list of addresses, e.g. to = ["ops@example.org"]'
        raise ConfigError(msg)
    recipients = tuple(check_address(a, f"{origin}: [mail] to") for a in to)
    user = values.get("mail.user")
    timeout = float(values.get("mail.timeout", DEFAULT_TIMEOUT))  # type: ignore[arg-type]
    if not timeout > 0:
        msg = (
            f"{origin}: [mail] timeout must be a number of seconds above 0, e.g. 30; got {timeout}"
        )
        raise ConfigError(msg)
    return MailSettings(
        host=host,
        sender=sender,
        to=recipients,
        port=port,
        user=str(user) if user else None,
        tls=tls,
        timeout=timeout,
    )


def webhook_format(values: Mapping[str, object], origin: str) -> str:
    """``[webhook] format``: ``generic`` (the kit's JSON) or ``text`` (Slack and Teams)."""
    fmt = str(values.get("webhook.format", "generic"))
    if fmt not in WEBHOOK_FORMATS:
        allowed = ", ".join(map(repr, WEBHOOK_FORMATS))
        msg = f"{origin}: [webhook] format must be one of {allowed}; got {fmt!r}"
        raise ConfigError(msg)
    return fmt
