"""City folders (``cityscore new DIR``): a city's settings, starter files and README.

A city folder holds ``cityscore.toml`` (read by every command run inside it, see
``core.settings``), the starter ``metrics.csv``, ``targets.csv``, ``values.csv`` and ``sources.yml``,
a README with the first import, the first report and how to schedule it, and a ``.gitignore`` for
the database and reports. Top-level imports stay light: every ``cityscore`` call imports this
module to build its parser.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from cityscore.core.errors import ConfigError
from cityscore.core.settings import CONFIG_FILE, resource

STARTER_FILES = ("metrics.csv", "targets.csv", "values.csv", "sources.yml")


def city_name(folder: Path, name: str | None = None) -> str:
    """The city's name: ``name`` if given, else the folder's name in title case."""
    name = name if name is not None else folder.resolve().name.replace("-", " ").replace("_", " ")
    name = name.strip()
    if not name or any(ord(c) < 32 for c in name):
        msg = f"the city name must be one line of text, e.g. --city Springfield; got {name!r}"
        raise ConfigError(msg)
    return name if name != name.lower() else name.title()


def empty_folder(folder: Path, command: str) -> Path:
    """``folder``, created if missing; an error if it exists and holds anything (nothing overwritten)."""
    if folder.exists() and not folder.is_dir():
        msg = f"{folder} is a file; give `cityscore {command}` a new or empty folder"
        raise ConfigError(msg)
    if folder.is_dir() and any(folder.iterdir()):
        count = sum(1 for _ in folder.iterdir())
        msg = (
            f"{folder} is not empty ({count} entries); `cityscore {command}` never overwrites "
            "files: give it a new or empty folder"
        )
        raise ConfigError(msg)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def new_city(folder: Path, name: str | None = None) -> Path:
    """Make a city folder (see the module docstring); returns it. Refuses a non-empty folder."""
    name = city_name(folder, name)
    folder = empty_folder(folder, "new")
    (folder / CONFIG_FILE).write_text(config_text(name), encoding="utf-8")
    for file in STARTER_FILES:
        shutil.copyfile(resource("templates", file), folder / file)
    (folder / "README.md").write_text(readme_text(name, folder), encoding="utf-8")
    (folder / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    return folder


def config_text(name: str, database: str = "sqlite:///cityscore.db") -> str:
    """A commented cityscore.toml for ``name`` (TOML strings are written as JSON strings)."""
    return CONFIG_TEMPLATE.format(city=json.dumps(name, ensure_ascii=False), database=database)


CONFIG_TEMPLATE = """\
# CityScore settings for this city folder. Every `cityscore` command run in this folder (or a folder
# below it, or anywhere with `cityscore --config path/to/cityscore.toml`) reads them.
# Order: a flag on the command line wins, then the environment (CITYSCORE_DB, CITYSCORE_CITY,
# CITYSCORE_REPORTS, CITYSCORE_AREAS_MAP), then this file, then the kit's defaults.

city = {city}                          # the name at the top of every report

# The database: any SQLAlchemy URL. A relative SQLite path is inside this folder. For a server,
# keep the password out of this file: write ${{VAR}} and set VAR in the environment, e.g.
# database = "postgresql+psycopg://cityscore:${{CITYSCORE_PASSWORD}}@db.example.org/cityscore"
database = "{database}"

reports = "reports"                    # where `cityscore report` writes (relative to this folder)
sources = "sources.yml"                # where `cityscore sync` finds its SQL sources
# areas_map = "areas.geojson"          # the neighbourhoods' shapes for the report's map (properties.name = area)

