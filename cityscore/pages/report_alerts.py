"""The report's "Open alerts" section: what the morning run's alert rules flag today, as a table."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from cityscore.engine.alerts import Alert
from cityscore.pages.display import table_html

ALERTS_TITLE = "Open alerts"
RULE_NAMES = {
    "below_target": "below target",
    "cityscore_drop": "CityScore drop",
    "stale": "stale data",
    "source_failing": "source failing",
}


def alerts_frame(alerts: Sequence[Alert]) -> pd.DataFrame:
    """The open alerts as rows (``subject, rule, since, message``), oldest first."""
    rows = [
        {
            "subject": a.subject,
            "rule": RULE_NAMES.get(a.rule, a.rule),
            "since": a.started.isoformat(),
            "message": a.message,
        }
        for a in sorted(alerts, key=lambda a: (a.started, a.rule, a.subject))
        if a.state == "open"
    ]
    return pd.DataFrame(rows, columns=["subject", "rule", "since", "message"])


def alerts_html(alerts: Sequence[Alert], max_rows: int = 30) -> str:
    """The section's table (every text escaped); a short line when no alert is open."""
    return table_html(
        alerts_frame(alerts),
        {"subject": "Alert on", "rule": "Rule", "since": "Open since", "message": "What happened"},
        caption=ALERTS_TITLE,
        empty="no alert is open",
        max_rows=max_rows,
    )
