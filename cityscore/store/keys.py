"""The stored keys writes look up: metric ids, the area (citywide: ""), area spellings taken."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cityscore.core.errors import StoreError, printable
from cityscore.core.names import area_case_clashes, spelling_difference
from cityscore.store import columnar
from cityscore.store.schema import metrics_table, observations_table


def refuse_new_spellings(conn: Connection, rows: pd.DataFrame, ids: dict[str, int]) -> None:
    """Refuse, inside the write transaction, an area name that another import has stored in
    another spelling since ``rows`` were checked (``names.area_case_clashes``): two imports at one
    moment could otherwise each add a spelling of one new area.

    A name already stored for the first metric that names it costs one seek; only a name new
    there reads the stored areas. Raises ``StoreError``; the caller's transaction writes nothing.
    """
    if "area" not in rows:
        return
    named = rows.drop_duplicates("area")  # the first row naming each area
    new = [
        area
        for metric, area in zip(named["metric"], named["area"].fillna(""), strict=True)
        if area and not has_values(conn, ids[metric], area)
    ]
    if not new:
        return
    stored = columnar.stored_areas(conn)
    for name, others in area_case_clashes(new, stored).items():
        other, how = printable(others[0]), spelling_difference(name, others)
        if others[0] in stored:
            msg = (
                f'the area "{printable(name)}" differs only {how} from "{other}", which another '
                "import stored while this one was being checked; nothing was written: write it "
                f'"{other}" and import again (area names are matched exactly)'
            )
        else:  # rows that were never checked (``Store`` called directly)
            msg = (
                f'the rows name one area twice, as "{printable(name)}" and "{other}" (they differ '
                f"only {how}); nothing was written: write every area name the same way"
            )
        raise StoreError(msg)


def with_area(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with an ``area`` column of text, ``""`` (citywide) where it has none."""
    if "area" not in frame:
        return frame.assign(area="")
    return frame.assign(area=frame["area"].fillna("").astype(str))


def metric_ids(conn: Connection) -> dict[str, int]:
    return dict(conn.execute(sa.select(metrics_table.c.name, metrics_table.c.id)).all())


def has_values(conn: Connection, metric_id: int, area: str | None = None) -> bool:
    """Whether any value of ``metric_id`` is stored (in ``area``, if given): one seek of the key."""
    o = observations_table
    query = sa.select(o.c.id).where(o.c.metric_id == metric_id)
    if area is not None:
        query = query.where(o.c.area == area)
    return conn.execute(query.limit(1)).first() is not None
