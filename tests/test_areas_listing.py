"""`Kit.areas()`, `Store.last_dates()` and `date_range()`: index look-ups, never a table scan.

`areas()` lists the stored areas, sorted, citywide left out; `last_dates()` each metric's latest date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from cityscore import Kit

METRICS = b"""name,category,direction,kind,aggregation,target
EMS Response,Safety,lower,value,median,6
Library Users,Culture,higher,value,sum,100
"""


def listing_sql(kit: Kit, listing: Callable[[], object] | None = None) -> tuple[str, object]:
    """Run ``listing`` (default ``kit.areas``) and return the SQL (and parameters) it sent."""
    seen: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if "observations" in statement and statement.lstrip().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    sa.event.listen(kit.store.engine, "before_cursor_execute", capture)
    try:
        (listing or kit.areas)()
    finally:
        sa.event.remove(kit.store.engine, "before_cursor_execute", capture)
    assert len(seen) == 1
    return seen[0]


def fill(kit: Kit) -> None:
    kit.import_metrics(METRICS)
    kit.import_values(
        b"metric,date,area,value\n"
        b"EMS Response,2026-01-01,,6\n"
        b"EMS Response,2026-01-01,Roxbury,7\n"
        b"EMS Response,2026-01-02,Roxbury,7\n"
        b"EMS Response,2026-01-01,Back Bay,5\n"
        b"Library Users,2026-01-01,Allston,40\n"
        b"Library Users,2026-01-01,downtown,9\n"
    )
    kit.import_targets(b"metric,effective_from,area,target\nLibrary Users,2026-01-01,Mattapan,20\n")


def last_dates_by_reading_every_row(kit: Kit) -> dict:
    every = kit.observations(areas=True)
    return {m: d.date() for m, d in every.groupby("metric")["date"].max().items()}


def check_listing(kit: Kit) -> None:
    assert kit.areas() == []  # a citywide-only city has no areas
    assert kit.store.last_dates() == {}
    assert kit.store.date_range() == (None, None)
    fill(kit)
    # Sorted, each once, the citywide "" left out; an area with only a target counts too.
    assert kit.areas() == ["Allston", "Back Bay", "Mattapan", "Roxbury", "downtown"]
    # Each metric's latest date in any area: Roxbury's 2 January, and Library Users has no
    # citywide row at all.
    last = kit.store.last_dates()
    assert last == last_dates_by_reading_every_row(kit)
    assert {m: d.isoformat() for m, d in last.items()} == {
        "EMS Response": "2026-01-02",
        "Library Users": "2026-01-01",
    }
    batch = kit.batches()["id"].iloc[-2]  # undo the values: only the target's area remains
    kit.undo(int(batch))
    assert kit.areas() == ["Mattapan"]


def test_areas_on_sqlite(kit: Kit) -> None:
    check_listing(kit)


def test_areas_on_postgres(postgres_url: str) -> None:
    kit = Kit(postgres_url)
    kit.init()
    check_listing(kit)
    kit.store.engine.dispose()


@pytest.mark.parametrize("listing", ["areas", "last_dates", "date_range"])
def test_sqlite_listing_seeks_the_key_and_never_scans_observations(kit: Kit, listing: str) -> None:
    fill(kit)
    statement, parameters = listing_sql(kit, getattr(kit.store, listing))
    with kit.store.engine.connect() as conn:
        plan = [
            row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        ]
    reads = [step for step in plan if "observations" in step]
    assert reads and all(
        step.startswith("SEARCH observations USING COVERING INDEX") for step in reads
    )


def test_postgres_listing_uses_the_index_at_size(postgres_url: str) -> None:
    """300 metrics x 20 areas x 30 days, analysed: the plan seeks the key, no sequential scan."""
    kit = Kit(postgres_url)
    kit.init()
    with kit.store.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO metrics (name, definition, category, unit, direction, kind, aggregation, baseline,"
            " trend, weight, allow_negative) SELECT 'm' || n, '', 'c', '', 'higher', 'value', 'mean',"
            " 'target', false, 1, false FROM generate_series(1, 300) AS n"
        ))  # fmt: skip
        conn.execute(sa.text(
            "INSERT INTO observations (metric_id, area, date, value, source)"
            " SELECT m.id, CASE WHEN a = 0 THEN '' ELSE 'Area ' || a END, d, 1, ''"
            " FROM metrics m, generate_series(0, 20) AS a,"
            " generate_series(DATE '2026-01-01', DATE '2026-01-30', interval '1 day') AS d"
        ))  # fmt: skip
        conn.execute(sa.text("ANALYZE"))
    assert kit.areas() == sorted(f"Area {a}" for a in range(1, 21))
    assert set(kit.store.last_dates().values()) == {dt.date(2026, 1, 30)}
    assert kit.store.date_range() == (dt.date(2026, 1, 1), dt.date(2026, 1, 30))
    for listing in (kit.areas, kit.store.last_dates, kit.store.date_range):
        statement, parameters = listing_sql(kit, listing)
        with kit.store.engine.connect() as conn:
            plan = [r[0] for r in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)]
        plan = "\n".join(plan)
        assert "observations" in plan and "Seq Scan on observations" not in plan, plan
    kit.store.engine.dispose()
