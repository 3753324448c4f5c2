"""The served explorer's benchmark on three page loads: its table holds the kernel cap, the token
is required, the idle cull ends every kernel, and nothing is left behind."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "bench_serve.py"
MAX_PAGES = 2


def figures(printed: str) -> dict[str, str]:
    """The summary table's rows: what -> figure (two or more spaces between them)."""
    table = printed.split("\nwhat ", 1)[1].split("\nseconds in all", 1)[0]
    return dict(re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in table.splitlines()[1:])


@pytest.mark.slow  # Voilà and its notebook kernels
def test_three_page_loads_stay_under_the_cap_and_leave_nothing(tmp_path: Path) -> None:
    args = ["--loads", "3", "--max-pages", str(MAX_PAGES), "--idle-timeout", "8", "--every", "1"]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = figures(done.stdout)
    assert rows["the page without the token"].endswith("0 kernels: refused")
    statuses = dict(part.split(": ") for part in rows["statuses"].split(", "))
    assert set(statuses) <= {"200", "503"} and sum(map(int, statuses.values())) == 3
    bound = re.fullmatch(r"(\d+) \((\d+)\)", rows["live kernels, most (cap --max-pages)"])
    assert bound is not None
    most, cap = map(int, bound.groups())
    assert 1 <= most <= cap == MAX_PAGES
    culled = next(
        figure for what, figure in rows.items() if what.startswith("after the idle cull (")
    )
    assert culled == "0, 0"  # kernels, zombies
    assert rows["kernel connection files left"] == "0"
    assert rows["stopped by SIGTERM: exit status, s"].startswith("0, ")
    assert list(tmp_path.iterdir()) == []  # the city folder and the server's scratch removed
