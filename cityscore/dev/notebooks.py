"""Every notebook is a test: execute them against a fixed demo city and keep them clean.

``python -m cityscore.dev.notebooks`` (``make notebooks``) re-executes every notebook under
``notebooks/`` in place, top to bottom, each against a fresh copy of the demo city ending
``DEMO_END`` (so a notebook that writes data cannot change another's numbers), then removes machine
paths and secrets from the outputs. ``pytest --nbval notebooks/`` re-runs them the same way (see
``notebooks/conftest.py``) and compares every output with the committed one.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cityscore.apps.course import COURSE_END
from cityscore.core.runtime import skipped_imports
from cityscore.core.secrets import environment, redact_url
from cityscore.core.settings import DB_ENV, NOTEBOOKS_DIR, PROJECT_DIR, WORK_DIR
from cityscore.kit import Kit
from cityscore.store.copy import copy_sqlite

DEMO_END = COURSE_END  # the training lessons print their numbers for this day too
DEMO_DB = WORK_DIR / "build" / "notebook-demo.db"  # the checkout, or the current folder
EXECUTE_TIMEOUT = 600  # seconds per cell
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# Text that must never be committed in a notebook: machine paths and credentials. A password given
# as ``***`` (redacted) or ``${VAR}`` (read from the environment: core.secrets.expand_env) is fine.
MACHINE_PATH = re.compile(
    r"(?<![\w.])/(?:root|tmp|work|home/[^/\s\"']+|Users/[^/\s\"']+)(?:/[^\s\"'<>()]*)?"
)
CREDENTIAL = re.compile(
    r"[a-z][a-z0-9+.-]*://[^/\s:@\"']+:(?!\*\*\*@|\$\{\w+\}@)[^@\s\"']+@"  # a URL with user:password@
    r"|(?i:password|passwd|secret|api[_-]?key|token)\s*[=:]\s*[\"']?"  # password = "...",
    r"(?!os\.environ|getpass|\$\{|\*\*\*)[^\s\"',}]{3,}"  # unless read from the environment
)


def demo_db(path: Path = DEMO_DB) -> Path:
    """The fixed demo city database, built once (atomically, so a parallel run never sees half of it)."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        scratch = Path(tmp) / path.name
        kit = Kit(f"sqlite:///{scratch}")
        kit.load_demo(DEMO_END)
        kit.close()  # closing the last connection folds the WAL into the file
        os.replace(scratch, path)
    return path


@contextmanager
def demo_copy(source: Path | None = None) -> Iterator[str]:
    """A private copy of the demo city, as a database URL, deleted afterwards."""
    source = source or demo_db()
    with tempfile.TemporaryDirectory(prefix="cityscore-nb-") as tmp:
        target = copy_sqlite(source, Path(tmp) / "demo.db")
        yield f"sqlite:///{target}"


def notebook_paths(root: Path = NOTEBOOKS_DIR) -> list[Path]:
    """Every notebook under ``root`` (recursively, checkpoints skipped), in the order pytest runs them."""
    return sorted(p for p in root.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def execute(path: Path, db_url: str, timeout: int = EXECUTE_TIMEOUT):
    """Run the notebook top to bottom in its own folder with ``$CITYSCORE_DB = db_url``; return it cleaned.

    Raises nbclient's ``CellExecutionError`` (naming the cell) if a cell fails; nothing is written then.
    """
    with skipped_imports():  # 1.6-2 s of an unused grammar under nbformat's jsonschema
        import nbformat
        from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        store_widget_state=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    with environment(DB_ENV, db_url):
        client.execute()
    return clean(nb, db_url)


def clean(nb, db_url: str | None = None):
    """Remove machine paths, the database URL and credentials from outputs and metadata (in place)."""
    nb.metadata.pop("widgets", None)
    nb.metadata.pop("papermill", None)
    views = 0
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
        for output in cell.get("outputs", []):
            _clean_output(output, db_url)
            view = output.get("data", {}).get(WIDGET_VIEW)
            if isinstance(view, dict) and "model_id" in view:
                # Widget state is not saved, so the random id points nowhere: a fixed one keeps
                # re-executing an unchanged notebook from producing a diff.
                views += 1
                view["model_id"] = f"{views:032x}"
    return nb


def _clean_output(output, db_url: str | None) -> None:
    if "text" in output:
        output["text"] = clean_text(output["text"], db_url)
    for key, value in list(output.get("data", {}).items()):
        if isinstance(value, str):
            output["data"][key] = clean_text(value, db_url)
        elif isinstance(value, list):
            output["data"][key] = [
                clean_text(v, db_url) if isinstance(v, str) else v for v in value
            ]
    if "traceback" in output:
        output["traceback"] = [clean_text(line, db_url) for line in output["traceback"]]


def clean_text(text: str, db_url: str | None = None) -> str:
    """``text`` with the database URL, project folder, other machine paths and passwords replaced."""
    if db_url:
        text = text.replace(db_url, "$CITYSCORE_DB")
    text = text.replace(str(PROJECT_DIR), "<project>")
    text = MACHINE_PATH.sub("<path>", text)
    return CREDENTIAL.sub(
        lambda m: redact_url(m.group(0)) if "://" in m.group(0) else "<secret>", text
    )


def leaks(text: str) -> list[str]:
    """Machine paths and credential-like strings found in ``text`` (empty means clean)."""
    return [m.group(0) for m in MACHINE_PATH.finditer(text)] + [
        m.group(0) for m in CREDENTIAL.finditer(text)
    ]


def execute_all(paths: list[Path], source: Path | None = None) -> int:
    """Execute and save each notebook; print one line per notebook; return the number that failed."""
    with skipped_imports():
        import nbformat
        from nbclient.exceptions import CellExecutionError

    failed = 0
    for path in paths:
        shown = path.relative_to(PROJECT_DIR) if path.is_relative_to(PROJECT_DIR) else path
        with demo_copy(source) as url:
            try:
                nb = execute(path, url)
            except CellExecutionError as exc:
                failed += 1
                print(
                    f"FAILED {shown} (left unchanged):\n{clean_text(str(exc), url)[:2000]}",
                    file=sys.stderr,
                )
                continue
        nbformat.write(nb, path)
        print(f"executed {shown}")
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cityscore.dev.notebooks",
        description="Re-execute every notebook against the fixed demo city and save it cleaned.",
    )
    parser.add_argument(
        "paths", nargs="*", type=Path, help="notebooks to run (default: all under notebooks/)"
    )
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.paths] or notebook_paths()
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"error: no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 1
    demo_db()
    failed = execute_all(paths)
    if failed:
        print(
            f"{failed} notebook(s) failed; fix them and run `make notebooks` again", file=sys.stderr
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
