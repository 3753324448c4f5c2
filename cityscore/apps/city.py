"""City folders (``cityscore new DIR``): a city's settings, starter files and README.

A city folder holds ``cityscore.toml`` (read by every command run inside it, see
``core.settings``), the starter ``metrics.csv``, ``targets.csv``, ``values.csv``, ``sources.yml``
and ``areas.csv``, a README with the first import, the first report and how to schedule it, and a ``.gitignore`` for
the database and reports. Top-level imports stay light: every ``cityscore`` call imports this
module to build its parser.
"""

from __future__ import annotations

import json
import shlex
import shutil
import unicodedata
from pathlib import Path

from cityscore.apps.schedule import SCHEDULE_DIR, command, cron_line, write_schedule
from cityscore.core.errors import ConfigError, printable
from cityscore.core.settings import CONFIG_FILE, resource

STARTER_FILES = ("metrics.csv", "targets.csv", "values.csv", "sources.yml", "areas.csv")


def city_name(folder: Path, name: str | None = None) -> str:
    """The city's name: ``name`` if given, else the folder's name in title case."""
    name = name if name is not None else folder.resolve().name.replace("-", " ").replace("_", " ")
    name = name.strip()
    if not _is_utf8(name):
        msg = (
            f"the city name {printable(ascii(name))} is not valid UTF-8 text; give the name in "
            "UTF-8 (your terminal's encoding), e.g. --city Springfield"
        )
        raise ConfigError(msg)
    if not name or any(unicodedata.category(c) == "Cc" for c in name):
        msg = f"the city name must be one line of text without control characters, e.g. --city Springfield; got {printable(repr(name))}"
        raise ConfigError(msg)
    return name if name != name.lower() else name.title()


def _is_utf8(text: str) -> bool:
    """False for text holding lone surrogates: bytes of a command line that were not UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_folder_name(folder: Path) -> None:
    """A city folder's path must be UTF-8 text on one line: the README, the cron line and the
    systemd units name it."""
    text = str(folder.resolve())
    if not _is_utf8(text) or any(unicodedata.category(c) == "Cc" for c in text):
        msg = (
            f"the folder path {printable(ascii(text))} is not one line of UTF-8 text; "
            "choose a folder name of letters, digits, spaces and punctuation"
        )
        raise ConfigError(msg)


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
    check_folder_name(folder)
    folder = empty_folder(folder, "new")
    (folder / CONFIG_FILE).write_text(config_text(name), encoding="utf-8")
    for file in STARTER_FILES:
        shutil.copyfile(resource("templates", file), folder / file)
    (folder / "README.md").write_text(readme_text(name, folder), encoding="utf-8")
    (folder / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    write_schedule(folder, name)
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
# timezone = "America/New_York"        # the city's days: a timestamp with an offset counts on its local day
# population = 675647                  # the city's residents, for rates per resident (default: its areas')

[scores]
meeting = 1.0                          # a score of at least this is "meeting target"
near = 0.9                             # at least this is "near target"; below it, "below target"
# A metric with a low count (3 homicides against a target of 20) can score 6 or more and lift the
# whole CityScore; a cap keeps any one metric's score at most this. The report marks capped scores.
# Boston's published CityScore has no cap: delete this line to score exactly as Boston does.
cap = 1.5
# count_stale = false                  # true: stale metrics still count in the CityScore and categories

# The city's closed days: not reporting days of a metric with schedule = business_days.
[calendar]
# country = "US"                       # public holidays of this country (ISO code)
# subdivision = "MA"                   # and of this state or province
# closures = "closures.csv"            # the city's own closed days: a CSV with a date column (YYYY-MM-DD)

# The morning run (`cityscore daily`): uncomment a line to change it from the default shown.
[daily]
# publish = "/srv/www/cityscore"       # also copy the reports here, atomically (e.g. a web server's folder)
# wait = 600                           # seconds a second run waits for one still going, then gives up
# source_timeout = 300                 # seconds each SQL source may take to connect and per query

# Alerts: each is told once when it starts and once when it clears; the report lists the open ones.
[alerts]
# below_days = 5                       # a metric's day score below 1 on this many reporting days in a row (0 = off)
# below_weeks = 2                      # a metric's week score below 1 this many weeks in a row (0 = off)
# cityscore_drop = 0.1                 # the day CityScore down by more than this since a week before (0 = off)
# stale = true                         # a metric whose data stopped coming
# source_failing = true                # a SQL source the morning run could not read

# Who hears of a category's alerts, besides [mail] to: category = [addresses]
# [alerts.recipients]
# "Public Safety" = ["safety-ops@example.org"]

# Mail: the morning digest and the alert mails (docs/mail.md). Uncomment and fill in to send them.
# The password is never written here: set CITYSCORE_SMTP_PASSWORD where the kit runs.
# [mail]                               # where the digest and alert mails go out
# host = "smtp.example.org"            # the SMTP server
# port = 587                           # default: 587 for starttls, 465 for ssl, 25 for none
# tls = "starttls"                     # "starttls", "ssl", or "none" (a relay on this machine)
# from = "CityScore <cityscore@example.org>"
# to = ["mayor@example.org", "performance@example.org"]
# user = "cityscore"                   # log in as this user (password: CITYSCORE_SMTP_PASSWORD)
# timeout = 30                         # seconds to wait for the server

# The chat webhook: its URL comes from CITYSCORE_WEBHOOK_URL only, never from this file.
# [webhook]                            # the chat room's incoming webhook
# format = "generic"                   # "generic" JSON, or "text" for Slack and Teams

# The explorer (`cityscore serve`) answers 127.0.0.1 and localhost; behind a web server with
# logins (docs/serve.md), the name people use to reach it:
# [serve]
# hosts = ["scores.example.org"]
"""

