"""The house holds: small one-job modules, a standard-library core, and import paths users were shown.

The layer rule itself is checked by import-linter (`make lint`); these tests guard what it cannot.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cityscore"
MAX_LINES = 600
# "from cityscore... import names" as written in docs, the README and notebook cells
IMPORT_LINE = re.compile(r"^\s*(from cityscore[\w.]* import [\w, ]+|import cityscore[\w.]*)\s*$")


def _modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if "resources" not in path.parts)


def test_every_module_is_under_the_size_limit() -> None:
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in _modules()}
    too_long = {name: lines for name, lines in sizes.items() if lines > MAX_LINES}
    assert not too_long, (
        f"split these modules along their jobs (limit {MAX_LINES} lines): {too_long}"
    )


def test_every_module_says_its_job_in_its_docstring() -> None:
    missing = [
        str(p.relative_to(ROOT))
        for p in _modules()
        if not (ast.get_docstring(ast.parse(p.read_text())) or "").strip()
        or "TODO" in (ast.get_docstring(ast.parse(p.read_text())) or "")
    ]
    assert not missing, f"modules without a docstring saying their job: {missing}"


def test_every_module_is_listed_in_the_architecture_doc() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text()
    unlisted = [
        str(p.relative_to(PACKAGE))
        for p in _modules()
        if p.name not in {"__init__.py", "__main__.py"} and f"`{p.relative_to(PACKAGE)}`" not in doc
    ]
    assert not unlisted, f"say what these modules do in docs/architecture.md: {unlisted}"


def test_the_core_imports_the_standard_library_only() -> None:
    foreign = []
    for path in (PACKAGE / "core").glob("*.py"):
        tree = ast.parse(path.read_text())
        typing_only = {  # `if TYPE_CHECKING:` imports name types; they never run
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "cityscore":
                    foreign.append(f"{path.name}: {name}")
    assert not foreign, f"the core must use the standard library only: {foreign}"


def test_the_command_line_starts_without_pandas_or_sqlalchemy() -> None:
    code = (
        "import sys; from cityscore.cli.main import build_parser; build_parser(); "
        "print(sorted(m for m in ('pandas', 'sqlalchemy', 'altair', 'numpy') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _shown_import_lines() -> list[str]:
    lines: set[str] = set()
    texts = [p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]]
    for notebook in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        cells = json.loads(notebook.read_text())["cells"]
        texts += ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    for text in texts:
        lines |= {m.group(1) for line in text.splitlines() if (m := IMPORT_LINE.match(line))}
    return sorted(lines)


@pytest.mark.parametrize("line", _shown_import_lines())
def test_every_import_shown_to_users_works(line: str) -> None:
    exec(line, {})  # the docs and notebooks show it; a user copies it


def test_old_module_paths_give_the_same_module_objects() -> None:
    from cityscore.core.moved import MOVED

    for old, new in MOVED.items():
        assert importlib.import_module(old) is importlib.import_module(new), old


@pytest.mark.parametrize(
    ("argv", "command", "option"),
    [
        (
            ["--db", "score", "export", "--help"],
            "export",
            "--layout",
        ),  # a file named like a command
        (["--db=x.db", "score", "--help"], "score", "--format"),
        (["--conf", "x.toml", "score", "--help"], "score", "--format"),  # an abbreviated option
    ],
)
def test_the_command_line_finds_its_command_however_the_options_are_written(
    argv: list[str], command: str, option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from cityscore.cli.main import main

    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"usage: cityscore {command} ") and option in shown  # its own options
