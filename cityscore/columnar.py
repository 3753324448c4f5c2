"""Bulk reads of the observations table into a DataFrame."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .schema import VALUE_FIELDS, metrics_table, observations_table


def read_observations(
    conn: Connection,
    start: dt.date | None = None,
    end: dt.date | None = None,
    with_source: bool = False,
    areas: bool = False,
) -> pd.DataFrame:
    """Observations (``metric, date, value, numerator, denominator``) by metric and date.

    Citywide rows only, unless ``areas``: then every row, with an ``area`` column after ``date``.
    """
    o, m = observations_table, metrics_table
    columns = [m.c.name.label("metric"), o.c.date, o.c.value, o.c.numerator, o.c.denominator]
    if areas:
        columns.insert(2, o.c.area)
    if with_source:
        columns += [o.c.source, o.c.batch_id]
    query = sa.select(*columns).join(m, m.c.id == o.c.metric_id)
    if not areas:
        query = query.where(o.c.area == "")
    if start is not None:
        query = query.where(o.c.date >= start)
    if end is not None:
        query = query.where(o.c.date <= end)
    result = conn.execute(query.order_by(m.c.name, o.c.area, o.c.date))
    frame = pd.DataFrame(result.all(), columns=list(result.keys()))
    frame["date"] = pd.to_datetime(frame["date"])
    for field in VALUE_FIELDS:
        frame[field] = frame[field].astype(float)
    return frame
