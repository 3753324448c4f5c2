"""Committed notebooks are executed top to bottom, clean of machine paths and secrets, and nbval
really fails when a printed key number changes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from cityscore.core.settings import DB_ENV, NOTEBOOKS_DIR
from cityscore.dev import notebooks as nbs
from cityscore.store.copy import copy_sqlite

NOTEBOOKS = nbs.notebook_paths()
SANITIZE = NOTEBOOKS_DIR / "sanitize.cfg"


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(NOTEBOOKS_DIR)) for p in paths]


def test_the_explore_notebook_is_among_the_notebooks():
    assert NOTEBOOKS_DIR / "02_explore.ipynb" in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_was_executed_top_to_bottom(path: Path):
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    counts = [c.execution_count for c in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"{path.name}: execution counts {counts}; run `make notebooks` to execute it top to bottom"
    )
    errors = [o for c in cells for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name} was saved with an error: {errors[0].get('ename')}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_holds_no_machine_paths_or_secrets(path: Path):
    found = nbs.leaks(path.read_text(encoding="utf-8"))
    assert not found, f"{path.name} contains {found[:3]}; run `make notebooks` (it cleans them)"


@pytest.mark.parametrize(
    ("dirty", "gone"),
    [
        ("see /root/.cache/x.db", "/root"),
        ("File /work/main/cityscore/kit.py, line 3", "/work"),
        ("wrote /tmp/abc/demo.db", "/tmp"),
        ("postgresql+psycopg://kit:s3cret@db:5432/city", "s3cret"),
        ("password = 'hunter22'", "hunter22"),
        ("export API_KEY=abcdef123", "abcdef123"),
    ],
)
def test_scrub_removes_paths_and_secrets(dirty: str, gone: str):
    assert nbs.leaks(dirty)
    clean = nbs.clean_text(dirty)
    assert gone not in clean
    assert not nbs.leaks(clean)


def test_scrub_keeps_ordinary_text():
    text = (
        "CityScore: day 0.9502 (https://example.org/work/plan, 1/tmp ratio)\n"
        "url = 'pg://kit:${PG_PW}@db'; password = os.environ['PW']"
    )
    assert nbs.clean_text(text) == text
    assert nbs.leaks(text) == []


def _key_number_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from cityscore import Kit\nfrom cityscore.apps.explorer import key_numbers\n"
            'print(key_numbers(Kit(), "2026-10-31", ["EMS Response Time"]))'
        )
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)


def _nbval(path: Path, db_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, DB_ENV: db_url}
    command = [sys.executable, "-m", "pytest", "--nbval", str(path), "--nbval-current-env"]
    command += ["--nbval-sanitize-with", str(SANITIZE), "-p", "no:cacheprovider", "-q"]
    return subprocess.run(
        command, cwd=path.parent, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_nbval_fails_when_a_key_number_changes(tmp_path: Path, demo_db_file: Path):
    path = tmp_path / "key_numbers.ipynb"
    _key_number_notebook(path)
    db = copy_sqlite(demo_db_file, tmp_path / "demo.db")
    url = f"sqlite:///{db}"
    nb = nbs.execute(path, url)
    printed = nb.cells[0].outputs[0]["text"]
    assert re.search(r"CityScore: day \d\.\d{4}", printed)
    nbformat.write(nb, path)
    assert _nbval(path, url).returncode == 0

    # A scoring regression shows as a different printed number: nbval must fail on it.
    changed = re.sub(
        r"(CityScore: day \d\.\d{3})(\d)", lambda m: m[1] + str((int(m[2]) + 1) % 10), printed
    )
    nb.cells[0].outputs[0]["text"] = changed
    nbformat.write(nb, path)
    result = _nbval(path, url)
    assert result.returncode != 0
    assert "mismatch" in result.stdout.lower()


def test_clean_drops_widget_state_timing_and_random_ids():
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    cell = nbformat.v4.new_code_cell("1")
    cell.metadata["execution"] = {"iopub.status.busy": "2026-11-25T13:00:00Z"}
    view = {nbs.WIDGET_VIEW: {"model_id": "9f" * 16, "version_major": 2, "version_minor": 0}}
    cell.outputs = [
        nbformat.v4.new_output("stream", text="db at sqlite:////srv/x.db\n"),
        nbformat.v4.new_output("display_data", data=view),
    ]
    nb.cells = [cell]
    out = nbs.clean(nb, "sqlite:////srv/x.db")
    assert out.cells[0].outputs[1]["data"][nbs.WIDGET_VIEW]["model_id"] == "0" * 31 + "1"
    assert "widgets" not in out.metadata
    assert "execution" not in out.cells[0].metadata
    assert "$CITYSCORE_DB" in json.dumps(out.cells[0].outputs)


def test_make_notebooks_leaves_a_failing_notebook_untouched(
    tmp_path: Path, demo_db_file: Path, capsys
):
    path = tmp_path / "broken.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print('fine')"), nbformat.v4.new_code_cell("1 / 0")]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    before = path.read_bytes()
    assert nbs.execute_all([path], source=demo_db_file) == 1
    assert path.read_bytes() == before
    assert "ZeroDivisionError" in capsys.readouterr().err


def test_make_notebooks_names_a_missing_notebook(tmp_path: Path, capsys):
    assert nbs.main([str(tmp_path / "nope.ipynb")]) == 1
    assert "no such notebook" in capsys.readouterr().err
