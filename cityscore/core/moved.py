"""Module paths of earlier releases that notebooks and docs showed users, kept importable.

``import cityscore.explore`` gives the module that now lives at ``cityscore.apps.explorer``: the
same module object, so its names, classes and state are one. New code imports the new paths.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
from types import ModuleType
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from importlib.abc import Loader

# old path -> where that module lives now (docs/architecture.md lists them)
MOVED = {
    "cityscore.catalog": "cityscore.core.vocabulary",
    "cityscore.charts": "cityscore.pages.charts",
    "cityscore.config": "cityscore.core.settings",
    "cityscore.explore": "cityscore.apps.explorer",
    "cityscore.notebooks": "cityscore.dev.notebooks",
    "cityscore.reference": "cityscore.engine.reference",
    "cityscore.render": "cityscore.pages.render",
    "cityscore.report": "cityscore.apps.report.notebook",
    "cityscore.score": "cityscore.engine.score",
    "cityscore.summary": "cityscore.engine.summary",
    "cityscore.training": "cityscore.apps.training",
    "cityscore.widgets": "cityscore.apps.widgets",
}


class MovedModules:
    """Finds an old module path and hands back the module at its new one (a meta path finder and
    its loader; ``importlib.abc`` is not subclassed because importing it costs every command 6 ms)."""

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, cast("Loader", self))

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module was imported at its new path."""


def install() -> None:
    """Put the finder on ``sys.meta_path`` once."""
    if not any(isinstance(finder, MovedModules) for finder in sys.meta_path):
        sys.meta_path.append(MovedModules())
