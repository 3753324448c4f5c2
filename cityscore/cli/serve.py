"""``cityscore serve``: the explorer as a web app (``apps.serve`` runs Voilà)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cityscore.kit import Kit

DEFAULT_PORT = 8866  # as apps.serve's; tests/test_cli.py keeps the two equal
IDLE_TIMEOUT = 300  # as apps.serve's
MAX_PAGES = 8  # as apps.serve's


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a name the pages may be asked for besides localhost, e.g. the name a web server "
        "in front uses (repeatable; also cityscore.toml [serve] hosts)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=int,
        default=IDLE_TIMEOUT,
        metavar="SECONDS",
        help=f"shut down a page's kernel this long after the page went away (default {IDLE_TIMEOUT})",
    )
    parser.add_argument(
        "--max-pages",
        type=int,
        default=MAX_PAGES,
        metavar="N",
        help=f"open pages (one kernel of about 300 MB each) served at once (default {MAX_PAGES})",
    )


def run(kit: Kit, args: argparse.Namespace) -> int:
    from cityscore.apps.serve import serve  # subprocess, Voilà's checks: only when serving
    from cityscore.core.settings import load_settings

    hosts = [*load_settings().serve_hosts, *args.allow_host]
    return serve(
        kit,
        args.host,
        args.port,
        hosts=hosts,
        idle_timeout=args.idle_timeout,
        max_pages=args.max_pages,
    )
