"""Files nested thousands of levels deep (sources.yml, areas.geojson, cityscore.toml) are refused
with a message naming the file, never an internal error (RecursionError)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cityscore import ConfigError
from cityscore.core.settings import read_config
from cityscore.pages.areas import load_geojson

CLI = str(Path(sys.executable).with_name("cityscore"))
DEEP = 100_000


def _refused_by_the_command(args: list[str], cwd: Path) -> str:
    result = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=60, cwd=cwd)
    assert result.returncode != 0
    assert "internal error" not in result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def test_a_deeply_nested_toml_array_is_refused_by_the_command(tmp_path: Path):
    config = tmp_path / "cityscore.toml"
    config.write_text("city = " + "[" * DEEP + "]" * DEEP + "\n", encoding="utf-8")
    stderr = _refused_by_the_command(["--config", str(config), "score"], tmp_path)
    assert "nested too deeply" in stderr
    assert "cityscore.toml" in stderr


def test_a_toml_table_thousands_of_levels_deep_is_refused(tmp_path: Path):
    config = tmp_path / "cityscore.toml"
    config.write_text("[" + ".".join(["a"] * 5000) + "]\nx = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="nested too deeply"):
        read_config(config)


def test_a_deeply_nested_sources_yml_is_refused_by_sync(tmp_path: Path):
    sources = tmp_path / "sources.yml"
    sources.write_text("sources: " + "[" * DEEP + "]" * DEEP + "\n", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'city.db'}"
    stderr = _refused_by_the_command(["--db", db, "sync", "--config", str(sources)], tmp_path)
    assert "sources.yml is nested too deeply" in stderr


def test_a_deeply_nested_areas_map_is_refused(tmp_path: Path):
    geojson = tmp_path / "areas.geojson"
    features = "[" * DEEP + "]" * DEEP
    geojson.write_text(f'{{"type": "FeatureCollection", "features": {features}}}', "utf-8")
    with pytest.raises(ConfigError, match=r"areas\.geojson is nested too deeply"):
        load_geojson(geojson)


def test_files_nested_a_few_levels_still_read(tmp_path: Path):
    geojson = tmp_path / "areas.geojson"
    geojson.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"properties": {"name": "North"}, "geometry": {"type": "Polygon", '
        '"coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}]}',
        "utf-8",
    )
    assert load_geojson(geojson)["features"][0]["properties"]["name"] == "North"
    config = tmp_path / "cityscore.toml"
    config.write_text('city = "Springfield"\n[scores]\nnear = 0.9\n', encoding="utf-8")
    assert read_config(config)["scores.near"] == 0.9
