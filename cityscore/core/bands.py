"""Status bands: where a score stops meeting its target and starts falling below it."""

from __future__ import annotations

from dataclasses import dataclass

from cityscore.core.errors import ConfigError


@dataclass(frozen=True)
class Bands:
    """Status bands: a score >= ``meeting`` is meeting target, >= ``near`` is near, else below."""

    meeting: float = 1.0
    near: float = 0.9

    def __post_init__(self) -> None:
        if not (0 < self.near <= self.meeting):
            msg = f"status bands need 0 < near <= meeting; got near={self.near}, meeting={self.meeting}"
            raise ConfigError(msg)

    @classmethod
    def parse(cls, text: str) -> Bands:
        """Parse ``"1.0,0.9"`` (meeting, near) as given to ``--bands``."""
        try:
            meeting, near = (float(part) for part in text.split(","))
        except ValueError:
            msg = f"--bands takes two numbers 'meeting,near' such as '1.0,0.9'; got {text!r}"
            raise ConfigError(msg) from None
        return cls(meeting=meeting, near=near)


DEFAULT_BANDS = Bands()
