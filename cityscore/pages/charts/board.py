"""The Fenway-style scoreboard: one row per metric by category, one coloured cell per period."""

from __future__ import annotations

import pandas as pd

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.frames.dates import DateLike, as_date
from cityscore.pages.charts.style import (
    BOARD_GREEN,
    INK,
    LABEL_FONT,
    PERIOD_ORDER,
    STATUS_ORDER,
    STATUS_SCALE,
    accessible,
    alt,
    score_labels,
    status_labels,
    text_metric_rows,
)
from cityscore.pages.display import STATUS_SYMBOLS, status_word
from cityscore.pages.render import round_half_evens

# The board's metric names are cut (with "…") at this width, as measured when the SVG is drawn.
# A browser may draw them in a wider font than the one measured: name a wide font first (measured
# where it is installed, and no narrower elsewhere), and keep a margin on the left so a wider
# drawing still fits inside the picture instead of losing its first letters.
BOARD_LABEL_LIMIT = 280


BOARD_PADDING = {"left": 16 + BOARD_LABEL_LIMIT // 7, "top": 16, "right": 16, "bottom": 16}


def scoreboard_chart(
    scores: pd.DataFrame, metrics: pd.DataFrame, as_of: DateLike, bands: Bands = DEFAULT_BANDS
) -> alt.FacetChart:
    """The Fenway-style board: one row per metric grouped by category, one colored cell per period.

    A cell without a score shows "—" and its tooltip gives the reason (the score frame's note).
    """
    day = as_date(as_of)
    rows = text_metric_rows(scores[pd.to_datetime(scores["as_of"]) == day])
    info = metrics[["name", "category"]].rename(columns={"name": "metric"})
    rows = rows.merge(info, on="metric", how="left")
    labels = score_labels(rows["score"], bands)
    board = pd.DataFrame(
        {
            "metric": rows["metric"],
            "category": rows["category"].fillna("Other").astype(str),
            "period": rows["period"],
            "column": rows["period"].str.capitalize(),
            "label": labels,
            "cell": [
                f"{STATUS_SYMBOLS[status_word(st)]} {label}"
                for st, label in zip(rows["status"], labels, strict=True)
            ],
            "status": status_labels(rows["status"]),
            "value": pd.Series(round_half_evens(rows["value"], 3), index=rows.index),
            "target": pd.Series(round_half_evens(rows["target"], 3), index=rows.index),
            "reason": rows["note"].astype(str).where(rows["score"].isna(), ""),
        }
    )
    base = alt.Chart(board).encode(
        x=alt.X(
            "column:N",
            sort=[p.capitalize() for p in PERIOD_ORDER],
            title=None,
            axis=alt.Axis(orient="top", labelAngle=0, labelFontWeight="bold"),
        ),
        y=alt.Y(
            "metric:N",
            sort="ascending",
            title=None,
            axis=alt.Axis(labelLimit=BOARD_LABEL_LIMIT, labelFont=LABEL_FONT),
        ),
        tooltip=[
            alt.Tooltip("metric:N", title="Metric"),
            alt.Tooltip("period:N", title="Period"),
            alt.Tooltip("label:N", title="Score"),
            alt.Tooltip("status:N", title="Status"),
            alt.Tooltip("value:N", title="Value"),
            alt.Tooltip("target:N", title="Target"),
            alt.Tooltip("reason:N", title="Why no score"),
        ],
    )
    cells = base.mark_rect(stroke=BOARD_GREEN, strokeWidth=3, cornerRadius=3).encode(
        color=alt.Color(
            "status:N", scale=STATUS_SCALE, legend=alt.Legend(title="Status", orient="bottom")
        )
    )
    labels = base.mark_text(
        color=INK, fontSize=15, fontWeight="bold", font="Menlo, Consolas, monospace"
    ).encode(text="cell:N")
    header = alt.Header(
        title=None,
        labelAngle=0,
        labelAlign="left",
        labelAnchor="start",
        labelOrient="top",
        labelFontSize=15,
    )
    counts = board["status"].value_counts()
    description = (
        f"Scoreboard for {day.date()}: {board['metric'].nunique()} metrics, "
        + ", ".join(f"{int(counts.get(s, 0))} cells {s}" for s in STATUS_ORDER)
        + "."
    )
    chart = (
        alt.layer(cells, labels)
        .properties(width=alt.Step(84), height=alt.Step(30))
        .facet(row=alt.Row("category:N", header=header, sort="ascending"), spacing=14)
        .resolve_scale(y="independent")
        # Each category gets its own Day/Week/... labels, drawn under its heading: one shared axis
        # on top sat where the first heading goes, and the two overlapped.
        .resolve_axis(x="independent")
        .configure(background=BOARD_GREEN, padding=BOARD_PADDING)
        .configure_view(stroke=None)
        .configure_axis(labelColor="white", labelFontSize=13, domain=False, ticks=False)
        .configure_header(labelColor="#f4e9c1", labelFontWeight="bold")
        .configure_legend(labelColor="white", titleColor="white")
    )
    return accessible(chart, description)
