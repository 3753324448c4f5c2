"""Blank areas say what they mean: ``blank_area`` in sources.yml, and city totals that cover their areas."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from cityscore import ConfigError, Kit, ValidationError
from cityscore.engine.reference import reference_scores

METRICS = """name,category,direction,kind,aggregation,target
Open Cases,Streets,lower,value,sum,10
On Time,Streets,higher,ratio,,0.9
EMS Minutes,Safety,lower,value,median,6
"""

# (day, neighbourhood or None, open cases): a GROUP BY day, neighborhood result with blank groups.
OPEN = [
    ("2026-01-01", "Back Bay", 3.0),
    ("2026-01-01", "Roxbury", 4.0),
    ("2026-01-01", None, 1.0),  # NULL and '' are two SQL groups: both unlocated
    ("2026-01-01", "", 2.0),
    ("2026-01-02", "Back Bay", 5.0),
    ("2026-01-02", "Roxbury", 6.0),
]


def source(url: str, rows: list[tuple[str, str | None, float]]) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS daily"))
        conn.execute(sa.text("CREATE TABLE daily (day TEXT, hood TEXT, n FLOAT, d FLOAT)"))
        conn.execute(
            sa.text("INSERT INTO daily VALUES (:day, :hood, :n, :d)"),
            [{"day": day, "hood": hood, "n": n, "d": n * 2} for day, hood, n in rows],
        )
    engine.dispose()


QUERY = "SELECT day AS date, hood AS area, n AS value FROM daily WHERE day BETWEEN :start AND :end"
RATIO = (
    "SELECT day AS date, hood AS area, n AS numerator, d AS denominator FROM daily "
    "WHERE day BETWEEN :start AND :end"
)


def config(url: str, metric: str = "Open Cases", query: str = QUERY, **spec: object) -> dict:
    return {
        "sources": {"db": {"url": url}},
        "metrics": {metric: {"query": query, "start": "2026-01-01", **spec}},
    }


def stored(kit: Kit, column: str = "value") -> dict[tuple[str, str], float]:
    obs = kit.observations(areas=True)
    return {(d.strftime("%Y-%m-%d"), a): v for d, a, v in obs[["date", "area", column]].values}


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'source.db'}"
    source(url, OPEN)
    return url


def test_named_and_blank_areas_without_blank_area_are_refused(city: Kit, url: str) -> None:
    with pytest.raises(ConfigError) as info:
        city.sync(config(url), end="2026-01-31")
    message = str(info.value)
    for needle in ("blank_area: unlocated", "blank_area: total", "COALESCE(neighborhood",
                   "line 3", "Nothing was written"):  # fmt: skip
        assert needle in message
    assert city.observations(areas=True).empty


def test_unlocated_rows_count_in_the_city_and_in_no_area(city: Kit, url: str) -> None:
    city.sync(config(url, blank_area="unlocated"), end="2026-01-31")
    assert stored(city) == {
        ("2026-01-01", "Back Bay"): 3.0,
        ("2026-01-01", "Roxbury"): 4.0,
        ("2026-01-01", ""): 3.0 + 4.0 + 1.0 + 2.0,  # the areas plus both unlocated groups
        ("2026-01-02", "Back Bay"): 5.0,
        ("2026-01-02", "Roxbury"): 6.0,
        ("2026-01-02", ""): 11.0,  # no unlocated record that day: the areas' sum
    }
    assert city.areas() == ["Back Bay", "Roxbury"]
    day = city.scores("2026-01-01").query("metric == 'Open Cases' and period == 'day'")
    assert day["value"].tolist() == [10.0]
    assert day["score"].tolist() == [pytest.approx(10 / 10)]


def test_unlocated_records_that_go_away_update_the_city_total(city: Kit, url: str) -> None:
    city.sync(config(url, blank_area="unlocated"), end="2026-01-31")
    source(url, [r for r in OPEN if r[1]])  # the unlocated cases were given an area upstream
    city.sync(config(url, blank_area="unlocated"), end="2026-01-31", lookback_days=5)
    assert stored(city)[("2026-01-01", "")] == 7.0


def test_unlocated_ratio_rows_add_numerators_and_denominators(city: Kit, url: str) -> None:
    city.sync(config(url, "On Time", RATIO, blank_area="unlocated"), end="2026-01-31")
    assert stored(city, "numerator")[("2026-01-01", "")] == 10.0
    assert stored(city, "denominator")[("2026-01-01", "")] == 20.0


def test_unlocated_is_refused_for_a_median(city: Kit, url: str) -> None:
    with pytest.raises(
        ConfigError, match=r"cannot be added into the city's day.*blank_area: total"
    ):
        city.sync(config(url, "EMS Minutes", blank_area="unlocated"), end="2026-01-31")
    assert city.observations(areas=True).empty


def test_total_rows_are_the_city_and_must_cover_their_areas(city: Kit, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rollup.db'}"
    rollup = [("2026-01-01", "Back Bay", 3.0), ("2026-01-01", "Roxbury", 4.0),
              ("2026-01-01", None, 9.0)]  # fmt: skip
    source(url, rollup)
    city.sync(config(url, blank_area="total"), end="2026-01-31")
    assert stored(city)[("2026-01-01", "")] == 9.0
    source(url, [*rollup[:2], ("2026-01-01", None, 5.0), ("2026-01-02", "Roxbury", 1.0)])
    with pytest.raises(ValidationError) as info:
        city.sync(config(url, blank_area="total"), end="2026-01-31", lookback_days=5)
    problems = info.value.problems
    assert problems[["line", "column"]].values.tolist() == [[3, "value"]]
    reason = problems["reason"].iloc[0]
    assert "2026-01-01" in reason and "(5)" in reason and "(7)" in reason
    assert stored(city)[("2026-01-01", "")] == 9.0  # nothing written


def test_a_median_may_have_a_city_row_below_its_areas(city: Kit, tmp_path: Path) -> None:
    """Only sums and ratios add up: a median's citywide row is no total of its areas."""
    url = f"sqlite:///{tmp_path / 'ems.db'}"
    source(url, [("2026-01-01", "Back Bay", 5.0), ("2026-01-01", "Roxbury", 9.0),
                 ("2026-01-01", "", 6.0)])  # fmt: skip
    assert (
        city.sync(config(url, "EMS Minutes", blank_area="total"), end="2026-01-31")[0].inserted == 3
    )


