"""The fast reads of observations (sqlite3 cursor into arrays, ADBC on PostgreSQL) give exactly the
frame the SQLAlchemy read gives."""

from __future__ import annotations

import datetime as dt
import functools

import pandas as pd
import pytest
import sqlalchemy as sa

from cityscore import Kit
from cityscore.store import columnar
from cityscore.store.columnar import adbc_uri, read_observations

RANGES = [
    (None, None, False),
    (None, None, True),
    (dt.date(2026, 3, 1), dt.date(2026, 6, 30), False),
    (dt.date(2026, 3, 1), None, True),
    (None, dt.date(2025, 1, 10), False),
    (dt.date(2099, 1, 1), None, False),  # nothing in range
]


def assert_same_reads(kit: Kit) -> None:
    """Fast and SQLAlchemy reads agree on every range, with and without source columns."""
    store = kit.store
    for start, end, with_source in RANGES:
        with store.transaction() as conn:
            fast = read_observations(conn, start, end, with_source)
            rows = read_observations(conn, start, end, with_source, arrow=False)
        pd.testing.assert_frame_equal(fast, rows, check_dtype=len(rows) > 0)
        assert list(fast.columns[:5]) == ["metric", "date", "value", "numerator", "denominator"]
        if len(fast):
            assert str(fast["date"].dtype) == "datetime64[s]"
            assert (
                fast["value"].isna().any() and fast["value"].notna().any()
            )  # ratio and value rows


def test_fast_read_equals_rows_on_the_demo_city(demo_kit: Kit) -> None:
    assert_same_reads(demo_kit)
    full = demo_kit.observations()
    assert full.equals(full.sort_values(["metric", "date"], kind="stable"))  # metric, then date


def test_fast_read_of_a_store_whose_first_rows_are_empty(kit: Kit, monkeypatch) -> None:
    """A column NULL in a whole chunk of rows still comes back as float."""
    monkeypatch.setattr(columnar, "SQLITE_CHUNK_ROWS", 5)
    kit.import_metrics(
        b"name,direction,kind,target\nA ratio,higher,ratio,0.9\nB value,lower,value,5\n"
    )
    values = "metric,date,value,numerator,denominator\n"
    values += "".join(f"A ratio,2026-01-{d:02d},,{d},{d + 1}\n" for d in range(1, 29))
    values += "B value,2026-01-01,3.25,,\n"
    kit.import_values(values.encode())
    obs = kit.observations()
    assert obs["value"].tolist()[-1] == 3.25 and obs["value"].isna().sum() == 28
    assert_same_reads(kit)


def test_fast_read_of_an_empty_store(kit: Kit) -> None:
    obs = kit.observations()
    assert obs.empty and list(obs.columns) == [
        "metric",
        "date",
        "value",
        "numerator",
        "denominator",
    ]


@pytest.mark.parametrize(
    ("url", "fast"),
    [
        ("sqlite:///data/city.db", False),  # read on its own sqlite3 cursor (see columnar)
        ("postgresql+psycopg://u:p@localhost:5432/city", True),
        ("postgresql+psycopg://u:p@localhost/city?sslmode=require", False),  # driver options
        ("mysql+pymysql://u:p@localhost/city", False),
    ],
)
def test_which_databases_are_read_through_adbc(url: str, fast: bool) -> None:
    uri = adbc_uri(sa.engine.make_url(url))
    assert (uri is not None) == fast
    if uri and url.startswith("postgresql"):
        assert uri == "postgresql://u:p@localhost:5432/city"  # libpq's own URI


def _slow_scoring_read(
    kit: Kit, first: dt.date, last: dt.date, with_source: bool = False, **only: str
) -> pd.DataFrame:
    """What ``Store.scoring_observations`` reads, through SQLAlchemy rows (the slow path)."""
    from cityscore.core.vocabulary import BASELINE_DAYS, PERIODS

    window, year = dt.timedelta(days=max(PERIODS.values()) - 1), dt.timedelta(days=BASELINE_DAYS)
    with kit.store.transaction() as conn:
        return read_observations(
            conn,
            first - window,
            last,
            with_source,
            areas=True,
            history_from=first - year,
            arrow=False,
            **only,
        )


def _demo_with_areas(database: str, tmp_path, request) -> Kit:
    """The demo city with its neighbourhoods in a fresh SQLite file or the tests' PostgreSQL."""
    from .conftest import DEMO_END

    if database == "sqlite":
        url = f"sqlite:///{tmp_path / 'city.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    kit = Kit(url)
    kit.load_demo(DEMO_END, areas=True)
    return kit


