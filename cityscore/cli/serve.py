"""``cityscore serve``: the explorer as a web app (``apps.serve`` runs Voilà)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cityscore.apps.serve import DEFAULT_PORT, serve

if TYPE_CHECKING:
    from cityscore.kit import Kit

HELP = "show the exploration notebook as a web app (Voilà, no code shown) on 127.0.0.1"


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
    return serve(kit, args.host, args.port)
