"""The solutions file (trainers and tests): a lesson with every exercise cell replaced by its
solution, checked against the lesson so the two cannot drift apart."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from cityscore.apps.course import SOLUTIONS_FILE
from cityscore.core.errors import CityScoreError
from cityscore.core.runtime import skipped_imports


def load_solutions(path: str | Path) -> dict[str, dict[str, str]]:
    """The solutions file: ``{notebook file name: {exercise cell id: code}}``."""
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return {str(k): {str(c): str(code) for c, code in v.items()} for k, v in data.items()}


def solved(notebook: str | Path, solutions: Mapping[str, Mapping[str, str]] | None = None) -> Any:
    """A copy of a lesson notebook with every exercise cell replaced by its solution (an nbformat node).

    Raises ``CityScoreError`` naming any exercise cell that has no solution, or any solution whose
    cell is missing, so the solutions file cannot silently drift from the lessons.
    """
    with skipped_imports():  # 1.6-2 s of an unused grammar under nbformat's jsonschema
        import nbformat

    notebook = Path(notebook)
    if solutions is None:
        solutions = load_solutions(notebook.parent / SOLUTIONS_FILE)
    mine = dict(solutions.get(notebook.name, {}))
    nb = nbformat.read(notebook, as_version=4)
    exercise_ids = [
        c["id"] for c in nb.cells if "exercise" in c.get("metadata", {}).get("tags", [])
    ]
    unsolved = [i for i in exercise_ids if i not in mine]
    orphans = [i for i in mine if i not in exercise_ids]
    if unsolved or orphans:
        msg = f"{notebook.name}: exercise cells without a solution {unsolved}; solutions without a cell {orphans}"
        raise CityScoreError(msg)
    for cell in nb.cells:
        if cell["id"] in mine:
            cell["source"] = mine[cell["id"]].rstrip("\n")
            cell["outputs"], cell["execution_count"] = [], None
    return nb
