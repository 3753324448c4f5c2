"""The digest's plain-text part: the same facts as its HTML part, for clients that show text only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from cityscore.apps.notify.digest_facts import Summary, periods_shown, status_label
from cityscore.apps.notify.headline import alert_line

if TYPE_CHECKING:
    from cityscore.engine.alerts import Alert


def digest_text(
    head: Summary,
    board: pd.DataFrame,
    alerts: Sequence[Alert],
    charts: Sequence[tuple[str, str]],
    report_name: str | None,
) -> str:
    """The text part. ``charts`` are (title, description): the words behind each picture."""
    lines = [head.title, "", f"CityScore {head.score} ({status_label(head.status)}; {head.note})"]
    if head.periods:
        lines.append(" · ".join(f"{name} {score}" for name, score in head.periods))
    lines += [head.share, ""]
    if alerts:
        lines.append(f"Open alerts ({len(alerts)}):")
        lines += [f"- {a.subject}: {alert_line(a)}" for a in alerts]
    else:
        lines.append("No open alerts.")
    for title, description in charts:
        lines += ["", f"{title}:", description]
    lines += ["", *_board(board)]
    if report_name:
        lines += ["", f"The full report is attached: {report_name}."]
    return "\n".join(lines) + "\n"


def _board(board: pd.DataFrame) -> list[str]:
    """The scoreboard as text: a block per category, a line per metric and period."""
    if board.empty:
        return ["Scoreboard: no metric has a score on this day."]
    lines = ["Scoreboard (score and status, then the period's value and the target):"]
    order = periods_shown(board)
    for category, group in board.groupby("category", sort=False):
        lines += ["", f"{category}"]
        for metric in pd.unique(group["metric"]):
            rows = group[group["metric"] == metric].set_index("period")
            unit = rows["unit"].iloc[0]
            lines.append(f"  {metric}" + (f" ({unit})" if unit else ""))
            for period in order:
                if period not in rows.index:
                    continue
                r = rows.loc[period]
                if r["status"] == "no score":
                    lines.append(
                        f"    {period}: {status_label('no score')} ({r['note'] or 'no score'})"
                    )
                else:
                    lines.append(
                        f"    {period}: {r['score']} {status_label(r['status'])}; "
                        f"value {r['value']}, target {r['target']}"
                    )
    return lines
