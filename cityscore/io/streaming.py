"""A large values file read in parts, each checked as a whole file is: memory bounded by the part.

A values CSV larger than ``STREAM_BYTES`` is read ``PART_BYTES`` at a time (cut at a line end,
never inside a quoted cell), the header put before each part so ``load_values`` checks it as it
checks any file. Line numbers in problems are the file's. The import stays all or nothing: the
caller writes the parts in one transaction, and ``ValuesInParts`` raises after the last part if
any part had a problem, which rolls the transaction back. After a first problem no part is
written, but every part is still checked, so the message names every bad row (the first
``MAX_PROBLEMS`` of them, and how many there were in all).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from cityscore.core.errors import PROBLEM_COLUMNS, ValidationError
from cityscore.io import workbook
from cityscore.io.checks import StoredAreas
from cityscore.io.csvtext import Source, source_name

STREAM_BYTES = 64 << 20  # files larger than this are read in parts
PART_BYTES = 16 << 20  # about this much text per part
MAX_PROBLEMS = 1_000  # problems kept for the message and --problems; the rest are counted


def streams(source: Source, fmt: str = "auto") -> bool:
    """Whether ``source`` is a values CSV file large enough to read in parts (a path to a file of
    more than ``STREAM_BYTES``, in the kit's format: not a workbook, JSON or Boston's headerless CSV)."""
    if not isinstance(source, (str, Path)) or fmt not in ("auto", "kit"):
        return False
    path = Path(source)
    if not path.is_file() or path.stat().st_size <= STREAM_BYTES:
        return False
    with path.open("rb") as file:
        start = file.read(8)
        file.seek(0)
        header = file.readline(1 << 20)
    if workbook.is_workbook(start) or workbook.is_old_excel(start):
        return False
    from cityscore.io.load import _detect_values_format  # one rule for which format a file is

    try:
        text = header.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = header.decode("cp1252")
    return _detect_values_format(text) == "kit"


class ValuesInParts:
    """Iterate over a large values file's checked parts (observation frames, as ``load_values``
    returns them); raises ``ValidationError`` at the end if any part had a problem."""

    def __init__(
        self,
        path: Source,
        metrics: pd.DataFrame,
        today: dt.date | None = None,
        date_format: str = "%Y-%m-%d",
        *,
        stored_areas: StoredAreas = None,
        part_bytes: int | None = None,
    ) -> None:
        if not isinstance(path, (str, Path)):  # see ``streams``: only files are read in parts
            msg = f"a file's path is read in parts, not {type(path).__name__}"
            raise TypeError(msg)
        self.path = Path(path)
        self.name = source_name(path)
        self.metrics = metrics
        self.today = today or dt.date.today()
        self.date_format = date_format
        self.stored_areas = stored_areas
        self.part_bytes = part_bytes or PART_BYTES
        self.problems: list[pd.DataFrame] = []
        self.kept = 0  # problems kept (at most MAX_PROBLEMS)
        self.found = 0  # problems found in all
        self.rows = 0
        # About how many rows the file has (a values row is some 30 bytes), for the store.
        self.expected_rows = self.path.stat().st_size // 32

    def __iter__(self) -> Iterator[pd.DataFrame]:
        from cityscore.io.load import load_values

        for header, part, first_line in self._parts():
            try:
                frame = load_values(
                    header + part,
                    self.metrics,
                    self.today,
                    self.date_format,
                    "kit",
                    stored_areas=self.stored_areas,
                )
            except ValidationError as exc:
                self._keep(exc.problems, first_line)
                if (exc.problems["line"] == 1).all():
                    break  # the header's problems: every part would have them
                continue
            if not self.found:  # after a problem, parts are checked but not written
                yield frame
        if self.found:
            self._refuse()

    def _parts(self) -> Iterator[tuple[bytes, bytes, int]]:
        """(header line, a part's lines, the file line of the part's first line)."""
        with self.path.open("rb") as file:
            header = file.readline()
            if not header.endswith(b"\n"):
                header += b"\n"
            line = 2
            while part := file.read(self.part_bytes):
                part += file.readline()  # to the end of the line
                while part.count(b'"') % 2:  # a quoted cell holds a line break: read to its end
                    more = file.readline()
                    if not more:
                        break
                    part += more
                yield header, part, line
                line += part.count(b"\n")
                self.rows += part.count(b"\n")

    def _keep(self, problems: pd.DataFrame, first_line: int) -> None:
        """Keep a part's problems, with the file's line numbers (the part's line 2 is ``first_line``)."""
        header_problems = problems["line"] == 1
        moved = problems.assign(
            line=problems["line"].where(header_problems, problems["line"] - 2 + first_line)
        )
        self.found += len(moved)
        room = MAX_PROBLEMS - self.kept
        if room > 0:
            self.problems.append(moved.head(room)[PROBLEM_COLUMNS])
            self.kept += min(room, len(moved))

    def _refuse(self) -> None:
        frame = pd.concat(self.problems, ignore_index=True)
        note = ""
        if self.found > self.kept:
            note = (
                f"{self.found:,} problems in all; the first {self.kept:,} are listed (the file is "
                "large: fix these and import it again to see the rest)"
            )
        raise ValidationError(self.name, frame, self.rows, note=note)
