"""Checks the row validators share: metric and area names, text, dates, conflicting repeats."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from cityscore.core.errors import printable
from cityscore.core.names import (
    area_case_clashes,
    closest,
    fold_name,
    format_characters,
    spelling_difference,
)
from cityscore.core.vocabulary import AREA, EARLIEST, FORMULA_STARTS
from cityscore.io.area_names import KnownAreas, check_catalog_names
from cityscore.io.cells import parse_dates, plain_value
from cityscore.io.problems import Problems

# The area names already stored (e.g. ``Store.areas``); asked only when a file names an area.
StoredAreas = Callable[[], Iterable[str]] | None


def name_key(names: pd.Series) -> pd.Series:
    """How metric names are compared: ``" EMS response "`` and ``"EMS Response"`` are one metric
    (and so are two ways of encoding one accented letter: ``fold_name``)."""
    return names.astype(object).map(lambda n: fold_name(str(n).strip()))


def canonical_names(names: pd.Series, catalog: Iterable[str]) -> pd.Series:
    """Each name as the catalog spells it (ignoring case, surrounding spaces and how accents are
    encoded); NaN if unknown, or if two catalog names are that one name (a catalog from before
    accents were compared so): only their exact spellings are then known."""
    catalog = list(catalog)
    exact = names.isin(set(catalog))
    result = names.where(exact)
    if not exact.all():
        spelled = pd.Series(catalog, dtype=object)
        keys = name_key(spelled)
        unique = ~keys.duplicated(keep=False)
        by_key = dict(zip(keys[unique], spelled[unique], strict=True))
        result[~exact] = name_key(names[~exact]).map(by_key)
    return result


_CONTROL = r"[\x00-\x1f\x7f-\x9f]"
_CONTROL_IN_TEXT = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"  # tabs and line breaks allowed


def check_text_cells(
    problems: Problems,
    rows: pd.DataFrame,
    column: str,
    limit: int | None = None,
    *,
    multiline: bool = False,
    formula: bool = False,
) -> None:
    """Control and invisible format characters (Unicode category Cf), text longer than the store
    keeps, and (names) spreadsheet formulas."""
    text = rows[column].astype(str)
    control = text.str.contains(_CONTROL_IN_TEXT if multiline else _CONTROL, regex=True)
    problems.add_where(
        rows, control, column,
        "holds a control character (a NUL byte, an escape or a line break); remove it",
    )  # fmt: skip
    invisible = ~control & text.str.contains(format_characters(), regex=True)
    problems.add_where(
        rows, invisible, column,
        "holds an invisible formatting character (a zero-width space, a right-to-left override "
        "or a byte-order mark), which makes text look like other text; retype it without one",
    )  # fmt: skip
    if limit is not None:
        problems.add_where(
            rows, text.str.len() > limit, column,
            f"longer than {limit} characters, the most the database keeps; shorten it",
        )  # fmt: skip
    if formula:
        problems.add_where(
            rows, text.str.startswith(FORMULA_STARTS), column,
            f"starts with one of {' '.join(FORMULA_STARTS)}, which a spreadsheet would run as a formula "
            "when the kit's CSV exports are opened; start it with a letter or digit",
        )  # fmt: skip


def per_metric(metric: pd.Series, metrics: pd.DataFrame, column: str, default: object) -> pd.Series:
    """Each row's ``metrics[column]`` for its metric (``default`` where unknown or absent).

    One lookup per distinct metric, then a take: a file has millions of rows but few metrics.
    """
    codes, uniques = pd.factorize(metric)
    table = dict(zip(metrics["name"], metrics[column], strict=True)) if column in metrics else {}
    values = np.array([table.get(u, default) for u in uniques] + [default], dtype=object)
    return pd.Series(values[codes], index=metric.index)  # code -1 (unknown) takes the default


AREA_MAX_LENGTH = 200  # characters in an area name


def with_checked_areas(
    problems: Problems,
    rows: pd.DataFrame,
    frame: pd.DataFrame,
    keys: list[str],
    stored_areas: StoredAreas = None,
) -> tuple[pd.DataFrame, list[str]]:
    """(frame, its key columns) with an ``area`` column when any row names an area."""
    if AREA not in rows or not (rows[AREA].fillna("").to_numpy(dtype=object) != "").any():
        return frame, keys  # no area named (the common, citywide file): no text work per row
    area = rows[AREA].fillna("").astype(str).str.strip()
    if not (area != "").any():
        return frame, keys
    check_area_names(problems, rows, area, stored_areas)
    return frame.assign(area=area.to_numpy()), [keys[0], AREA, *keys[1:]]


def check_area_names(
    problems: Problems, rows: pd.DataFrame, area: pd.Series, stored_areas: StoredAreas = None
) -> None:
    """Area names (stripped, one per row of ``rows``): at most ``AREA_MAX_LENGTH`` characters,
    the checks metric names get (control characters, formula starts), and no second spelling of
    one area (see ``area_case_clashes``), checked once per distinct name."""
    too_long = area.str.len() > AREA_MAX_LENGTH
    problems.add_where(rows, too_long, AREA, f"area names are at most {AREA_MAX_LENGTH} characters")
    check_text_cells(problems, rows.assign(area=area), AREA, formula=True)
    names = [n for n in area.unique() if n]
    if not names:
        return
    stored = set(stored_areas()) if stored_areas is not None else set()
    clashes = area_case_clashes(names, stored)
    if isinstance(stored_areas, KnownAreas):  # the area catalog: unknown areas refused
        check_catalog_names(problems, rows, area, stored_areas, stored, clashes)
    if not clashes:
        return
    clashing = area.isin(list(clashes))
    first_line = rows.loc[clashing, "line"].groupby(area[clashing].to_numpy()).min()
    reasons = {n: _case_reason(n, others, stored, first_line) for n, others in clashes.items()}
    problems.add_where(rows.assign(area=area), clashing, AREA, area.map(reasons))


def _case_reason(name: str, others: list[str], stored: set[str], first_line: pd.Series) -> str:
    """Why ``name`` is refused: it differs only in capitals or accent encoding from ``others``
    (stored, or written in this file, first on ``first_line[other]``)."""
    how = spelling_difference(name, others)
    if others[0] in stored:
        shown = ", ".join(f'"{printable(o)}"' for o in others)
        area = "area" if len(others) == 1 else "areas"
        return (
            f'"{printable(name)}" differs only {how} from the stored {area} {shown}; write it the '
            "same way (area names are matched exactly)"
        )
    shown = ", ".join(f'"{printable(o)}" (line {first_line[o]})' for o in others)
    return (
        f'"{printable(name)}" differs only {how} from {shown} in this file; write every area '
        "name the same way (area names are matched exactly)"
    )


def _format_hint(date_format: str) -> str:
    return date_format.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD")


# Excel counts days from 1899-12-30; a date cell saved as a number reads 45633 (2024-12-07).
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_SERIAL = r"^\d{5}(\.\d+)?$"  # 10000 (1927) to 99999 (2173)


# Forms a refused date cell is tried in, to name the --date-format that reads it (the first wins:
# a day-first 03/04/2026 is named as day-first, the form most of the world writes).
OTHER_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d")


def _date_reasons(text: pd.Series, date_format: str) -> pd.Series:
    """Why each cell of ``text`` is not a date: the form expected, and a hint for a cell that
    looks like an Excel serial date number."""
    plain = f"not a valid date in {_format_hint(date_format)} form"
    reasons = pd.Series(
        plain + "; for dates written another way, import with --date-format (e.g. %d/%m/%Y)",
        index=text.index,
        dtype=object,
    )
    for other in reversed(OTHER_DATE_FORMATS):  # a form that reads the cell is named (first wins)
        reads = parse_dates(text.astype(str).str.strip(), other).notna()
        reasons[reads] = (
            f"{plain}; it reads as {_format_hint(other)}: import with --date-format {other}"
        )
    serial = text.astype(str).str.strip()
    looks = serial.str.match(_SERIAL)
    if looks.any():
        days = EXCEL_EPOCH + pd.to_timedelta(serial[looks].astype(float).astype(int), unit="D")
        reasons[looks] = (
            plain
            + "; this looks like an Excel date number (it would be "
            + days.dt.strftime("%Y-%m-%d")
            + "): format the column as dates, or as text, in the spreadsheet before saving"
        )
    return reasons


def date_format_field_hint(problems: pd.DataFrame, field: str) -> pd.DataFrame:
    """Refused rows (``PROBLEM_COLUMNS``) whose date hints name the form's own date format
    ``field`` (e.g. "Date format") instead of the command line's ``--date-format``."""
    reasons = (
        problems["reason"]
        .astype(str)
        .str.replace("import with --date-format (e.g.", f'set "{field}" (e.g.', regex=False)
        .str.replace("import with --date-format ", f'set "{field}" to ', regex=False)
    )
    return problems.assign(reason=reasons) if len(problems) else problems


