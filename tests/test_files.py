"""The one atomic write: whole files, the user's umask, clear errors."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cityscore import ConfigError
from cityscore.core.files import write_atomically


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    os.umask(old)
    yield
    os.umask(old)


@pytest.mark.usefixtures("umask")
@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_written_file_follows_the_umask(tmp_path: Path, mask: int, mode: int) -> None:
    os.umask(mask)
    path = write_atomically(tmp_path / "scores.csv", "a,b\n")
    assert path.read_text() == "a,b\n"
    assert path.stat().st_mode & 0o777 == mode


def test_a_callback_writes_the_file_and_nothing_partial_is_left(tmp_path: Path) -> None:
    write_atomically(tmp_path / "x.bin", lambda partial: partial.write_bytes(b"\x00\x01"))
    assert (tmp_path / "x.bin").read_bytes() == b"\x00\x01"
    assert [p.name for p in tmp_path.iterdir()] == ["x.bin"]


def test_a_failed_write_leaves_the_old_file_and_no_partial(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("yesterday")

    def fail(partial: Path) -> None:
        partial.write_text("half")
        raise RuntimeError("stopped")

    with pytest.raises(RuntimeError):
        write_atomically(target, fail)
    assert target.read_text() == "yesterday"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_a_folder_is_refused_with_a_file_name_to_use(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"is a folder; give a file name to write to, e.g. .*x.csv"
    ):
        write_atomically(tmp_path, "text", example="x.csv")
