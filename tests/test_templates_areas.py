"""The templates: the starter files stay citywide; the area examples load and name their areas."""

from __future__ import annotations

from cityscore import Kit
from cityscore.core.settings import TEMPLATES_DIR


def test_starter_templates_stay_citywide_and_load(demo_kit: Kit) -> None:
    """values.csv / targets.csv without an `area` column still load, as every city's first files."""
    for name in ("values.csv", "targets.csv"):
        header = (TEMPLATES_DIR / name).read_text(encoding="utf-8").splitlines()[0]
        assert "area" not in header.split(",")
    demo_kit.import_targets(TEMPLATES_DIR / "targets.csv")
    plan = demo_kit.import_values(TEMPLATES_DIR / "values.csv", dry_run=True)
    assert plan.dry_run and plan.inserted + plan.updated + plan.unchanged == 3
    assert demo_kit.areas() == []


def test_area_templates_load_into_the_demo(demo_kit: Kit) -> None:
    values = demo_kit.import_values(TEMPLATES_DIR / "values_areas.csv")
    targets = demo_kit.import_targets(TEMPLATES_DIR / "targets_areas.csv")
    assert values.inserted + values.updated + values.unchanged == 5 and targets.inserted == 2
    assert demo_kit.areas() == ["Old Quarry", "Riverside"]
    stored = demo_kit.observations(areas=True).query("area == 'Riverside'")
    assert sorted(stored["metric"]) == ["EMS Response Time", "Pothole Repairs On Time"]
    area_targets = demo_kit.targets(areas=True).query("area != ''")
    assert sorted(area_targets["metric"]) == ["EMS Response Time", "Park Permits Issued"]