GITIGNORE = """\
# The database and the reports are made by the kit: back them up, but keep them out of git.
*.db
*.db-*
*.sqlite
*.log
reports/
logs/
.cityscore-daily.lock
.ipynb_checkpoints/
"""


def readme_text(name: str, folder: Path) -> str:
    """The city folder's README: first import, first report, and scheduling it."""
    return README_TEMPLATE.format(
        name=name,
        config=shlex.quote(str(folder.resolve() / CONFIG_FILE)),
        cron=cron_line(folder),
        cityscore=shlex.quote(command()),
        schedule=SCHEDULE_DIR,
    )


README_TEMPLATE = """\
# CityScore for {name}

This folder is {name}'s CityScore: its settings (`cityscore.toml`), its metric catalog and its data.
Run every command **inside this folder**: the kit then uses this folder's settings, database and
`reports/` folder. (Elsewhere, add `--config {config}`.)

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
| `areas.csv` | area (neighbourhood) | name, code, population, geometry (the area's feature in the map, its `properties.name`; empty: the name), parent — only for scores by area: `cityscore areas import areas.csv` |

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

`cityscore daily` is the whole morning in one command: it syncs every source in `sources.yml`,
scores, writes the report (and copies it to `[daily] publish`, e.g. a web server's folder), records
the alerts, and sends the digest, the alert mails and the chat webhook (see `[mail]`, `[alerts]` and
`[daily]` in `cityscore.toml`). A source that fails is named and its metrics marked stale; the
report is still made. Try it first: `cityscore daily --dry-run` says what it would do. If you do not
sync from SQL sources, delete `sources.yml`.

The folder `{schedule}/` holds the lines to schedule it (written for this folder and this kit):

**cron** (`crontab -e`), at 06:30 every day, the line of `{schedule}/cityscore.cron`:

```
{cron}
```

A password goes in the environment, never in a file here: e.g. `. /etc/cityscore/env &&` before the
command, with `CITY311_PASSWORD=...` in that file (readable only by you).

**systemd** (as root): `{schedule}/cityscore-daily.service` runs {cityscore} daily in this folder as
you, `{schedule}/cityscore-daily.timer` starts it at 06:30 (a run missed while the machine was off
runs at boot):

```bash
cp {schedule}/cityscore-daily.service {schedule}/cityscore-daily.timer /etc/systemd/system/
systemctl daemon-reload && systemctl enable --now cityscore-daily.timer
systemctl list-timers cityscore-daily.timer     # when it runs next
journalctl -u cityscore-daily.service           # what it printed
```

Each run appends one line per step to `logs/daily.jsonl`. Its exit status is 0 when all went well,
1 when it finished with failures (named), 2 when no report could be made; a second run waits for
the first (`--wait SECONDS`), then says which run holds the lock.
A failed run leaves yesterday's report in place and says which step failed.
"""
