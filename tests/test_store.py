"""Idempotent imports, history of every value, undo of whole batches, dry runs and manual entry."""

from __future__ import annotations

import pandas as pd
import pytest

from cityscore import Kit, StoreError, ValidationError

METRICS = """name,category,direction,kind,aggregation,target
EMS Response,Safety,lower,value,median,6
Potholes On Time,Streets,higher,ratio,,0.9
"""
V1 = b"metric,date,value\nEMS Response,2026-01-01,5\nEMS Response,2026-01-02,7\n"
V2 = b"metric,date,value\nEMS Response,2026-01-02,8\nEMS Response,2026-01-03,4\n"


def values(kit: Kit) -> dict[str, float]:
    obs = kit.observations()
    return dict(zip(obs["date"].dt.strftime("%m-%d"), obs["value"], strict=True))


def test_reimport_changes_nothing(city: Kit) -> None:
    first = city.import_values(V1)
    again = city.import_values(V1)
    assert (first.inserted, first.batch_id is not None) == (2, True)
    assert (again.inserted, again.updated, again.unchanged, again.batch_id) == (0, 0, 2, None)
    assert len(city.batches()) == 2  # metrics + the first values import only


def test_changed_value_keeps_the_old_one_with_source_and_batch(city: Kit) -> None:
    b1 = city.import_values(V1).batch_id
    b2 = city.import_values(V2).batch_id
    assert values(city) == {"01-01": 5.0, "01-02": 8.0, "01-03": 4.0}
    history = city.history("EMS Response", "2026-01-02")
    assert history["value"].tolist() == [7.0, 8.0]
    assert history["status"].tolist() == ["superseded", "current"]
    assert history["batch_id"].tolist() == [b1, b2]
    assert history["superseded_by"].iloc[0] == b2
    assert history["source"].tolist() == ["<upload>", "<upload>"]
    assert history["written_at"].notna().all()


def test_undo_restores_replaced_values_removes_inserted_and_is_recorded(city: Kit) -> None:
    city.import_values(V1)
    b2 = city.import_values(V2).batch_id
    result = city.undo(b2)
    assert (result.updated, result.deleted) == (1, 1)
    assert values(city) == {"01-01": 5.0, "01-02": 7.0}
    batches = city.batches().set_index("id")
    assert batches.loc[b2, "undone_at"] is not None and not pd.isna(batches.loc[b2, "undone_at"])
    assert batches.loc[result.batch_id, "kind"] == "undo"
    # Nothing is lost: the undone value is still in the history of that day.
    history = city.history("EMS Response", "2026-01-02")
    assert history["value"].tolist() == [7.0, 8.0] or history["value"].tolist() == [8.0, 7.0]
    assert sorted(history["status"]) == ["current", "superseded"]
    current = history[history["status"] == "current"].iloc[0]
    assert current["value"] == 7.0
    with pytest.raises(StoreError, match="already undone"):
        city.undo(b2)
    # The same file imported again after the undo lands again.
    assert city.import_values(V2).updated == 1


def test_undo_refuses_a_batch_changed_since(city: Kit) -> None:
    b1 = city.import_values(V1).batch_id
    b2 = city.import_values(V2).batch_id
    with pytest.raises(StoreError, match=rf"changed by batch\(es\) \[{b2}\]"):
        city.undo(b1)
    city.undo(b2)
    city.undo(b1)
    assert city.observations().empty
    with pytest.raises(StoreError, match="no batch 999"):
        city.undo(999)


def test_undo_of_targets_batch(city: Kit) -> None:
    b = city.import_targets(
        b"metric,effective_from,target\nEMS Response,2026-01-01,5\nEMS Response,1900-01-01,7\n"
    )
    assert city.targets()["target"].tolist() == [7.0, 5.0, 0.9]
    city.undo(b.batch_id)
    assert city.targets()["target"].tolist() == [6.0, 0.9]


def test_preview_shows_insert_update_unchanged_and_writes_nothing(city: Kit) -> None:
    city.import_values(V1)
    before = len(city.batches())
    plan = city.preview_values(b"metric,date,value\nEMS Response,2026-01-01,5\nEMS Response,2026-01-02,9\n"
                               b"EMS Response,2026-01-05,1\n")  # fmt: skip
    assert plan.ok
    assert plan.insert["date"].tolist() == [pd.Timestamp("2026-01-05")]
    assert plan.update[["value", "value_old"]].values.tolist() == [[9.0, 7.0]]
    assert plan.unchanged["value"].tolist() == [5.0]
    assert "1 to insert, 1 to update, 1 unchanged" in plan.summary()
    bad = city.preview_values(b"metric,date,value\nEMS Response,2026-01-01,-5\n")
    assert not bad.ok and bad.rejected[["line", "column"]].values.tolist() == [[2, "value"]]
    assert "1 row(s) rejected" in bad.summary()
    assert len(city.batches()) == before
    assert values(city) == {"01-01": 5.0, "01-02": 7.0}


