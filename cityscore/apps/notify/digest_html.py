"""The digest's HTML part: what mail clients show without scripts (inline styles, images by Content-ID).

Every piece of user text (city, metric, category, unit, alert) is escaped; nothing is fetched
from outside the message.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

import pandas as pd

from cityscore.apps.notify.digest_facts import Summary, periods_shown, status_label
from cityscore.apps.notify.headline import alert_line
from cityscore.apps.notify.images import SHOWN_WIDTH

if TYPE_CHECKING:
    from cityscore.engine.alerts import Alert

INK = "#1a1a1a"
MUTED = "#4a4a4a"  # 8.9:1 on white
RULE = "#c8c8c8"
# Status colours: dark text on a light fill, each pair above 7:1; the symbol and word say it too.
STATUS_STYLES = {
    "meeting": "background:#e3f1e6;color:#1b5e20",
    "near": "background:#fff4d6;color:#5c4300",
    "below": "background:#fbe3e3;color:#8a1c1c",
    "stale": "background:#ececec;color:#333333",
    "no score": "background:#f5f5f5;color:#333333",
}
BODY = f"margin:0;padding:16px;background:#ffffff;color:{INK};font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.4"
H2 = f"font-size:18px;margin:24px 0 8px;color:{INK}"
CELL = f"padding:4px 5px;border-bottom:1px solid {RULE};text-align:left;vertical-align:top"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def digest_html(
    head: Summary,
    board: pd.DataFrame,
    alerts: Sequence[Alert],
    images: Sequence[tuple[str, str, str]],
    report_name: str | None,
) -> str:
    """The whole HTML document. ``images`` are (title, alt text, content id without brackets)."""
    parts = [
        _headline(head),
        _alerts(alerts),
        *(_image(title, alt, cid) for title, alt, cid in images),
        _board(board),
    ]
    if report_name:
        parts.append(
            f'<p style="color:{MUTED};margin-top:24px">The full report is attached: '
            f"{_e(report_name)}.</p>"
        )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(head.title)}</title></head>"
        f'<body style="{BODY}"><main style="max-width:{SHOWN_WIDTH + 160}px;margin:0 auto">'
        + "".join(parts)
        + "</main></body></html>"
    )


def _status(word: str, text: str = "") -> str:
    style = STATUS_STYLES.get(word, STATUS_STYLES["no score"])
    label = f"{_e(text)} " if text else ""
    return f'<span style="{style};padding:1px 4px;border-radius:3px;white-space:nowrap">{label}{_e(status_label(word))}</span>'


def _headline(head: Summary) -> str:
    periods = " · ".join(f"{_e(name)} <b>{_e(score)}</b>" for name, score in head.periods)
    return (
        f'<h1 style="font-size:22px;margin:0 0 8px;color:{INK}">{_e(head.title)}</h1>'
        f'<p style="font-size:40px;font-weight:bold;margin:0;color:{INK}">{_e(head.score)}</p>'
        f'<p style="margin:4px 0">{_status(head.status)} · {_e(head.note)}</p>'
        + (f'<p style="margin:4px 0">{periods}</p>' if periods else "")
        + f'<p style="margin:4px 0;color:{MUTED}">{_e(head.share)}</p>'
    )


def _alerts(alerts: Sequence[Alert]) -> str:
    if not alerts:
        return f'<h2 style="{H2}">Open alerts</h2><p style="margin:0">No open alerts.</p>'
    items = "".join(
        f'<li style="margin:0 0 4px"><b>{_e(a.subject)}</b>: {_e(alert_line(a))}</li>'
        for a in alerts
    )
    return f'<h2 style="{H2}">Open alerts ({len(alerts)})</h2><ul style="margin:0;padding-left:20px">{items}</ul>'


def _image(title: str, alt: str, cid: str) -> str:
    return (
        f'<h2 style="{H2}">{_e(title)}</h2>'
        f'<img src="cid:{_e(cid)}" alt="{_e(alt)}" width="{SHOWN_WIDTH}" '
        f'style="display:block;width:100%;max-width:{SHOWN_WIDTH}px;height:auto;border:0">'
    )


def _board(board: pd.DataFrame) -> str:
    """One table per category: a row per metric, a cell per period (score, status, value/target)."""
    if board.empty:
        return f'<h2 style="{H2}">Scoreboard</h2><p>No metric has a score on this day.</p>'
    periods = periods_shown(board)
    head = f'<th scope="col" style="{CELL}">Metric</th>' + "".join(
        f'<th scope="col" style="{CELL}">{_e(p.capitalize())}</th>' for p in periods
    )
    tables = []
    for category, group in board.groupby("category", sort=False):
        cells = {(r.metric, r.period): r for r in group.itertuples(index=False)}
        body = []
        for metric in pd.unique(group["metric"]):
            unit = group.loc[group["metric"] == metric, "unit"].iloc[0]
            row = [
                f'<th scope="row" style="{CELL}">{_e(metric)}'
                + (
                    f'<br><span style="font-weight:normal;color:{MUTED};font-size:13px">{_e(unit)}</span>'
                    if unit
                    else ""
                )
                + "</th>"
            ]
            for period in periods:
                r = cells.get((metric, period))
                row.append(f'<td style="{CELL}">{_cell(r)}</td>')
            body.append("<tr>" + "".join(row) + "</tr>")
        tables.append(
            '<table style="border-collapse:collapse;width:100%;margin:0 0 16px;font-size:13px">'
            f'<caption style="text-align:left;font-weight:bold;padding:4px 0">{_e(category)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        )
    legend = (
        f'<p style="margin:0 0 8px;color:{MUTED}">Each cell: the score and its status, then the '
        "period's value and the target (in the metric's unit).</p>"
    )
    return f'<h2 style="{H2}">Scoreboard</h2>{legend}' + "".join(tables)


def _cell(row: object) -> str:
    """One period of one metric: score and status, then value and target; — with the reason."""
    if row is None:
        return "—"
    status, score, note = row.status, row.score, row.note  # type: ignore[attr-defined]
    if status == "no score":
        return f'{_status(status)}<br><span style="color:{MUTED};font-size:13px">{_e(note or "no score")}</span>'
    return (
        f"{_status(status, score)}<br>"
        f'<span style="color:{MUTED};font-size:13px">value {_e(row.value)}<br>'  # type: ignore[attr-defined]
        f"target {_e(row.target)}</span>"  # type: ignore[attr-defined]
    )
