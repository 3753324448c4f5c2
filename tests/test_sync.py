"""`cityscore sync` against a real PostgreSQL server: push-down, incremental, look-back, read-only, secrets."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from cityscore import CityScoreError, ConfigError, Kit, StoreError, ValidationError

SECRET = "S3cret-Pw-never-shown"
METRICS = b"""name,category,direction,kind,aggregation,target
Potholes On Time,Streets,higher,ratio,,0.9
EMS Response,Safety,lower,value,median,6
"""
# The 311 query: raw cases in, one row per day out. :start and :end are bound dates.
POTHOLES = """
SELECT closed_at::date AS day,
       count(*) FILTER (WHERE closed_at - opened_at <= interval '2 days') AS on_time,
       count(*) AS closed
FROM cases
WHERE case_type = 'pothole' AND closed_at >= :start AND closed_at < CAST(:end AS date) + 1
GROUP BY 1 ORDER BY 1
"""


def seed_cases(url: str, first: str, last: str) -> None:
    """Deterministic 311-style cases: 40 a day, half potholes, closing 0-3 days after opening."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "CREATE TABLE IF NOT EXISTS cases (id serial PRIMARY KEY, case_type text, opened_at timestamp,"
            " closed_at timestamp)"
        ))  # fmt: skip
        conn.execute(
            sa.text(
                "INSERT INTO cases (case_type, opened_at, closed_at) "
                "SELECT CASE WHEN n % 2 = 0 THEN 'pothole' ELSE 'graffiti' END, "
                "       d - (n % 4) * interval '1 day' + n * interval '13 minutes', "
                "       d + n * interval '17 minutes' "
                "FROM generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 day') AS d, "
                "     generate_series(1, 40) AS n"
            ),
            {"first": first, "last": last},
        )
        conn.execute(
            sa.text(
                "CREATE TABLE IF NOT EXISTS ems_daily (day date PRIMARY KEY, median_minutes float)"
            )
        )
    engine.dispose()


def expected_potholes(url: str) -> pd.DataFrame:
    """The same aggregation done the slow way: every raw row pulled into pandas."""
    engine = sa.create_engine(url)
    raw = pd.read_sql("SELECT case_type, opened_at, closed_at FROM cases", engine)
    engine.dispose()
    raw = raw[raw["case_type"] == "pothole"]
    raw = raw.assign(
        date=raw["closed_at"].dt.normalize(),
        on_time=(raw["closed_at"] - raw["opened_at"]) <= pd.Timedelta(days=2),
    )
    daily = raw.groupby("date").agg(numerator=("on_time", "sum"), denominator=("on_time", "size"))
    return daily.astype(float).reset_index()


def with_password(url: str, password_ref: str = "${CS_SYNC_PW}") -> str:
    return url.replace("postgres@", f"postgres:{password_ref}@", 1)


