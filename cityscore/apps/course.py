"""``cityscore training DIR``: a folder from which a trainer runs the five-lesson course.

The folder gets the lessons (from the installed kit or the checkout), a course database holding the
demo city up to a fixed day (so every learner sees the numbers printed in the lessons), and a
``cityscore.toml`` pointing at it: a notebook's kernel starts in the folder, finds that file, and
``training.scratch_kit()`` copies the course database from there. The solutions stay out of the
folder unless ``--solutions`` asks for them (a trainer's copy, not the learners').
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from cityscore.apps.city import config_text, empty_folder
from cityscore.core.settings import CONFIG_FILE, resource
from cityscore.kit import Kit

COURSE_DB = "training.db"
COURSE_END = dt.date(2026, 10, 31)  # the day the committed lessons' outputs were computed for
SOLUTIONS_FILE = "solutions.yml"


def lessons() -> list[Path]:
    """The lesson notebooks the kit ships, in course order."""
    return sorted(resource("notebooks", "training").glob("[0-9][0-9]_*.ipynb"))


def make_course(folder: Path, end: dt.date = COURSE_END, solutions: bool = False) -> Path:
    """Copy the lessons into a new ``folder`` with its course database and settings; returns it."""
    folder = empty_folder(folder, "training")
    for lesson in lessons():
        shutil.copyfile(lesson, folder / lesson.name)
    if solutions:
        shutil.copyfile(resource("notebooks", "training", SOLUTIONS_FILE), folder / SOLUTIONS_FILE)
    kit = Kit(f"sqlite:///{folder.resolve() / COURSE_DB}")
    kit.load_demo(end)
    kit.close()  # fold SQLite's WAL into the file: the folder can be copied as is
    config = config_text("Training City", f"sqlite:///{COURSE_DB}")
    (folder / CONFIG_FILE).write_text(config, encoding="utf-8")
    (folder / "README.md").write_text(README.format(end=end), encoding="utf-8")
    return folder


README = """\
# CityScore training course

Five lessons (`01_…` to `05_…`), each one a notebook. Start JupyterLab **in this folder**:

```bash
jupyter lab
```

Every lesson works on a private copy of `training.db` (the demo city up to {end}), found through
this folder's `cityscore.toml`; nothing a learner does changes it. Open a lesson and choose
*Run → Run All Cells*; each exercise says "Not answered yet" until it is filled in.

The trainer's guide (agenda, offline set-up, solutions) is `docs/trainer-guide.md` in the kit's
repository. `cityscore training DIR --solutions` also copies `solutions.yml`; keep it out of
learners' folders.
"""
