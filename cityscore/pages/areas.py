"""Scores by area as frames and HTML (one metric across the areas, the heat table), and the map file.

The report and the explorer show them; the city's GeoJSON is read and checked against the areas
here, and drawn by ``charts.area_map``.

DataFrame in, DataFrame (or escaped HTML) out; the scores come from ``Kit.scores(by="area")``.
No Altair here: ``cityscore report`` checks a city's GeoJSON (``load_geojson``) before its kernel
starts, and that check stays light.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.errors import ConfigError
from cityscore.core.nesting import refusing_deep_nesting
from cityscore.core.vocabulary import CITYWIDE
from cityscore.frames.dates import DateLike, as_date
from cityscore.pages.display import board_cell, escape
from cityscore.pages.render import score_text_frame

AREA_COLUMNS = ["area", "score", "status", "value", "target", "note"]
NAME_PROPERTY = "name"  # each GeoJSON feature names its area in properties.name


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
        with refusing_deep_nesting(str(path)):
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


def map_names(geojson: dict) -> list[str]:
    """The area names of a ``load_geojson`` document, in feature order."""
    return [str(f["properties"][NAME_PROPERTY]) for f in geojson["features"]]


def unmatched(geojson: dict, areas: Iterable[str]) -> tuple[list[str], list[str]]:
    """(areas in the data with no shape in the map, shapes in the map with no area in the data)."""
    names, areas = set(map_names(geojson)), set(areas)
    return sorted(areas - names), sorted(names - areas)


def shipped_map(areas: Iterable[str], map_areas: Iterable[str], path: Path) -> Path | None:
    """``path``, a map shipped with the kit (the demo city's), when ``areas`` are exactly the areas
    it draws (``map_areas``) and the file is there; else None."""
    return path if set(areas) == set(map_areas) and path.is_file() else None


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
        # A focusable region: on a narrow screen the table scrolls sideways, by keyboard too.
        f'<div class="table-wrap" role="region" tabindex="0" aria-label="{escape(caption)}">'
        f'<table class="heat"><caption>{escape(caption)}</caption>'
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


def map_keys(areas: Iterable[str], catalog: pd.DataFrame | None = None) -> dict[str, str]:
    """Each area's key into the city's GeoJSON: its catalog ``geometry`` (areas.csv), else its
    name. ``catalog``: ``Kit.area_catalog()`` (None: every key is the name)."""
    given: dict[str, str] = {}
    if catalog is not None and len(catalog):
        given = {
            str(n): str(g)
            for n, g in zip(catalog["name"], catalog["geometry"].fillna(""), strict=True)
            if str(g)
        }
    return {area: given.get(area, area) for area in areas}


def map_for_areas(
    geojson: dict, areas: Sequence[str], source: str, catalog: pd.DataFrame | None = None
) -> tuple[dict, list[str], list[str]]:
    """(the GeoJSON to draw, the areas without a shape, the shapes with no area).

    Features are matched to ``areas`` through each area's ``map_keys`` (the catalog's geometry,
    else the name) against the feature's ``properties.name``; a matched feature is drawn under the
    area's name. Raises ``ConfigError`` when no feature matches any area, naming the property it
    looked at and a few feature values beside the keys it looked for. ``source``: the file's name.
    """
    keys = map_keys(areas, catalog)
    by_key: dict[str, list[str]] = {}
    for area, key in keys.items():
        by_key.setdefault(key, []).append(area)
    features, extra, matched = [], [], set()
    for feature in geojson["features"]:
        value = str(feature["properties"][NAME_PROPERTY])
        owners = by_key.get(value)
        if not owners:
            extra.append(value)
            features.append(feature)
            continue
        for area in owners:  # one shape for each area that names it (rarely more than one)
            matched.add(area)
            properties = {**feature["properties"], NAME_PROPERTY: area}
            features.append({**feature, "properties": properties})
    if not matched:
        raise ConfigError(no_match_message(geojson, keys, source))
    missing = [a for a in areas if a not in matched]
    return {**geojson, "features": features}, missing, sorted(set(extra))


SHOWN_NAMES = 3  # feature values and area keys a message shows


def no_match_message(geojson: dict, keys: dict[str, str], source: str) -> str:
    """Why a GeoJSON is not drawn: its features' names match none of the areas' map keys."""
    values = map_names(geojson)[:SHOWN_NAMES]
    looked_for = list(dict.fromkeys(keys.values()))[:SHOWN_NAMES]
    return (
        f"None of the {len(keys)} areas in the data has a shape in {source}: it looked at each "
        f"feature's properties.{NAME_PROPERTY} (its features are named e.g. {', '.join(values)}) "
        f"for each area's map key (its geometry in areas.csv, else its name: e.g. "
        f"{', '.join(looked_for)}). Name each feature's properties.{NAME_PROPERTY} as the area's "
        "geometry in areas.csv (or its name) and import the areas again."
    )
