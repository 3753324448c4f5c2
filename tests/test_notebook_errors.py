"""A kit error in a notebook cell shows its one-line message, as the CLI does; other errors keep
their traceback. Run in a real Jupyter kernel (nbclient), as an analyst's JupyterLab runs cells."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest


@pytest.fixture
def run_cells(run_notebook: Callable) -> Callable[..., list[dict]]:
    """``run_cells(*sources, folder)``: each cell's error output (or ``{}``) after running
    ``sources`` in one fresh kernel working in ``folder``."""

    def run(*sources: str, folder: Path) -> list[dict]:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
        run_notebook(nb, folder, timeout=120, allow_errors=True)
        return [next((o for o in c.outputs if o.output_type == "error"), {}) for c in nb.cells]

    return run


def test_a_kit_error_in_a_cell_is_its_message_and_other_errors_keep_their_traceback(
    tmp_path: Path, run_cells: Callable[..., list[dict]]
):
    missing = tmp_path / "no-such-folder" / "city.db"
    bad_file = "metric,date,value\nNo Such Metric,2025-01-01,1\n"
    kit_error, bad_rows, other = run_cells(
        f"from cityscore import Kit\nKit({str(missing)!r}).metrics()",
        f"import io\nkit = Kit('city.db')\nkit.init()\nkit.import_values(io.StringIO({bad_file!r}))",
        "1 / 0",
        folder=tmp_path,
    )
    assert kit_error["ename"] == "StoreError"
    lines = kit_error["traceback"]
    assert lines[0] == f"StoreError: {kit_error['evalue']}"
    assert "no-such-folder" in lines[0] and "does not exist" in lines[0]
    text = "\n".join(lines)
    assert "Traceback" not in text and "File " not in text
    assert lines[1:] == [f"----> 2 Kit({str(missing)!r}).metrics()"]  # the cell's own line
    # A file with a bad row: the rows the message names, as the command line prints them.
    assert bad_rows["ename"] == "ValidationError"
    text = "\n".join(bad_rows["traceback"])
    assert "No Such Metric" in text and "Traceback" not in text and "File " not in text
    assert bad_rows["traceback"][-1] == f"----> 4 kit.import_values(io.StringIO({bad_file!r}))"
    # Any other error: IPython's own traceback, frames and all.
    assert other["ename"] == "ZeroDivisionError"
    assert any("Traceback" in line for line in other["traceback"])
