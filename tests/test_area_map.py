"""The city's own map: the report draws the catalog's areas from the city's GeoJSON, matching each
feature through the area's ``geometry`` key (else its name), lists the areas without a shape, and
refuses a GeoJSON whose features match no area with a message naming the property it read and a
few feature names beside the keys it looked for. The explorer's *Compare areas* tab does the same."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cityscore import Kit
from cityscore.apps.explorer.widget import Explorer
from cityscore.apps.report import notebook as report
from cityscore.core.errors import ConfigError
from cityscore.pages import areas, report_areas

AS_OF = "2026-10-31"
METRICS = b"name,direction,kind,aggregation,target\nCalls,higher,value,mean,10\n"
VALUES = {"Eastport": 8, "Back Bay": 12, "Roxbury": 10}  # constant daily values, target 10
CATALOG = (
    b"name,code,population,geometry,parent\n"
    b"Eastport,EP,12000,EP-1,North\n"  # its shape is the feature named EP-1
    b"Back Bay,BB,18500,,Central\n"  # no key: its shape is the feature named Back Bay
    b"Roxbury,RX,49111,RX-9,Central\n"  # no feature named RX-9: listed without a shape
)


def square(name: str, x: float) -> dict[str, Any]:
    ring = [[x, 0.0], [x + 1, 0.0], [x + 1, 1.0], [x, 1.0], [x, 0.0]]
    return {
        "type": "Feature",
        "properties": {"name": name, "district": "n/a"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def write_geojson(path: Path, names: list[str]) -> Path:
    features = [square(name, 1.2 * i) for i, name in enumerate(names)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


@pytest.fixture
def daily(city: Kit) -> report.DailyData:
    city.import_areas(CATALOG)
    days = pd.date_range(end=AS_OF, periods=35).strftime("%Y-%m-%d")
    rows = [f"Calls,{d},{a},{v}" for a, v in [("", 10), *VALUES.items()] for d in days]
    city.import_values(("metric,date,area,value\n" + "\n".join(rows) + "\n").encode())
    return report.daily_data(city, AS_OF)


def test_the_report_draws_the_catalogs_shapes_and_lists_the_areas_without_one(
    daily: report.DailyData, tmp_path: Path
) -> None:
    assert daily.area_catalog is not None and len(daily.area_catalog) == 3
    geo = write_geojson(tmp_path / "city.geojson", ["EP-1", "Back Bay", "Harbour"])
    parts = report_areas.areas_section(daily, geo)
    figure = next(p for p in parts if isinstance(p, report.Figure))
    assert "No shape in city.geojson for: Roxbury" in parts[0]
    assert "with no area in the data (grey): Harbour" in parts[0]
    spec = figure.chart.to_dict()
    drawn = [f["properties"]["name"] for f in spec["data"]["values"]]
    assert drawn == ["Eastport", "Back Bay", "Harbour"]  # EP-1 drawn as the catalog's Eastport
    scores = {r["area"]: r["score"] for r in spec["transform"][1]["from"]["data"]["values"]}
    assert scores == pytest.approx({"Back Bay": 1.2, "Eastport": 0.8, "Roxbury": 1.0})


def test_a_geojson_matching_no_area_is_refused_with_what_it_looked_at(
    daily: report.DailyData, tmp_path: Path
) -> None:
    geo = write_geojson(tmp_path / "city.geojson", ["Ward 1", "Ward 2", "Ward 3", "Ward 4"])
    parts = report_areas.areas_section(daily, geo)
    assert not any(isinstance(p, report.Figure) for p in parts)
    note = parts[0]
    assert "None of the 3 areas in the data has a shape in city.geojson" in note
    assert "properties.name" in note and "Ward 1, Ward 2, Ward 3" in note and "Ward 4" not in note
    assert "EP-1" in note and "Back Bay" in note  # the keys it looked for
    assert 'class="heat"' in parts[1]  # the table instead


def test_map_for_areas_matches_by_key_else_name_and_refuses_no_match() -> None:
    geojson = {"type": "FeatureCollection", "features": [square("EP-1", 0), square("Roxbury", 2)]}
    catalog = pd.DataFrame(
        {"name": ["Eastport", "Roxbury"], "geometry": ["EP-1", ""], "population": [1.0, 2.0]}
    )
    drawn, missing, extra = areas.map_for_areas(
        geojson, ["Eastport", "Roxbury", "Mattapan"], "m.geojson", catalog
    )
    assert [f["properties"]["name"] for f in drawn["features"]] == ["Eastport", "Roxbury"]
    assert drawn["features"][0]["properties"]["district"] == "n/a"  # other properties kept
    assert geojson["features"][0]["properties"]["name"] == "EP-1"  # the input is not changed
    assert missing == ["Mattapan"] and extra == []
    without_catalog = areas.map_for_areas(geojson, ["Roxbury"], "m.geojson")
    assert without_catalog[2] == ["EP-1"]
    with pytest.raises(ConfigError) as exc:
        areas.map_for_areas(geojson, ["Eastport"], "m.geojson")  # EP-1 is not "Eastport"
    message = str(exc.value)
    assert "properties.name" in message and "EP-1, Roxbury" in message and "Eastport" in message


# --- the explorer -------------------------------------------------------------------------------


def _figures(text: str) -> list[str]:
    return re.findall(r"<figure.*?</figure>", text, re.S)


def test_the_explorer_maps_the_catalogs_areas_under_the_ranking(
    daily: report.DailyData, city: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    geo = write_geojson(tmp_path / "city.geojson", ["EP-1", "Back Bay"])
    monkeypatch.setenv("CITYSCORE_AREAS_MAP", str(geo))
    explorer = Explorer(city, AS_OF)
    explorer.tabs.selected_index = 4
    _ranking, the_map = _figures(explorer.area_chart.value)
    caption = html.unescape(re.search(r"<figcaption[^>]*>(.*?)</figcaption>", the_map, re.S)[1])
    assert "CityScore by area, week scores on 2026-10-31: map" in caption
    assert "Back Bay 1.20" in caption and "Eastport 0.80" in caption  # EP-1 is Eastport's shape
    assert "No shape in city.geojson for: Roxbury." in explorer.area_chart.value
    assert "<svg" in the_map


def test_the_explorer_says_why_a_map_matching_no_area_is_not_drawn(
    daily: report.DailyData, city: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    geo = write_geojson(tmp_path / "city.geojson", ["Ward 1", "Ward 2"])
    monkeypatch.setenv("CITYSCORE_AREAS_MAP", str(geo))
    explorer = Explorer(city, AS_OF)
    explorer.tabs.selected_index = 4
    assert len(_figures(explorer.area_chart.value)) == 1  # the ranking only
    shown = html.unescape(explorer.area_chart.value)
    assert (
        "No map of the areas: None of the 3 areas in the data has a shape in city.geojson" in shown
    )
    assert "properties.name" in shown and "Ward 1, Ward 2" in shown
