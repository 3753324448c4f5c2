"""The ``cityscore`` command run in this process: its exit code, stdout and stderr (no start-up cost)."""

from __future__ import annotations

import contextlib
import io
import subprocess
from pathlib import Path

from cityscore.cli.main import main


def run_cli(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``cityscore ARGS`` run from ``folder``, as ``subprocess.run`` would report it."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(folder), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(["cityscore", *args], code, out.getvalue(), err.getvalue())
