"""The digest's pictures: the report's CityScore and movers charts drawn offline as PNG, with their alt text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from cityscore.pages.charts import (
    citywide_chart,
    citywide_description,
    contributions_chart,
    contributions_description,
    top_contributions,
)

if TYPE_CHECKING:
    from cityscore.pages.report_day import DailyData

WEEK = "since last week"  # the contributions' label the movers chart shows
TOP_MOVERS = 8  # bars in the movers chart; the rest are one "All other metrics" bar
SCALE = 2  # pixels per CSS pixel: sharp on high-density screens
SHOWN_WIDTH = 600  # CSS pixels a chart takes in the mail (narrower screens scale it down)


@dataclass(frozen=True)
class Picture:
    """A chart as PNG bytes, its text alternative, and a short id for its Content-ID."""

    name: str  # "cityscore" or "movers"
    title: str
    alt: str
    png: bytes


def week_movers(daily: DailyData) -> pd.DataFrame:
    """The contributions to the change in CityScore since last week (empty when none)."""
    contrib = daily.contributions
    if "since" not in contrib:
        return contrib.iloc[0:0]
    return contrib[contrib["since"].astype(str).str.startswith(WEEK)].reset_index(drop=True)


def pictures(daily: DailyData) -> list[Picture]:
    """The CityScore chart and, when a week-ago CityScore exists, the week's movers, as PNG."""
    import vl_convert

    found = [
        Picture(
            "cityscore",
            "CityScore over time",
            citywide_description(daily.citywide, daily.bands),
            vl_convert.vegalite_to_png(
                citywide_chart(daily.citywide, daily.bands).to_dict(), scale=SCALE
            ),
        )
    ]
    movers = week_movers(daily)
    if not movers.empty and movers["contribution"].notna().any():
        found.append(
            Picture(
                "movers",
                "What moved the CityScore this week",
                contributions_description(top_contributions(movers, TOP_MOVERS)),
                vl_convert.vegalite_to_png(
                    contributions_chart(movers, top=TOP_MOVERS).to_dict(), scale=SCALE
                ),
            )
        )
    return found
