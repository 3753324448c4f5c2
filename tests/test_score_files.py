"""Score files: the fast CSV/JSON writers print exactly what pandas and ``json`` printed; Parquet.

``pandas_csv`` and ``json_text`` below are the writers the kit used before (``DataFrame.to_csv`` and
``json.dumps`` of row dicts): the fast ones must give the very same text, byte for byte.
"""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cityscore import Kit
from cityscore.core.vocabulary import SCORE_COLUMNS
from cityscore.io import score_files
from cityscore.pages.render import scores_csv, scores_json

from .conftest import DEMO_END
from .test_cli import run

TRICKY_NAMES = ["Plain", "Comma, here", 'A "quote"', "Line\nbreak", "Carriage\rreturn"]
TRICKY_NAMES += ["Ünïcode — dash <b>", " spaced ", "semi;colon", "tab\there", "back\\slash"]


def pandas_csv(scores: pd.DataFrame) -> str:
    out = scores[SCORE_COLUMNS].copy()
    out["as_of"] = pd.to_datetime(out["as_of"]).dt.strftime("%Y-%m-%d")
    return out.to_csv(index=False, lineterminator="\n")


def json_text(scores: pd.DataFrame) -> str:
    out = scores[SCORE_COLUMNS].copy()
    out["as_of"] = pd.to_datetime(out["as_of"]).dt.strftime("%Y-%m-%d")
    records = [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in out.astype(object).where(out.notna(), None).to_dict("records")
    ]
    return json.dumps(records, indent=1, ensure_ascii=False)


def assert_same_text(scores: pd.DataFrame) -> None:
    """As pandas and ``json`` print the frame, an infinity written as missing (never ``inf`` or
    ``Infinity``, which is not JSON)."""
    finite = scores.replace([math.inf, -math.inf], math.nan)
    assert scores_csv(scores) == pandas_csv(finite)
    assert scores_json(scores) == json_text(finite)


@pytest.fixture(scope="module")
def demo_scores(demo_db_file: Path) -> pd.DataFrame:
    return Kit(f"sqlite:///{demo_db_file}").scores(start="2026-08-01", end=DEMO_END)


def test_demo_scores_print_as_before(demo_scores: pd.DataFrame) -> None:
    assert demo_scores["score"].isna().any() and (demo_scores["note"] == "").any()
    assert demo_scores["status"].isna().any()  # empty scores, notes and statuses all occur
    assert_same_text(demo_scores)


@pytest.mark.slow
def test_chunk_boundaries_change_nothing(
    demo_scores: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = pandas_csv(demo_scores), json_text(demo_scores)
    for rows in (1, 7, len(demo_scores) - 1):
        monkeypatch.setattr(score_files, "CHUNK_ROWS", rows)
        assert (scores_csv(demo_scores), scores_json(demo_scores)) == expected


def test_labels_that_need_quoting_or_escaping(demo_scores: pd.DataFrame) -> None:
    names = demo_scores["metric"].astype(str).unique()
    renamed = dict(zip(names, TRICKY_NAMES * len(names), strict=False))
    tricky = demo_scores.assign(
        metric=demo_scores["metric"].astype(str).map(renamed),  # plain text, not a Categorical
        note=demo_scores["note"].cat.rename_categories(lambda n: f"{n}, and a comma" if n else n),
    )
    assert_same_text(tricky)
    assert_same_text(tricky.assign(metric=pd.Categorical(tricky["metric"])))


def test_no_rows(demo_scores: pd.DataFrame) -> None:
    empty = demo_scores.iloc[:0]
    assert scores_csv(empty) == "as_of,metric,period,value,target,score,status,note\n"
    assert scores_json(empty) == "[]"
    assert_same_text(empty)
    assert_same_text(demo_scores.iloc[:1])


SPECIAL = [0.0, -0.0, 1.0, 1e16, 1e15, 9007199254740993.0, 1e-4, 9.99e-5, 1e9, 999999999.5]
SPECIAL += [0.1 + 0.2, 5e-324, 1.7976931348623157e308, 2.5e20, math.inf, -math.inf, math.nan]


@settings(max_examples=60, deadline=None)
@example([0.0, -0.0])  # few distinct values, told apart by sign alone
@given(
    st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(SPECIAL)),
        min_size=1,
        max_size=60,
    )
)
def test_every_float_prints_as_python_prints_it(values: list[float]) -> None:
    n = len(values)
    frame = pd.DataFrame(
        {
            "as_of": pd.Timestamp("2026-01-01"),
            "metric": "M",
            "period": "day",
            "value": values,
            "target": values[::-1],
            "score": [values[0]] * n,  # few distinct values: the formatted-once path
            "status": None,
            "note": "",
        }
    )
    assert_same_text(frame)


