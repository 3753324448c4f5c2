"""Scheduling the morning run: the cron line and the systemd service and timer for ``cityscore daily``.

Paths are quoted for the tool that reads them: the shell's quoting (``shlex.quote``) in the cron
line, with ``%`` escaped as cron needs; in systemd units ``%`` and ``$`` doubled (its specifiers and
variables), ``ExecStart`` quoted as a command line. A folder with spaces or quotes works as it is.
"""

from __future__ import annotations

import getpass
import shlex
import sys
from pathlib import Path

SCHEDULE_DIR = "schedule"
CRON_FILE = "cityscore.cron"
SERVICE_FILE = "cityscore-daily.service"
TIMER_FILE = "cityscore-daily.timer"
AT = (6, 30)  # the run's time of day, local time


def command() -> str:
    """How a scheduled job calls this very installation of the kit."""
    installed = Path(sys.executable).with_name("cityscore")
    return str(installed) if installed.exists() else "cityscore"


def cron_line(folder: Path) -> str:
    """The crontab line: every day at 06:30, in the city folder, output appended to cityscore.log."""
    hour, minute = AT
    shell = f"cd {shlex.quote(str(folder.resolve()))} && {shlex.quote(command())} daily >> cityscore.log 2>&1"
    return f"{minute} {hour} * * * {shell.replace('%', chr(92) + '%')}"  # cron reads % as a newline


def _unit_text(text: str) -> str:
    """``text`` as a systemd unit's value: its specifiers (%) and variables ($) taken literally."""
    return text.replace("%", "%%").replace("$", "$$")


def service_text(folder: Path, name: str) -> str:
    """The systemd service that runs ``cityscore daily`` once, in the city folder."""
    run = f"{shlex.quote(command())} daily"
    return SERVICE_TEMPLATE.format(
        name=_unit_text(name),
        user=_unit_text(getpass.getuser()),
        folder=_unit_text(str(folder.resolve())),
        run=_unit_text(run),
    )


SERVICE_TEMPLATE = """\
# Copy to /etc/systemd/system/ (with cityscore-daily.timer), then:
#   systemctl daemon-reload && systemctl enable --now cityscore-daily.timer
[Unit]
Description=CityScore morning run for {name}
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
User={user}
WorkingDirectory={folder}
# Passwords for ${{VAR}} in cityscore.toml or sources.yml, CITYSCORE_SMTP_PASSWORD, CITYSCORE_WEBHOOK_URL:
# EnvironmentFile=/etc/cityscore/env
ExecStart={run}
"""


def timer_text(name: str) -> str:
    """The systemd timer that starts the service every day at 06:30 (a missed run runs at boot)."""
    hour, minute = AT
    return TIMER_TEMPLATE.format(name=_unit_text(name), hour=hour, minute=minute)


TIMER_TEMPLATE = """\
[Unit]
Description=CityScore morning run for {name}, every day at {hour:02d}:{minute:02d}

[Timer]
OnCalendar=*-*-* {hour:02d}:{minute:02d}
Persistent=true

[Install]
WantedBy=timers.target
"""


def write_schedule(folder: Path, name: str) -> list[Path]:
    """Write ``schedule/`` into the city folder: the cron line, the service and the timer."""
    target = folder / SCHEDULE_DIR
    target.mkdir(exist_ok=True)
    files = {
        CRON_FILE: f"# Add with `crontab -e` (or: crontab {shlex.quote(str((target / CRON_FILE).resolve()))} replaces yours)\n"
        f"{cron_line(folder)}\n",
        SERVICE_FILE: service_text(folder, name),
        TIMER_FILE: timer_text(name),
    }
    for file, text in files.items():
        (target / file).write_text(text, encoding="utf-8")
    return [target / file for file in files]
