"""The explorer's *Change* tab: why the CityScore moved between two dates, and its chart.

Each metric's part in the change, the CityScore before and now, and the contributions chart as a
figure with its description and data.
"""

from __future__ import annotations

import pandas as pd

from cityscore.apps.explorer.choices import ALL, Selection, category_metrics
from cityscore.apps.explorer.markup import chart_figure, live_message_html
from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.vocabulary import CITYWIDE
from cityscore.engine.summary import contributions
from cityscore.frames.dates import DateLike, as_date
from cityscore.pages import charts
from cityscore.pages.render import round_half_even, score_text

# The change chart draws the metrics with the largest contributions, this many.
CHANGE_CHART_ROWS = 30


def change_view(
    scores: pd.DataFrame,
    metrics: pd.DataFrame,
    as_of: DateLike,
    since_days: int,
    period: str,
    category: str = ALL,
) -> pd.DataFrame:
    """Each metric's part in the change of the CityScore between ``as_of - since_days`` and ``as_of``.

    The contributions over all metrics add up to the citywide change; a category filter shows only
    that category's part of it.
    """
    table = contributions(scores, metrics, as_of, since_days=since_days, period=period)
    names = category_metrics(metrics, category)
    return table[table["metric"].isin(names)].reset_index(drop=True)


def citywide_change(
    scores: pd.DataFrame, as_of: DateLike, since_days: int, period: str
) -> tuple[float, float]:
    """(CityScore before, CityScore now) for the change view's headline."""
    now = as_date(as_of)
    city = scores[(scores["metric"] == CITYWIDE) & (scores["period"] == period)].set_index("as_of")[
        "score"
    ]
    before = now - pd.Timedelta(days=since_days)
    return float(city.get(before, float("nan"))), float(city.get(now, float("nan")))


def change_description(
    change: pd.DataFrame, city: pd.DataFrame, s: Selection, drawn: int, bands: Bands = DEFAULT_BANDS
) -> str:
    """Why the CityScore moved: the change, then the largest contributions up and down."""
    before, now = city.iloc[0]
    up = change[change["contribution"] > 0].nlargest(3, "contribution")
    down = change[change["contribution"] < 0].nsmallest(3, "contribution")

    def names(rows: pd.DataFrame) -> str:
        parts = [
            f"{m} ({round_half_even(c, 3)})"
            for m, c in zip(rows["metric"], rows["contribution"], strict=True)
        ]
        return ", ".join(parts) or "none"

    since = (s.as_of - pd.Timedelta(days=s.since_days)).date()
    return (
        f"CityScore ({s.period}) {score_text(before, bands)} on {since}, {score_text(now, bands)} on "
        f"{s.as_of.date()} "
        f"(change {round_half_even(now - before, 3)}). Largest contributions up: {names(up)}; "
        f"down: {names(down)}. The chart shows the {drawn} largest of {len(change)} contributions"
        + (f", the other {len(change) - drawn} summed in one bar." if len(change) > drawn else ".")
    )


def change_figure(
    change: pd.DataFrame, city: pd.DataFrame, s: Selection, bands: Bands = DEFAULT_BANDS
) -> str:
    """The contributions chart of ``change`` (``change_view``) as a figure, with the description
    (``city``: the CityScore before and now) and the data behind it."""
    if change.empty:
        return live_message_html("No contributions to draw for this selection.")
    # The largest bars, the rest summed into one: the bars still add up to the change.
    drawn = charts.top_contributions(change, CHANGE_CHART_ROWS)
    score = "CityScore" + (f" of {s.area}" if s.area else "")
    return chart_figure(
        charts.contributions_chart(change, top=CHANGE_CHART_ROWS),
        f"Contributions to the change in the {score}",
        change_description(change, city, s, min(CHANGE_CHART_ROWS, len(change)), bands),
        drawn[["metric", "category", "before", "now", "contribution"]],
        bands,
    )
