"""Time stamps in the city's time zone: an offset counts on its local day, on both daylight-saving days."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from cityscore import ConfigError, Kit
from cityscore.core.settings import CONFIG_ENV, load_settings
from cityscore.io.cells import parse_dates
from cityscore.io.timestamps import city_zone, current_zone

METRICS = """name,category,direction,kind,aggregation,target
Spring,Streets,higher,value,sum,1
Autumn,Streets,higher,value,sum,1
"""
ZONE = "America/New_York"
ISO = "%Y-%m-%dT%H:%M:%S%z"

# (timestamp, its day in New York): hand-worked from the rules of 2025 (EST -05:00, EDT -04:00;
# 2025-03-09 02:00 EST becomes 03:00 EDT; 2025-11-02 02:00 EDT becomes 01:00 EST).
SPRING = [
    ("2025-03-09T04:59:00+00:00", "2025-03-08"),  # 23:59 EST on the 8th
    ("2025-03-09T05:00:00+00:00", "2025-03-09"),  # midnight EST
    ("2025-03-09T02:30:00-05:00", "2025-03-09"),  # the skipped half hour, written with its offset
    ("2025-03-10T03:59:00Z", "2025-03-09"),  # 23:59 EDT: the 9th had 23 hours
    ("2025-03-10T04:00:00Z", "2025-03-10"),
]
AUTUMN = [
    ("2025-11-02T03:59:00Z", "2025-11-01"),  # 23:59 EDT on the 1st
    ("2025-11-02T01:30:00-04:00", "2025-11-02"),  # the first 01:30 (EDT)
    ("2025-11-02T01:30:00-05:00", "2025-11-02"),  # the second 01:30 (EST)
    ("2025-11-03T04:59:00Z", "2025-11-02"),  # 23:59 EST: the 2nd had 25 hours
    ("2025-11-03T05:00:00Z", "2025-11-03"),
]


@pytest.mark.parametrize("cases", [SPRING, AUTUMN], ids=["spring", "autumn"])
def test_offsets_count_on_the_local_day(cases: list[tuple[str, str]]) -> None:
    text = pd.Series([t for t, _ in cases], dtype=object)
    with city_zone(ZONE):
        days = parse_dates(text, ISO)
    assert [d.date().isoformat() for d in days] == [day for _, day in cases]


def test_without_a_time_zone_the_written_day_counts() -> None:
    with city_zone(None):
        days = parse_dates(pd.Series(["2025-03-10T03:59:00Z", "2025-03-09T23:30:00-04:00"]), ISO)
    assert [d.date().isoformat() for d in days] == ["2025-03-10", "2025-03-09"]


def test_naive_timestamps_are_local_and_bad_ones_are_named() -> None:
    with city_zone(ZONE):
        naive = parse_dates(pd.Series(["2025-11-02 01:30", "2025-03-09 23:59"]), "%Y-%m-%d %H:%M")
        assert [d.date().isoformat() for d in naive] == ["2025-11-02", "2025-03-09"]
        odd = parse_dates(pd.Series(["2025-03-09 02:30", "not a date"]), ISO)
        assert odd.isna().all()
        # Under a %z format a time without an offset (a workbook's date cell) is local too.
        local = parse_dates(pd.Series(["2025-11-02T23:30:00", "2025-11-03T04:30:00Z"]), ISO)
        assert [d.date().isoformat() for d in local] == ["2025-11-02", "2025-11-02"]
        with pytest.raises(ConfigError, match="date format"):
            parse_dates(pd.Series(["2025-03-09"]), "%Y-%Q%z")


def file_rows(cases: list[tuple[str, str]], metric: str) -> str:
    """One row per distinct local day (the first timestamp of each), value = its position."""
    seen: dict[str, str] = {}
    for stamp, day in cases:
        seen.setdefault(day, stamp)
    return "".join(f"{metric},{stamp},{i + 1}\n" for i, stamp in enumerate(seen.values()))


def stored(kit: Kit) -> list[tuple[str, str, float]]:
    obs = kit.observations()
    return [(m, d.strftime("%Y-%m-%d"), v) for m, d, v in obs[["metric", "date", "value"]].values]


def expected(cases: list[tuple[str, str]], metric: str) -> list[tuple[str, str, float]]:
    days = list(dict.fromkeys(day for _, day in cases))
    return [(metric, day, float(i + 1)) for i, day in enumerate(days)]


def test_a_values_file_with_offsets_in_the_city_zone(city: Kit) -> None:
    text = "metric,date,value\n" + file_rows(SPRING, "Spring") + file_rows(AUTUMN, "Autumn")
    with city_zone(ZONE):
        city.import_values(text.encode(), date_format=ISO)
    assert sorted(stored(city)) == sorted(expected(SPRING, "Spring") + expected(AUTUMN, "Autumn"))


def test_the_time_zone_comes_from_cityscore_toml(
    city: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = tmp_path / "cityscore.toml"
    toml.write_text(f'timezone = "{ZONE}"\npopulation = 650000\n', encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(toml))
    assert current_zone() == ZONE and load_settings().population == 650000
    # 03:59 UTC on the 10th is 23:59 on the 9th in New York; the file's own offset says the 10th.
    city.import_values(b"metric,date,value\nSpring,2025-03-10T03:59:00Z,4\n", date_format=ISO)
    assert stored(city) == [("Spring", "2025-03-09", 4.0)]


def test_an_unknown_time_zone_is_refused(tmp_path: Path) -> None:
    toml = tmp_path / "cityscore.toml"
    toml.write_text('timezone = "America/Bostn"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown time zone 'America/Bostn'.*America/New_York"):
        load_settings(toml)
    toml.write_text("population = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="population"):
        load_settings(toml)
    with pytest.raises(ConfigError, match="unknown time zone"), city_zone("Mars/Olympus"):
        pass


def sqlite_source(path: Path, cases: list[tuple[str, str]], metric: str) -> dict:
    """A source table of timestamped daily readings, as a driver returns text timestamps."""
    engine = sa.create_engine(f"sqlite:///{path}")
    seen: dict[str, str] = {}
    for stamp, day in cases:
        seen.setdefault(day, stamp)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE readings (taken_at TEXT, n FLOAT)"))
        conn.execute(
            sa.text("INSERT INTO readings VALUES (:t, :n)"),
            [{"t": stamp, "n": i + 1} for i, stamp in enumerate(seen.values())],
        )
    engine.dispose()
    query = (
        "SELECT taken_at AS date, n AS value FROM readings "
        "WHERE taken_at BETWEEN :start AND date(:end, '+2 day')"
    )
    return {
        "sources": {"db": {"url": f"sqlite:///{path}"}},
        "metrics": {metric: {"query": query, "start": "2025-03-01"}},
    }


@pytest.mark.parametrize(
    ("cases", "metric"), [(SPRING, "Spring"), (AUTUMN, "Autumn")], ids=["spring", "autumn"]
)
def test_a_sql_source_with_offsets_in_the_city_zone(
    city: Kit, tmp_path: Path, cases: list[tuple[str, str]], metric: str
) -> None:
    cfg = sqlite_source(tmp_path / "readings.db", cases, metric)
    with city_zone(ZONE):
        city.sync(cfg, end="2025-11-30")
    assert stored(city) == expected(cases, metric)


def test_a_postgres_timestamptz_in_the_city_zone(city: Kit, postgres_url: str) -> None:
    """PostgreSQL returns aware datetimes (in the session's zone): the city's day is taken."""
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text("SET TIME ZONE 'UTC'"))
        conn.execute(sa.text("CREATE TABLE readings (taken_at timestamptz, n float)"))
        conn.execute(
            sa.text("INSERT INTO readings VALUES (CAST(:t AS timestamptz), :n)"),
            [{"t": "2025-11-03T04:59:00Z", "n": 1.0}, {"t": "2025-03-10T03:59:00Z", "n": 2.0}],
        )
    engine.dispose()
    query = (
        "SELECT taken_at AS date, n AS value FROM readings "
        "WHERE taken_at >= CAST(:start AS date) AND taken_at < CAST(:end AS date) + 2"
    )
    cfg = {"sources": {"db": {"url": postgres_url}},
           "metrics": {"Spring": {"query": query, "start": "2025-03-01"}}}  # fmt: skip
    with city_zone(ZONE):
        city.sync(cfg, end="2025-11-30")
    assert sorted(stored(city)) == [("Spring", "2025-03-09", 2.0), ("Spring", "2025-11-02", 1.0)]


def test_the_command_line_reads_offsets_in_the_city_zone(city: Kit, tmp_path: Path) -> None:
    """``--date-format`` with ``%z``, and the zone from the city folder's cityscore.toml."""
    import os
    import subprocess
    import sys

    (tmp_path / "cityscore.toml").write_text(f'timezone = "{ZONE}"\n', encoding="utf-8")
    values = tmp_path / "v.csv"
    values.write_text("metric,date,value\nAutumn,2025-11-03T04:59:00Z,3\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("CITYSCORE_DB", CONFIG_ENV)}
    command = [sys.executable, "-m", "cityscore", "--db", city.url, "values", "import",
               str(values), "--date-format", ISO]  # fmt: skip
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert stored(city) == [("Autumn", "2025-11-02", 3.0)]  # 23:59 EST on the 2nd
