"""The terminal scoreboard: categories with their scores, each metric's score beside its value and target.

One block per as-of date: the CityScore line, why that date (when given), a key, then a table of
periods across: the CityScore, each category's score, and under it its metrics, each cell
``score (value/target)`` with the unit after the metric's name; ``capped`` and ``stale`` marked.
"""

from __future__ import annotations

import pandas as pd

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.vocabulary import CITYWIDE, PERIODS
from cityscore.engine.summary import STALE_STATUS, category_scores
from cityscore.pages.render import NO_SCORE, is_capped, quantity_text, score_text

GAP = 3  # spaces between columns


def _cell(
    score: object, value: object, target: object, status: object, cap: float | None, bands: Bands
) -> str:
    if score is None or pd.isna(score):  # type: ignore[call-overload]
        return NO_SCORE
    marks = " capped" if is_capped(score, cap) else ""
    marks += " stale" if status == STALE_STATUS else ""
    return (
        f"{score_text(float(score), bands)}{marks} "  # type: ignore[arg-type]
        f"({quantity_text(value)}/{quantity_text(target)})"
    )


def _metric_label(name: str, unit: object) -> str:
    return f"{name} ({unit})" if isinstance(unit, str) and unit.strip() else name


def day_board(
    day: pd.DataFrame,
    metrics: pd.DataFrame,
    bands: Bands = DEFAULT_BANDS,
    cap: float | None = None,
) -> list[tuple[str, list[str]]]:
    """Rows of one date's board as (label, one text per period): the CityScore, then per category
    its score and its metrics by name."""
    periods = [p for p in PERIODS if p in set(day["period"].astype(str))]
    rows = day.assign(metric=day["metric"].astype(str), period=day["period"].astype(str))
    cells = {
        (m, p): (s, v, t, st)
        for m, p, s, v, t, st in zip(
            rows["metric"],
            rows["period"],
            rows["score"],
            rows["value"],
            rows["target"],
            rows["status"].astype(object),
            strict=True,
        )
    }
    out: list[tuple[str, list[str]]] = [
        (CITYWIDE, [score_text(cells.get((CITYWIDE, p), (None,))[0], bands) for p in periods])
    ]
    info = metrics.assign(
        name=metrics["name"].astype(str), category=metrics["category"].astype(str)
    )
    info = info[info["name"].isin(set(rows["metric"]))]
    cats = category_scores(rows, info, bands)
    by_cat = {
        (c, str(p)): s
        for c, p, s in zip(cats["category"], cats["period"], cats["score"], strict=True)
    }
    units = dict(zip(info["name"], info.get("unit", pd.Series("", index=info.index)), strict=True))
    for category, group in sorted(info.groupby("category"), key=lambda kv: str(kv[0])):
        n = len(group)
        label = f"== {category} ({n} metric{'s' if n != 1 else ''}) =="
        out.append((label, [score_text(by_cat.get((category, p)), bands) for p in periods]))
        for name in sorted(group["name"]):
            texts = [
                _cell(*cells.get((name, p), (None, None, None, None)), cap, bands) for p in periods
            ]
            out.append((_metric_label(name, units.get(name)), texts))
    return [("", periods), *out]


def board_lines(rows: list[tuple[str, list[str]]]) -> str:
    """``day_board`` rows as aligned text: labels left, cells left-aligned in their columns."""
    label_width = max(len(label) for label, _ in rows)
    widths = [max(len(cells[i]) for _, cells in rows) for i in range(len(rows[0][1]))]
    lines = []
    for label, cells in rows:
        parts = [label.ljust(label_width)] + [
            c.ljust(w) for c, w in zip(cells, widths, strict=True)
        ]
        lines.append((" " * GAP).join(parts).rstrip())
    return "\n".join(lines)


KEY = (
    "Each metric: its score, then (value/target) in the unit after its name; "
    "a category's score is the weighted mean of its metrics' scores."
)


def board_text(
    scores: pd.DataFrame,
    metrics: pd.DataFrame,
    bands: Bands = DEFAULT_BANDS,
    cap: float | None = None,
    why: str = "",
) -> str:
    """The terminal scoreboard of every as-of date in ``scores``; ``why`` (e.g. "Friday 4 December
    2026: the latest day most metrics reach") is printed under the first date's headline."""
    blocks = []
    for i, as_of in enumerate(pd.unique(scores["as_of"])):
        day = scores[scores["as_of"] == as_of]
        city = day[(day["metric"].astype(str) == CITYWIDE) & (day["period"].astype(str) == "day")]
        head = f"CityScore as of {pd.Timestamp(as_of).date()}: "
        if len(city):
            row = city.iloc[0]
            status = row["status"] if isinstance(row["status"], str) else "no score"
            head += f"{score_text(row['score'], bands)} ({status}; {row['note']})"
        else:
            head += NO_SCORE
        lines = [head]
        if why and i == 0:
            lines.append(why + ".")
        capped = f"; scores capped at {cap:g} are marked capped" if cap else ""
        lines.append(KEY[:-1] + capped + ".")
        lines.append("")
        lines.append(board_lines(day_board(day, metrics, bands, cap)))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