[scores]
meeting = 1.0                          # a score of at least this is "meeting target"
near = 0.9                             # at least this is "near target"; below it, "below target"
# cap = 1.5                            # uncomment to cap every metric's score (default: no cap)
"""

GITIGNORE = """\
# The database and the reports are made by the kit: back them up, but keep them out of git.
*.db
*.db-*
*.sqlite
*.log
reports/
.ipynb_checkpoints/
"""


def _command() -> str:
    """How a scheduled job should call this very installation of the kit."""
    installed = Path(sys.executable).with_name("cityscore")
    return str(installed) if installed.exists() else "cityscore"


def readme_text(name: str, folder: Path) -> str:
    """The city folder's README: first import, first report, and scheduling it."""
    return README_TEMPLATE.format(name=name, folder=folder.resolve(), cityscore=_command())


README_TEMPLATE = """\
# CityScore for {name}

This folder is {name}'s CityScore: its settings (`cityscore.toml`), its metric catalog and its data.
Run every command **inside this folder**: the kit then uses this folder's settings, database and
`reports/` folder. (Elsewhere, add `--config {folder}/cityscore.toml`.)

## Try it with the demo city (2 minutes)

```bash
cityscore demo        # 20 made-up metrics, 3 years of daily data, into this folder's database
cityscore score       # the scoreboard on the terminal
cityscore report      # reports/latest.html: open it in a browser (it works offline)
```

The demo city shares the database with your own metrics; to start clean afterwards, delete
`cityscore.db` and `reports/` (`cityscore init` makes an empty database again).

## Your first import

The starter files are examples to edit in a spreadsheet (save as CSV, UTF-8):

| file | one row per | columns |
|---|---|---|
| `metrics.csv` | metric | name, definition, category, unit, direction (`higher`/`lower` is better), kind (`value`/`ratio`), aggregation (`mean`, `median`, `sum`; empty for ratios), target (empty with baseline `history`), baseline, trend, weight |
| `targets.csv` | target change | metric, effective_from (YYYY-MM-DD), target |
| `values.csv` | metric and day | metric, date, value — or metric, date, numerator, denominator for a ratio |
| `sources.yml` | SQL source | where `cityscore sync` reads daily values (see the comments inside) |

```bash
cityscore init                                  # create the database's tables (safe to repeat)
cityscore metrics import metrics.csv
cityscore targets import targets.csv
cityscore values import values.csv --dry-run   # check first: shows what would change
cityscore values import values.csv
```

Every import checks every row; if one is wrong nothing is written and each bad row is listed with
what to fix. Importing the same file twice changes nothing.

## Your first report

```bash
cityscore report      # reports/<date>/cityscore-<date>.html, reports/latest.html, reports/index.html
cityscore serve       # the explorer in your browser at http://127.0.0.1:8866/ (Ctrl+C stops it)
```

## Every morning, by itself

**cron** (`crontab -e`), at 06:30 every day:

```
30 6 * * * cd {folder} && {cityscore} report >> cityscore.log 2>&1
```

If you sync from SQL sources, sync first: `cd {folder} && {{ {cityscore} sync && {cityscore} report; }} >> cityscore.log 2>&1`.
A database password goes in the environment, never in a file here: e.g. `. /etc/cityscore/env &&`
before the command, with `CITY311_PASSWORD=...` in that file (readable only by you).

**systemd** (as root; replace `cityscore-user` with the account that owns this folder):

```ini
# /etc/systemd/system/cityscore-report.service
[Unit]
Description=CityScore daily report for {name}

[Service]
Type=oneshot
User=cityscore-user
WorkingDirectory={folder}
# EnvironmentFile=/etc/cityscore/env     # passwords for ${{VAR}} in database or sources.yml
ExecStart={cityscore} report
```

```ini
# /etc/systemd/system/cityscore-report.timer
[Timer]
OnCalendar=*-*-* 06:30
Persistent=true

[Install]
WantedBy=timers.target
```

```bash
systemctl daemon-reload && systemctl enable --now cityscore-report.timer
systemctl list-timers cityscore-report.timer     # when it runs next
journalctl -u cityscore-report.service           # what it printed
```

A failed run leaves yesterday's report in place and says which step failed.
"""
