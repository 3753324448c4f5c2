"""The morning run's log: one JSON line per step (step, start, seconds, counts, ok or the error),
appended to ``logs/daily.jsonl`` in the city folder. Error texts are scrubbed of secrets."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cityscore.core.secrets import scrub

LOG_FILE = Path("logs") / "daily.jsonl"


class RunLog:
    """Steps of one run, each written as a line when it ends (``path`` None: kept in memory only)."""

    def __init__(self, path: Path | None, secrets: Sequence[str] = ()) -> None:
        self.path = path
        self.secrets = [s for s in secrets if s]
        self.run = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        self.lines: list[dict[str, Any]] = []

    @contextmanager
    def step(self, name: str) -> Iterator[dict[str, Any]]:
        """Time the block; the caller fills in the yielded counts. An exception is logged, then raised."""
        counts: dict[str, Any] = {}
        start = dt.datetime.now().astimezone()
        clock = time.perf_counter()
        try:
            yield counts
        except BaseException as exc:
            self.write(name, start, time.perf_counter() - clock, counts, error=self.text(exc))
            raise
        self.write(name, start, time.perf_counter() - clock, counts)

    def text(self, error: BaseException | str) -> str:
        """An error as one line of the log or of the run's summary, without any secret."""
        if isinstance(error, BaseException):
            first = (str(error).strip().splitlines() or [""])[0]
            error = first or type(error).__name__
        return scrub(error, self.secrets)

    def write(
        self,
        name: str,
        start: dt.datetime,
        seconds: float,
        counts: dict[str, Any],
        error: str | None = None,
    ) -> None:
        line = {
            "run": self.run,
            "step": name,
            "start": start.isoformat(timespec="seconds"),
            "seconds": round(seconds, 3),
            "counts": counts,
            "ok": error is None,
            **({"error": scrub(error, self.secrets)} if error is not None else {}),
        }
        self.lines.append(line)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(line, default=str, ensure_ascii=False) + "\n")
