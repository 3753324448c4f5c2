"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1), optionally with TLS and a login.

``inbox(...)`` starts one on a free port and yields an ``Inbox`` recording every message it
accepted; a self-signed certificate for 127.0.0.1 comes from the ``openssl`` command.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on (at the moment of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1 and localhost, valid for a day."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class Inbox:
    """What the server accepted: each message with its envelope recipients."""

    port: int = 0
    refuse: tuple[str, ...] = ()  # senders answered with 553, recipients with 550
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "553 5.7.1 sender not allowed here"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted"


def _login(user: str, password: str) -> Any:
    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data == LoginPassword(
            user.encode(), password.encode()
        )
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535

    return authenticate


@contextmanager
def inbox(
    *,
    refuse: tuple[str, ...] = (),
    login: tuple[str, str] | None = None,
    starttls: tuple[Path, Path] | None = None,
    implicit_tls: tuple[Path, Path] | None = None,
) -> Iterator[Inbox]:
    """A running SMTP server recording into an ``Inbox``; stopped on leaving."""
    box = Inbox(port=free_port(), refuse=refuse)
    options: dict[str, Any] = {}
    if login:
        options |= {
            "authenticator": _login(*login),
            "auth_required": True,
            "auth_require_tls": False,
        }
    if starttls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*map(str, starttls))
        options |= {"tls_context": context, "require_starttls": True}
    if implicit_tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*map(str, implicit_tls))
        options |= {"ssl_context": context}
    controller = Controller(box, hostname="127.0.0.1", port=box.port, **options)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
