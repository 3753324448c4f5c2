"""The by-area rules of the grid's columns: which (metric, area) pairs a score frame has, in order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cityscore.core.vocabulary import AREA
from cityscore.engine.statuses import NO_CITY_SCORE


def area_labels(frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """(code per row, labels): label ``""`` for citywide rows (no ``area`` column, empty or missing)."""
    if AREA not in frame.columns:
        return np.zeros(len(frame), dtype=np.intp), [""]
    codes, uniques = pd.factorize(frame[AREA], use_na_sentinel=True)
    labels = ["" if pd.isna(u) else str(u) for u in uniques]
    codes = np.where(codes < 0, len(labels), codes)  # missing -> an extra "" label
    return codes, [*labels, ""]


def label_positions(labels: pd.Series, names: list[str] | pd.Index) -> np.ndarray:
    """Index of each label in ``names`` (-1 where absent), each distinct label looked up once.

    ``Index.get_indexer`` on millions of text labels hashes each row; factorising first is several
    times faster and gives the same positions.
    """
    if isinstance(labels.dtype, pd.CategoricalDtype):
        codes, uniques = labels.cat.codes.to_numpy(), labels.cat.categories
    else:
        codes, uniques = pd.factorize(labels)  # a missing label gets code -1
    lookup = np.append(pd.Index(names).get_indexer(uniques), -1)
    return lookup[codes]


def area_positions(frame: pd.DataFrame, areas: pd.Index) -> np.ndarray:
    """Per row: the index of its area in ``areas`` (``len(areas)`` if not there), -1 if citywide."""
    codes, labels = area_labels(frame)
    index = {label: i for i, label in enumerate(areas)}
    lookup = np.array([index.get(x, len(areas)) if x else -1 for x in labels], dtype=np.intp)
    return lookup[codes]


@dataclass(frozen=True)
class Layout:
    """The grid's columns, which are the result's columns, in order: the citywide CityScore, each
    catalog metric citywide, then per area its CityScore and its ``area_metrics`` (catalog indices).

    A CityScore column holds no data; the weighted mean of its block is written into it.
    """

    metrics: pd.DataFrame
    areas: pd.Index
    area_metrics: np.ndarray

    @classmethod
    def build(
        cls, observations: pd.DataFrame, metrics: pd.DataFrame, targets: pd.DataFrame, by_area: bool
    ) -> Layout:
        none = cls(metrics, pd.Index([], dtype=object), np.zeros(0, dtype=np.intp))
        if not by_area:
            return none
        names = pd.Index(metrics["name"])
        used = np.zeros(len(names), dtype=bool)
        labels: set[str] = set()
        for frame in (observations, targets):
            codes, frame_labels = area_labels(frame)
            is_area = np.array([bool(x) for x in frame_labels])[codes]
            known = label_positions(frame["metric"][is_area], names)
            used[known[known >= 0]] = True
            labels |= {frame_labels[c] for c in np.unique(codes[is_area][known >= 0])}
        return cls(metrics, pd.Index(sorted(labels), dtype=object), np.flatnonzero(used))

    @property
    def m(self) -> int:
        return len(self.metrics)

    @property
    def n_areas(self) -> int:
        return len(self.areas)

    @property
    def per_area(self) -> int:
        return len(self.area_metrics)

    @property
    def width(self) -> int:
        return 1 + self.m + self.n_areas * (1 + self.per_area)

    @property
    def group_positions(self) -> np.ndarray:
        """The CityScore columns: citywide, then each area's."""
        return np.concatenate([[0], 1 + self.m + np.arange(self.n_areas) * (1 + self.per_area)])

    @property
    def group_sizes(self) -> np.ndarray:
        return np.array([self.m] + [self.per_area] * self.n_areas)

    @property
    def column_metric(self) -> np.ndarray:
        """Catalog index of each column (-1 for a CityScore column)."""
        block = np.concatenate([[-1], self.area_metrics])
        return np.concatenate([[-1], np.arange(self.m), np.tile(block, self.n_areas)])

    @property
    def column_area(self) -> np.ndarray:
        """Area index of each column (-1 citywide)."""
        area = np.repeat(np.arange(self.n_areas), 1 + self.per_area)
        return np.concatenate([np.full(1 + self.m, -1), area])

    def group_note_offsets(self, first: int) -> np.ndarray:
        """Per CityScore, the note code of "no metric has a score" (k scored adds k)."""
        return np.array([first] + [first + self.m + 1] * self.n_areas)

    def group_note_texts(self) -> list[str]:
        texts = [NO_CITY_SCORE] + [f"{k} of {self.m} metrics scored" for k in range(1, self.m + 1)]
        if self.n_areas:
            texts += [NO_CITY_SCORE] + [
                f"{k} of {self.per_area} metrics scored" for k in range(1, self.per_area + 1)
            ]
        return texts

    def pair_columns(self, metric: np.ndarray, area: np.ndarray) -> np.ndarray:
        """Column of each (catalog index, area index) pair; -1 where there is none."""
        # Rows: catalog metrics, then a pad row for unknown metrics (-1). Columns: the areas, a pad
        # for areas not in the layout, then the city (-1).
        lookup = np.full((self.m + 1, self.n_areas + 2), -1, dtype=np.intp)
        lookup[: self.m, -1] = 1 + np.arange(self.m)
        if self.n_areas:
            first = self.group_positions[1:, None] + 1
            lookup[self.area_metrics[None, :], np.arange(self.n_areas)[:, None]] = (
                first + np.arange(self.per_area)
            )
        return lookup[metric, area]
