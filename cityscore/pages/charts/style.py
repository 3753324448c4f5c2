"""What every chart shares: Altair (imported without its unused grammar), colours, fonts, labels."""

from __future__ import annotations

import math
from typing import Any, TypeVar

import pandas as pd

from cityscore.core.runtime import skipped_imports

with skipped_imports():  # 1.6-2 s of an unused grammar, in every kernel that draws a chart
    import altair as alt

from cityscore.core.bands import Bands
from cityscore.core.vocabulary import PERIODS
from cityscore.engine.summary import metric_rows
from cityscore.pages.render import score_texts

PERIOD_ORDER = list(PERIODS)
STATUS_ORDER = ["meeting", "near", "below", "stale", "no score"]
# Okabe-Ito bluish green, yellow and vermillion: told apart with any colour-vision deficiency, each
# >= 3:1 against the board's green and >= 4.5:1 under dark text (INK). Status is also a symbol
# (a stale score is grey like no score; its symbol and word tell them apart).
STATUS_COLORS = ["#009e73", "#f0e442", "#d55e00", "#a3a8a5", "#a3a8a5"]
STATUS_SCALE = alt.Scale(domain=STATUS_ORDER, range=STATUS_COLORS)
INK = "#111111"
UP, DOWN = "#0072b2", "#d55e00"  # Okabe-Ito blue and vermillion
BOARD_GREEN = "#0f3b2a"  # the manual scoreboard at Fenway Park
# Metric and area names beside a chart: a wide font first (see ``board.BOARD_LABEL_LIMIT``).
LABEL_FONT = "DejaVu Sans, Verdana, sans-serif"
# Altair refuses more rows than this by default; long histories are thinned to stay below it.
MAX_ROWS = 4000


ChartT = TypeVar("ChartT", bound=alt.TopLevelMixin)


def accessible(chart: ChartT, description: str) -> ChartT:
    """``chart`` with ``description`` (its accessible name) and its marks, axes, legends and titles
    hidden from assistive technology; other configuration is kept."""
    # Any: Altair types its top-level mixin without the ``copy`` and ``config`` of every chart.
    spec: Any = chart
    spec = spec.copy(deep=["config"]).properties(description=description)
    if spec.config is alt.Undefined:
        spec.config = alt.Config()
    for key, kind in (
        ("mark", alt.MarkConfig),
        ("axis", alt.AxisConfig),
        ("legend", alt.LegendConfig),
        ("title", alt.TitleConfig),
    ):
        current = spec.config._get(key)
        spec.config[key] = (current if current is not alt.Undefined else kind()).copy()
        spec.config[key]["aria"] = False
    return spec


def text_metric_rows(
    scores: pd.DataFrame, period: str | None = None, metrics: list[str] | None = None
) -> pd.DataFrame:
    """``summary.metric_rows`` with ``metric`` and ``period`` as text (made of the rows kept only)."""
    rows = metric_rows(scores, period, metrics)
    return rows.assign(metric=rows["metric"].astype(str), period=rows["period"].astype(str))


def status_labels(status: pd.Series) -> pd.Series:
    return status.astype(object).where(status.notna(), "no score").astype(str)


def score_labels(scores: pd.Series, bands: Bands) -> pd.Series:
    """Each score as ``score_text`` writes it (in bulk: ``score_texts``), on the scores' index."""
    return pd.Series(score_texts(scores, bands), index=scores.index)


def iso_days(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates).dt.strftime("%Y-%m-%d")


def thin_dates(
    frame: pd.DataFrame, date_column: str, groups: int, max_rows: int = MAX_ROWS
) -> pd.DataFrame:
    """Keep every k-th date so that ``groups`` series stay under ``max_rows`` rows (display only)."""
    dates = pd.Series(pd.to_datetime(frame[date_column]).unique()).sort_values(ascending=False)
    step = max(1, math.ceil(len(dates) * max(groups, 1) / max_rows))
    keep = set(dates.iloc[::step])  # counted back from the newest date, so today is always shown
    return frame[pd.to_datetime(frame[date_column]).isin(keep)]


def rule_at_one(y: float = 1.0) -> alt.Chart:
    return (
        alt.Chart(pd.DataFrame({"y": [y]}))
        .mark_rule(color="#555", strokeDash=[5, 4])
        .encode(y="y:Q")
    )