@pytest.fixture
def source(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    seed_cases(postgres_url, "2026-01-01", "2026-01-31")
    monkeypatch.setenv("CS_SYNC_PW", SECRET)
    return with_password(postgres_url)


def config(url: str, **extra: object) -> dict:
    potholes = {"source": "city311", "query": POTHOLES, "start": "2026-01-01", "lookback_days": 3}
    potholes.update(extra)
    potholes["columns"] = {"date": "day", "numerator": "on_time", "denominator": "closed"}
    return {"sources": {"city311": {"url": url}}, "metrics": {"Potholes On Time": potholes}}


def stored(kit: Kit, metric: str = "Potholes On Time") -> pd.DataFrame:
    obs = kit.observations()
    obs = obs[obs["metric"] == metric]
    return obs[["date", "numerator", "denominator"]].reset_index(drop=True)


def test_push_down_sync_equals_pulling_every_row(city: Kit, source: str, postgres_url: str) -> None:
    results = city.sync(config(source), end="2026-01-31")
    assert [r.inserted for r in results] == [31]
    expected = expected_potholes(postgres_url)
    expected = expected[expected["date"] <= "2026-01-31"].reset_index(drop=True)
    pd.testing.assert_frame_equal(stored(city), expected, check_dtype=False)
    assert city.batches()["kind"].iloc[-1] == "sync"


def test_incremental_with_look_back(city: Kit, source: str, postgres_url: str) -> None:
    city.sync(config(source), end="2026-01-31")
    # New days arrive, and two late corrections: one inside the 3-day look-back, one before it.
    seed_cases(postgres_url, "2026-02-01", "2026-02-03")
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        for day in ("2026-01-30", "2026-01-10"):
            conn.execute(sa.text(
                "INSERT INTO cases (case_type, opened_at, closed_at) VALUES ('pothole', :d, CAST(:d AS timestamp) + interval '5 days')"
            ), {"d": (dt.date.fromisoformat(day) - dt.timedelta(days=5)).isoformat()})  # fmt: skip
    engine.dispose()
    [result] = city.sync(config(source), end="2026-02-03")
    # Read again: Jan 29..31 (look-back of 3 stored days) + Feb 1..3; only Jan 30 changed.
    assert (result.inserted, result.updated, result.unchanged) == (3, 1, 2)
    jan30 = city.history("Potholes On Time", "2026-01-30")
    assert jan30["denominator"].tolist() == [20.0, 21.0]
    jan10 = stored(city).set_index("date").loc[pd.Timestamp("2026-01-10"), "denominator"]
    assert jan10 == 20.0  # outside the look-back: not re-read
    assert city.sync(config(source), end="2026-02-03")[0].batch_id is None  # nothing new
    # A longer look-back picks up the older correction too.
    [wide] = city.sync(config(source), end="2026-02-03", lookback_days=30)
    assert wide.updated == 1


def test_table_mode_with_column_mapping(city: Kit, source: str, postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO ems_daily VALUES ('2026-01-01', 5.5), ('2026-01-02', 6.5), ('2025-06-01', 9)"
            )
        )
    engine.dispose()
    cfg = {
        "sources": {"ems": {"url": source}},
        "metrics": {"EMS Response": {"table": "public.ems_daily", "start": "2026-01-01",
                                     "columns": {"date": "day", "value": "median_minutes"}}},
    }  # fmt: skip
    [result] = city.sync(cfg, end="2026-01-31")
    assert result.inserted == 2
    assert city.observations()["value"].tolist() == [5.5, 6.5]


def test_queries_run_read_only(city: Kit, source: str, postgres_url: str) -> None:
    sneaky = (
        "WITH gone AS (DELETE FROM cases WHERE closed_at BETWEEN :start AND :end RETURNING closed_at) "
        "SELECT closed_at::date AS day, count(*) AS on_time, count(*) AS closed FROM gone GROUP BY 1"
    )
    with pytest.raises(StoreError, match="read-only"):
        city.sync(config(source, query=sneaky), end="2026-01-31")
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM cases")).scalar() == 31 * 40
    engine.dispose()
    assert city.observations().empty


def test_bad_rows_from_a_query_write_nothing(city: Kit, source: str) -> None:
    bad = "SELECT day, on_time, closed FROM (VALUES (CAST('2026-01-01' AS date), 5, 0)) AS t(day, on_time, closed) WHERE day BETWEEN :start AND :end"
    cfg = config(source, query=bad)
    cfg["metrics"]["EMS Response"] = {
        "source": "city311",
        "query": "SELECT CAST(:start AS date) AS date, 5 AS value WHERE CAST(:end AS date) IS NOT NULL",
    }
    with pytest.raises(CityScoreError, match="denominator"):
        city.sync(cfg, end="2026-01-31")
    assert city.observations().empty


