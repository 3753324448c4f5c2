"""Faults on a real SQLite file: concurrent importers lose nothing; a killed import leaves no trace."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from cityscore import Kit

METRICS = b"name,direction,kind,target\nA,higher,value,10\nB,lower,value,5\n"

# A worker process: waits for the go file, imports one values file, and logs when it was inside
# the write transaction. HOLD seconds are spent inside the transaction (after every row is written,
# before the commit), so a second importer must wait for the first, or a kill lands mid-import.
WORKER = """
import json, sys, time
from pathlib import Path
from cityscore import Kit
from cityscore.store import writes

db, values, log, go, hold = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), float(sys.argv[5])
finish = writes.finish_batch

def slow_finish(conn, *args):
    finish(conn, *args)
    log.with_suffix(".inside").write_text("inside the write transaction")
    time.sleep(hold)

writes.finish_batch = slow_finish
kit = Kit(db)
while not go.exists():
    time.sleep(0.01)
started = time.time()
result = kit.import_values(values)
log.write_text(json.dumps({"started": started, "done": time.time(), "inserted": result.inserted}))
"""


def values_file(path: Path, metric: str, days: int, offset: float = 0.0) -> Path:
    dates = pd.date_range("2024-01-01", periods=days)
    frame = pd.DataFrame(
        {"metric": metric, "date": dates.strftime("%Y-%m-%d"), "value": range(days)}
    )
    frame["value"] = frame["value"] + offset
    frame.to_csv(path, index=False)
    return path


def start_worker(
    tmp: Path, db: str, values: Path, name: str, hold: float
) -> tuple[subprocess.Popen, Path]:
    log = tmp / f"{name}.json"
    args = [sys.executable, "-c", WORKER, db, str(values), str(log), str(tmp / "go"), str(hold)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), log


@pytest.mark.slow
def test_two_processes_importing_at_once_both_succeed(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'city.db'}"
    kit = Kit(db)
    kit.init()
    kit.import_metrics(METRICS)
    a = values_file(tmp_path / "a.csv", "A", 600)
    b = values_file(tmp_path / "b.csv", "B", 700)
    workers = [start_worker(tmp_path, db, a, "a", 1.0), start_worker(tmp_path, db, b, "b", 1.0)]
    time.sleep(1.5)  # let both processes start and wait at the go line
    (tmp_path / "go").touch()
    for process, _ in workers:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    logs = [json.loads(log.read_text()) for _, log in workers]
    # The two imports really ran at the same time: each started before the other had finished.
    assert max(x["started"] for x in logs) < min(x["done"] for x in logs)
    assert sorted(x["inserted"] for x in logs) == [600, 700]
    obs = kit.observations()
    assert obs.groupby("metric").size().to_dict() == {"A": 600, "B": 700}
    assert obs.set_index(["metric", "date"])["value"].sum() == sum(range(600)) + sum(range(700))
    assert sorted(kit.batches()["kind"]) == ["metrics", "values", "values"]


@pytest.mark.slow
def test_a_process_killed_mid_import_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'city.db'}"
    kit = Kit(db)
    kit.init()
    kit.import_metrics(METRICS)
    kit.import_values(values_file(tmp_path / "first.csv", "A", 300))
    before = (
        kit.store.observations(with_source=True),
        kit.batches(),
        kit.store.superseded_values(),
    )
    # The doomed import both changes every stored day and adds new ones.
    doomed = values_file(tmp_path / "doomed.csv", "A", 900, offset=0.5)
    (tmp_path / "go").touch()
    process, log = start_worker(tmp_path, db, doomed, "doomed", 60.0)
    inside = log.with_suffix(".inside")
    deadline = time.time() + 60
    while not inside.exists():
        assert process.poll() is None and time.time() < deadline, process.communicate()
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    after = Kit(db)
    pd.testing.assert_frame_equal(after.store.observations(with_source=True), before[0])
    pd.testing.assert_frame_equal(after.batches(), before[1])
    pd.testing.assert_frame_equal(after.store.superseded_values(), before[2])
    # And the database is not left locked: the same import now goes through whole.
    result = after.import_values(doomed)
    assert (result.inserted, result.updated) == (600, 300)
