"""The morning run's sync: each source of ``sources.yml`` on its own, so one that fails (down, too
slow, bad rows) stops nothing; its metrics are then reported stale and the failure is named."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cityscore.apps.daily.runlog import RunLog
from cityscore.core.errors import CityScoreError

if TYPE_CHECKING:
    from cityscore.kit import Kit


@dataclass
class SyncOutcome:
    """What the sync step did: rows written per source, and the sources that failed with why."""

    written: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    stale_metrics: list[str] = field(default_factory=list)  # the failed sources' metrics


def plan(config: Path) -> dict[str, list[str]]:
    """Each source's metrics, as ``sources.yml`` lists them (no source file: none)."""
    from cityscore.io.sources import load_config

    if not config.is_file():
        return {}
    checked = load_config(config)
    return {
        name: [m.metric for m in checked.metrics if m.source == name] for name in checked.sources
    }


def sync_each(kit: Kit, config: Path, timeout: float, log: RunLog) -> SyncOutcome:
    """Sync every source in turn, each as its own logged step; a failure is kept, never raised."""
    outcome = SyncOutcome()
    try:
        sources = plan(config)
    except CityScoreError as exc:  # sources.yml itself is wrong: nothing can be synced
        outcome.failed[config.name] = log.text(exc)
        log.write(
            f"sync {config.name}", dt.datetime.now().astimezone(), 0.0, {}, error=log.text(exc)
        )
        return outcome
    for name, metrics in sources.items():
        if not metrics:
            continue
        try:
            with log.step(f"sync {name}") as counts:
                results = kit.sync(config, metrics=metrics, timeout=timeout)
                counts.update(
                    metrics=len(metrics),
                    inserted=sum(r.inserted for r in results),
                    updated=sum(r.updated for r in results),
                )
            outcome.written[name] = counts["inserted"] + counts["updated"]
        except Exception as exc:  # a driver's own error must not stop the run either
            outcome.failed[name] = log.text(exc)
            outcome.stale_metrics += metrics
    return outcome
