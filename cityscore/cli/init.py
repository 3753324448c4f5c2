"""``cityscore init``: create the database tables (safe to repeat)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cityscore.core.secrets import redact_url

if TYPE_CHECKING:
    from cityscore.kit import Kit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options of its own: the database comes from ``--db`` or the city's settings."""


def run(kit: Kit, args: argparse.Namespace) -> int:
    kit.init()
    print(f"database ready: {redact_url(kit.url)}")
    return 0