VALUES = """metric,date,area,value,numerator,denominator
Open Cases,2026-01-01,Back Bay,3,,
Open Cases,2026-01-01,Roxbury,4,,
Open Cases,2026-01-01,,6,,
On Time,2026-01-01,Back Bay,,3,4
On Time,2026-01-01,,,5,9
"""


@pytest.mark.parametrize("fast", [True, False])
def test_a_values_file_whose_total_is_below_its_areas_is_refused(city: Kit, fast: bool) -> None:
    text = VALUES if fast else VALUES.replace("Back Bay", '"Back Bay"')
    with pytest.raises(ValidationError) as info:
        city.import_values(text.encode())
    problems = info.value.problems
    assert problems[["line", "column"]].values.tolist() == [[4, "value"]]
    assert "(6)" in problems["reason"].iloc[0] and "(7)" in problems["reason"].iloc[0]
    assert city.observations(areas=True).empty


def test_a_values_file_with_consistent_totals_is_kept(city: Kit) -> None:
    text = VALUES.replace("Open Cases,2026-01-01,,6", "Open Cases,2026-01-01,,8")
    assert city.import_values(text.encode()).inserted == 5
    assert stored(city)[("2026-01-01", "")] == 8.0


def test_a_ratio_total_is_checked_number_by_number(city: Kit) -> None:
    text = VALUES.replace("Open Cases,2026-01-01,,6", "Open Cases,2026-01-01,,8")
    text = text.replace("On Time,2026-01-01,,,5,9", "On Time,2026-01-01,,,2,9")
    with pytest.raises(ValidationError) as info:
        city.import_values(text.encode())
    assert info.value.problems[["line", "column"]].values.tolist() == [[6, "numerator"]]


def test_unlocated_city_rows_score_as_the_reference_does(city: Kit, url: str) -> None:
    city.sync(config(url, blank_area="unlocated"), end="2026-01-31")
    obs = city.observations(areas=True)
    ref = reference_scores(
        obs, city.metrics(), city.targets(), dt.date(2026, 1, 2), dt.date(2026, 1, 2)
    )
    want = {(r["metric"], r["period"]): r["value"] for r in ref if r["metric"] == "Open Cases"}
    got = city.scores("2026-01-02").query("metric == 'Open Cases'")
    keys = zip(got["metric"], got["period"], strict=True)
    assert dict(zip(keys, got["value"], strict=True)) == pytest.approx(want)
    assert want[("Open Cases", "week")] == 10.0 + 11.0


# --- a real-shaped 311 extract, synced by neighbourhood ------------------------------------------

