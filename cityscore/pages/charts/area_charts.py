"""Charts across the areas: one metric's scores as ranked bars, and a map of the areas."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.pages.areas import NAME_PROPERTY
from cityscore.pages.charts.style import (
    INK,
    LABEL_FONT,
    STATUS_SCALE,
    accessible,
    alt,
    score_labels,
    status_labels,
)
from cityscore.pages.display import STATUS_SYMBOLS, status_word
from cityscore.pages.render import score_text

# The area comparison: room for an area's name beside its bar, and for the label after the bar.
AREA_LABEL_LIMIT = 220
AREA_STEP = 22


def area_comparison_chart(
    rows: pd.DataFrame, name: str, period: str, description: str, bands: Bands = DEFAULT_BANDS
) -> alt.LayerChart | alt.FacetChart:
    """One metric (or the CityScore) across the areas: a bar per area, ranked best first, the line
    at 1.0, and after each bar its status as symbol and word with the score (never colour alone).

    ``rows`` holds ``area, score, status`` in the order to draw (e.g. ``apps.explorer.areas.area_ranking``).
    Rows: one per area, so 25 areas draw 25 bars whatever the number of metrics.
    """
    scores = rows["score"].astype(float)
    labels = score_labels(scores, bands)
    data = pd.DataFrame(
        {
            "area": rows["area"].astype(str),
            "score": scores.round(4),
            "label": labels,
            "status": status_labels(rows["status"]),
            "cell": [
                f"{STATUS_SYMBOLS[status_word(st)]} {status_word(st)} {label}"
                if sc == sc
                else f"{STATUS_SYMBOLS['no score']} no score"
                for st, sc, label in zip(rows["status"], scores, labels, strict=True)
            ],
        }
    )
    top = max([1.2, *scores.dropna().tolist()]) * 1.05
    x_scale = alt.Scale(domain=[0, math.ceil(top * 10) / 10], nice=False)
    y = alt.Y(
        "area:N",
        sort=data["area"].tolist(),
        title=None,
        axis=alt.Axis(labelLimit=AREA_LABEL_LIMIT, labelFont=LABEL_FONT),
    )
    base = alt.Chart(data).encode(y=y)
    bars = base.mark_bar(stroke=INK, strokeWidth=0.6).encode(
        x=alt.X("score:Q", title=f"{period.capitalize()} score (1.0 = on target)", scale=x_scale),
        color=alt.Color("status:N", scale=STATUS_SCALE, legend=None),
        tooltip=[
            alt.Tooltip("area:N", title="Area"),
            alt.Tooltip("label:N", title="Score"),
            alt.Tooltip("status:N", title="Status"),
        ],
    )
    # The labels in a column right of the plot, clear of the bars and of the 1.0 line.
    labels = base.mark_text(align="left", x=alt.expr("width + 8"), color=INK, fontSize=12).encode(
        text="cell:N"
    )
    line = (
        alt.Chart(pd.DataFrame({"x": [1.0]}))
        .mark_rule(color="#555", strokeDash=[5, 4])
        .encode(x=alt.X("x:Q", scale=x_scale))
    )
    chart = alt.layer(bars, line, labels).properties(
        width=360,
        height=alt.Step(AREA_STEP),
        title=f"{name} across the areas ({period})",
        padding={"left": 12 + AREA_LABEL_LIMIT // 7, "top": 8, "right": 130, "bottom": 8},
    )
    return accessible(chart, description)


# The map: shapes with no score in grey; the colour scale is symmetric about 1.
NO_SCORE_COLOR = "#d9d9d9"
NO_SCORE_TEST = "!isValid(datum.score)"  # an area without a score, or a shape without an area
MIN_SPREAD = 0.1  # the colour scale spans at least 0.9 .. 1.1


def area_map(
    rows: pd.DataFrame,
    geojson: dict,
    *,
    title: str = "CityScore by area",
    width: int = 420,
    bands: Bands = DEFAULT_BANDS,
) -> alt.Chart:
    """A map of ``area_rows`` scores: each area shaded by its score (1 = on target, the middle of
    the scale), grey where it has no score. The GeoJSON and the scores are inlined in the spec, so
    the chart draws offline; the identity projection takes coordinates as drawn (any winding).
    Shapes with no score are kept (``invalid=None``), not filtered out as Vega-Lite would.
    Its marks are hidden from screen readers: the description names every area and its score
    (``render.score_text``: a near 0.996 reads "0.996", never "1.00")."""
    records = [
        {
            "area": r.area,
            "score": _number(r.score),
            "status": "no score" if pd.isna(r.status) else str(r.status),
        }
        for r in rows.itertuples(index=False)
    ]
    shapes = alt.Data(values=geojson["features"])
    # Symmetric about 1, so an area just above target is not drawn as the best possible.
    scored = [abs(r["score"] - 1) for r in records if r["score"] is not None]
    spread = max([MIN_SPREAD, *scored])
    # A text alternative for screen readers: every area and its score.
    description = f"{title}: " + "; ".join(
        f"{r['area']} {'no score' if r['score'] is None else score_text(r['score'], bands)}"
        for r in records
    )
    chart = (
        alt.Chart(shapes, title=title, width=width, height=width * 0.6)
        .mark_geoshape(stroke="white", strokeWidth=1.5, invalid=None)
        .transform_calculate(area=f"datum.properties.{NAME_PROPERTY}")
        .transform_lookup(
            lookup="area",
            from_=alt.LookupData(alt.Data(values=records), "area", ["score", "status"]),
        )
        .encode(
            # The grey test first: Vega-Lite would paint an invalid score with the scale's end.
            color=alt.condition(
                NO_SCORE_TEST,
                alt.value(NO_SCORE_COLOR),
                alt.Color(
                    "score:Q",
                    title="score",
                    scale=alt.Scale(
                        scheme="redyellowblue", domain=[1 - spread, 1 + spread], domainMid=1.0
                    ),
                ),
            ),
            tooltip=[
                alt.Tooltip("area:N", title="area"),
                alt.Tooltip("score:Q", title="score", format=".2f"),
                alt.Tooltip("status:N", title="status"),
            ],
        )
        .project(type="identity", reflectY=True)
    )
    return accessible(chart, description)


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
