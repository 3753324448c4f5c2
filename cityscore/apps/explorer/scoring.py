"""The bands and cap the explorer scores with: the ones given, else the city's settings.

The city's settings are its ``cityscore.toml``, found as the command line and the daily report find
it. This is the one place the explorer reads settings from disk; the views and pages take the bands
and cap as arguments.
"""

from __future__ import annotations

from cityscore.core.bands import Bands
from cityscore.core.errors import ConfigError
from cityscore.core.settings import load_settings


def scoring(
    bands: Bands | str | None = None, cap: float | None = None
) -> tuple[Bands, float | None]:
    """(bands, cap) to score with: the given ones, else the city's settings (``load_settings()``:
    ``$CITYSCORE_CONFIG``, else ``cityscore.toml`` here or in a folder above, then the environment).

    ``bands`` may be written ``"1.0,0.9"`` (meeting, near); ``cap=0`` scores without a cap whatever
    the city sets (as the report's ``cap`` parameter). A bad file or value is a ``ConfigError``.
    """
    if bands is None or cap is None:
        settings = load_settings()
        bands = settings.bands if bands is None else bands
        cap = settings.cap if cap is None else cap
    if isinstance(bands, str):
        bands = Bands.parse(bands)
    if not isinstance(bands, Bands):
        msg = f"bands must be Bands(meeting, near) or text such as '1.0,0.9'; got {bands!r}"
        raise ConfigError(msg)
    cap = 0.0 if cap is None else cap  # the city sets no cap
    if isinstance(cap, bool) or not isinstance(cap, int | float) or not cap >= 0:
        msg = f"cap must be a number above 0 (e.g. 1.5), or 0 for no cap; got {cap!r}"
        raise ConfigError(msg)
    return bands, float(cap) or None
