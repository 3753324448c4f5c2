"""Morning-run settings: ``[alerts]`` (rules and per-category recipients) and ``[daily]`` of
``cityscore.toml``, checked into dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cityscore.core.errors import ConfigError

# cityscore.toml keys of this module: key -> (type, example), merged into settings.CONFIG_KEYS.
DAILY_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "alerts.below_days": (int, "5"),
    "alerts.below_weeks": (int, "2"),
    "alerts.cityscore_drop": ((int, float), "0.1"),
    "alerts.stale": (bool, "true"),
    "alerts.source_failing": (bool, "true"),
    "daily.publish": (str, '"/srv/www/cityscore"'),
    "daily.wait": ((int, float), "600"),
    "daily.source_timeout": ((int, float), "300"),
}
# ``[alerts.recipients]``: one key per category, whose value is a list of addresses.
RECIPIENTS_PREFIX = "alerts.recipients."
DEFAULT_WAIT = 600.0  # seconds a second morning run waits for the first
DEFAULT_SOURCE_TIMEOUT = 300.0  # seconds one source's connection and each query may take


@dataclass(frozen=True)
class AlertSettings:
    """``[alerts]``: when an alert opens (see ``engine.alerts.AlertRules``) and who hears of it."""

    below_days: int = 5
    below_weeks: int = 2
    cityscore_drop: float = 0.1
    stale: bool = True
    source_failing: bool = True
    recipients: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def rules(self) -> dict[str, object]:
        """The rule values, as keywords of ``engine.alerts.AlertRules``."""
        return {
            "below_days": self.below_days,
            "below_weeks": self.below_weeks,
            "cityscore_drop": self.cityscore_drop,
            "stale": self.stale,
            "source_failing": self.source_failing,
        }


@dataclass(frozen=True)
class DailySettings:
    """``[daily]``: where the morning run publishes, how long it waits, each source's time limit."""

    publish: Path | None = None
    wait: float = DEFAULT_WAIT
    source_timeout: float = DEFAULT_SOURCE_TIMEOUT


def is_recipients_key(key: str, value: object, where: str) -> bool:
    """True for a ``[alerts.recipients]`` key whose value is a list of addresses; an error for one
    whose value is not; False for any other key."""
    if not key.startswith(RECIPIENTS_PREFIX):
        return False
    category = key.removeprefix(RECIPIENTS_PREFIX)
    if not isinstance(value, list) or not value or not all(isinstance(a, str) for a in value):
        msg = (
            f"{where}: [alerts.recipients] {category!r} must be a list of addresses, "
            f'e.g. "{category}" = ["ops@example.org"]; got {value!r}'
        )
        raise ConfigError(msg)
    return True


def alert_settings(values: Mapping[str, object], origin: str) -> AlertSettings:
    """The ``[alerts]`` keys of ``values`` (flattened, types already checked) as ``AlertSettings``."""
    from cityscore.core.mail_settings import check_address

    defaults = AlertSettings()
    found: dict[str, object] = {}
    for name in ("below_days", "below_weeks"):
        value = values.get(f"alerts.{name}", getattr(defaults, name))
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            msg = f"{origin}: [alerts] {name} must be a whole number >= 0 (0 = off), e.g. {name} = 5; got {value!r}"
            raise ConfigError(msg)
        found[name] = value
    drop = values.get("alerts.cityscore_drop", defaults.cityscore_drop)
    if not isinstance(drop, int | float) or isinstance(drop, bool) or not drop >= 0:
        msg = f"{origin}: [alerts] cityscore_drop must be a number >= 0 (0 = off), e.g. 0.1; got {drop!r}"
        raise ConfigError(msg)
    recipients = {
        key.removeprefix(RECIPIENTS_PREFIX): tuple(
            check_address(
                a, f"{origin}: [alerts.recipients] {key.removeprefix(RECIPIENTS_PREFIX)!r}"
            )
            for a in value  # type: ignore[attr-defined]
        )
        for key, value in values.items()
        if key.startswith(RECIPIENTS_PREFIX)
    }
    return AlertSettings(
        below_days=int(found["below_days"]),  # type: ignore[call-overload]
        below_weeks=int(found["below_weeks"]),  # type: ignore[call-overload]
        cityscore_drop=float(drop),
        stale=bool(values.get("alerts.stale", True)),
        source_failing=bool(values.get("alerts.source_failing", True)),
        recipients=recipients,
    )


def daily_settings(values: Mapping[str, object], origin: str, folder: Path) -> DailySettings:
    """The ``[daily]`` keys of ``values`` as ``DailySettings`` (a relative publish folder is
    relative to the city folder)."""
    seconds = {}
    for name, default in (("wait", DEFAULT_WAIT), ("source_timeout", DEFAULT_SOURCE_TIMEOUT)):
        value = values.get(f"daily.{name}", default)
        if not isinstance(value, int | float) or isinstance(value, bool):
            value = -1.0  # read_config lets only numbers through; the environment sets none
        if not (value >= 0 if name == "wait" else value > 0):
            least = ">= 0" if name == "wait" else "above 0"
            msg = f"{origin}: [daily] {name} must be a number of seconds {least}, e.g. {name} = {default:g}; got {values.get(f'daily.{name}')!r}"
            raise ConfigError(msg)
        seconds[name] = float(value)
    publish = values.get("daily.publish")
    if publish is not None and not str(publish).strip():
        msg = f'{origin}: [daily] publish must name a folder, e.g. publish = "/srv/www/cityscore"'
        raise ConfigError(msg)
    return DailySettings(
        publish=folder / str(publish) if publish is not None else None,
        wait=seconds["wait"],
        source_timeout=seconds["source_timeout"],
    )
