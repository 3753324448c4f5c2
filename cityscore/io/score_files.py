"""Score frames as files: CSV and JSON text built column by column in Arrow, and Parquet.

The text is exactly what ``DataFrame.to_csv`` and ``json.dumps`` wrote before (the tests compare
them), but each column is formatted with vectorised Arrow kernels, each label (metric, period,
status, note, date) once, and rows are written in chunks formatted on every core, so ten years of
two thousand metrics stream to a file without ever being one string in memory.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cityscore.core.files import write_atomically
from cityscore.core.vocabulary import AREA_SCORE_COLUMNS, SCORE_COLUMNS

CHUNK_ROWS = 200_000
ARROW_LOW, ARROW_HIGH = 1e-4, 1e9  # Arrow prints other floats here as Python does (tested)


def csv_label(value: object) -> str:
    """One field as pandas' ``to_csv`` writes it: through the csv module, quoted where needed."""
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow([value, ""])  # a second field: "" stays bare
    return line.getvalue()[: -len(",\n")]


def _json_label(value: object) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class _Style:
    """How a row is spelled: cell texts, the text around each cell, and between cells."""

    label: Callable[[object], str]  # a label, or a float outside Arrow's range
    missing: str
    separator: str
    prefixes: tuple[str, ...]  # before each column's cell
    end: str  # after the last cell
    whole: str = ".0"  # after a whole number's digits (Python's float repr writes ".0")
    whole_below: float = 1e16  # whole numbers below this are written as digits + ``whole``


def columns_of(scores: pd.DataFrame) -> list[str]:
    """``SCORE_COLUMNS``, or ``AREA_SCORE_COLUMNS`` for scores by area."""
    return AREA_SCORE_COLUMNS if "area" in scores else SCORE_COLUMNS


def _json_style(columns: list[str]) -> _Style:
    prefixes = tuple(
        (" {\n  " if i == 0 else "") + f"{json.dumps(c)}: " for i, c in enumerate(columns)
    )
    return _Style(_json_label, "null", ",\n  ", prefixes, "\n },\n")


def csv_chunks(scores: pd.DataFrame) -> Iterator[bytes | memoryview]:
    """``as_of,metric,period,value,target,score,status,note`` rows as UTF-8 bytes, chunk by chunk
    (views of Arrow buffers: write them, or ``b"".join`` them)."""
    return frame_csv_chunks(scores, columns_of(scores))


def frame_csv_chunks(
    frame: pd.DataFrame,
    columns: list[str],
    label: Callable[[object], str] = csv_label,
    whole: str = ".0",
    whole_below: float = 1e16,
) -> Iterator[bytes | memoryview]:
    """The header and rows of ``frame[columns]`` as CSV bytes, chunk by chunk (quoted where
    needed; a missing cell empty; days as ``YYYY-MM-DD``).

    ``label`` writes each distinct text (and a float outside Arrow's range) once; whole numbers
    below ``whole_below`` are their digits plus ``whole``; other floats print as ``repr``.
    """
    yield (",".join(columns) + "\n").encode()
    style = _Style(label, "", ",", ("",) * len(columns), "\n", whole, whole_below)
    yield from _chunks(frame, style, columns)


def json_chunks(scores: pd.DataFrame) -> Iterator[bytes]:
    """A JSON list of score rows (``null`` for no score), as ``json.dumps(rows, indent=1)`` prints it."""
    opened = False
    for records in _chunks(scores, _json_style(columns_of(scores))):
        yield (b",\n" if opened else b"[\n") + records[: -len(b",\n")].tobytes()
        opened = True
    yield b"\n]" if opened else b"[]"


def write_scores(scores: pd.DataFrame, path: Path, fmt: str) -> None:
    """Write ``scores`` to ``path`` as ``csv``, ``json`` or ``parquet``, streaming the text formats.

    The file appears whole or not at all (written beside it, then renamed); a folder or a path that
    cannot be written is a ``ConfigError`` naming it.
    """
    write_atomically(path, lambda partial: _write(scores, partial, fmt), f"scores.{fmt}")


def _write(scores: pd.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(parquet_table(scores), path)
        return
    write_chunks({"csv": csv_chunks, "json": json_chunks}[fmt](scores), path)


def write_chunks(chunks: Iterable[bytes | memoryview], path: Path) -> None:
    """Write ``chunks`` to ``path``, one after the other."""
    with path.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)


def parquet_table(scores: pd.DataFrame):
    """The score columns as an Arrow table: ``as_of`` a date, labels dictionary-encoded text."""
    columns = columns_of(scores)
    table = pa.Table.from_pandas(scores[columns], preserve_index=False)
    labels = pa.dictionary(pa.int32(), pa.string())
    types = {name: labels for name in ("area", "metric", "period", "status", "note")}
    types |= {name: pa.float64() for name in ("value", "target", "score")}
    types["as_of"] = pa.date32()
    return table.cast(pa.schema([pa.field(name, types[name]) for name in columns]))


# --- chunks of rows -----------------------------------------------------------------------------


