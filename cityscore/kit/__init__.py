"""The Kit: the one object notebooks, widgets, apps and the CLI call (``from cityscore.kit import Kit``).

``facade`` holds the Kit itself; the other modules hold the parts it is built from: the area
catalog, the alert state, the city's calendar as scoring options, populations for rates per
resident, and the warnings an import gives once written.
"""

from __future__ import annotations

from cityscore.kit.facade import Kit, no_values_error

__all__ = ["Kit", "no_values_error"]
