"""The kit as another city gets it: a wheel, an offline wheelhouse, a fresh venv, an empty folder.

One test walks the trainer guide's offline steps for real: build the wheel, ``pip download`` it and
its dependencies into a wheelhouse, install with ``--no-index --find-links wheelhouse`` into a new
virtual environment, then, from an empty folder outside the repository, run ``cityscore new``,
``demo``, ``report`` and ``training`` (a lesson runs from the copy) and check what ``serve`` needs.
It needs the package index once (the pip cache makes later runs fast); select it with
``-m package``, leave it out with ``-m 'not package'``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CITY = "Springfield"


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: int = 300) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _clean_env() -> dict[str, str]:
    """This environment without anything that points at the checkout or a database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYSCORE_", "PYTHON"))}
    env.pop("VIRTUAL_ENV", None)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh venv with cityscore[serve] installed offline from a wheelhouse; (its bin, env)."""
    base = tmp_path_factory.mktemp("package")
    env = _clean_env()
    pip = [sys.executable, "-m", "pip"]
    _run([*pip, "wheel", "--no-deps", "--wheel-dir", str(base / "dist"), str(ROOT)], base, env)
    (wheel,) = (base / "dist").glob("cityscore-*.whl")
    wheelhouse = base / "wheelhouse"
    _run([*pip, "download", "--dest", str(wheelhouse), f"{wheel}[serve]"], base, env, 600)
    _run([sys.executable, "-m", "venv", str(base / "venv")], base, env)
    bin_dir = base / "venv" / "bin"
    offline = ["install", "--no-index", "--find-links", str(wheelhouse), "--no-compile"]
    offline.append("cityscore[serve]")
    _run([str(bin_dir / "pip"), *offline], base, env, 600)
    return bin_dir, env


@pytest.mark.package
def test_wheel_installed_offline_runs_a_city_from_an_empty_folder(
    installed: tuple[Path, dict[str, str]], tmp_path: Path
):
    bin_dir, env = installed
    cityscore = str(bin_dir / "cityscore")
    where = _run(
        [str(bin_dir / "python"), "-c", "import cityscore; print(cityscore.__file__)"],
        tmp_path,
        env,
    )
    assert str(ROOT) not in where, "the venv must use the installed wheel, not the checkout"

    _run([cityscore, "new", "springfield", "--city", CITY], tmp_path, env)
    city = tmp_path / "springfield"
    assert {"cityscore.toml", "metrics.csv", "sources.yml", "README.md", ".gitignore"} <= {
        p.name for p in city.iterdir()
    }
    _run([cityscore, "demo", "--end", "2026-10-31"], city, env)
    printed = _run([cityscore, "report"], city, env)
    assert "CityScore 2026-10-31" in printed
    page = (city / "reports" / "latest.html").read_text(encoding="utf-8")
    assert re.search(rf"<title>[^<]*{CITY} CityScore 2026-10-31", page)
    assert (city / "reports" / "2026-10-31" / "cityscore-2026-10-31.html").is_file()
    assert (city / "cityscore.db").is_file() and not (tmp_path / "data").exists()

    # Another end than the lessons' committed outputs show: the new outputs prove which data ran.
    _run([cityscore, "training", "course", "--end", "2026-09-30"], tmp_path, env)
    course = tmp_path / "course"
    lessons = sorted(p.name for p in course.glob("0*.ipynb"))
    assert len(lessons) == 5 and (course / "training.db").is_file()
    assert not (course / "solutions.yml").exists()  # the learners' copy has no solutions
    # The first lesson runs in its folder, finding the course database through cityscore.toml.
    _run(
        [str(bin_dir / "jupyter"), "nbconvert", "--to", "notebook", "--execute", lessons[0]],
        course,
        env,
    )
    assert (
        "Scores as of 2026-09-30"
        in (course / lessons[0].replace(".ipynb", ".nbconvert.ipynb")).read_text()
    )

    # `serve` finds Voilà and the installed explorer notebook (starting it is test_serve.py's job).
    check = (
        "from cityscore.apps import serve; serve.check('127.0.0.1', 8866); print(serve.NOTEBOOK)"
    )
    notebook = _run([str(bin_dir / "python"), "-c", check], city, env).strip()
    assert notebook.startswith(str(bin_dir.parent)) and notebook.endswith("02_explore.ipynb")
