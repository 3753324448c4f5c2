"""The Kit's alert state: the alerts open now, recording today's, and which notices are still to send.

``Kit`` inherits these methods. Each alert is told once when it starts and once when it clears
(``store.alert_state`` keeps the state); the rules themselves are ``engine.alerts``.
"""

from __future__ import annotations

import datetime as dt

from cityscore.engine.alerts import Alert
from cityscore.store import alert_state
from cityscore.store.database import Store


class AlertMethods:
    """The alert state's part of ``Kit``."""

    store: Store

    def open_alerts(self) -> list[Alert]:
        """The alerts open now, oldest first (what the report lists)."""
        with self.store.transaction() as conn:
            return [Alert(**row) for row in alert_state.open_rows(conn)]  # type: ignore[arg-type]

    def record_alerts(self, now_open: list[Alert], today: dt.date) -> None:
        """Record the alerts open ``today``: new ones start, open ones missing from it clear."""
        with self.store.transaction(write=True) as conn:
            alert_state.update(conn, [vars(a) for a in now_open], today)

    def unsent_alerts(self) -> list[Alert]:
        """Alerts whose start (state ``open``) or clear (``cleared``) has not been told yet."""
        with self.store.transaction() as conn:
            return [Alert(**row) for row in alert_state.unsent(conn)]  # type: ignore[arg-type]

    def mark_alerts_sent(self, alerts: list[Alert]) -> None:
        """Record that the notices of ``alerts`` (from ``unsent_alerts``) went out."""
        with self.store.transaction(write=True) as conn:
            alert_state.mark_sent(conn, [vars(a) for a in alerts])
