"""Build hook: the wheel carries the repository's notebooks/ and templates/ as package data.

The repository keeps one copy of each notebook and template, in its top-level folders. Building a
wheel copies them into the build's ``cityscore/resources/``, where ``cityscore.core.settings.resource``
finds them once installed. An editable install (``make install``) reads the checkout's folders.
All other settings live in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# folder -> glob patterns of what an installed kit needs (not notebook tests' conftest or sanitize)
RESOURCES = {
    "notebooks": ["*.ipynb", "training/*.ipynb", "training/solutions.yml"],
    "templates": ["**/*"],
}


def resource_files() -> list[Path]:
    """Every file the wheel carries from the top-level folders, relative to the repository."""
    found = {
        path.relative_to(ROOT)
        for folder, patterns in RESOURCES.items()
        for pattern in patterns
        for path in (ROOT / folder).glob(pattern)
        if path.is_file() and ".ipynb_checkpoints" not in path.parts
    }
    return sorted(found)


class BuildPyWithResources(build_py):
    """``build_py`` that also copies notebooks/ and templates/ into ``cityscore/resources/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads them from the checkout
        target = Path(self.build_lib) / "cityscore" / "resources"
        for relative in resource_files():
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / relative, destination)


setup(cmdclass={"build_py": BuildPyWithResources})
