"""`cityscore report` under a strict umask, a full temp folder and a killed earlier run (real kernels)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cityscore.apps.report.staging import TEMP_PREFIX
from cityscore.store.copy import copy_sqlite
from tests.conftest import DEMO_END

pytestmark = pytest.mark.slow

CLI = str(Path(sys.executable).with_name("cityscore"))


def report(
    db: Path, out: Path, tmp: Path, *, umask: int = 0o022, fsize: int | None = None
) -> subprocess.CompletedProcess[str]:
    """``cityscore report`` in a fresh process with its own temp folder, umask and size limit."""
    limit = f"resource.setrlimit(resource.RLIMIT_FSIZE, ({fsize}, {fsize}));" if fsize else ""
    code = (
        "import os, resource, signal, sys;"
        f"os.umask({umask:#o}); signal.signal(signal.SIGXFSZ, signal.SIG_IGN); {limit}"
        "from cityscore.cli.main import main; sys.exit(main(sys.argv[1:]))"
    )
    args = ["report", "--out", str(out), "--date", DEMO_END.isoformat()]
    env = {**os.environ, "TMPDIR": str(tmp), "CITYSCORE_DB": f"sqlite:///{db}"}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.fixture
def demo(tmp_path: Path, demo_db_file: Path) -> tuple[Path, Path, Path]:
    db, out, tmp = tmp_path / "demo.db", tmp_path / "reports", tmp_path / "tmp"
    copy_sqlite(demo_db_file, db)
    tmp.mkdir()
    return db, out, tmp


def test_report_under_umask_077_is_private_and_leaves_the_temp_folder_empty(
    demo: tuple[Path, Path, Path],
) -> None:
    db, out, tmp = demo
    # A run killed earlier left its folder and a kernel connection file behind.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp / f"{TEMP_PREFIX}killed"
    left.mkdir()
    (left / "pid").write_text(str(dead.pid))
    (left / "kernel-0.json").write_text("{}")
    done = report(db, out, tmp, umask=0o077)
    assert done.returncode == 0, done.stderr
    written = list(out.rglob("*"))
    names = {p.name for p in written}
    day = DEMO_END.isoformat()
    assert {f"cityscore-{day}.ipynb", f"cityscore-{day}.html", "index.html"} <= names
    for path in written:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, (path, oct(mode))
    assert list(tmp.iterdir()) == []  # this run's folder gone, the dead run's cleared


def test_full_temp_folder_is_named_and_the_archive_is_left_as_it_was(
    demo: tuple[Path, Path, Path],
) -> None:
    db, out, tmp = demo
    assert report(db, out, tmp).returncode == 0
    before = {str(p): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    done = report(db, out, tmp, fsize=64_000)  # no notebook fits: writes fail with EFBIG
    assert done.returncode != 0
    line = done.stderr.strip()
    assert "temp folder" in line and "is full" in line, line
    assert str(tmp) in line
    assert "internal error" not in line and "NotJSONError" not in line
    assert {str(p): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
