"""Alert state: which alerts are open, since when, and whether their start and clear notices went out.

An alert is one row from the day it starts to the day it clears. The morning run records today's
open alerts (``update``), sends what is unsent (``unsent``), then marks it sent (``mark_sent``), so
each alert is announced once when it starts and once when it clears, however often the run repeats.
Rows are plain dicts (``rule, subject, category, started, message, state``); the Kit makes alerts
of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cityscore.store.schema import alert_state_table, stored_date

Row = Mapping[Any, Any]
_T = alert_state_table


def open_rows(conn: Connection) -> list[dict[str, object]]:
    """The alerts open now, oldest first."""
    query = sa.select(_T).where(_T.c.cleared.is_(None)).order_by(_T.c.started, _T.c.id)
    return [_row(r, "open") for r in conn.execute(query).mappings()]


def update(conn: Connection, now_open: Iterable[Row], today: dt.date) -> None:
    """Record today's open alerts: a new one starts (its notice unsent), an open one keeps its
    start and takes today's message, and a stored open one not among them clears today."""
    stored: dict[tuple[str, str], Row] = {(r["rule"], r["subject"]): r for r in conn.execute(
        sa.select(_T.c.id, _T.c.rule, _T.c.subject).where(_T.c.cleared.is_(None))
    ).mappings()}  # fmt: skip
    seen: set[object] = set()
    for alert in now_open:
        key = (alert["rule"], alert["subject"])
        if key in stored:
            seen.add(stored[key]["id"])
            conn.execute(
                _T.update().where(_T.c.id == stored[key]["id"]).values(message=alert["message"])
            )
        else:
            conn.execute(
                _T.insert().values(
                    rule=alert["rule"],
                    subject=alert["subject"],
                    category=alert["category"],
                    started=alert["started"],
                    message=alert["message"],
                    start_sent=False,
                    clear_sent=False,
                )
            )
            stored[key] = {"id": None}
    gone = [row["id"] for row in stored.values() if row["id"] is not None and row["id"] not in seen]
    if gone:
        conn.execute(_T.update().where(_T.c.id.in_(gone)).values(cleared=today))


def unsent(conn: Connection) -> list[dict[str, object]]:
    """Alerts whose start notice, or clear notice, has not been sent yet."""
    starts = sa.select(_T).where(_T.c.start_sent.is_(False)).order_by(_T.c.started, _T.c.id)
    clears = (
        sa.select(_T)
        .where(_T.c.cleared.is_not(None), _T.c.clear_sent.is_(False))
        .order_by(_T.c.cleared, _T.c.id)
    )
    # An alert that started and cleared before any notice went out is told as cleared only.
    rows = [_row(r, "open") for r in conn.execute(starts).mappings() if r["cleared"] is None]
    return rows + [_row(r, "cleared") for r in conn.execute(clears).mappings()]


def mark_sent(conn: Connection, sent: Iterable[Row]) -> None:
    """Mark the notices of ``sent`` (rows of ``unsent``) as sent."""
    for row in sent:
        match = (_T.c.rule == row["rule"]) & (_T.c.subject == row["subject"])
        if row["state"] == "open":
            conn.execute(_T.update().where(match, _T.c.cleared.is_(None)).values(start_sent=True))
        else:
            conn.execute(
                _T.update()
                .where(match, _T.c.cleared.is_not(None))
                .values(start_sent=True, clear_sent=True)
            )


def _row(row: Mapping[Any, Any], state: str) -> dict[str, object]:
    return {
        "rule": str(row["rule"]),
        "subject": str(row["subject"]),
        "category": row["category"],
        "started": stored_date(row["started"]),
        "message": str(row["message"]),
        "state": state,
    }
