"""``cityscore serve``: the explorer as a web app (``apps.serve`` runs Voilà)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cityscore.kit import Kit

DEFAULT_PORT = 8866  # as apps.serve's; tests/test_cli.py keeps the two equal


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )


def run(kit: Kit, args: argparse.Namespace) -> int:
    from cityscore.apps.serve import serve  # subprocess, Voilà's checks: only when serving

    return serve(kit, args.host, args.port)