def test_password_comes_from_the_environment_and_is_never_shown(
    city: Kit, source: str, postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = city.test_connection(source)
    assert message.startswith("connected: postgresql 15") and SECRET not in message
    results = city.sync(config(source), end="2026-01-31")
    texts = [message, *map(str, results), repr(city), city.batches().to_string()]
    # A failing query's error, and a refused connection's, name the problem but not the password.
    with pytest.raises(StoreError) as failing:
        city.sync(
            config(source, query="SELECT * FROM no_such_table WHERE :start < :end"),
            end="2026-01-31",
        )
    closed = with_password(postgres_url.rsplit(":", 1)[0] + ":1/x")
    with pytest.raises(StoreError) as refused:
        city.test_connection(closed)
    texts += [str(failing.value), str(refused.value)]
    assert "no_such_table" in texts[-2]
    assert all(SECRET not in t for t in texts)
    # The widget's path: a password typed into a field, never written into the URL text.
    typed = city.test_connection(postgres_url, password=SECRET)
    assert SECRET not in typed
    # Missing variable: a clear error naming the variable.
    monkeypatch.delenv("CS_SYNC_PW")
    with pytest.raises(ConfigError, match="CS_SYNC_PW is not set"):
        city.sync(config(source), end="2026-02-01")


def test_cli_sync_with_sources_yml(city: Kit, source: str, tmp_path: Path) -> None:
    import yaml

    sources = tmp_path / "sources.yml"
    sources.write_text(yaml.safe_dump(config(source)), encoding="utf-8")
    assert SECRET not in sources.read_text(encoding="utf-8")
    cli = shutil.which("cityscore", path=str(Path(sys.executable).parent)) or "cityscore"
    env = {**os.environ, "CS_SYNC_PW": SECRET, "CITYSCORE_DB": city.store.url}
    args = [cli, "sync", "--config", str(sources), "--end", "2026-01-31"]
    test = subprocess.run(
        [*args, "--test"], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    first = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120, check=True)
    again = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120, check=True)
    assert "connected: postgresql" in test.stdout
    assert "31 inserted" in first.stdout and "nothing written" in again.stdout
    assert all(SECRET not in out for p in (test, first, again) for out in (p.stdout, p.stderr))


def test_passwords_written_in_a_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "sources.yml"
    path.write_text(
        "sources:\n  db: {url: 'postgresql+psycopg://u:hunter2@db/x'}\nmetrics:\n  A: {query: 'SELECT 1 WHERE :start < :end'}\n"
    )
    with pytest.raises(ConfigError) as info:
        Kit(f"sqlite:///{tmp_path / 'k.db'}").sync(path)
    assert "environment variable" in str(info.value) and "hunter2" not in str(info.value)


def test_unknown_metric_and_unconfigured_metric(city: Kit) -> None:
    cfg = {
        "sources": {"db": {"url": "sqlite://"}},
        "metrics": {"Nope": {"query": "SELECT :start, :end"}},
    }
    with pytest.raises(ConfigError, match="not in the catalog"):
        city.sync(cfg)
    with pytest.raises(ConfigError, match="not in the sync configuration"):
        city.sync(cfg, metrics=["EMS Response"])


@pytest.mark.parametrize(
    ("metric", "needle"),
    [
        ({"source": "db", "query": "SELECT day, v FROM t"}, ":start and :end"),
        ({"source": "nope", "query": "SELECT 1 WHERE :start < :end"}, "source"),
        ({"source": "db", "table": "t"}, "columns"),
        ({"source": "db", "query": "x :start :end", "lookback_days": -1}, "lookback_days"),
    ],
)
def test_config_errors_say_what_to_fix(metric: dict, needle: str) -> None:
    from cityscore.io.sources import load_config

    with pytest.raises(ConfigError, match=needle):
        load_config({"sources": {"db": {"url": "sqlite://"}}, "metrics": {"A": metric}})


def test_sqlite_source_table_mode_and_read_only(city: Kit, tmp_path: Path) -> None:
    """Any SQLAlchemy database is a source; on SQLite the query runs with PRAGMA query_only."""
    path = tmp_path / "source.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text('CREATE TABLE "daily ems" (day TEXT, "median minutes" REAL)'))
        conn.execute(
            sa.text("INSERT INTO \"daily ems\" VALUES ('2026-01-01', 5.5), ('2026-01-02', 6.0)")
        )
    engine.dispose()
    table = {
        "table": "daily ems",
        "start": "2026-01-01",
        "columns": {"date": "day", "value": "median minutes"},
    }
    cfg = {"sources": {"local": {"url": f"sqlite:///{path}"}}, "metrics": {"EMS Response": table}}
    assert city.sync(cfg, end="2026-01-31")[0].inserted == 2
    writer = 'DELETE FROM "daily ems" WHERE day BETWEEN :start AND :end RETURNING day AS date, 1 AS value'
    cfg["metrics"]["EMS Response"] = {"query": writer, "start": "2026-01-01"}
    with pytest.raises(StoreError, match=r"readonly|read-only|query_only"):
        city.sync(cfg, end="2026-01-31", lookback_days=5)
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        assert conn.execute(sa.text('SELECT count(*) FROM "daily ems"')).scalar() == 2
    engine.dispose()


