"""The Kit's area catalog: areas.csv in and out, populations, and what the row checks know of areas.

``Kit`` inherits these methods; they call the store and the loaders as the rest of the Kit does.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from cityscore.io import export
from cityscore.io.area_names import KnownAreas
from cityscore.io.area_rows import AREA_FILE_COLUMNS, load_areas
from cityscore.io.changes import describe_changes, inserts_and_updates
from cityscore.io.csvtext import Source, source_name
from cityscore.store.database import ImportResult, Store


class AreaCatalogMethods:
    """The area catalog's part of ``Kit``."""

    store: Store

    def area_catalog(self) -> pd.DataFrame:
        """The city's areas: ``name, code, population, geometry, parent``, one row per area in
        name order (population NaN where unknown; geometry empty where the map key is the name).
        An older database's catalog holds the areas its values and targets named, no population."""
        return self.store.area_catalog()

    def area_populations(self) -> pd.Series:
        """Each catalog area's population (residents), indexed by area name; areas without one
        are left out."""
        catalog = self.area_catalog()
        known = catalog[catalog["population"].notna()]
        return pd.Series(
            known["population"].to_numpy(dtype=float),
            index=known["name"].astype(str),
            name="population",
        )

    def import_areas(self, source: Source, *, dry_run: bool = False) -> ImportResult:
        """Validate and import an areas.csv (``name, code, population, geometry, parent``): new
        areas are added, changed ones updated (the old row kept for undo), others left as they
        are. Once imported, the catalog is declared: values, targets and syncs naming an area not
        in it are refused (unless they ask to add it, ``add_areas=True``)."""
        areas = load_areas(source, self.store.areas(), self.area_catalog())
        name = source_name(source)
        if not dry_run:
            return self.store.write_areas(areas, name)
        with self.store.rehearsal():
            result = self.store.write_areas(areas, name)
        current = self.area_catalog()
        fields = AREA_FILE_COLUMNS[1:]
        insert, update = inserts_and_updates(areas, current, ["name"], fields)
        changes = describe_changes(insert, update, ["name"], fields)
        return _AreasDryRun(
            **{**replace(result, batch_id=None, dry_run=True).__dict__, "changes": changes}
        )

    def export_areas(self, out: str | Path | None = None) -> str:
        """The area catalog as areas.csv text (importing it again changes nothing)."""
        catalog = self.area_catalog()
        population = [
            "" if pd.isna(p) else (str(int(p)) if float(p).is_integer() else repr(float(p)))
            for p in catalog["population"]
        ]
        text = catalog.assign(population=population)[AREA_FILE_COLUMNS].to_csv(index=False)
        return export.write(text, out)

    def known_areas(self, add_areas: bool = False) -> KnownAreas:
        """What the row checks know of the areas (stored names, the catalog), read only when a row
        names an area; ``add_areas`` lets areas new to a declared catalog in on purpose."""
        return KnownAreas(
            functools.cache(self.store.areas),
            functools.cache(self.store.area_catalog_state),
            add=add_areas,
        )

    def new_areas(self, rows: pd.DataFrame) -> tuple[str, ...]:
        """The areas checked ``rows`` name that the catalog lacks (what writing them would add)."""
        if "area" not in rows:
            return ()
        named = {str(n) for n in pd.unique(rows["area"].dropna()) if str(n)}
        names, _ = self.store.area_catalog_state()
        return tuple(sorted(named - set(names)))


@dataclass(frozen=True)
class _AreasDryRun(ImportResult):
    """An areas dry run's counts, and the areas it would add and change (as ``kit.DryRun``)."""

    changes: str = ""

    def __str__(self) -> str:
        return "\n".join(t for t in (super().__str__(), self.changes) if t)
