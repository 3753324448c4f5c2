"""Dates typed on the command line: ISO ``YYYY-MM-DD`` between the earliest stored day and today."""

from __future__ import annotations

import datetime as dt

EARLIEST_DATE = dt.date(1900, 1, 1)  # as the catalog's EARLIEST: no value is dated before it


def date_argument(text: str) -> dt.date:
    """A command-line date: ISO ``YYYY-MM-DD``, from 1900-01-01 up to today (argparse ``type=``)."""
    import argparse

    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        msg = f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. {dt.date.today()}"
        raise argparse.ArgumentTypeError(msg) from None
    if day < EARLIEST_DATE:
        msg = f"{day} is before {EARLIEST_DATE}, the earliest date the kit stores"
        raise argparse.ArgumentTypeError(msg)
    if day > dt.date.today():
        msg = f"{day} is in the future; give a date up to today ({dt.date.today()})"
        raise argparse.ArgumentTypeError(msg)
    return day
