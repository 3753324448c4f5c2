"""Sending mail over SMTP (STARTTLS, SSL or a plain local relay); each failure told in one line.

The password is ``$CITYSCORE_SMTP_PASSWORD``, never a setting in a file, and never in a message.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import getaddresses

from cityscore.core.errors import ConfigError, DeliveryError, printable
from cityscore.core.mail_settings import PASSWORD_ENV, MailSettings, check_address
from cityscore.core.settings import Settings


def send(
    message: EmailMessage, settings: Settings | MailSettings, recipients: Sequence[str] = ()
) -> None:
    """Send ``message`` with the ``[mail]`` settings, to ``recipients`` (default: its To and Cc).

    Raises ``ConfigError`` when mail is not set up, ``DeliveryError`` (one line, no password)
    when the server cannot be reached, refuses the login, the sender or the recipients.
    """
    mail = settings.mail if isinstance(settings, Settings) else settings
    if mail is None:
        msg = (
            'no [mail] settings: add [mail] with host, from and to to cityscore.toml (host = "smtp.example.org", '
            'from = "cityscore@example.org", to = ["ops@example.org"]); see docs/mail.md'
        )
        raise ConfigError(msg)
    password = os.environ.get(PASSWORD_ENV, "")
    if mail.user and not password:
        msg = f"[mail] user is {mail.user!r} but {PASSWORD_ENV} is not set; set it to the SMTP password"
        raise ConfigError(msg)
    to = list(recipients) or message_recipients(message)
    if not to:
        raise ConfigError("the message has no recipients; set [mail] to")
    where = f"the SMTP server {mail.host}:{mail.port}"
    try:
        with _connection(mail) as smtp:
            if mail.user:
                smtp.login(mail.user, password)
            refused = smtp.send_message(message, to_addrs=to)
    except smtplib.SMTPException as exc:
        raise DeliveryError(_smtp_problem(exc, mail, where)) from None
    except ssl.SSLError as exc:
        msg = (
            f"TLS with {where} failed ({printable(exc.reason or exc)}); check [mail] tls "
            '("ssl" for port 465, "starttls" for 587) and that the server\'s certificate is trusted'
        )
        raise DeliveryError(msg) from None
    except OSError as exc:
        raise DeliveryError(_network_problem(exc, mail, where)) from None
    except UnicodeError:  # smtplib's login sends ASCII only; the error would hold the password
        msg = (
            f"the user name or {PASSWORD_ENV} has a character beyond ASCII, which an SMTP login "
            "cannot send; use an ASCII password (many servers offer an app password)"
        )
        raise DeliveryError(msg) from None
    if refused:
        msg = f"{where} delivered to {len(to) - len(refused)} of {len(to)} recipients; refused: {_refusals(refused)}"
        raise DeliveryError(msg)


def message_recipients(message: EmailMessage) -> list[str]:
    """The bare addresses of the message's To and Cc headers, each once."""
    headers = [str(v) for field in ("To", "Cc") for v in message.get_all(field, [])]
    seen: dict[str, None] = {addr: None for _, addr in getaddresses(headers) if addr}
    return list(seen)


def recipients_for(
    to: Sequence[str],
    categories: Sequence[str | None],
    by_category: Mapping[str, Sequence[str]] | None = None,
) -> list[str]:
    """``to`` and the recipients of each of ``categories`` (``[alerts.recipients]``), each once.

    A category's list is matched by name, caselessly; an address is checked like ``[mail] to``.
    """
    found: dict[str, None] = dict.fromkeys(to)
    lists = {name.casefold(): addrs for name, addrs in (by_category or {}).items()}
    for category in categories:
        for address in lists.get((category or "").casefold(), ()):
            found.setdefault(check_address(address, f"[alerts.recipients] {category}"))
    return list(found)


@contextmanager
def _connection(mail: MailSettings) -> Iterator[smtplib.SMTP]:
    """An open, greeted SMTP connection in ``mail.tls`` mode, closed on leaving."""
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if mail.tls == "ssl":
        smtp = smtplib.SMTP_SSL(mail.host, mail.port, timeout=mail.timeout, context=context)
    else:
        smtp = smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout)
    try:
        smtp.ehlo()
        if mail.tls == "starttls":
            smtp.starttls(context=context)
            smtp.ehlo()
        yield smtp
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def _smtp_problem(exc: smtplib.SMTPException, mail: MailSettings, where: str) -> str:
    """One line for an SMTP-level refusal: what the server refused and what to check."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return (
            f"{where} refused the login of user {mail.user!r} ({exc.smtp_code}); "
            f"check [mail] user and {PASSWORD_ENV}"
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return _unsupported(str(exc).upper(), where)
    if isinstance(exc, smtplib.SMTPConnectError):
        return f"{where} refused the connection: {exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"{where} refused every recipient: {_refusals(exc.recipients)}; check the addresses"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"{where} refused the sender {exc.sender!r} ({exc.smtp_code}); check [mail] from"
    if isinstance(exc, smtplib.SMTPServerDisconnected) and isinstance(
        exc.__context__, TimeoutError
    ):
        return _network_problem(exc.__context__, mail, where)  # no greeting or reply in time
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return (
            f"{where} closed the connection; check [mail] port and tls "
            '("ssl" for port 465, "starttls" for 587, "none" for a local relay)'
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{where} refused the message: {exc.smtp_code} {_text(exc.smtp_error)}"
    return f"{where} failed: {printable(exc)}"


def _unsupported(text: str, where: str) -> str:
    """One line for an extension the server does not offer (STARTTLS, AUTH, SMTPUTF8)."""
    if "STARTTLS" in text:
        return (
            f'{where} does not offer STARTTLS; use tls = "ssl" if it expects TLS from the start '
            '(port 465), or tls = "none" only for a relay on this host'
        )
    if "SMTPUTF8" in text:
        return f"{where} cannot take addresses beyond ASCII (no SMTPUTF8); write [mail] from and to in ASCII"
    return f"{where} does not offer a login (AUTH); remove [mail] user, or turn on TLS"


def _network_problem(exc: OSError, mail: MailSettings, where: str) -> str:
    """One line for a connection that never got to SMTP: refused, unknown host, timeout."""
    if isinstance(exc, ConnectionRefusedError):
        return f"cannot connect to {where}: connection refused; check [mail] host and port and that the server runs"
    if isinstance(exc, socket.gaierror):
        return f"cannot find the SMTP server {mail.host!r} (unknown host); check [mail] host"
    if isinstance(exc, TimeoutError):
        return (
            f"{where} did not answer within {mail.timeout:g} s; check [mail] host, port and tls, "
            "and that a firewall lets the connection through"
        )
    reason = exc.strerror or printable(exc)
    return f"cannot reach {where}: {reason}; check [mail] host and port and the network"


def _refusals(refused: Mapping[str, tuple[int, bytes]]) -> str:
    return ", ".join(f"{addr} ({code} {_text(text)})" for addr, (code, text) in refused.items())


def _text(raw: bytes | str) -> str:
    """A server's reply text, decoded and kept to one short line."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return printable(" ".join(text.split()))[:200]
