"""The chat-room webhook: the headline and the open alerts as a JSON POST, retried a bounded number of times.

The URL is ``$CITYSCORE_WEBHOOK_URL`` only (it is a secret: whoever holds it can post to the room)
and messages show just its scheme and host.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cityscore.apps.notify.headline import Headline, alert_line, open_alerts
from cityscore.core.errors import ConfigError, DeliveryError, printable
from cityscore.core.mail_settings import WEBHOOK_ENV, WEBHOOK_FORMATS

if TYPE_CHECKING:
    from cityscore.engine.alerts import Alert

ATTEMPTS = 4  # one post and up to three retries
BACKOFF = 1.0  # seconds before the first retry, doubled before each next one
TIMEOUT = 10.0


def post(
    headline: Headline | Mapping[str, Any],
    alerts: Sequence[Alert] = (),
    *,
    fmt: str = "generic",
    url: str | None = None,
    attempts: int = ATTEMPTS,
    backoff: float = BACKOFF,
    timeout: float = TIMEOUT,
) -> None:
    """POST the headline and the open ``alerts`` as JSON to ``url`` (default ``$CITYSCORE_WEBHOOK_URL``).

    ``fmt`` is ``"generic"`` (``{"city", "date", "cityscore", "status", "alerts"}``) or ``"text"``
    (``{"text": ...}``, what Slack and Teams incoming webhooks accept). A server error (5xx) or a
    network failure is retried up to ``attempts`` times in all, waiting ``backoff`` seconds and
    doubling; a refusal (4xx) is not retried. Raises ``DeliveryError`` in one line without the URL.
    """
    target = url if url is not None else os.environ.get(WEBHOOK_ENV, "")
    if not target:
        msg = f"no webhook URL: set the environment variable {WEBHOOK_ENV} to the chat room's incoming-webhook URL"
        raise ConfigError(msg)
    try:
        parts = urlsplit(target)
        parts.port  # noqa: B018 (a bad port raises here, not mid-post)
    except ValueError:
        msg = f"{WEBHOOK_ENV} is not a valid URL; copy the chat room's incoming-webhook URL again"
        raise ConfigError(msg) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        msg = f"{WEBHOOK_ENV} must be an http:// or https:// URL (got one starting {parts.scheme or '?'}:)"
        raise ConfigError(msg)
    body = json.dumps(payload(headline, alerts, fmt), ensure_ascii=False).encode("utf-8")
    _deliver(target, body, max(1, attempts), backoff, timeout)


def payload(
    headline: Headline | Mapping[str, Any], alerts: Sequence[Alert] = (), fmt: str = "generic"
) -> dict[str, Any]:
    """The JSON body of a webhook call in ``fmt`` (see ``post``); only open alerts are listed."""
    if fmt not in WEBHOOK_FORMATS:
        msg = f"webhook format must be one of {', '.join(map(repr, WEBHOOK_FORMATS))}; got {fmt!r}"
        raise ConfigError(msg)
    head = headline if isinstance(headline, Headline) else Headline(**dict(headline))
    shown = open_alerts(alerts)
    if fmt == "text":
        lines = [head.sentence()]
        if shown:
            lines.append(f"Open alerts ({len(shown)}):")
            lines += [f"• {alert_line(a)}" for a in shown]
        else:
            lines.append("No open alerts.")
        return {"text": _slack_escape("\n".join(lines))}
    return {
        **asdict(head),
        "alerts": [
            {
                "rule": a.rule,
                "subject": a.subject,
                "category": a.category,
                "started": a.started.isoformat(),
                "message": a.message,
                "state": a.state,
            }
            for a in shown
        ],
    }


def redact(url: str) -> str:
    """The URL as messages show it: scheme and host only (the path and query hold the secret)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…"


def _slack_escape(text: str) -> str:
    """The three characters Slack reads as markup (``& < >``) written as entities, so names show as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _deliver(url: str, body: bytes, attempts: int, backoff: float, timeout: float) -> None:
    """POST ``body``, retrying 5xx and network failures; the last failure raised as one line."""
    shown = redact(url)
    problem = ""
    for attempt in range(attempts):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "cityscore"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
            return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                msg = (
                    f"the webhook at {shown} refused the post: HTTP {exc.code} {printable(exc.reason)}; "
                    f'check {WEBHOOK_ENV} and [webhook] format (Slack and Teams need format = "text")'
                )
                raise DeliveryError(msg) from None
            problem = f"HTTP {exc.code} {printable(exc.reason)}"
        except urllib.error.URLError as exc:
            reason = exc.reason
            problem = getattr(reason, "strerror", None) or printable(reason)
        except http.client.HTTPException as exc:  # a reply that is not HTTP
            problem = f"not an HTTP reply ({type(exc).__name__})"
        except (TimeoutError, OSError) as exc:
            problem = (
                "no answer in time"
                if isinstance(exc, TimeoutError)
                else (exc.strerror or printable(exc))
            )
    msg = f"the webhook at {shown} failed after {attempts} attempt(s): {problem}; the chat room was not told"
    raise DeliveryError(msg)
