"""Run the report notebook with papermill and publish its page, notebook and summary, each file atomically.

The notebook runs and is converted *in this process* (one Python start-up, not two); a failed run
leaves the previous report, ``latest.html`` and ``index.html`` untouched. The database URL reaches
the kernel through ``$CITYSCORE_DB`` only, never as a notebook parameter, so no credential is
written into any file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from cityscore.apps.report.archive import summary_json, update_archive
from cityscore.apps.report.convert import export_html
from cityscore.apps.report.outputs import SUMMARY_KEY
from cityscore.apps.report.staging import (
    DiskFullError,
    full_error,
    full_message,
    is_full,
    publish_folder,
    run_folder,
)
from cityscore.core.errors import CityScoreError
from cityscore.core.files import write_atomically
from cityscore.core.runtime import SKIP_IMPORTS, skipped_imports
from cityscore.core.secrets import environment, scrub, url_secrets
from cityscore.core.settings import DB_ENV, NOTEBOOKS_DIR

with skipped_imports():  # 1.6-2 s of an unused grammar under nbformat's jsonschema
    import nbformat
    import papermill
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import KernelManager

NOTEBOOK = NOTEBOOKS_DIR / "daily_report.ipynb"
MIN_SECRET = 4  # shortest password the outputs are scrubbed of (see output_secrets)


class ReportError(CityScoreError):
    """Raised when the report notebook fails; the message names the failing cell."""


def output_secrets(url: str) -> list[str]:
    """The database URL's passwords (as written and decoded) that no output may show.

    Passwords shorter than MIN_SECRET are not searched for: replacing every "ab" would garble the
    report, and such a password protects nothing anyway.
    """
    return [secret for secret in url_secrets(url) if len(secret) >= MIN_SECRET]


def publish(
    out: Path, parameters: dict[str, Any], *, db: str | None = None, secrets: Sequence[str] = ()
) -> Path:
    """Run the notebook into a private temp folder, then write the report files into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    with _lock(out), run_folder() as tmp:
        executed = tmp / "daily_report.ipynb"
        try:
            # The kernel's connection file goes in the run's own folder too: gone with it.
            with environment("JUPYTER_RUNTIME_DIR", str(tmp)):
                nb = execute(executed, parameters, db=db)
        except ReportError as exc:
            full = full_error(exc)
            if full is not None or is_full(tmp):
                raise DiskFullError(full_message(tmp.parent, "temp folder", full)) from None
            if not executed.exists():
                raise
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
            failed = out / "failed" / f"daily_report-{stamp}.ipynb"
            kept = _scrub_outputs(nbformat.read(executed, as_version=4), secrets)
            write_atomically(failed, nbformat.writes(kept))
            msg = f"{scrub(str(exc), list(secrets))}\nthe failed notebook is kept at {failed}; the previous report is unchanged"
            raise ReportError(msg) from None
        nb = _scrub_outputs(nb, secrets)
        summary = _summary(nb)
        day = summary["as_of"]
        try:
            page = export_html(nb, title=f"{summary['city_name']} CityScore {day}")
        except Exception as exc:  # a template or exporter problem: still leave every file as it was
            msg = f"the notebook ran but converting it to HTML failed: {type(exc).__name__}: {exc}"
            raise ReportError(scrub(msg, list(secrets))) from exc
        files = {
            f"cityscore-{day}.ipynb": nbformat.writes(nb),
            "summary.json": summary_json(summary),
            f"cityscore-{day}.html": page,
        }
        return publish_folder(out, day, files, update_archive) / f"cityscore-{day}.html"


@contextlib.contextmanager
def _lock(out: Path) -> Iterator[None]:
    """One report run at a time per reports folder (a cron job and a person may overlap)."""
    with open(out / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ``runtime.SKIP_IMPORTS``, marked absent for good in the kernel, which only runs the report: a
# report run stays near papermill's own start-up time.
_SKIP_LINE = f"import sys; [sys.modules.setdefault(m, None) for m in {SKIP_IMPORTS!r}]"


def execute(
    output: Path, parameters: dict[str, Any], *, db: str | None = None
) -> nbformat.NotebookNode:
    """Run the report notebook with papermill; the database reaches the kernel via $CITYSCORE_DB."""
    try:
        with environment(DB_ENV, db):
            return papermill.execute_notebook(
                str(NOTEBOOK),
                str(output),
                parameters=parameters,
                progress_bar=False,
                log_output=False,
                # Runs at kernel start-up, before the notebook; never written into it.
                kernel_manager_class=ThisPythonKernelManager,
                extra_arguments=[
                    f"--IPKernelApp.exec_lines={_SKIP_LINE}",
                    "--IPKernelApp.log_level=ERROR",  # no start-up chatter in cron mail
                ],
            )
    except papermill.PapermillExecutionError as exc:
        line = _failing_line(exc.traceback or []) or (exc.source or "").strip().partition("\n")[0]
        msg = f"cell {exc.cell_index} (In [{exc.exec_count}]) at `{line}` raised {exc.ename}: {exc.evalue}"
        raise ReportError(msg) from None
    except Exception as exc:  # the kernel did not start, the notebook is missing, ...
        msg = f"could not run {NOTEBOOK.name}: {type(exc).__name__}: {exc}"
        raise ReportError(msg) from exc  # (the cause tells a full disk apart)


class ThisPythonKernelManager(KernelManager):
    """A kernel manager that starts the kernel in this very Python, where cityscore is installed.

    The notebook names the kernel "python3", and a "python3" kernel installed for the user (e.g.
    by ``ipython kernel install --user``) may be another Python without cityscore; cron would fail.
    """

    @property
    def kernel_spec(self) -> KernelSpec:
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        return KernelSpec(argv=argv, display_name="Python 3 (cityscore)", language="python")


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _failing_line(traceback: list[str]) -> str:
    """The notebook line the traceback points at (IPython marks it ``----> 4 code``)."""
    for frame in traceback:
        for text in _ANSI.sub("", frame).splitlines():
            if text.lstrip().startswith("---->"):
                return text.split("---->", 1)[1].strip().partition(" ")[2].strip()
    return ""


def _summary(nb: nbformat.NotebookNode) -> dict[str, Any]:
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            found = output.get("metadata", {}).get(SUMMARY_KEY)
            if found:
                return dict(found)
    msg = f"{NOTEBOOK.name} ran but displayed no headline (no output carries '{SUMMARY_KEY}' metadata)"
    raise ReportError(msg)


def _scrub_json(value: Any, secrets: list[str]) -> Any:
    """``value`` (text, or JSON-like lists and dicts of it) with every secret replaced by ``***``."""
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return type(value)({key: _scrub_json(item, secrets) for key, item in value.items()})
    if isinstance(value, list):
        return [_scrub_json(item, secrets) for item in value]
    return value


def _scrub_outputs(nb: nbformat.NotebookNode, secrets: Sequence[str]) -> nbformat.NotebookNode:
    """Belt and braces: the password never reaches the kernel, but if an output echoed it, hide it.

    Only outputs are scrubbed (sources hold no secret), so the page's own JavaScript is never touched.
    """
    if secrets:
        for cell in nb.cells:
            if "outputs" in cell:
                cell.outputs = _scrub_json(cell.outputs, list(secrets))
    return nb
