"""`Kit.areas()`: the stored areas, sorted, citywide left out; an index skip scan, never a table scan."""

from __future__ import annotations

import sqlalchemy as sa

from cityscore import Kit

METRICS = b"""name,category,direction,kind,aggregation,target
EMS Response,Safety,lower,value,median,6
Library Users,Culture,higher,value,sum,100
"""


def listing_sql(kit: Kit) -> tuple[str, object]:
    """Run ``areas()`` and return the SQL (and parameters) it sent."""
    seen: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if "area_walk" in statement:
            seen.append((statement, parameters))

    sa.event.listen(kit.store.engine, "before_cursor_execute", capture)
    try:
        kit.areas()
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
        b"Library Users,2026-01-01,back bay,9\n"
    )
    kit.import_targets(b"metric,effective_from,area,target\nLibrary Users,2026-01-01,Mattapan,20\n")


def check_listing(kit: Kit) -> None:
    assert kit.areas() == []  # a citywide-only city has no areas
    fill(kit)
    # Sorted, each once, the citywide "" left out; an area with only a target counts too.
    assert kit.areas() == ["Allston", "Back Bay", "Mattapan", "Roxbury", "back bay"]
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


def test_sqlite_listing_seeks_the_key_and_never_scans_observations(kit: Kit) -> None:
    fill(kit)
    statement, parameters = listing_sql(kit)
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
    statement, parameters = listing_sql(kit)
    with kit.store.engine.connect() as conn:
        plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))
    assert "observations" in plan and "Seq Scan on observations" not in plan, plan
    kit.store.engine.dispose()