def _chunks(
    scores: pd.DataFrame, style: _Style, columns: list[str] | None = None
) -> Iterator[memoryview]:
    """The rows of ``scores`` in ``style``, chunk by chunk, formatted on a few threads in order.

    ``columns``: which, in order (default ``columns_of(scores)``); datetime columns as days.
    """
    columns = columns or columns_of(scores)
    frame = scores[columns]
    last = len(columns) - 1
    cells = [
        _cells(
            pd.to_datetime(frame[name]) if name == "as_of" else frame[name],
            style,
            style.prefixes[i],
            style.end if i == last else "",
        )
        for i, name in enumerate(columns)
    ]

    def rows(start: int) -> memoryview:
        chunk = slice(start, start + CHUNK_ROWS)
        return _joined([cell(chunk) for cell in cells], style.separator)

    workers = max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(workers) as pool:  # Arrow's kernels release the GIL
        pending: deque = deque()
        for start in range(0, len(frame), CHUNK_ROWS):
            pending.append(pool.submit(rows, start))
            if len(pending) > workers:  # a few chunks ahead, never the whole file
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _joined(columns: list, separator: str) -> memoryview:
    """Cells joined row by row, all rows as one run of UTF-8 bytes.

    A view of Arrow's own buffer, not a copy: at 2,000 metrics x 10 years copying each chunk into
    a ``bytes`` cost a second pass over 2.6 GB and a page fault per page of it.
    """
    joined = pc.binary_join_element_wise(*columns, separator)
    _, offsets, data = joined.buffers()
    if data is None:
        return memoryview(b"")
    bounds = np.frombuffer(offsets, dtype=np.int32)[joined.offset : joined.offset + len(joined) + 1]
    return memoryview(data.slice(int(bounds[0]), int(bounds[-1] - bounds[0])))


# --- cells of one column ------------------------------------------------------------------------

Cells = Callable[[slice], object]


def _cells(column: pd.Series, style: _Style, prefix: str, suffix: str) -> Cells:
    """A function from a slice of rows to their cells of ``column`` (Arrow strings, no nulls)."""
    if pd.api.types.is_float_dtype(column.dtype):
        return _float_cells(
            column.to_numpy(dtype=np.float64, na_value=np.nan), style, prefix, suffix
        )
    if pd.api.types.is_datetime64_dtype(column.dtype):
        codes, uniques = pd.factorize(column)
        labels = [style.label(day) for day in uniques.strftime("%Y-%m-%d")]
    elif isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        labels = [style.label(c) for c in column.cat.categories]
    else:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        labels = [style.label(u) for u in uniques]
    return _dictionary_cells(labels, codes, style.missing, prefix, suffix)


def _dictionary_cells(
    labels: list[str] | object, codes: np.ndarray, missing: str, prefix: str, suffix: str
) -> Cells:
    """Cells ``prefix + labels[code] + suffix``; code -1 is ``missing``."""
    texts = pa.array(labels, type=pa.string()) if isinstance(labels, list) else labels
    texts = pc.fill_null(texts, missing)
    texts = pa.concat_arrays([texts, pa.array([missing], type=pa.string())])
    if prefix or suffix:
        texts = pc.binary_join_element_wise(prefix, texts, suffix, "")
    indices = np.where(codes < 0, len(texts) - 1, codes).astype(np.int32)
    return lambda rows: texts.take(pa.array(indices[rows]))


def _float_cells(values: np.ndarray, style: _Style, prefix: str, suffix: str) -> Cells:
    bits = values.view(np.int64)  # factorise the bit patterns: 0.0 and -0.0 print differently
    sample = bits[:: max(1, len(bits) // 10_000)]
    if 2 * len(np.unique(sample)) <= len(sample):  # few distinct values (targets): each once
        codes, uniques = pd.factorize(bits)
        text = _float_text(np.asarray(uniques).view(np.float64), style)
        return _dictionary_cells(text, codes, style.missing, prefix, suffix)

    def cells(rows: slice):
        text = pc.fill_null(_float_text(values[rows], style), style.missing)
        return pc.binary_join_element_wise(prefix, text, suffix, "") if prefix or suffix else text

    return cells


def _float_text(values: np.ndarray, style: _Style):
    """Each float as Python prints it (``repr``, or through ``style.label``), null for NaN and for
    an infinity (never written: ``Infinity`` is not JSON, and no score is infinite).

    Whole numbers below ``style.whole_below`` are printed as integers plus ``style.whole``; others
    between ``ARROW_LOW`` and ``ARROW_HIGH`` by Arrow's cast, which gives ``repr``'s shortest
    digits there (outside that range it switches to exponent notation at other points than
    Python); the rare rest by ``style.label`` itself.
    """
    size = np.abs(values)
    finite = np.isfinite(values)
    negative_zero = (values == 0) & np.signbit(values)
    whole = finite & (values == np.floor(values)) & (size < style.whole_below) & ~negative_zero
    plain = finite & ~whole & (size >= ARROW_LOW) & (size < ARROW_HIGH)
    rest = finite & ~whole & ~plain
    text = pc.cast(pa.array(values, mask=~plain), pa.string())
    if whole.any():
        digits = pc.cast(pa.array(values[whole].astype(np.int64)), pa.string())
        joined = pc.binary_join_element_wise(digits, style.whole, "")
        text = pc.replace_with_mask(text, whole, joined)
    if rest.any():
        printed = pa.array([style.label(float(v)) for v in values[rest]], type=pa.string())
        text = pc.replace_with_mask(text, rest, printed)
    return text
