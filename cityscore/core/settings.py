"""Paths and settings: where the kit's files are, and a city's ``cityscore.toml`` under flags and the environment.

The database URL comes from ``--db``, the ``CITYSCORE_DB`` environment variable or a city folder's
``cityscore.toml``, never from a notebook or a report parameter, so credentials are never written
into executed notebooks.

Every setting is looked up in one order: a command-line flag, then the environment, then the city
folder's ``cityscore.toml`` (``--config FILE``, else ``$CITYSCORE_CONFIG``, else the first
``cityscore.toml`` in the current folder or a folder above it), then the kit's defaults.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypedDict

from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.daily_settings import (
    DAILY_KEYS,
    AlertSettings,
    DailySettings,
    alert_settings,
    daily_settings,
    is_recipients_key,
)
from cityscore.core.errors import ConfigError
from cityscore.core.mail_settings import (
    MAIL_KEYS,
    REFUSED_KEYS,
    MailSettings,
    mail_settings,
    webhook_format,
)
from cityscore.core.secrets import expand_env, has_literal_password

PACKAGE_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR = PACKAGE_DIR.parent
# An installed wheel carries the notebooks and templates here (setup.py's build hook copies them);
# a checkout (or an editable install) reads them from the repository's top-level folders instead.
RESOURCES_DIR = PACKAGE_DIR / "resources"


def is_checkout() -> bool:
    """True when the kit runs from a clone of its repository (rather than an installed wheel)."""
    return not RESOURCES_DIR.is_dir() and (PROJECT_DIR / "pyproject.toml").is_file()


def resource(*parts: str) -> Path:
    """A file or folder the kit ships (``resource("notebooks", "daily_report.ipynb")``).

    The installed package data first, else the checkout's top-level folder of the same name.
    """
    installed = RESOURCES_DIR.joinpath(*parts)
    return installed if installed.exists() else PROJECT_DIR.joinpath(*parts)


def current_folder() -> Path:
    """The current folder (the filesystem root if it was deleted under us)."""
    try:
        return Path.cwd()
    except OSError:
        return Path("/")


# Outside a checkout (an installed kit, no city folder) data and reports go under the current folder.
WORK_DIR = PROJECT_DIR if is_checkout() else current_folder()
DATA_DIR = WORK_DIR / "data"
REPORTS_DIR = WORK_DIR / "reports"
TEMPLATES_DIR = resource("templates")
NOTEBOOKS_DIR = resource("notebooks")

DEFAULT_DB_URL = f"sqlite:///{DATA_DIR / 'cityscore.db'}"
DB_ENV = "CITYSCORE_DB"


def database_url(explicit: str | None = None) -> str:
    """The database URL: ``explicit``, else ``$CITYSCORE_DB``, else the city folder's, else data/'s.

    ``${VAR}`` in the URL is replaced by the environment variable VAR, so passwords stay out of files.
    """
    url = file_url(explicit) if explicit else load_settings().database
    return expand_env(url)


# A URL's scheme (``postgresql:``, ``sqlite:``); one letter before ":" is a Windows drive instead.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


def file_url(text: str) -> str:
    """``text`` as a database URL: a URL stays as written; a plain file path (``city.db``,
    ``/srv/city/cityscore.db``) is that SQLite file, as an analyst would expect of ``--db``."""
    if "://" in text or _SCHEME.match(text):
        return text
    return f"sqlite:///{text}"


# --- a city folder's settings: cityscore.toml ----------------------------------------------------

CONFIG_FILE = "cityscore.toml"
CONFIG_ENV = "CITYSCORE_CONFIG"
# Settings the environment can give (after a flag, before the file): setting -> variable.
SETTING_ENV = {
    "database": DB_ENV,
    "city": "CITYSCORE_CITY",
    "reports": "CITYSCORE_REPORTS",
    "areas_map": "CITYSCORE_AREAS_MAP",
}
# Every key a cityscore.toml may hold, with the type it needs and an example value for messages.
CONFIG_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "city": (str, '"Springfield"'),
    "database": (str, '"sqlite:///cityscore.db"'),
    "reports": (str, '"reports"'),
    "sources": (str, '"sources.yml"'),
    "areas_map": (str, '"areas.geojson"'),
    "scores.meeting": ((int, float), "1.0"),
    "scores.near": ((int, float), "0.9"),
    "scores.cap": ((int, float), "1.5"),
    "scores.count_stale": (bool, "true"),  # stale metrics count in the CityScore (default false)
    "calendar.country": (str, '"US"'),  # the city's public holidays (business_days metrics)
    "calendar.subdivision": (str, '"MA"'),
    "calendar.closures": (str, '"closures.csv"'),  # the city's own closed days: a date column
    "timezone": (str, '"America/New_York"'),  # the city's days: timestamps with an offset
    "population": ((int, float), "675647"),  # the city's residents, for rates per resident
    "serve.hosts": (list, '["scores.example.org"]'),
    **MAIL_KEYS,  # [mail] and [webhook]
    **DAILY_KEYS,  # [alerts] and [daily]; [alerts.recipients] category = [addresses]
}


@dataclass(frozen=True)
class Settings:
    """What a city folder sets, each value already resolved (flag aside) by the lookup order."""

    file: Path | None = None  # the cityscore.toml read, if any
    city: str | None = None  # None: the report notebook's own default name
    database: str = DEFAULT_DB_URL  # as written (``${VAR}`` not yet expanded)
    reports: Path = REPORTS_DIR
    sources: Path = Path("sources.yml")
    bands: Bands = DEFAULT_BANDS
    cap: float | None = None
    areas_map: Path | None = None  # the city's areas.geojson (None: the report decides)
    count_stale: bool = False  # [scores] count_stale: stale metrics count in the CityScore
    calendar_country: str | None = None  # [calendar] country: ISO code of the holidays (None: none)
    calendar_subdivision: str | None = None  # [calendar] subdivision (state, province)
    closures: Path | None = None  # [calendar] closures: the city's closed days (CSV)
    timezone: str | None = None  # IANA zone of the city's days (None: the day written)
    population: float | None = None  # the city's residents (None: the sum of its areas')
    serve_hosts: tuple[str, ...] = ()  # [serve] hosts: names the explorer answers besides loopback
    mail: MailSettings | None = None  # [mail]; None: no digest is mailed
    webhook_format: str = "generic"  # [webhook] format: "generic" JSON or "text" (Slack, Teams)
    alerts: AlertSettings = field(default_factory=AlertSettings)  # [alerts]: rules, recipients
    daily: DailySettings = field(default_factory=DailySettings)  # [daily]: the morning run
    problems: tuple[str, ...] = ()  # errors of the sections LENIENT_ENV names, left out


def find_config(start: Path | None = None) -> Path | None:
    """The config file in use: ``$CITYSCORE_CONFIG``, else ``cityscore.toml`` here or in a parent."""
    named = os.environ.get(CONFIG_ENV)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            msg = f"{CONFIG_ENV} names {path}, which is not a file; fix the path or unset {CONFIG_ENV}"
            raise ConfigError(msg)
        return path.resolve()
    here = (start or current_folder()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder / CONFIG_FILE
    return None


def load_settings(path: Path | None = None) -> Settings:
    """The settings of ``path`` (default: ``find_config()``), with the environment applied on top.

    Relative paths in the file are relative to its folder; in the environment, to the current folder.
    Under ``$CITYSCORE_LENIENT_SECTIONS`` (``cityscore daily`` sets ``mail,webhook``) an error in
    those sections leaves them out and is kept in ``problems``: the run still makes its report.
    """
    path = path or find_config()
    try:
        return _load_settings(path)
    except ConfigError as exc:
        lenient = tuple(f"{s}." for s in os.environ.get(LENIENT_ENV, "").split(",") if s)
        if not lenient or path is None:
            raise
        return replace(_load_settings(path, skip=lenient), problems=(str(exc),))


LENIENT_ENV = "CITYSCORE_LENIENT_SECTIONS"


def _load_settings(path: Path | None, skip: tuple[str, ...] = ()) -> Settings:
    settings = Settings(file=path)
    if path:
        values = read_config(path, skip)
        if has_literal_password(str(values.get("database", ""))):
            msg = (
                f"{path}: key 'database' has a password written in it; files end up in git, so put it "
                "in an environment variable and write ${VAR} instead, e.g. ://user:${CITYSCORE_PASSWORD}@host"
            )
            raise ConfigError(msg)
        settings = _apply(settings, values, path.parent, str(path))
    env = {key: os.environ[var] for key, var in SETTING_ENV.items() if os.environ.get(var)}
    return _apply(settings, env, current_folder(), "the environment")


class _Changes(TypedDict, total=False):
    """The Settings fields a file or the environment sets (keywords of ``replace``)."""

    city: str
    database: str
    reports: Path
    sources: Path
    areas_map: Path
    bands: Bands
    cap: float
    count_stale: bool
    calendar_country: str
    calendar_subdivision: str
    closures: Path
    timezone: str
    population: float
    serve_hosts: tuple[str, ...]
    mail: MailSettings
    webhook_format: str
    alerts: AlertSettings
    daily: DailySettings


def _apply(settings: Settings, values: Mapping[str, object], folder: Path, origin: str) -> Settings:
    """``settings`` with ``values`` (checked keys, flattened) laid over them."""
    changes: _Changes = {}
    if "city" in values:
        changes["city"] = str(values["city"])
    if "database" in values:
        changes["database"] = _folder_url(file_url(str(values["database"])), folder)
    for key in ("reports", "sources", "areas_map"):
        if key in values:
            changes[key] = folder / str(values[key])
    if "scores.cap" in values:
        cap = _number(values["scores.cap"])
        if not cap > 0:
            msg = f"{origin}: [scores] cap must be above 0, e.g. cap = 1.5; got {cap}"
            raise ConfigError(msg)
        changes["cap"] = cap
    if "scores.count_stale" in values:
        changes["count_stale"] = bool(values["scores.count_stale"])
    if "calendar.country" in values:
        changes["calendar_country"] = str(values["calendar.country"])
    if "calendar.subdivision" in values:
        changes["calendar_subdivision"] = str(values["calendar.subdivision"])
    if "calendar.closures" in values:
        changes["closures"] = folder / str(values["calendar.closures"])
    if "timezone" in values:
        changes["timezone"] = _time_zone(str(values["timezone"]), origin)
    if "population" in values:
        population = _number(values["population"])
        if not population > 0:
            msg = f"{origin}: population must be the city's residents, above 0; got {population:g}"
            raise ConfigError(msg)
        changes["population"] = population
    if "serve.hosts" in values:
        changes["serve_hosts"] = _host_names(values["serve.hosts"], origin)
    if "scores.meeting" in values or "scores.near" in values:
        meeting = _number(values.get("scores.meeting", DEFAULT_BANDS.meeting))
        near = _number(values.get("scores.near", DEFAULT_BANDS.near))
        try:
            changes["bands"] = Bands(meeting=meeting, near=near)
        except ConfigError as exc:
            msg = f"{origin}: [scores] {exc}; fix meeting and near (e.g. meeting = 1.0, near = 0.9)"
            raise ConfigError(msg) from None
    if any(key.startswith("mail.") for key in values):
        changes["mail"] = mail_settings(values, origin)
    if "webhook.format" in values:
        changes["webhook_format"] = webhook_format(values, origin)
    if any(key.startswith("alerts.") for key in values):
        changes["alerts"] = alert_settings(values, origin)
    if any(key.startswith("daily.") for key in values):
        changes["daily"] = daily_settings(values, origin, folder)
    return replace(settings, **changes)


def _host_names(value: object, origin: str) -> tuple[str, ...]:
    """[serve] hosts: a list of host names (the explorer checks each one when it starts)."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        msg = f'{origin}: [serve] hosts must be a list of host names, e.g. hosts = ["scores.example.org"]'
        raise ConfigError(msg)
    return tuple(v.strip().lower() for v in value)