def check_dates(problems: Problems, rows: pd.DataFrame, column: str, date_format: str) -> pd.Series:
    when = parse_dates(rows[column], date_format)
    bad = when.isna()
    if bad.any():
        reasons = _date_reasons(rows.loc[bad, column], date_format).reindex(rows.index)
        problems.add_where(rows, bad, column, reasons)
    early = when < pd.Timestamp(EARLIEST)
    problems.add_where(rows, early, column, f"dates before {EARLIEST} are not kept; check the year")
    return when.where(~early)


def check_metric_names(problems: Problems, rows: pd.DataFrame, metrics: pd.DataFrame) -> pd.Series:
    """Each row's metric as the catalog spells it (NaN where unknown, which is recorded)."""
    metric = canonical_names(rows["metric"], metrics["name"])
    unknown = metric.isna()
    names = rows.loc[unknown, "metric"].astype(str)
    hints = {n: "unknown metric" + closest(n, metrics["name"]) for n in names.unique() if n}
    reasons = names.map(lambda n: hints.get(n, "metric name is empty"))
    problems.add_where(rows, unknown, "metric", reasons.reindex(rows.index))
    return metric


def check_conflicts(
    problems: Problems, frame: pd.DataFrame, lines: pd.Series, keys: list[str], values: list[str]
) -> pd.Series:
    """Flag rows that share ``keys`` with another row of the file but differ in ``values``.

    Returns the mask of rows whose keys repeat (valid ones only).
    """
    valid = frame[keys].notna().all(axis=1)
    repeated = frame.duplicated(keys, keep=False) & valid
    subset = frame[repeated].assign(line=lines[repeated])
    if subset.empty:
        return repeated
    distinct = subset.drop_duplicates(keys + values).groupby(keys, dropna=False).size()
    clashing = distinct[distinct > 1].index
    if len(clashing) == 0:
        return repeated
    key_index = (
        pd.MultiIndex.from_frame(subset[keys]) if len(keys) > 1 else pd.Index(subset[keys[0]])
    )
    clash = subset[key_index.isin(clashing)]
    for key, group in clash.groupby(keys, dropna=False):
        others = group["line"].tolist()
        for line in others:
            rest = ", ".join(str(o) for o in others if o != line)
            label = " and ".join(
                str(plain_value(k)) for k in (key if isinstance(key, tuple) else (key,))
            )
            problems.add(
                line,
                keys[-1],
                label,
                f"lines {rest} give a different value for the same {' and '.join(keys)} "
                "(a time of day does not count: one value per metric and day); keep one",
            )
    return repeated
