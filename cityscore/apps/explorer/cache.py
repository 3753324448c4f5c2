"""The explorer's scores, read and scored on demand (``ScoreCache``).

Every metric on the dates the board and the change need, one metric's year when it is chosen, kept
for the last few.
"""

from __future__ import annotations

import pandas as pd

from cityscore.apps.explorer.areas import area_slice
from cityscore.apps.explorer.choices import CITYWIDE_AREA, Selection
from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.engine.as_of import LOOKBACK_DAYS
from cityscore.engine.score import score_by_area, score_range
from cityscore.engine.summary import metric_rows
from cityscore.kit import Kit
from cityscore.kit.calendar import scoring_options

HISTORY_DAYS = 365  # the metric detail's year
EVERY_AREA = "\0every area"  # ScoreCache's scope for every area at once (no area has a NUL)
NEAR_DAYS = 31  # dates at most this far apart are scored in one pass over the days between them
CACHE_SIZE = 8  # dates (all metrics) and metric years kept in memory; older ones are read again


class ScoreCache:
    """Scores read on demand, so the explorer starts in time proportional to what it shows.

    The board, the change and the lists need every metric on one or two dates: ``days`` scores
    all metrics on those dates, citywide, or of one area once it is picked, or of every area once
    the areas are compared on the CityScore. The metric detail needs one metric's year: ``year``
    reads and scores that metric alone (every area of it), when it is chosen. All are kept (the
    last ``CACHE_SIZE``) and give the rows ``Kit.scores`` (``by="area"``) gives with the same
    ``bands`` and ``cap``.
    """

    def __init__(
        self,
        kit: Kit,
        metrics: pd.DataFrame,
        history_days: int = HISTORY_DAYS,
        *,
        bands: Bands = DEFAULT_BANDS,
        cap: float | None = None,
    ) -> None:
        self.kit = kit
        self.metrics = metrics
        self.history_days = history_days
        self.bands = bands
        self.cap = cap
        self.areas = kit.areas()
        self.targets = kit.targets(areas=bool(self.areas))
        self._days: dict[tuple[str, pd.Timestamp], pd.DataFrame] = {}
        self._years: dict[tuple[str, pd.Timestamp], tuple[pd.DataFrame, pd.DataFrame]] = {}

    def _score(
        self,
        observations: pd.DataFrame,
        metrics: pd.DataFrame,
        start: pd.Timestamp,
        end: pd.Timestamp,
        by_area: bool,
        area: str | None = None,
    ) -> pd.DataFrame:
        """Scores as ``Kit.scores`` gives them; with ``area``, that area's (and the city's) only:
        the other areas' targets would add a grid column per metric and area, scored for nothing
        (at 2,000 metrics x 25 areas, 7 s of an area's 7.8)."""
        targets = self.targets[self.targets["metric"].isin(metrics["name"].astype(str))]
        if area is not None and "area" in targets:
            targets = targets[targets["area"].isin(["", area])]
        bands, cap = self.bands, self.cap
        # Closed days, count_stale and populations for rates per resident, as Kit.scores takes them.
        options = scoring_options(metrics, start.date(), end.date(), None, self.kit.area_catalog)
        if by_area and self.areas:
            return score_by_area(
                observations, metrics, targets, start, end, bands=bands, cap=cap, **options
            )  # fmt: skip
        # Citywide: the area rows only add up to citywide days that have none (as Kit.scores).
        city = area_slice(targets) if "area" in targets else targets
        return score_range(
            observations, metrics, city, start, end, bands=bands, cap=cap, **options
        )  # fmt: skip

    def days(self, dates: list[pd.Timestamp], scope: str = CITYWIDE_AREA) -> pd.DataFrame:
        """Every metric's scores on each of ``dates``: citywide (``scope=""``), of one area (its
        rows only are read: an area is scored from its own rows and targets), or of ``EVERY_AREA``.
        One read for the dates not kept yet."""
        scope = scope if self.areas else CITYWIDE_AREA
        missing = sorted({d for d in dates if (scope, d) not in self._days})
        if missing:
            lookback = pd.Timedelta(days=LOOKBACK_DAYS)
            # Every metric's windows, a history baseline's year: as Kit.scores reads.
            obs = self.kit.scoring_observations(
                missing[0],
                missing[-1],
                area=scope if scope not in (CITYWIDE_AREA, EVERY_AREA) else None,
                citywide=scope == CITYWIDE_AREA,
            )
            by_area = scope != CITYWIDE_AREA
            one = scope if scope not in (CITYWIDE_AREA, EVERY_AREA) else None
            if missing[-1] - missing[0] <= pd.Timedelta(days=NEAR_DAYS):
                # Dates close together (the day or week before): one pass over their range.
                span = self._score(obs, self.metrics, missing[0], missing[-1], by_area, one)
                for day, rows in span[span["as_of"].isin(missing)].groupby("as_of"):
                    self._days[(scope, day)] = rows.reset_index(drop=True)
            else:
                for day in missing:
                    window = obs[(obs["date"] >= day - lookback) & (obs["date"] <= day)]
                    scored = self._score(window, self.metrics, day, day, by_area, one)
                    self._days[(scope, day)] = scored
            _trim(self._days)
        return pd.concat([self._days[(scope, d)] for d in dict.fromkeys(dates)], ignore_index=True)

    def year(self, metric: str, as_of: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(scores, observations with source) of ``metric`` for the year to ``as_of``, every area;
        the observations reach back far enough for the first day's windows (and baseline)."""
        key = (metric, as_of)
        if key not in self._years:
            start = as_of - pd.Timedelta(days=self.history_days - 1)
            obs = self.kit.scoring_observations(start, as_of, metric=metric, with_source=True)
            one = self.metrics[self.metrics["name"].astype(str) == metric]
            scores = metric_rows(self._score(obs, one, start, as_of, by_area=True))
            self._years[key] = (scores.reset_index(drop=True), obs)
            _trim(self._years)
        return self._years[key]

    def selection(self, s: Selection) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(scores, observations) of ``s.area`` for the views: every metric on ``s.as_of`` and the
        date compared with, and the chosen metric's whole year; its observations with source."""
        before = s.as_of - pd.Timedelta(days=s.since_days)
        day = area_slice(self.days([s.as_of, before], scope=s.area), s.area)
        scores, obs = self.year(s.metric, s.as_of)
        year = area_slice(scores, s.area)
        day = day[day["metric"].astype(str) != s.metric]
        return pd.concat([day, year], ignore_index=True), area_slice(obs, s.area)


def _trim(cache: dict) -> None:
    while len(cache) > CACHE_SIZE:
        cache.pop(next(iter(cache)))
