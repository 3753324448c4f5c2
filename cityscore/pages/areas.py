"""Views of scores by area for the report and the explorer: one metric across the areas, an areas x
metrics heat table, and a map of the areas drawn from a city's GeoJSON (inlined: works offline).

DataFrame in, DataFrame (or an Altair chart spec, or escaped HTML) out; the scores come from
``Kit.scores(by="area")``. Altair is imported only to draw the map: ``cityscore report`` checks a
city's GeoJSON (``load_geojson``) before its kernel starts, and that check stays light.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.errors import ConfigError
from cityscore.core.vocabulary import CITYWIDE
from cityscore.frames.dates import DateLike, as_date

if TYPE_CHECKING:
    import altair as alt

AREA_COLUMNS = ["area", "score", "status", "value", "target", "note"]
NAME_PROPERTY = "name"  # each GeoJSON feature names its area in properties.name
NO_SCORE_COLOR = "#d9d9d9"
NO_SCORE_TEST = "!isValid(datum.score)"  # an area without a score, or a shape without an area
MIN_SPREAD = 0.1  # the colour scale spans at least 0.9 .. 1.1


def area_rows(
    scores: pd.DataFrame,
    metric: str = CITYWIDE,
    period: str = "month",
    as_of: DateLike | None = None,
) -> pd.DataFrame:
    """One metric's rows across the areas (citywide row left out) on ``as_of`` (default: the last
    date in ``scores``), in area order. Columns: ``AREA_COLUMNS``."""
    if "area" not in scores:
        msg = "these scores have no areas; score them with Kit.scores(by='area')"
        raise ConfigError(msg)
    day = as_date(as_of) if as_of is not None else pd.Timestamp(scores["as_of"].max())
    rows = scores[
        (scores["area"] != "")
        & (scores["metric"] == metric)
        & (scores["period"] == period)
        & (scores["as_of"] == day)
    ]
    out = rows[AREA_COLUMNS].reset_index(drop=True)
    return out.assign(
        area=out["area"].astype(str),
        status=out["status"].astype(object),
        note=out["note"].astype(str),
    )


def heat_table(
    scores: pd.DataFrame, period: str = "month", as_of: DateLike | None = None
) -> pd.DataFrame:
    """Areas (rows) x metrics (columns, the areas' CityScore first) of ``period`` scores."""
    if "area" not in scores:
        msg = "these scores have no areas; score them with Kit.scores(by='area')"
        raise ConfigError(msg)
    day = as_date(as_of) if as_of is not None else pd.Timestamp(scores["as_of"].max())
    rows = scores[(scores["area"] != "") & (scores["period"] == period) & (scores["as_of"] == day)]
    table = rows.pivot_table(
        index="area", columns="metric", values="score", observed=True, dropna=False, sort=False
    )
    table.index = table.index.astype(str)
    table.columns = table.columns.astype(str)
    table.index.name = table.columns.name = None
    return table


def load_geojson(path: str | Path) -> dict:
    """A city's areas as a GeoJSON FeatureCollection whose features name their area in
    ``properties.name``; a clear error saying what to fix otherwise."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"no areas map at {path}; give the path of the city's areas.geojson"
        raise ConfigError(msg) from None
    except OSError as exc:  # a folder, no permission, ...
        msg = f"cannot read the areas map {path}: {exc.strerror}; give the path of the city's areas.geojson"
        raise ConfigError(msg) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path} is not a GeoJSON file (JSON text): {exc}"
        raise ConfigError(msg) from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list) or doc.get("type") != "FeatureCollection":
        msg = f"{path} must be a GeoJSON FeatureCollection (type and features at the top)"
        raise ConfigError(msg)
    unnamed = [
        i
        for i, f in enumerate(features)
        if not isinstance(f, dict) or not str((f.get("properties") or {}).get(NAME_PROPERTY, ""))
    ]
    if unnamed:
        msg = (
            f"{path}: feature(s) {unnamed[:5]} have no properties.{NAME_PROPERTY}; name each "
            "feature after its area, exactly as the values' area column spells it"
        )
        raise ConfigError(msg)
    return doc


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
    from cityscore.pages.charts import accessible, alt
    from cityscore.pages.render import score_text

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


def map_names(geojson: dict) -> list[str]:
    """The area names of a ``load_geojson`` document, in feature order."""
    return [str(f["properties"][NAME_PROPERTY]) for f in geojson["features"]]


def unmatched(geojson: dict, areas: Iterable[str]) -> tuple[list[str], list[str]]:
    """(areas in the data with no shape in the map, shapes in the map with no area in the data)."""
    names, areas = set(map_names(geojson)), set(areas)
    return sorted(areas - names), sorted(names - areas)


def shipped_map(areas: Iterable[str]) -> Path | None:
    """The demo city's GeoJSON, shipped with the kit, when ``areas`` are exactly the demo's areas."""
    from cityscore.io.demo import AREAS, AREAS_GEOJSON

    return AREAS_GEOJSON if set(areas) == set(AREAS) and AREAS_GEOJSON.is_file() else None


def heat_html(
    table: pd.DataFrame,
    statuses: pd.DataFrame,
    notes: pd.DataFrame | None = None,
    *,
    caption: str,
    bands: Bands = DEFAULT_BANDS,
) -> str:
    """A ``heat_table`` (areas x metrics) as an escaped HTML table: each cell the score with its
    status as a symbol and a word (``statuses``: the same shape, status labels), ``—`` for none
    with the engine's reason from ``notes`` (the same shape) as its text."""
    from cityscore.pages.display import board_cell, escape
    from cityscore.pages.render import score_text_frame

    texts = score_text_frame(table, bands)
    head = '<th scope="col">Area</th>' + "".join(
        f'<th scope="col">{escape(metric)}</th>' for metric in table.columns
    )
    body = "".join(
        f'<tr><th scope="row">{escape(area)}</th>'
        + "".join(
            board_cell(
                texts.at[area, metric],
                statuses.at[area, metric],
                notes.at[area, metric] if notes is not None else None,
            )
            for metric in table.columns
        )
        + "</tr>"
        for area in table.index
    )
    return (
        f'<div class="table-wrap"><table class="heat"><caption>{escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def heat_frames(
    scores: pd.DataFrame,
    metrics: Sequence[str],
    period: str = "month",
    as_of: DateLike | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(scores, statuses, notes) of ``heat_table`` limited to ``metrics``, in that order."""
    table = heat_table(scores, period, as_of).reindex(columns=list(metrics))
    day = as_date(as_of) if as_of is not None else pd.Timestamp(scores["as_of"].max())
    rows = scores[(scores["area"] != "") & (scores["period"] == period) & (scores["as_of"] == day)]
    rows = rows.assign(
        area=rows["area"].astype(str),
        metric=rows["metric"].astype(str),
        status=rows["status"].astype(object),
        note=rows["note"].astype(object),
    )
    statuses, notes = (
        rows.pivot(index="area", columns="metric", values=column).reindex(
            index=table.index, columns=table.columns
        )
        for column in ("status", "note")
    )
    return table, statuses, notes


def _number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
