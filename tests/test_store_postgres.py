"""The kit's own store on a real PostgreSQL server: same schema, same atomic imports, same scores."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cityscore import Kit, ValidationError

from .conftest import DEMO_END


@pytest.fixture
def pg_kit(pg_kit: Kit) -> Kit:
    pg_kit.init()  # idempotent
    return pg_kit


def test_demo_city_scores_equal_sqlite(pg_kit: Kit, demo_db_file: Path) -> None:
    pg_kit.load_demo(DEMO_END)
    assert all(
        r.batch_id is None for r in pg_kit.load_demo(DEMO_END)
    )  # loading again changes nothing
    pg = pg_kit.scores(start="2026-10-25", end=DEMO_END)
    lite = Kit(f"sqlite:///{demo_db_file}").scores(start="2026-10-25", end=DEMO_END)
    pd.testing.assert_frame_equal(pg, lite)


def test_import_history_undo_on_postgres(pg_kit: Kit) -> None:
    pg_kit.import_metrics(b"name,direction,kind,target\nEMS Response,lower,value,6\n")
    first = pg_kit.import_values(b"metric,date,value\nEMS Response,2026-01-01,5\n")
    with pytest.raises(ValidationError):
        pg_kit.import_values(
            b"metric,date,value\nEMS Response,2026-01-01,9\nEMS Response,2026-01-02,-1\n"
        )
    assert pg_kit.observations()["value"].tolist() == [5.0]  # the bad file wrote nothing
    second = pg_kit.import_values(b"metric,date,value\nEMS Response,2026-01-01,9\n")
    history = pg_kit.history("EMS Response", "2026-01-01")
    assert history["value"].tolist() == [5.0, 9.0]
    assert history["batch_id"].tolist() == [first.batch_id, second.batch_id]
    pg_kit.undo(second.batch_id)
    assert pg_kit.observations()["value"].tolist() == [5.0]
    assert pg_kit.import_values(b"metric,date,value\nEMS Response,2026-01-01,5\n").batch_id is None


def test_concurrent_writers_queue_on_postgres(pg_kit: Kit, postgres_url: str, monkeypatch) -> None:
    """Two importers writing the same days at once: both succeed, one value current, one in history."""
    import threading
    import time

    from cityscore.store import writes

    pg_kit.import_metrics(b"name,direction,kind,target\nEMS Response,lower,value,6\n")
    finish = writes.finish_batch

    def slow_finish(conn, *args):  # hold each write transaction open a moment
        finish(conn, *args)
        time.sleep(0.5)

    monkeypatch.setattr(writes, "finish_batch", slow_finish)
    start, results, errors = threading.Barrier(2), [], []

    def importer(value: int) -> None:
        kit = Kit(postgres_url)
        start.wait()
        try:
            results.append(
                kit.import_values(f"metric,date,value\nEMS Response,2026-01-01,{value}\n".encode())
            )
        except Exception as exc:  # reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=importer, args=(v,)) for v in (5, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted((r.inserted, r.updated) for r in results) == [(0, 1), (1, 0)]
    history = pg_kit.history("EMS Response", "2026-01-01")
    assert sorted(history["value"]) == [5.0, 7.0] and sorted(history["status"]) == [
        "current",
        "superseded",
    ]


def test_arrow_read_equals_rows_on_postgres(pg_kit: Kit) -> None:
    from .test_columnar import assert_same_reads

    pg_kit.load_demo(DEMO_END)
    assert_same_reads(pg_kit)


def test_bulk_import_keeps_every_version_on_postgres(pg_kit: Kit) -> None:
    from .test_bulk_writes import assert_bulk_import_keeps_every_version

    assert_bulk_import_keeps_every_version(pg_kit)