HOODS = ["Allston / Brighton", "South End", "Back Bay", None, ""]  # None and "": no neighbourhood
FIRST, LAST = dt.date(2026, 1, 1), dt.date(2026, 1, 14)
CASE_METRICS = """name,category,direction,kind,aggregation,target,per_residents
Open 311 Cases,Service,lower,value,sum,40,
Cases Closed,Service,higher,value,sum,5,
Closed On Time,Service,higher,ratio,,0.8,
Cases Opened per 1000,Service,lower,value,sum,2,1000
"""
AREAS_CSV = "name,population\nAllston / Brighton,74000\nSouth End,32000\nBack Bay,18000\n"


def cases() -> list[dict[str, object]]:
    """Deterministic cases: 9 opened a day, in turn in each neighbourhood (two without one); most
    close 0-4 days later (on time within 2), every seventh stays open."""
    out = []
    for n in range(9 * ((LAST - FIRST).days + 1)):
        opened = dt.datetime.combine(FIRST, dt.time(8)) + dt.timedelta(
            days=n // 9, minutes=53 * (n % 9)
        )
        closed = None if n % 7 == 0 else opened + dt.timedelta(days=n % 5, hours=3)
        out.append({"id": n, "hood": HOODS[n % len(HOODS)], "opened": opened.isoformat(" "),
                    "closed": closed.isoformat(" ") if closed else None})  # fmt: skip
    return out


CASE_QUERIES = {
    "Open 311 Cases": """
        WITH RECURSIVE days(day) AS (
          SELECT date(:start) UNION ALL SELECT date(day, '+1 day') FROM days WHERE day < date(:end))
        SELECT day AS date, neighborhood AS area, count(*) AS value
        FROM days JOIN cases
          ON date(opened_at) <= day AND (closed_at IS NULL OR date(closed_at) > day)
        GROUP BY day, neighborhood""",
    "Cases Closed": """
        SELECT date(closed_at) AS date, neighborhood AS area, count(*) AS value FROM cases
        WHERE date(closed_at) BETWEEN :start AND :end GROUP BY 1, 2""",
    "Closed On Time": """
        SELECT date(closed_at) AS date, neighborhood AS area,
               sum(julianday(closed_at) - julianday(opened_at) <= 2) AS numerator,
               count(*) AS denominator
        FROM cases WHERE date(closed_at) BETWEEN :start AND :end GROUP BY 1, 2""",
    "Cases Opened per 1000": """
        SELECT date(opened_at) AS date, neighborhood AS area, count(*) AS value FROM cases
        WHERE date(opened_at) BETWEEN :start AND :end GROUP BY 1, 2""",
}


def plain_counts(records: list[dict[str, object]], day: dt.date) -> dict[str, dict[str, float]]:
    """Per metric, per area ("" = the city): the day's numbers counted one record at a time."""
    counts: dict[str, dict[str, float]] = {}

    def add(metric: str, hood: object, amount: float = 1.0) -> None:
        per = counts.setdefault(metric, {})
        per[""] = per.get("", 0.0) + amount
        if hood:
            per[str(hood)] = per.get(str(hood), 0.0) + amount

    for case in records:
        opened = dt.datetime.fromisoformat(str(case["opened"]))
        closed = dt.datetime.fromisoformat(str(case["closed"])) if case["closed"] else None
        if opened.date() <= day and (closed is None or closed.date() > day):
            add("open", case["hood"])
        if opened.date() == day:
            add("opened", case["hood"])
        if closed is not None and closed.date() == day:
            add("closed", case["hood"])
            add("on_time", case["hood"], float(closed - opened <= dt.timedelta(days=2)))
    return counts


PG_QUERIES = {
    "Open 311 Cases": """
        SELECT d::date AS date, neighborhood AS area, count(*) AS value
        FROM generate_series(CAST(:start AS date), CAST(:end AS date), interval '1 day') AS d
        JOIN cases ON opened_at::date <= d::date AND (closed_at IS NULL OR closed_at::date > d::date)
        GROUP BY 1, 2""",
    "Cases Closed": """
        SELECT closed_at::date AS date, neighborhood AS area, count(*) AS value FROM cases
        WHERE closed_at::date BETWEEN :start AND :end GROUP BY 1, 2""",
    "Closed On Time": """
        SELECT closed_at::date AS date, neighborhood AS area,
               count(*) FILTER (WHERE closed_at - opened_at <= interval '2 days') AS numerator,
               count(*) AS denominator
        FROM cases WHERE closed_at::date BETWEEN :start AND :end GROUP BY 1, 2""",
    "Cases Opened per 1000": """
        SELECT opened_at::date AS date, neighborhood AS area, count(*) AS value FROM cases
        WHERE opened_at::date BETWEEN :start AND :end GROUP BY 1, 2""",
}


