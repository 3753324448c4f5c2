"""``key_numbers``: the CityScore and a few metric scores as plain text, for notebook tests.

nbval compares the printed text, so any change in scoring fails the notebook.
"""

from __future__ import annotations

import pandas as pd

from cityscore.apps.explorer.choices import check_choice
from cityscore.apps.explorer.scoring import scoring
from cityscore.core.bands import Bands
from cityscore.core.vocabulary import CITYWIDE, PERIODS
from cityscore.frames.dates import DateLike, as_date
from cityscore.kit import Kit
from cityscore.pages.render import score_text


def key_numbers(
    kit: Kit,
    as_of: DateLike | None = None,
    metrics: list[str] | None = None,
    skip_unknown: bool = False,
    *,
    bands: Bands | str | None = None,
    cap: float | None = None,
) -> str:
    """Plain text with the CityScore and a few metric scores on ``as_of``, so a notebook test compares
    them and any change in scoring fails it.

    ``skip_unknown`` leaves out (and names on a last line) metrics this city does not have, so the
    notebook written for the demo city still runs on any city. Scored with ``bands`` and ``cap``
    (default: the city's settings, as the explorer).
    """
    bands, cap = scoring(bands, cap)
    day = as_date(as_of) if as_of is not None else pd.Timestamp(kit.default_as_of())
    known = [CITYWIDE, *kit.metrics()["name"].astype(str)]
    wanted = [CITYWIDE, *(metrics or [])]
    missing = [m for m in wanted if m not in known] if skip_unknown else []
    scores = kit.scores(day, bands=bands, cap=cap)
    lines = [f"as of {day.date()}"]
    for metric in (m for m in wanted if m not in missing):
        check_choice("metric", metric, known)
        rows = scores[scores["metric"] == metric].set_index("period")["score"]
        parts = ", ".join(f"{p} {score_text(rows.get(p), bands, places=4)}" for p in PERIODS)
        lines.append(f"{metric}: {parts}")
    if missing:
        lines.append(f"not in this city's catalog: {', '.join(missing)}")
    return "\n".join(lines)