def test_whole_city_of_random_floats_prints_as_before() -> None:
    """Many rows and magnitudes from 1e-8 to 1e20, across chunks: the Arrow path at scale."""
    rng = np.random.default_rng(3)
    n = 30_000
    values = rng.standard_normal(n) * 10.0 ** rng.integers(-8, 20, n)
    whole = rng.random(n) < 0.2
    values[whole] = np.round(values[whole])
    frame = pd.DataFrame(
        {
            "as_of": pd.Timestamp("2026-01-01") + pd.to_timedelta(np.arange(n) // 100, unit="D"),
            "metric": pd.Categorical(rng.choice(TRICKY_NAMES, n)),
            "period": "week",
            "value": values,
            "target": rng.choice([0.9, 6.0, 12.5], n),
            "score": np.where(rng.random(n) < 0.3, np.nan, rng.random(n) * 2),
            "status": pd.Categorical(rng.choice(["meeting", "near", "below"], n)),
            "note": "",
        }
    )
    assert_same_text(frame)


@pytest.mark.slow
def test_cli_writes_csv_json_and_parquet_files(tmp_path: Path, demo_db_file: Path) -> None:
    window = ["score", "--from", "2026-10-01", "--to", str(DEMO_END)]
    printed = run(demo_db_file, *window, "--format", "csv").stdout
    for fmt in ("csv", "json", "parquet"):
        out = tmp_path / "out" / f"scores.{fmt}"
        result = run(demo_db_file, *window, "--format", fmt, "--out", str(out))
        assert f"to {out}" in result.stdout
    assert (tmp_path / "out" / "scores.csv").read_text(encoding="utf-8") == printed
    from_csv = pd.read_csv(tmp_path / "out" / "scores.csv", keep_default_na=False)
    from_json = json.loads((tmp_path / "out" / "scores.json").read_text(encoding="utf-8"))
    assert len(from_json) == len(from_csv)

    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "out" / "scores.parquet")
    assert table.column_names == SCORE_COLUMNS
    types = {f.name: str(f.type) for f in table.schema}
    assert types["as_of"] == "date32[day]"
    assert (
        types["metric"] == types["status"] == "dictionary<values=string, indices=int32, ordered=0>"
    )
    assert types["score"] == "double"
    frame = table.to_pandas()
    assert frame["as_of"].astype(str).tolist() == from_csv["as_of"].tolist()
    assert frame["metric"].astype(str).tolist() == from_csv["metric"].tolist()
    csv_score = pd.to_numeric(from_csv["score"].replace("", np.nan))
    np.testing.assert_array_equal(frame["score"].to_numpy(), csv_score.to_numpy())


def test_parquet_needs_an_out_file(demo_db_file: Path) -> None:
    result = run(demo_db_file, "score", "--format", "parquet", check=False)
    assert result.returncode == 1
    assert "--out" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_cli_score_help_lists_parquet() -> None:
    from .test_cli import CLI

    text = subprocess.run([CLI, "score", "--help"], capture_output=True, text=True).stdout
    assert "parquet" in text
