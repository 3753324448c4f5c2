"""The kit as another city gets it: a wheel, an offline wheelhouse, a fresh venv, an empty folder.

One test walks the trainer guide's offline steps for real: build the wheel, ``pip download`` it and
its dependencies into a wheelhouse, install with ``--no-index --find-links wheelhouse`` into a new
virtual environment, then, from an empty folder outside the repository, run ``cityscore new``,
``demo``, ``report``, ``serve`` and ``training``. It needs the package index once (the pip cache
makes later runs fast); select it with ``-m package``, leave it out with ``-m 'not package'``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .pgserver import free_port

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

    _run([cityscore, "training", "course"], tmp_path, env)
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
        "Scores as of 2026-10-31"
        in (course / lessons[0].replace(".ipynb", ".nbconvert.ipynb")).read_text()
    )

    _serve_answers(cityscore, city, env)


def _serve_answers(cityscore: str, city: Path, env: dict[str, str]) -> None:
    """``cityscore serve`` starts Voilà on the installed explorer notebook and answers a request."""
    port = free_port()
    server = subprocess.Popen(
        [cityscore, "serve", "--port", str(port)],
        cwd=city,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, f"serve exited: {server.stdout.read()}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60) as response:
                    body = response.read().decode("utf-8", "replace")
                break
            except OSError:
                assert time.monotonic() < deadline, "cityscore serve did not answer within 90 s"
                time.sleep(0.5)
        assert response.status == 200 and "CityScore" in body
    finally:
        server.terminate()
        server.wait(timeout=30)


# --- environment.yml in step with pyproject.toml -------------------------------------------------

# PyPI name -> conda-forge name, where they differ (extras such as [binary] are dropped first).
# Add a line here when a new dependency is called differently on conda-forge.
CONDA_NAMES: dict[str, str] = {}
CONDA_ONLY = {"python", "pip"}  # the environment itself, not kit dependencies


def _name(text: str) -> str:
    return re.split(r"[<>=\[ ]", text.strip(), maxsplit=1)[0].lower()


def _requirement(text: str) -> tuple[str, str]:
    """``("sqlalchemy", "2.0")`` from ``SQLAlchemy>=2.0`` or ``psycopg[binary]>=3.2``."""
    match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)(?:\[[^]]*\])?\s*>=\s*([0-9][0-9A-Za-z.]*)\s*", text)
    assert match, f"{text!r}: write every dependency as name>=lower-bound"
    name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
    return CONDA_NAMES.get(name, name), match.group(2)


def test_environment_yml_lists_the_same_packages_and_lower_bounds_as_pyproject():
    import tomllib

    import yaml

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"].values()
    in_pyproject = dict(
        map(_requirement, [*project["dependencies"], *(d for e in extras for d in e)])
    )
    conda = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))["dependencies"]
    pip = next(d["pip"] for d in conda if isinstance(d, dict))
    listed = [d for d in conda if isinstance(d, str)] + [d for d in pip if not d.startswith("-e")]
    assert {_name(d) for d in listed} >= CONDA_ONLY, "environment.yml pins python and has pip"
    in_conda = dict(_requirement(d) for d in listed if _name(d) not in CONDA_ONLY)
    assert in_conda == in_pyproject, (
        f"missing from environment.yml: {sorted(set(in_pyproject.items()) - set(in_conda.items()))}; "
        f"not in pyproject.toml: {sorted(set(in_conda.items()) - set(in_pyproject.items()))}"
    )
