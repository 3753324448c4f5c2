"""nbval runs each notebook against a fresh copy of the fixed demo city, as `make notebooks` does.

`pytest --nbval notebooks/ --nbval-sanitize-with notebooks/sanitize.cfg --nbval-current-env` needs
nothing else: the demo database is built on first use, and ``$CITYSCORE_DB`` points each notebook's
kernel at its own copy, so a notebook that writes data cannot change another notebook's numbers.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from cityscore.core.settings import DB_ENV
from cityscore.dev.notebooks import demo_db
from cityscore.store.copy import copy_sqlite

_started: set[str] = set()
_scratch = tempfile.TemporaryDirectory(prefix="cityscore-nbval-")
_before = os.environ.get(DB_ENV)
# nbval kills each kernel at the end (no clean exit): the temporary folders a kernel makes go here.
os.environ["TMPDIR"] = _scratch.name


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Runs before nbval starts the notebook's kernel (on its first cell), which inherits os.environ.
    notebook = str(item.path)
    if notebook in _started or not notebook.endswith(".ipynb"):
        return
    _started.add(notebook)
    copy = copy_sqlite(demo_db(), Path(_scratch.name) / f"demo-{len(_started)}.db")
    os.environ[DB_ENV] = f"sqlite:///{copy}"


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _before is None:
        os.environ.pop(DB_ENV, None)
    else:
        os.environ[DB_ENV] = _before
    _scratch.cleanup()
