"""The Voilà process ``cityscore serve`` starts: a token, a Host check, and a bound on its kernels.

``python -m cityscore.apps.voila_server NOTEBOOK [Voilà options]`` reads one line of JSON from
standard input (``token``, ``hosts``, ``idle_timeout``, ``max_pages``), so the token never shows
on a command line (``ps``) or in the environment its kernels inherit. Voilà itself answers any
``Host`` and needs no token; here:

- every page needs the token (once in the URL; a cookie then carries it);
- a request whose ``Host`` is not loopback or one of ``hosts`` is refused (403), which stops DNS
  rebinding: a web page elsewhere cannot reach the explorer through a name it controls;
- each page's kernel (about 300 MB) is shut down when the page goes away (its connection closes
  and does not come back within ``CLOSE_GRACE`` seconds), a kernel no page is connected to is shut down after ``idle_timeout``
  seconds, and at most ``max_pages`` kernels run at once: beyond that, the least recently used
  kernel no page is connected to is shut down, or the new page is refused (503) if none is free.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from typing import Any

from jupyter_server.log import log_request
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado.ioloop import IOLoop
from tornado.web import HTTPError
from traitlets import Integer
from traitlets.config import Config

_TOKEN = re.compile(r"(token=)[^&\s]*")  # a token in a URL or query string
CULL_INTERVAL = 10  # seconds between two looks for idle kernels
CLOSE_GRACE = 10  # seconds a page's kernel waits for the page to reconnect


class BoundedKernelManager(AsyncMappingKernelManager):
    """Voilà's kernel manager with a ceiling on the kernels running at once."""

    max_kernels = Integer(8, config=True, help="kernels running at once, at most")

    async def start_kernel(self, *args: Any, **kwargs: Any) -> str:  # type: ignore[override]
        """Start a page's kernel, first making room for it (see the module's docstring)."""
        while len(self._kernels) >= self.max_kernels:
            free = [k for k in self._kernels if not self._kernel_connections.get(k, 0)]
            if not free:
                msg = (
                    f"the explorer already serves {self.max_kernels} open pages; close one "
                    "and reload, or start cityscore serve with a higher --max-pages"
                )
                raise HTTPError(503, msg)
            oldest = min(free, key=lambda k: self._kernels[k].last_activity)
            self.log.info("Shutting down kernel %s to make room for a new page", oldest)
            await self.shutdown_kernel(oldest)
        env = kwargs.get("env")
        if isinstance(env, dict):  # Voilà gives the kernel the page's URL: not its token
            kwargs["env"] = {
                k: _TOKEN.sub(r"\1[secret]", v) if isinstance(v, str) else v for k, v in env.items()
            }
        return await super().start_kernel(*args, **kwargs)

    def notify_disconnect(self, kernel_id: str) -> None:
        """A page's connection closed: if no other comes back within ``CLOSE_GRACE`` seconds (a
        page reconnects after a network blip), the page has gone; its kernel is shut down."""
        super().notify_disconnect(kernel_id)
        if self._kernel_connections.get(kernel_id, 0) == 0:
            IOLoop.current().call_later(CLOSE_GRACE, self._shutdown_if_left, kernel_id)

    async def _shutdown_if_left(self, kernel_id: str) -> None:
        if kernel_id in self._kernels and not self._kernel_connections.get(kernel_id, 0):
            self.log.info("Shutting down kernel %s: its page has gone", kernel_id)
            with contextlib.suppress(KeyError):  # shut down meanwhile (the page's own request)
                await self.shutdown_kernel(kernel_id)


def _log_request(handler: Any) -> None:
    """Jupyter Server's request log line, which masks the token in URLs and headers."""
    log_request(handler, record_prometheus_metrics=False)


def voila_config(options: dict[str, Any]) -> Config:
    """The Voilà configuration the options read from standard input give."""
    config = Config()
    config.Voila.token = options["token"]
    config.Voila.tornado_settings = {
        "allow_remote_access": False,  # Voilà's default is True: any Host is served
        "local_hostnames": ["localhost", *options["hosts"]],
        "log_function": _log_request,  # Voilà's own logs each URL whole, token included
    }
    config.VoilaConfiguration.multi_kernel_manager_class = BoundedKernelManager
    manager = config.BoundedKernelManager
    manager.max_kernels = options["max_pages"]
    manager.cull_idle_timeout = options["idle_timeout"]
    manager.cull_interval = min(CULL_INTERVAL, options["idle_timeout"])
    manager.cull_connected = False  # an open page keeps its kernel
    manager.cull_busy = False
    return config


def main() -> None:
    from voila.app import Voila  # type: ignore[import-untyped]

    options = json.loads(sys.stdin.readline())
    sys.stdin.close()
    Voila.launch_instance(argv=sys.argv[1:], config=voila_config(options))


if __name__ == "__main__":
    main()
