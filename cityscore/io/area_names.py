"""Area names against the city's area catalog: unknown areas refused with the closest names.

A name that differs from a known area only in capitals, accents, spaces or punctuation
(``East Port`` beside ``Eastport``) is always refused: it is one area written two ways. A name
new altogether is added to the catalog by the write, and said so, while the catalog is open (no
areas.csv imported yet) or when the import asks for it (``--add-areas``); once a city has
imported its areas.csv, it is refused with the closest names in the catalog.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import pandas as pd

from cityscore.core.errors import printable
from cityscore.core.names import fold_name
from cityscore.core.vocabulary import AREA
from cityscore.io.problems import Problems

SUGGESTIONS = 3  # closest catalog names shown with an unknown area


@dataclass(frozen=True)
class KnownAreas:
    """What the row checks know of a city's areas. Called, it gives the names of the stored and
    the catalog's areas (so it serves wherever ``checks.StoredAreas`` is asked for: a catalog
    area written in other capitals is refused as a stored one is); ``catalog`` gives (the
    catalog's names, whether an areas.csv declared it); both are asked only when a row names an
    area. ``add`` lets new areas in on purpose."""

    stored: Callable[[], Iterable[str]]
    catalog: Callable[[], tuple[list[str], bool]]
    add: bool = False

    def __call__(self) -> set[str]:
        return {*self.stored(), *self.catalog()[0]}

    def with_stored(self, stored: Callable[[], Iterable[str]]) -> KnownAreas:
        return replace(self, stored=stored)


def area_key(name: str) -> str:
    """``name`` folded (``fold_name``) with its accents, spaces and punctuation left out: two
    names with one key are one area written two ways."""
    folded = unicodedata.normalize("NFD", fold_name(name))
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")


def closest_areas(name: str, catalog: Iterable[str], n: int = SUGGESTIONS) -> list[str]:
    """Up to ``n`` catalog names closest to ``name`` (compared by ``area_key``), closest first."""
    by_key: dict[str, list[str]] = {}
    for known in catalog:
        by_key.setdefault(area_key(known), []).append(known)
    keys = difflib.get_close_matches(area_key(name), list(by_key), n=n, cutoff=0.5)
    return [known for key in keys for known in sorted(by_key[key])][:n]


def check_catalog_names(
    problems: Problems,
    rows: pd.DataFrame,
    area: pd.Series,
    known: KnownAreas,
    stored: Iterable[str] = (),
    refused: Iterable[str] = (),
) -> None:
    """Record a problem for each row naming an area the catalog does not allow (see the module).
    ``stored``: the stored names ``known`` gave; ``refused`` names are already recorded (another
    spelling in capitals) and left alone."""
    names = [n for n in pd.unique(area) if n and n not in set(refused)]
    catalog_names, declared = known.catalog()
    catalog = {*catalog_names, *stored}
    new = [n for n in names if n not in catalog]
    if not new:
        return
    keyed: dict[str, list[str]] = {}
    for name in sorted(catalog):
        keyed.setdefault(area_key(name), []).append(name)
    lines = rows["line"].groupby(area.to_numpy()).min()
    reasons: dict[str, str] = {}
    for name in new:
        key = area_key(name)
        same = keyed.get(key, [])
        twins = [o for o in new if o != name and area_key(o) == key]
        if same:
            reasons[name] = _written_another_way(name, same)
        elif twins:
            shown = ", ".join(f'"{printable(o)}" (line {lines[o]})' for o in twins)
            reasons[name] = (
                f'"{printable(name)}" and {shown} in this file differ only in capitals, spaces or '
                "punctuation: one area written two ways; write it the same way everywhere"
            )
        elif declared and not known.add:
            reasons[name] = unknown_area_reason(name, catalog)
    if reasons:
        bad = area.isin(list(reasons))
        problems.add_where(rows.assign(area=area), bad, AREA, area.map(reasons))


def _written_another_way(name: str, known: list[str]) -> str:
    shown = ", ".join(f'"{printable(k)}"' for k in known)
    return (
        f'"{printable(name)}" is not in the area catalog but differs only in capitals, spaces or '
        f"punctuation from {shown}; write it as the catalog does (area names are matched exactly)"
    )


def unknown_area_reason(name: str, catalog: Iterable[str]) -> str:
    """Why an area not in a declared catalog is refused, with the closest catalog names."""
    near = closest_areas(name, catalog)
    hint = "; closest: " + ", ".join(f'"{printable(n)}"' for n in near) if near else ""
    return (
        f'unknown area "{printable(name)}": not in the area catalog (areas.csv){hint}; correct the '
        "name, or add the area to areas.csv and import it (`cityscore areas import`), or import "
        "with --add-areas to add it on purpose"
    )