@pytest.mark.slow
def test_scores_read_only_the_rows_they_need(database: str, tmp_path, request) -> None:
    """A quarter before the first as-of date, a year for history-baseline metrics: same scores."""
    from cityscore.core.vocabulary import BASELINE_DAYS, PERIODS
    from cityscore.engine.score import score_by_area, score_range

    from .conftest import DEMO_END

    kit = _demo_with_areas(database, tmp_path, request)
    everything = kit.observations(areas=True)
    with kit.store.transaction() as conn:  # area rows were stored after the citywide ones
        rows = read_observations(conn, areas=True, arrow=False)
    pd.testing.assert_frame_equal(everything, rows)
    metrics, targets = kit.metrics(), kit.targets(areas=True)
    history = set(metrics.loc[metrics["baseline"] == "history", "name"])
    assert history and len(history) < len(metrics)
    end = pd.Timestamp(DEMO_END)
    window, year = dt.timedelta(days=max(PERIODS.values()) - 1), dt.timedelta(days=BASELINE_DAYS)
    for first in (end, end - pd.Timedelta(days=40)):
        read = kit.store.scoring_observations(first.date(), end.date())
        early = read["date"] < first - window
        assert early.any() and set(read.loc[early, "metric"]) <= history
        assert len(read) < len(everything[everything["date"] >= first - year])
        # the fast read and SQLAlchemy's agree
        pd.testing.assert_frame_equal(read, _slow_scoring_read(kit, first.date(), end.date()))
        for scorer in (score_range, score_by_area):
            expected = scorer(everything, metrics, targets, first, end)
            pd.testing.assert_frame_equal(scorer(read, metrics, targets, first, end), expected)
        expected = score_range(everything, metrics, kit.targets(), first, end)
        pd.testing.assert_frame_equal(kit.scores(start=first, end=end), expected)
    # One metric's rows, or one area's (what the explorer reads): the same rows of the full read.
    area = sorted(set(everything["area"]) - {""})[0]
    read = kit.store.scoring_observations(end.date(), end.date())
    in_area = sorted(set(read.loc[read["area"] == area, "metric"]))[0]
    cases = [{"metric": sorted(history)[0]}, {"metric": in_area}, {"area": area}]
    for only in [*cases, {"metric": in_area, "area": area}]:
        one = kit.store.scoring_observations(end.date(), end.date(), with_source=True, **only)
        keep = pd.Series(True, index=read.index)
        for column, value in only.items():
            keep &= read[column] == value
        assert len(one) and len(one) < len(read)
        assert one.drop(columns=["source", "batch_id"]).equals(read[keep].reset_index(drop=True))
        slow = _slow_scoring_read(kit, end.date(), end.date(), with_source=True, **only)
        pd.testing.assert_frame_equal(one, slow)


def test_citywide_scores_read_only_the_area_rows_they_can_add_up(
    database: str, tmp_path, request
) -> None:
    """Citywide scores read area rows of ratio and sum metrics only, and still derive the day of a
    ratio and a sum metric that lost its citywide rows: the same scores as from every row."""
    from cityscore.engine.score import score_range
    from cityscore.store.schema import metrics_table, observations_table

    from .conftest import DEMO_END

    kit = _demo_with_areas(database, tmp_path, request)
    o, m = observations_table, metrics_table
    derived = ["Pothole Repairs On Time", "Park Permits Issued"]  # a ratio and a sum metric
    with kit.store.transaction(write=True) as conn:
        ids = sa.select(m.c.id).where(m.c.name.in_(derived))
        conn.execute(sa.delete(o).where(o.c.area == "", o.c.metric_id.in_(ids)))
    metrics = kit.metrics().set_index("name")
    summed = (metrics["kind"] == "ratio") | (metrics["aggregation"] == "sum")
    end = pd.Timestamp(DEMO_END)
    first = end - pd.Timedelta(days=10)
    read = kit.store.scoring_observations(first.date(), end.date(), citywide=True)
    area_metrics = set(read.loc[read["area"] != "", "metric"])
    assert set(derived) <= area_metrics <= set(metrics.index[summed])
    everything = kit.observations(areas=True)
    assert set(everything.loc[everything["area"] != "", "metric"]) - area_metrics  # some left out
    expected = score_range(everything, kit.metrics(), kit.targets(), first, end)
    scores = kit.scores(start=first, end=end)
    pd.testing.assert_frame_equal(scores, expected)
    day = scores[(scores["period"] == "day") & scores["metric"].isin(derived)]
    assert day["value"].notna().all()  # derived from the areas


def _every_day_city(url: str, end: dt.date, days: int) -> Kit:
    """Five ratio and sum metrics (one scored against its history) with a citywide row and
    three area rows on every one of ``days`` days up to ``end``."""
    kit = Kit(url)
    kit.init()
    kit.import_metrics(
        b"name,direction,kind,aggregation,target,baseline\n"
        b"A gone,higher,ratio,,0.8,\n"
        b"B first day,higher,ratio,,0.8,\n"
        b"C history first day,higher,value,sum,,history\n"
        b"D some days,higher,value,sum,10,\n"
        b"E every day,higher,ratio,,0.8,\n"
    )
    dates = pd.date_range(end=end, periods=days).strftime("%Y-%m-%d")
    kinds = {"A gone": 1, "B first day": 1, "C history first day": 0, "D some days": 0}
    rows = [
        f"{name},{date},{area},{value},{numerator},{denominator}"
        for name, ratio in [*kinds.items(), ("E every day", 1)]
        for area in ["", "North", "South", "West"]
        for k, date in enumerate(dates)
        for n in [3 if area == "" else 1]  # a citywide row is its three areas' total
        for value, numerator, denominator in [
            ("", (3 + k % 5) * n, 9 * n) if ratio else ((k % 7) * n, "", "")
        ]
    ]
    text = "\n".join(["metric,date,area,value,numerator,denominator", *rows]) + "\n"
    kit.import_values(text.encode(), date_format="%Y-%m-%d")
    return kit


