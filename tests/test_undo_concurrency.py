"""Undo of a big batch on a real SQLite file, with another process importing at the same time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cityscore import Kit

METRICS = 40  # x 1,500 days = 60,000 rows in the batch that is undone

# Undo BATCH; once inside the write transaction (after its first statement), leave a marker.
UNDO = """
import json, sys, time
from pathlib import Path
from cityscore import Kit
from cityscore.store import audit

db, batch, marker, log = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
undo_rows = audit.undo_rows

def marked(*args):
    marker.touch()
    return undo_rows(*args)

audit.undo_rows = marked
result = Kit(db).undo(batch)
log.write_text(json.dumps({"done": time.time(), "updated": result.updated, "deleted": result.deleted}))
"""

# Wait for the marker, then import a small file: it must queue behind the undo, then succeed.
IMPORT = """
import json, sys, time
from pathlib import Path
from cityscore import Kit

db, values, marker, log = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
while not marker.exists():
    time.sleep(0.005)
started = time.time()
result = Kit(db).import_values(values)
log.write_text(json.dumps({"started": started, "done": time.time(), "inserted": result.inserted}))
"""


def big_batch(path: Path) -> Path:
    dates = pd.date_range("2020-01-01", periods=1500).strftime("%Y-%m-%d")
    names = [f"M{i:02d}" for i in range(METRICS)]
    values = np.arange(METRICS * len(dates)) % 97 / 4
    frame = pd.DataFrame(
        {"metric": np.repeat(names, len(dates)), "date": np.tile(dates, METRICS), "value": values}
    )
    frame.to_csv(path, index=False)
    return path


def worker(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_import_during_a_big_undo_waits_and_succeeds(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'city.db'}"
    kit = Kit(db)
    kit.init()
    catalog = "name,direction,kind,target\n" + "".join(
        f"M{i:02d},higher,value,10\n" for i in range(METRICS)
    )
    kit.import_metrics((catalog + "Other,lower,value,5\n").encode())
    kit.import_values(b"metric,date,value\nM00,2020-01-01,99\n")  # one value the batch replaces
    batch = kit.import_values(big_batch(tmp_path / "big.csv"))
    assert (batch.inserted, batch.updated) == (METRICS * 1500 - 1, 1)

    other = tmp_path / "other.csv"
    other.write_text("metric,date,value\nOther,2024-05-01,3\nOther,2024-05-02,4\n")
    marker, undo_log, import_log = (tmp_path / name for name in ("inside", "undo", "import"))
    undo = worker(UNDO, db, str(batch.batch_id), str(marker), str(undo_log))
    importer = worker(IMPORT, db, str(other), str(marker), str(import_log))
    try:
        for process in (undo, importer):
            _, err = process.communicate(timeout=300)
            assert process.returncode == 0, err
    finally:  # a failed undo leaves the importer waiting for its marker: never leave it running
        for process in (undo, importer):
            if process.poll() is None:
                process.kill()
                process.communicate()

    undone = json.loads(undo_log.read_text())
    imported = json.loads(import_log.read_text())
    assert (undone["updated"], undone["deleted"]) == (1, METRICS * 1500 - 1)
    assert imported["inserted"] == 2
    # The import was asked for while the undo held the write lock, and finished after it.
    assert imported["started"] < undone["done"] < imported["done"]
    obs = kit.observations()
    assert obs.groupby("metric")["value"].apply(list).to_dict() == {
        "M00": [99.0],
        "Other": [3.0, 4.0],
    }
    kinds = kit.batches().set_index("id")["kind"]
    assert kinds[batch.batch_id] == "values" and kinds.iloc[-2:].tolist() == ["undo", "values"]
