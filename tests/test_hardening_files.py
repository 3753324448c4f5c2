"""Files the kit writes: problems files that replace nothing else, CSV cells no spreadsheet runs,
report files under the umask, full disks named with the archive left as it was, dead runs cleared."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from cityscore import Kit
from cityscore.apps.explorer.downloads import selection_csv
from cityscore.apps.report import archive, staging
from cityscore.core.csvsafe import FORMULA_START, PROBLEMS_HEADER, problems_csv
from cityscore.core.errors import ConfigError, ValidationError
from cityscore.io.load import load_metrics
from tests.clirun import run_cli

METRICS = (
    "name,definition,category,unit,direction,kind,aggregation,baseline,trend,weight,target\n"
    "M,,General,,higher,value,mean,target,false,1,10\n"
)
BAD_VALUES = 'metric,date,value\n=HYPERLINK("http://x"),2026-06-01,1\nM,2026-06-02,@SUM(A1)\n'


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(tmp_path, "--db", f"sqlite:///{tmp_path / 'city.db'}", *args)


@pytest.fixture
def city(tmp_path: Path) -> Path:
    (tmp_path / "metrics.csv").write_text(METRICS)
    (tmp_path / "values.csv").write_text(BAD_VALUES)
    for args in (["init"], ["metrics", "import", "metrics.csv"]):
        assert cli(tmp_path, *args).returncode == 0
    return tmp_path


# --- --problems FILE ------------------------------------------------------------------------------


def test_problems_file_is_never_the_input_by_name_symlink_or_hard_link(city: Path) -> None:
    original = (city / "values.csv").read_bytes()
    (city / "link.csv").symlink_to(city / "values.csv")
    os.link(city / "values.csv", city / "hard.csv")
    for given in ("values.csv", "./values.csv", str(city / "values.csv"), "link.csv", "hard.csv"):
        done = cli(city, "values", "import", "values.csv", "--problems", given)
        assert done.returncode != 0
        assert "is the file being imported" in done.stderr, given
        assert "Traceback" not in done.stderr
        assert (city / "values.csv").read_bytes() == original, given


def test_problems_file_replaces_only_an_earlier_problems_file(city: Path) -> None:
    (city / "notes.txt").write_text("my notes\n")
    done = cli(city, "values", "import", "values.csv", "--problems", "notes.txt")
    assert done.returncode != 0
    assert "is not a problems file the kit wrote" in done.stderr
    assert (city / "notes.txt").read_text() == "my notes\n"
    # A new file, then the same file again (an earlier problems file): both written.
    for _ in range(2):
        done = cli(city, "values", "import", "values.csv", "--problems", "problems.csv")
        assert "all problems:" in done.stderr, done.stderr
        assert (city / "problems.csv").read_text().splitlines()[0] == PROBLEMS_HEADER


def test_problems_file_defuses_formula_cells(city: Path) -> None:
    cli(city, "values", "import", "values.csv", "--problems", "problems.csv")
    frame = pd.read_csv(city / "problems.csv", dtype=str, keep_default_na=False)
    assert len(frame) >= 2
    for cell in frame.to_numpy().ravel():
        assert not cell.startswith(FORMULA_START), cell
    assert '\'=HYPERLINK("http://x")' in set(frame["value"])
    assert "'@SUM(A1)" in set(frame["value"])


def test_validation_error_write_problems_refuses_its_input(tmp_path: Path) -> None:
    source = tmp_path / "metrics.csv"
    source.write_text(METRICS.replace("higher", "sideways"))
    with pytest.raises(ValidationError) as exc:
        load_metrics(source)
    with pytest.raises(ConfigError, match="being imported"):
        exc.value.write_problems(source, (source,))
    with pytest.raises(ConfigError, match=r"being imported|not a problems file"):
        exc.value.write_problems(source)  # the Python call, inputs not given
    assert "sideways" in source.read_text()
    assert exc.value.write_problems(tmp_path / "problems.csv").exists()


# --- CSV cells no spreadsheet runs ----------------------------------------------------------------


def test_explorer_prepare_csv_defuses_the_source_column() -> None:
    frame = pd.DataFrame(
        {
            "metric": ["M", "-cmd"],
            "date": pd.to_datetime(["2026-06-01", "2026-06-02"]),
            "value": [-1.5, 2.0],
            "source": ['=WEBSERVICE("http://x")', "\t@x"],
        }
    )
    text = selection_csv(frame)
    back = pd.read_csv(pd.io.common.StringIO(text), dtype=str, keep_default_na=False)
    assert list(back["source"]) == ['\'=WEBSERVICE("http://x")', "'\t@x"]
    assert list(back["metric"]) == ["M", "'-cmd"]
    assert list(back["value"]) == ["-1.5", "2.0"]  # numbers are numbers, not formulas
    assert list(back["date"]) == ["2026-06-01", "2026-06-02"]


def test_problems_csv_keeps_numbers_and_defuses_text() -> None:
    text = problems_csv([(2, "value", -3.0, "negative"), (3, "metric", "+1+1", "unknown")])
    lines = text.splitlines()
    assert lines[0] == PROBLEMS_HEADER
    assert lines[1] == "2,value,-3.0,negative"
    assert lines[2] == "3,metric,'+1+1,unknown"


# --- invisible and bidi characters ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "text"),
    [
        ("name", "EMS\u200bresponse"),  # zero-width space: a second name that looks identical
        ("name", "Score \u202e76.0"),  # right-to-left override
        ("category", "Safety\u2066"),  # left-to-right isolate
        ("unit", "\ufeffminutes"),  # byte-order mark
        ("name", "Tagged\U000e0041"),  # a tag character
    ],
)
def test_format_characters_are_refused_in_metric_files(column: str, text: str) -> None:
    frame = pd.read_csv(pd.io.common.StringIO(METRICS), dtype=str, keep_default_na=False)
    frame.loc[0, column] = text
    with pytest.raises(ValidationError) as exc:
        load_metrics(frame.to_csv(index=False).encode())
    problems = exc.value.problems
    assert (problems["column"] == column).any()
    assert problems["reason"].str.contains("invisible formatting character").any()
    assert "\u202e" not in str(exc.value)  # the message itself cannot reverse a terminal line


def test_format_characters_are_refused_by_the_editor_and_in_areas(kit: Kit) -> None:
    kit.import_metrics(METRICS.encode())
    with pytest.raises(ValidationError, match="invisible formatting character"):
        kit.save_metric("M\u200d", category="General", target=1.0)
    values = "metric,date,value,area\nM,2026-06-01,1,Dorchester\u200b\n"  # looks like Dorchester
    with pytest.raises(ValidationError, match="invisible formatting character"):
        kit.import_values(values.encode())


def test_accented_and_plain_names_are_still_accepted() -> None:
    metrics, _ = load_metrics(METRICS.replace("M,", "Café 311 – résolu,").encode())
    assert list(metrics["name"]) == ["Café 311 – résolu"]


# --- report files: the umask, full disks, bad archive entries, dead runs --------------------------


def _run(code: str, tmp_path: Path, *, umask: int = 0o022, fsize: int | None = None) -> str:
    """Run ``code`` in a fresh Python under ``umask`` (and a file-size limit): its stdout."""
    prelude = textwrap.dedent(
        f"""
        import os, resource, signal
        os.umask({umask:#o})
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        if {fsize!r} is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, ({fsize!r}, {fsize!r}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


SUMMARY = {
    "as_of": "2026-06-01",
    "city_name": "C",
    "cityscore": "0.95",
    "status": "near",
    "spark": [],
}


def _publish_code(day: str, page_size: int) -> str:
    return f"""
        import json
        from pathlib import Path
        from cityscore.apps.report import archive, staging
        summary = dict({SUMMARY!r}, as_of={day!r})
        files = {{
            "cityscore-{day}.ipynb": "{{}}",
            "summary.json": archive.summary_json(summary),
            "cityscore-{day}.html": "x" * {page_size},
        }}
        try:
            staging.publish_folder(Path("reports"), {day!r}, files, archive.update_archive)
            print("published")
        except staging.DiskFullError as exc:
            print("full:", exc)
        """


def test_report_files_follow_a_umask_of_077(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    assert _run(_publish_code("2026-06-01", 100), tmp_path, umask=0o077).strip() == "published"
    written = [p for p in (tmp_path / "reports").rglob("*")]
    assert {p.name for p in written} >= {"index.html", "latest.html", "summary.json", "2026-06-01"}
    for path in written:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, (path, oct(mode))
    # And with the usual umask, readable by the group and others as any new file.
    assert _run(_publish_code("2026-06-02", 100), tmp_path).strip() == "published"
    index = tmp_path / "reports" / "index.html"
    assert stat.S_IMODE(index.stat().st_mode) == 0o644


def test_full_reports_folder_is_named_and_the_archive_is_left_as_it_was(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    assert _run(_publish_code("2026-06-01", 100), tmp_path).strip() == "published"
    before = {str(p): p.read_bytes() for p in reports.rglob("*") if p.is_file()}
    # A file-size limit below the new page: the write fails with EFBIG, as on a full disk.
    for day in ("2026-06-02", "2026-06-01"):  # a new day, and the same day again
        out = _run(_publish_code(day, 300_000), tmp_path, fsize=200_000)
        assert out.startswith("full:"), out
        assert f"the reports folder {Path('reports')} is full" in out
        after = {str(p): p.read_bytes() for p in reports.rglob("*") if p.is_file()}
        assert after == before  # no half-made date folder, the index as it was, no partial file
        assert sorted(p.name for p in reports.iterdir()) == sorted(
            ["2026-06-01", "index.html", "latest.html"]
        )


def test_archive_recovers_from_any_bad_entry(tmp_path: Path) -> None:
    good, bad_json, infinite, odd = "2026-06-04", "2026-06-03", "2026-06-02", "2026-06-01"
    for day in (good, bad_json, infinite, odd):
        (tmp_path / day).mkdir()
        (tmp_path / day / f"cityscore-{day}.html").write_text(f"<p>{day}</p>")
    (tmp_path / good / "summary.json").write_text(archive.summary_json(dict(SUMMARY, as_of=good)))
    (tmp_path / bad_json / "summary.json").write_text('{"as_of": "2026-')
    (tmp_path / infinite / "summary.json").write_text(
        '{"as_of": "2026-06-02", "cityscore": "inf", "spark": [Infinity, 1.0]}'
    )
    (tmp_path / odd / "summary.json").write_bytes(b"\xff\xfe[1, 2]")
    archive.update_archive(tmp_path)
    entries = archive.archive(tmp_path)
    assert [e["as_of"] for e in entries] == [good, bad_json, infinite, odd]
    assert entries[0]["cityscore"] == "0.95"
    assert entries[2]["spark"] == [None, 1.0]
    index = (tmp_path / "index.html").read_text()
    for day in (good, bad_json, infinite, odd):
        assert f'href="{day}/cityscore-{day}.html"' in index
    assert (tmp_path / "latest.html").read_text() == f"<p>{good}</p>"


def test_summary_json_is_strict_json() -> None:
    text = archive.summary_json({"as_of": "x", "spark": [float("inf"), float("nan"), 0.5]})
    assert json.loads(text, parse_constant=lambda n: pytest.fail(n))["spark"] == [None, None, 0.5]


def test_dead_runs_temp_folders_are_cleared(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = tmp_path / f"{staging.TEMP_PREFIX}dead"
    gone.mkdir()
    (gone / "pid").write_text(str(dead.pid))
    (gone / "kernel-1234.json").write_text("{}")
    alive = tmp_path / f"{staging.TEMP_PREFIX}alive"
    alive.mkdir()
    (alive / "pid").write_text(str(os.getpid()))
    unknown = tmp_path / f"{staging.TEMP_PREFIX}unknown"  # no process id: maybe being made
    unknown.mkdir()
    old = tmp_path / f"{staging.TEMP_PREFIX}old"  # no process id, untouched for two days
    old.mkdir()
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    assert sorted(staging.clear_dead_runs(tmp_path)) == sorted([gone, old])
    assert not gone.exists() and not old.exists() and alive.exists() and unknown.exists()


def test_a_run_killed_mid_publish_is_undone_at_the_next(tmp_path: Path) -> None:
    (tmp_path / ".2026-06-01.abc.old").mkdir()  # the old folder moved aside, no new one arrived
    (tmp_path / ".2026-06-01.abc.old" / "summary.json").write_text("{}")
    (tmp_path / ".2026-06-02.xyz.partial").mkdir()  # a staging folder left half-written
    staging.recover(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-06-01"]


def test_terminal_output_shows_a_stored_bidi_override_escaped() -> None:
    from cityscore.cli.options import terminal_text

    # A name an older kit stored: printed, it would reverse the rest of the line.
    assert terminal_text("Score \u202e76.0") == "Score \\u202e76.0"
    assert terminal_text("Café\tok\n") == "Café\tok\n"


def test_sync_refuses_format_characters_and_numbers_out_of_range(kit: Kit, tmp_path: Path) -> None:
    from tests import test_sync

    metrics = test_sync.METRICS
    kit.import_metrics(metrics.encode() if isinstance(metrics, str) else metrics)
    url = f"sqlite:///{tmp_path / 'source.db'}"
    rows = [("2026-01-01", "", 6.0), ("2026-01-01", "Back\u200bBay", 5.0)]
    test_sync.area_source(url, rows)
    with pytest.raises(ValidationError, match="invisible formatting character"):
        kit.sync(test_sync.area_config(url), end="2026-01-31")
    test_sync.area_source(url, [("2026-01-01", "", 1e-320)])
    with pytest.raises(ValidationError, match="too small"):
        kit.sync(test_sync.area_config(url), end="2026-01-31")
    assert kit.observations().empty  # nothing written