def seed_cases(url: str, timestamp: str) -> list[dict[str, object]]:
    records = cases()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            f"CREATE TABLE cases (case_id INTEGER PRIMARY KEY, neighborhood TEXT, opened_at {timestamp},"
            f" closed_at {timestamp})"))  # fmt: skip
        conn.execute(
            sa.text(
                f"INSERT INTO cases VALUES (:id, :hood, CAST(:opened AS {timestamp}), "
                f"CAST(:closed AS {timestamp}))"
            ),
            records,
        )
    engine.dispose()
    return records


def test_311_records_synced_by_neighbourhood_score_as_a_plain_count(
    kit: Kit, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'city311.db'}"
    check_311(kit, url, seed_cases(url, "TEXT"), CASE_QUERIES)


def test_311_records_from_postgres_score_as_a_plain_count(kit: Kit, postgres_url: str) -> None:
    check_311(kit, postgres_url, seed_cases(postgres_url, "timestamp"), PG_QUERIES)


def check_311(
    kit: Kit, url: str, records: list[dict[str, object]], queries: dict[str, str]
) -> None:
    """Sync the cases by neighbourhood; the day's and week's scores are the plain counts."""
    kit.import_metrics(CASE_METRICS.encode())
    kit.import_areas(AREAS_CSV.encode())
    metrics = {name: {"query": q, "blank_area": "unlocated", "start": FIRST.isoformat()}
               for name, q in queries.items()}  # fmt: skip
    kit.sync({"sources": {"city311": {"url": url}}, "metrics": metrics}, end=LAST)
    assert kit.areas() == ["Allston / Brighton", "Back Bay", "South End"]
    population = {"Allston / Brighton": 74000, "South End": 32000, "Back Bay": 18000}
    scores = kit.scores(LAST, by="area").query("period == 'day'")
    value = {(a, m): v for a, m, v in scores[["area", "metric", "value"]].values}
    counts = plain_counts(records, LAST)
    # Cases without a neighbourhood count in the city only: its backlog is more than its areas'.
    assert counts["open"][""] > sum(counts["open"][a] for a in population)
    for area in ["", *population]:
        assert value[(area, "Open 311 Cases")] == counts["open"][area] > 0
        assert value[(area, "Cases Closed")] == counts["closed"][area] > 0
        on_time = counts["on_time"][area] / counts["closed"][area]
        assert value[(area, "Closed On Time")] == pytest.approx(on_time)
        people = population.get(area) or sum(population.values())
        rate = counts["opened"][area] / people * 1000
        assert value[(area, "Cases Opened per 1000")] == pytest.approx(rate)
    # The week: seven days' plain counts of closed cases, city and areas alike.
    week = kit.scores(LAST, by="area").query("period == 'week' and metric == 'Cases Closed'")
    for area, got in zip(week["area"], week["value"], strict=True):
        days = [LAST - dt.timedelta(days=k) for k in range(7)]
        assert got == sum(plain_counts(records, d)["closed"].get(area, 0.0) for d in days)


def test_the_sql_panel_says_what_a_blank_area_is(city: Kit, url: str) -> None:
    from cityscore.apps.widgets import SqlServer

    panel = SqlServer(city, default_start=dt.date(2026, 1, 1))
    panel.url.value = url
    panel.metric.value = "Open Cases"
    panel.query.value = QUERY
    panel.area_column.value = "area"
    panel.sync_button.click()
    assert "blank_area: unlocated" in panel.message.value and city.observations().empty
    panel.blank_area.value = "unlocated"
    panel.sync_button.click()
    assert "inserted" in panel.message.value, panel.message.value
    assert stored(city)[("2026-01-01", "")] == 10.0


@pytest.mark.parametrize(
    ("spec", "defaults", "expected"),
    [({}, {"blank_area": "total"}, "total"), ({"blank_area": "unlocated"}, {}, "unlocated")],
)
def test_blank_area_is_read_from_the_metric_or_the_defaults(
    spec: dict, defaults: dict, expected: str
) -> None:
    from cityscore.io.sources import load_config

    metric = {"query": QUERY, **spec}
    cfg = load_config(
        {"sources": {"db": "sqlite://"}, "defaults": defaults, "metrics": {"A": metric}}
    )
    assert cfg.metrics[0].blank_area == expected


def test_an_unknown_blank_area_is_refused() -> None:
    from cityscore.io.sources import load_config

    metric = {"query": QUERY, "blank_area": "nowhere"}
    with pytest.raises(ConfigError, match=r"blank_area must be `unlocated`.*or `total`.*'nowhere'"):
        load_config({"sources": {"db": "sqlite://"}, "metrics": {"A": metric}})