def test_citywide_reads_take_exactly_the_area_rows_of_days_without_a_citywide_row(
    database: str, tmp_path, request
) -> None:
    """Whether a ratio or sum metric's citywide rows fill every day of the read, miss only the
    read's first day (a quarter before the first date; a year for a history baseline), miss
    several, or are missing altogether: the read holds its area rows of exactly the days without
    a citywide row, and scores equal those from every row."""
    from cityscore.core.vocabulary import BASELINE_DAYS, PERIODS
    from cityscore.engine.score import score_range
    from cityscore.store.schema import metrics_table, observations_table

    end = dt.date(2026, 10, 31)
    url = f"sqlite:///{tmp_path / 'city.db'}" if database == "sqlite" else None
    kit = _every_day_city(url or request.getfixturevalue("postgres_url"), end, 400)
    first = end - dt.timedelta(days=10)
    window = dt.timedelta(days=max(PERIODS.values()) - 1)
    year = dt.timedelta(days=BASELINE_DAYS)
    some_days = [end - dt.timedelta(days=k) for k in range(0, 60, 3)]
    dropped = {
        "A gone": None,
        "B first day": [first - window],
        "C history first day": [first - year],
        "D some days": some_days,
    }
    o, m = observations_table, metrics_table
    with kit.store.transaction(write=True) as conn:
        for name, days in dropped.items():
            metric = sa.select(m.c.id).where(m.c.name == name).scalar_subquery()
            city = sa.and_(o.c.area == "", o.c.metric_id == metric)
            conn.execute(sa.delete(o).where(city, o.c.date.in_(days) if days else sa.true()))
    read = kit.store.scoring_observations(first, end, citywide=True)
    by_metric = read[read["area"] != ""].groupby("metric")["date"]
    got = {name: sorted(set(d.dt.date)) for name, d in by_metric}
    assert got.pop("A gone") == [first - window + dt.timedelta(days=k) for k in range(100)]
    assert got.pop("B first day") == [first - window]
    assert got.pop("C history first day") == [first - year]
    assert got.pop("D some days") == sorted(some_days)
    assert got == {}  # "E every day": none of its area rows
    assert len(read[read["area"] != ""]) == 3 * (100 + 1 + 1 + len(some_days))
    everything = kit.observations(areas=True)
    expected = score_range(everything, kit.metrics(), kit.targets(), first, end)
    pd.testing.assert_frame_equal(kit.scores(start=first, end=end), expected)


def _sqlite_read_plans(kit: Kit, read) -> list[list[str]]:
    """The query plans of the observation reads ``read()`` sends to SQLite."""
    statements: list[str] = []

    def trace(conn) -> None:
        conn.connection.driver_connection.set_trace_callback(statements.append)

    sa.event.listen(kit.store.engine, "begin", trace)
    try:
        assert len(read())
    finally:
        sa.event.remove(kit.store.engine, "begin", trace)
    reads = [s for s in statements if "julianday(observations.date)" in s]
    with kit.store.engine.connect() as conn:
        return [
            [r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}")]
            for statement in reads
        ]


def test_a_sqlite_scoring_read_seeks_each_series_or_scans_for_most_days(tmp_path, request) -> None:
    """A one-date read walks the series and reads each one's dates as one range of the
    ``(metric_id, area, date)`` key: it never steps through the date index a row at a time
    (at 2,000 metrics that read took 1.4 s; picked for the history metrics' year, 9 s). A read
    of most of the stored days is one pass over the table, in its own order."""
    from .conftest import DEMO_END as end

    kit = _demo_with_areas("sqlite", tmp_path, request)
    area, metric = kit.areas()[0], sorted(kit.metrics()["name"])[0]
    for only in ({}, {"area": area}, {"metric": metric}, {"citywide": True}):
        read = functools.partial(kit.store.scoring_observations, end, end, **only)
        (plan,) = _sqlite_read_plans(kit, read)
        assert any(step.startswith("SEARCH observations USING INDEX sqlite_") for step in plan)
        assert not any("ix_observations_date" in step for step in plan), (only, plan)
        assert not any(step.startswith("SCAN observations") for step in plan), (only, plan)
    first, last = kit.store.date_range()
    early = first + (last - first) / 3
    (plan,) = _sqlite_read_plans(kit, lambda: kit.store.scoring_observations(early, end))
    # One pass over the table; the history metrics' ids are listed once, not looked up per row.
    assert plan == ["SCAN observations", "LIST SUBQUERY 1", "SCAN metrics"], plan
    pd.testing.assert_frame_equal(
        kit.store.scoring_observations(early, end), _slow_scoring_read(kit, early, end)
    )