def test_dry_run_counts_exactly_and_writes_nothing(city: Kit) -> None:
    city.import_values(V1)
    result = city.import_values(V2, dry_run=True)
    assert (result.inserted, result.updated, result.unchanged, result.batch_id) == (1, 1, 0, None)
    assert "dry run" in str(result)
    assert values(city) == {"01-01": 5.0, "01-02": 7.0}
    metrics = city.import_metrics(
        b"name,direction,kind,target\nNew Metric,higher,value,3\n", dry_run=True
    )
    assert metrics.inserted == 1 and "New Metric" not in set(city.metrics()["name"])


def test_manual_entry_is_validated_like_a_file(city: Kit) -> None:
    result = city.enter("EMS Response", "2026-01-04", value=6.5)
    assert result.inserted == 1 and city.batches()["kind"].iloc[-1] == "manual"
    city.enter("Potholes On Time", pd.Timestamp("2026-01-04"), numerator=9, denominator=10)
    obs = city.observations().set_index("metric")
    assert obs.loc["Potholes On Time", ["numerator", "denominator"]].tolist() == [9.0, 10.0]
    with pytest.raises(ValidationError) as info:
        city.enter("Potholes On Time", "2026-01-05", numerator=9, denominator=0)
    assert info.value.problems["column"].tolist() == ["denominator"]
    with pytest.raises(ValidationError, match="did you mean 'EMS Response'"):
        city.enter("EMS Respnse", "2026-01-05", value=3)
    assert (
        city.enter("EMS Response", "2026-01-04", value=6.5).batch_id is None
    )  # same value: nothing written


def test_metric_editor_creates_edits_and_targets_take_effect_from_their_date(city: Kit) -> None:
    city.save_metric(
        "Library Users", category="Culture", direction="higher", kind="value", target=100
    )
    city.save_metric("Library Users", definition="Visitors, counted at the door")
    metric = city.metrics().set_index("name").loc["Library Users"]
    assert (metric["definition"], metric["category"]) == (
        "Visitors, counted at the door",
        "Culture",
    )
    assert city.targets().query("metric == 'Library Users'")["target"].tolist() == [100.0]
    for day, visits in [("2026-01-01", 100), ("2026-01-10", 100)]:
        city.enter("Library Users", day, value=visits)
    city.set_target("Library Users", "2026-01-05", 200)
    early = (
        city.scores("2026-01-01")
        .query("metric == 'Library Users' and period == 'day'")["score"]
        .item()
    )
    late = (
        city.scores("2026-01-10")
        .query("metric == 'Library Users' and period == 'day'")["score"]
        .item()
    )
    assert (early, late) == (1.0, 0.5)
    with pytest.raises(ValidationError):
        city.set_target("Library Users", "2026-01-05", 0)


@pytest.mark.slow
def test_cli_dry_run_history_and_undo(tmp_path) -> None:
    """`values import --dry-run`, `history` and `undo` through the real console script."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from cityscore.cli.main import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices
    if not {"history", "undo"} <= set(commands):
        pytest.skip(
            "needs the cityscore/cli.py change for --dry-run, history and undo (issue 3 report)"
        )
    cli = shutil.which("cityscore", path=str(Path(sys.executable).parent)) or "cityscore"
    env = {k: v for k, v in os.environ.items() if k != "CITYSCORE_DB"}
    db = f"sqlite:///{tmp_path / 'city.db'}"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [cli, "--db", db, *args], capture_output=True, text=True, env=env, timeout=120
        )

    (tmp_path / "m.csv").write_bytes(METRICS.encode())
    (tmp_path / "v1.csv").write_bytes(V1)
    (tmp_path / "v2.csv").write_bytes(V2)
    run("init")
    assert "dry run" in run("metrics", "import", str(tmp_path / "m.csv"), "--dry-run").stdout
    assert "2 inserted" in run("metrics", "import", str(tmp_path / "m.csv")).stdout
    run("values", "import", str(tmp_path / "v1.csv"))
    dry = run("values", "import", str(tmp_path / "v2.csv"), "--dry-run")
    assert "1 inserted, 1 updated" in dry.stdout and "dry run" in dry.stdout
    assert "batch 3" in run("values", "import", str(tmp_path / "v2.csv")).stdout
    versions = run("history", "--metric", "EMS Response", "--date", "2026-01-02").stdout
    assert "superseded" in versions and "current" in versions
    assert "undo of batch 3" in run("undo", "3").stdout
    assert "undo" in run("history").stdout
    bad = run("undo", "3")
    assert bad.returncode == 1 and "already undone" in bad.stderr