def sqlite_source(path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE ems (day TEXT, minutes REAL)"))
        conn.execute(sa.text("INSERT INTO ems VALUES ('2026-01-01', 5.5), ('2026-01-02', 6.0)"))
    engine.dispose()


def test_sqlite_sources_never_create_a_file(city: Kit, tmp_path: Path) -> None:
    """Opened read-only: a mistyped path is an error, and ATTACH / VACUUM INTO cannot make files."""
    source = tmp_path / "source.db"
    sqlite_source(source)
    typo = tmp_path / "sorce.db"
    cfg = {"sources": {"local": {"url": f"sqlite:///{typo}"}}, "metrics": {"EMS Response": {}}}
    cfg["metrics"]["EMS Response"] = {
        "table": "ems",
        "columns": {"date": "day", "value": "minutes"},
    }
    with pytest.raises(ConfigError, match=r"sorce\.db not found"):
        city.sync(cfg, end="2026-01-31")
    with pytest.raises(ConfigError, match=r"sorce\.db"):
        city.test_connection(f"sqlite:///{typo}")
    assert not typo.exists()
    made = tmp_path / "made.db"
    bind = "substr(:start, 1, 0) || substr(:end, 1, 0)"  # the bound days, as every query must use
    for query in (f"ATTACH '{made}' || {bind} AS other", f"VACUUM INTO '{made}' || {bind}"):
        cfg = {
            "sources": {"local": {"url": f"sqlite:///{source}"}},
            "metrics": {"EMS Response": {"query": query, "start": "2026-01-01"}},
        }
        with pytest.raises(StoreError, match="read-only"):
            city.sync(cfg, end="2026-01-31")
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".db") == [
        "city.db",
        "source.db",
    ]
    assert city.observations().empty