def _number(value: object) -> float:
    """A [scores] value as a float (read_config lets only numbers through; the environment, none)."""
    if not isinstance(value, int | float):
        raise AssertionError(value)  # unreachable: read_config refused it
    return float(value)


def _time_zone(name: str, origin: str) -> str:
    """``name`` if it is an IANA time zone the system knows; else a ConfigError with examples."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        msg = (
            f'{origin}: unknown time zone {name!r}; write an IANA name, e.g. timezone = "America/New_York" '
            '(or "Europe/Berlin", "UTC")'
        )
        raise ConfigError(msg) from None
    return name


def read_config(path: Path, skip: tuple[str, ...] = ()) -> dict[str, object]:
    """The keys of one cityscore.toml, flattened (``scores.near``) and checked against CONFIG_KEYS
    (keys starting with one of ``skip``, e.g. ``"mail."``, left out unchecked)."""
    import difflib
    import tomllib

    from cityscore.core.nesting import refusing_deep_nesting

    try:
        with refusing_deep_nesting(str(path)):
            data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"cannot read config file {path}: {exc.strerror}; check the path and its permissions"
        raise ConfigError(msg) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f'{path} is not valid TOML: {exc}. Fix that line (strings need quotes: city = "Springfield")'
        raise ConfigError(msg) from None
    with refusing_deep_nesting(str(path)):
        flat = _flatten(data)
    flat = {key: value for key, value in flat.items() if not key.startswith(skip)}
    for key, value in flat.items():
        if key in REFUSED_KEYS:
            raise ConfigError(f"{path}: {REFUSED_KEYS[key]}")
        if is_recipients_key(key, value, str(path)):
            continue
        if key not in CONFIG_KEYS:
            match = difflib.get_close_matches(key, list(CONFIG_KEYS), n=1, cutoff=0.5)
            hint = f"did you mean {match[0]!r}? " if match else ""
            msg = f"{path}: unknown key {key!r}; {hint}the keys are {', '.join(CONFIG_KEYS)}"
            raise ConfigError(msg)
        kind, example = CONFIG_KEYS[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            msg = f"{path}: key {key!r} must be like {key.rpartition('.')[2]} = {example}; got {value!r}"
            raise ConfigError(msg)
    return flat


def _flatten(data: dict, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _folder_url(url: str, folder: Path) -> str:
    """A relative SQLite path (``sqlite:///cityscore.db``) made relative to the city folder."""
    path = url.removeprefix("sqlite:///")
    if url.startswith("sqlite:///") and path and not path.startswith(("/", ":memory:")):
        return f"sqlite:///{folder / path}"
    return url