def test_a_query_without_a_mapped_column_names_it(city: Kit, tmp_path: Path) -> None:
    source = tmp_path / "source.db"
    sqlite_source(source)
    query = "SELECT day AS d, minutes FROM ems WHERE day BETWEEN :start AND :end"
    spec = {"query": query, "start": "2026-01-01", "columns": {"date": "day", "value": "minutes"}}
    cfg = {"sources": {"local": {"url": f"sqlite:///{source}"}}, "metrics": {"EMS Response": spec}}
    with pytest.raises(ConfigError) as info:
        city.sync(cfg, end="2026-01-31")
    assert "no column 'day' (for date)" in str(info.value) and "'d'" in str(info.value)
    assert "not a valid date" not in str(info.value)
    spec["query"] = "SELECT day, minutes AS m FROM ems WHERE day BETWEEN :start AND :end"
    with pytest.raises(ConfigError, match=r"no column 'minutes' \(for value\)"):
        city.sync(cfg, end="2026-01-31")
    assert city.observations().empty


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("sources: {db: 'sqlite://'}\nmetrics: [A, B]\n", "`metrics:` must be a mapping"),
        ("sources: [db]\nmetrics: {A: {query: x}}\n", "`sources:` must be a mapping"),
        ("sources: {db: 'sqlite://'}\nmetrics: {A: [query]}\n", "metric 'A' must be a mapping"),
        ("sources: {db: {url: [x]}}\nmetrics: {A: {}}\n", "`url:` must be text"),
        ("sources: {db: 'sqlite://'}\nmetrics: {A: {query: {a: 1}}}\n", "`query:` must be text"),
        (
            "sources: {db: 'sqlite://'}\nmetrics: {A: {table: t, columns: [day, v]}}\n",
            "`columns:` must be a mapping",
        ),
        ("sources: {db: 'sqlite://'}\ndefaults: [7]\nmetrics: {A: {}}\n", "`defaults:`"),
    ],
)
def test_sources_yml_of_the_wrong_shape_through_the_cli(
    kit: Kit, tmp_path: Path, text: str, needle: str
) -> None:
    path = tmp_path / "sources.yml"
    path.write_text(text, encoding="utf-8")
    cli = shutil.which("cityscore", path=str(Path(sys.executable).parent)) or "cityscore"
    env = {**os.environ, "CITYSCORE_DB": kit.store.url}
    result = subprocess.run(
        [cli, "sync", "--config", str(path)], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("cityscore: error: ") and needle in result.stderr


# --- areas: a query may return an `area` column ---------------------------------------------------

AREA_ROWS = [
    ("2026-01-01", "", 6.0),  # an empty area is a citywide row, as in values.csv
    ("2026-01-01", "Back Bay", 5.0),
    ("2026-01-01", "Roxbury", 9.0),
    ("2026-01-02", "Back Bay", 4.5),
    ("2026-01-02", "Roxbury", 8.0),
]


def area_source(url: str, rows: list[tuple[str, str | None, float]] = AREA_ROWS) -> None:
    """A daily table with one row per day and neighbourhood (``hood``), on any SQLAlchemy database."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS ems_by_area"))
        conn.execute(sa.text("CREATE TABLE ems_by_area (day DATE, hood TEXT, minutes FLOAT)"))
        conn.execute(
            sa.text("INSERT INTO ems_by_area VALUES (:day, :hood, :minutes)"),
            [{"day": dt.date.fromisoformat(d), "hood": h, "minutes": m} for d, h, m in rows],
        )
    engine.dispose()


AREA_QUERY = (
    "SELECT day AS date, hood AS area, minutes AS value FROM ems_by_area "
    "WHERE day BETWEEN :start AND :end ORDER BY day, hood"
)


def area_config(url: str, **spec: object) -> dict:
    # The empty area of AREA_ROWS is the city's total (a median cannot be added up from areas).
    spec = {"query": AREA_QUERY, "start": "2026-01-01", "blank_area": "total", **spec}
    return {"sources": {"db": {"url": url}}, "metrics": {"EMS Response": spec}}


def stored_areas(kit: Kit) -> list[tuple[str, str, float]]:
    obs = kit.observations(areas=True)
    return [(d.strftime("%Y-%m-%d"), a, v) for d, a, v in obs[["date", "area", "value"]].values]


def check_area_sync(city: Kit, url: str, reader_url: str) -> None:
    """Sync area rows, re-sync (nothing changes), correct one area's day (old value kept)."""
    area_source(url)
    first = city.sync(area_config(reader_url), end="2026-01-31")
    assert (first[0].inserted, first[0].updated) == (5, 0)
    assert sorted(stored_areas(city)) == sorted(AREA_ROWS)
    assert city.observations()["value"].tolist() == [6.0]  # citywide rows stay citywide
    assert city.areas() == ["Back Bay", "Roxbury"]
    again = city.sync(area_config(reader_url), end="2026-01-31", lookback_days=5)
    assert (again[0].inserted, again[0].updated, again[0].unchanged) == (0, 0, 5)
    corrected = [(d, h, 7.5 if (d, h) == ("2026-01-02", "Roxbury") else m) for d, h, m in AREA_ROWS]
    area_source(url, corrected)
    fixed = city.sync(area_config(reader_url), end="2026-01-31", lookback_days=5)
    assert (fixed[0].inserted, fixed[0].updated, fixed[0].unchanged) == (0, 1, 4)
    history = city.history("EMS Response", "2026-01-02", area="Roxbury")
    assert history[["value", "status"]].values.tolist() == [[8.0, "superseded"], [7.5, "current"]]
    assert city.history("EMS Response", "2026-01-02", area="Back Bay")["value"].tolist() == [4.5]
    city.undo(fixed[0].batch_id)  # the overwritten value comes back
    assert sorted(stored_areas(city)) == sorted(AREA_ROWS)


def test_sqlite_source_with_an_area_column(city: Kit, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'source.db'}"
    check_area_sync(city, url, url)


def test_postgres_source_with_an_area_column(city: Kit, source: str, postgres_url: str) -> None:
    check_area_sync(city, postgres_url, source)  # the reader logs in with the password from $VAR


def test_table_mode_maps_the_area_column(city: Kit, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'source.db'}"
    area_source(url)
    spec = {"table": "ems_by_area", "columns": {"date": "day", "value": "minutes", "area": "hood"}}
    cfg = {
        "sources": {"db": {"url": url}},
        "metrics": {"EMS Response": {**spec, "start": "2026-01-01", "blank_area": "total"}},
    }
    assert city.sync(cfg, end="2026-01-31")[0].inserted == 5
    assert sorted(stored_areas(city)) == sorted(AREA_ROWS)


def test_a_mapped_area_column_that_is_missing_is_named(city: Kit, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'source.db'}"
    area_source(url)
    with pytest.raises(ConfigError, match=r"no column 'district' \(for area\)"):
        city.sync(area_config(url, columns={"area": "district"}), end="2026-01-31")
    assert city.observations(areas=True).empty


@pytest.mark.parametrize(
    ("area", "reason"),
    [
        ("A" * 201, "area names are at most 200 characters"),
        ("North\nEnd", "control character"),
        ("=HYPERLINK(1)", "formula"),
    ],
)
def test_bad_area_values_from_postgres_write_nothing(
    city: Kit, postgres_url: str, area: str, reason: str
) -> None:
    """The loader's own area checks, with the result row as the line; the good rows wait too."""
    area_source(postgres_url, [*AREA_ROWS[:2], ("2026-01-02", area, 5.0)])
    with pytest.raises(ValidationError) as info:
        city.sync(area_config(postgres_url), end="2026-01-31")
    problems = info.value.problems
    assert problems[["line", "column"]].values.tolist() == [[3, "area"]]
    assert reason in problems["reason"].iloc[0]
    assert "sync EMS Response" in str(info.value)
    assert city.observations(areas=True).empty and city.areas() == []


def test_same_day_twice_in_one_area_is_a_conflict(city: Kit, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'source.db'}"
    area_source(url, [("2026-01-01", "Back Bay", 5.0), ("2026-01-01", "Back Bay", 6.0),
                      ("2026-01-01", "Roxbury", 6.0)])  # fmt: skip
    with pytest.raises(
        ValidationError, match="different value for the same metric and area and date"
    ):
        city.sync(area_config(url), end="2026-01-31")
    assert city.observations(areas=True).empty


def test_the_area_example_in_templates_sources_yml_runs(city: Kit, tmp_path: Path) -> None:
    """The commented example, uncommented and pointed at a SQLite copy of its table, syncs areas."""
    import yaml

    from cityscore.core.settings import TEMPLATES_DIR

    text = (TEMPLATES_DIR / "sources.yml").read_text(encoding="utf-8")
    block = text.split("# Areas (neighbourhoods)")[1]
    example = "\n".join(
        line.replace("#", "", 1)[1:]
        for line in block.splitlines()
        if line.startswith(("  #   ", "  # Community"))
    )
    spec = yaml.safe_load(example)["Community Center Visits"]
    path = tmp_path / "visits.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE center_visits (visit_date TEXT, neighbourhood TEXT)"))
        conn.execute(sa.text(
            "INSERT INTO center_visits VALUES ('2026-01-01', 'Riverside'), ('2026-01-01', 'Riverside'),"
            " ('2026-01-01', 'Old Quarry')"
        ))  # fmt: skip
    engine.dispose()
    city.save_metric(
        "Community Center Visits", direction="higher", aggregation="sum", baseline="history"
    )
    cfg = {"sources": {"city311": {"url": f"sqlite:///{path}"}},
           "metrics": {"Community Center Visits": {**spec, "start": "2026-01-01"}}}  # fmt: skip
    assert city.sync(cfg, end="2026-01-02")[0].inserted == 3
    assert sorted(stored_areas(city)) == [
        ("2026-01-01", "", 3.0),  # blank_area: unlocated: the city's day is its areas (+ none)
        ("2026-01-01", "Old Quarry", 1.0),
        ("2026-01-01", "Riverside", 2.0),
    ]
