"""The training course: solved lessons execute with every answer accepted; wrong answers get hints.

The solved runs use strict mode (``CITYSCORE_TRAINING_STRICT=1``), where a wrong or missing answer raises
``WrongAnswer``; so a run that completes proves every checker accepted its solution.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from cityscore import CityScoreError, Kit, ValidationError
from cityscore.apps import training
from cityscore.store.copy import copy_sqlite

TRAINING_DIR = Path(__file__).resolve().parent.parent / "notebooks" / "training"
LESSONS = sorted(p.name for p in TRAINING_DIR.glob("[0-9][0-9]_*.ipynb"))


def _exercise_ids(nb: nbformat.NotebookNode) -> list[str]:
    return [c["id"] for c in nb.cells if "exercise" in c.get("metadata", {}).get("tags", [])]


def _outputs(nb: nbformat.NotebookNode) -> str:
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            texts.append(out.get("text") or out.get("data", {}).get("text/plain", ""))
    return "\n".join(texts)


@pytest.fixture
def course_db(demo_db_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kit:
    """A copy of the demo city as $CITYSCORE_DB (the kernel inherits the environment), strict checking on."""
    path = tmp_path / "course.db"
    copy_sqlite(demo_db_file, path)
    monkeypatch.setenv("CITYSCORE_DB", f"sqlite:///{path}")
    monkeypatch.setenv(training.STRICT_ENV, "1")
    return Kit(f"sqlite:///{path}")


def test_lessons_exist():
    assert len(LESSONS) >= 3
    assert (TRAINING_DIR / training.SOLUTIONS_FILE).is_file()


@pytest.mark.parametrize("lesson", LESSONS)
def test_solved_lesson_runs_and_every_answer_is_accepted(lesson: str, course_db: Kit, run_notebook):
    nb = training.solved(TRAINING_DIR / lesson)
    exercises = _exercise_ids(nb)
    assert exercises, f"{lesson} has no exercise cells"
    run_notebook(nb, TRAINING_DIR)
    text = _outputs(nb)
    assert text.count("✔ Correct") == len(exercises), text
    assert "Not yet" not in text and "Not answered" not in text
    assert "/tmp" not in text and str(TRAINING_DIR.parent.parent) not in text  # no machine paths


@pytest.mark.parametrize("lesson", LESSONS)
def test_committed_lesson_is_executed_with_placeholders(lesson: str):
    nb = nbformat.read(TRAINING_DIR / lesson, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), f"{lesson} is not executed top to bottom"
    assert not any(o.output_type == "error" for c in code for o in c.outputs)
    text = _outputs(nb)
    assert text.count("Not answered yet") == len(_exercise_ids(nb))
    for cell in nb.cells:
        if cell["id"] in _exercise_ids(nb):
            assert "..." in cell.source, (
                f"{lesson}: exercise {cell['id']} is not left for the learner"
            )


def test_a_wrong_answer_in_a_lesson_shows_the_hint(
    course_db: Kit, monkeypatch: pytest.MonkeyPatch, run_notebook
):
    monkeypatch.delenv(training.STRICT_ENV)
    lesson = TRAINING_DIR / "01_what_is_a_score.ipynb"
    solutions = training.load_solutions(TRAINING_DIR / training.SOLUTIONS_FILE)
    wrong = dict(solutions[lesson.name])
    wrong["exercise-1-2"] = wrong["exercise-1-2"].replace("4.5 / fire", "fire / 4.5")  # upside down
    nb = training.solved(lesson, {lesson.name: wrong})
    run_notebook(nb, TRAINING_DIR)
    text = _outputs(nb)
    assert "Exercise 1.2 — ✘ Not yet" in text
    assert "divide the other way round (check whether higher or lower is better)" in text
    assert text.count("✔ Correct") == len(_exercise_ids(nb)) - 1


def test_solutions_cover_exactly_the_exercise_cells(tmp_path: Path):
    lesson = TRAINING_DIR / LESSONS[0]
    solutions = training.load_solutions(TRAINING_DIR / training.SOLUTIONS_FILE)
    incomplete = {lesson.name: dict(list(solutions[lesson.name].items())[1:])}
    with pytest.raises(CityScoreError, match="without a solution"):
        training.solved(lesson, incomplete)


def test_wrong_answer_gets_the_helpful_message(demo_kit: Kit, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(training.STRICT_ENV, raising=False)
    scores = demo_kit.scores()
    row = scores[(scores["metric"] == "Fire Response Time") & (scores["period"] == "day")].iloc[0]
    inverted = training.check_score(
        demo_kit, "1.2", "Fire Response Time", "day", row["value"] / row["target"]
    )
    assert not inverted.ok
    assert "other way round" in inverted.message and "lower is better" in inverted.message
    right = training.check_score(demo_kit, "1.2", "Fire Response Time", "day", row["score"])
    assert right.ok and "✔ Correct" in repr(right)
    assert (
        training.check_score(demo_kit, "1.2", "Fire Response Time", "day", ...).status
        == "unanswered"
    )


def test_strict_mode_raises_a_cityscore_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(training.STRICT_ENV, "1")
    with pytest.raises(training.WrongAnswer, match="missing score as 0"):
        training.check_citywide("1.3", [1.2, 0.8, None, 1.0], 0.75)
    assert issubclass(training.WrongAnswer, CityScoreError)


def test_ratio_mistake_is_named(kit: Kit, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(training.STRICT_ENV, raising=False)
    kit.import_metrics(b"name,direction,kind,target\nRepairs On Time,higher,ratio,0.5\n")
    kit.import_values(
        b"metric,date,numerator,denominator\n"
        b"Repairs On Time,2026-10-30,2,2\nRepairs On Time,2026-10-31,1,10\n"
    )
    # Right: (2+1)/(2+10) / 0.5 = 0.5. Averaging the daily shares: (1 + 0.1)/2 / 0.5 = 1.1.
    assert training.check_score(kit, "1.1", "Repairs On Time", "week", 0.5).ok
    feedback = training.check_score(kit, "1.1", "Repairs On Time", "week", 1.1)
    assert not feedback.ok and "numerators and denominators" in feedback.message


def test_metric_row_checker_explains_the_field():
    header = "name,direction,kind,target\n"
    wrong = training.check_metric_row(
        "2.1", header + "Inspections,higher,ratio,85\n", {"target": 0.85}
    )
    assert not wrong.ok  # 85 as a ratio target imports, but it is not a share
    assert "share between 0 and 1" in wrong.message
    bad = training.check_metric_row(
        "2.1", header + "Inspections,up,ratio,0.85\n", {"direction": "higher"}
    )
    assert not bad.ok and "line 2, column direction" in bad.message


def test_csv_with_mistakes_and_its_fix(demo_kit: Kit, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(training.STRICT_ENV, raising=False)
    bad = training.csv_with_mistakes(demo_kit)
    with pytest.raises(ValidationError) as caught:
        demo_kit.import_values(bad.encode())
    assert caught.value.problems["line"].nunique() == 4
    assert not training.check_fixed_csv(demo_kit, "3.2", bad).ok
    lines = bad.splitlines()
    deleted = "\n".join([lines[0], *lines[5:]]) + "\n"
    dropped = training.check_fixed_csv(demo_kit, "3.2", deleted)
    assert not dropped.ok and "don't delete" in dropped.message
    fixed = _fix(bad)
    assert training.check_fixed_csv(demo_kit, "3.2", fixed).ok
    rows = training.read_csv_text(fixed)
    rows.loc[rows["metric"] == "Park Permits Issued", "value"] = "99999"
    wrong_number = rows.to_csv(index=False)
    assert not training.check_fixed_csv(demo_kit, "3.2", wrong_number).ok


def _fix(bad: str) -> str:
    rows = training.read_csv_text(bad)
    rows["metric"] = rows["metric"].str.replace("Pothole Repair On", "Pothole Repairs On")
    rows["value"] = rows["value"].str.replace(",", ".").str.replace(" permits", "")
    european = rows["date"].str.contains("/")
    converted = pd.to_datetime(rows["date"][european], format="%d/%m/%Y").dt.strftime("%Y-%m-%d")
    rows.loc[european, "date"] = converted
    return rows.to_csv(index=False)


def test_query_checker(demo_kit: Kit, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(training.STRICT_ENV, raising=False)
    url = training.city_system(demo_kit)
    good = (
        "SELECT 'Pothole Repairs On Time' AS metric, date(closed_at) AS date, "
        "SUM(closed_at <= due_at) AS numerator, COUNT(*) AS denominator "
        "FROM work_orders WHERE kind = 'pothole' AND closed_at IS NOT NULL GROUP BY date(closed_at)"
    )
    assert training.check_query("3.3", url, good, "pothole", "Pothole Repairs On Time").ok
    every_kind = good.replace("kind = 'pothole' AND ", "")
    wrong = training.check_query("3.3", url, every_kind, "pothole", "Pothole Repairs On Time")
    assert not wrong.ok and "count only this kind" in wrong.message
    broken = training.check_query("3.3", url, "SELEC 1", "pothole", "Pothole Repairs On Time")
    assert not broken.ok and "rejected the query" in broken.message


def test_scratch_kit_leaves_the_course_database_alone(
    course_db: Kit, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv(training.STRICT_ENV, raising=False)
    scratch = training.scratch_kit()
    assert scratch.latest_date() == course_db.latest_date()
    before = len(course_db.observations())
    day = course_db.latest_date() + dt.timedelta(days=1)
    scratch.import_values(f"metric,date,value\nLibrary Users,{day},5\n".encode())
    assert len(course_db.observations()) == before
    assert len(scratch.observations()) == before + 1


def test_own_city_metrics_checker_explains_what_is_missing():
    header = "name,direction,kind,target,baseline\n"
    four = header + "".join(f"M{i},higher,value,1,\n" for i in range(4))
    assert "at least five" in training.check_my_metrics("5.1", four).message
    history = (
        header + "".join(f"M{i},higher,value,1,\n" for i in range(4)) + "H,lower,value,,history\n"
    )
    feedback = training.check_my_metrics("5.1", history)
    assert not feedback.ok and "90 days" in feedback.message
    one_way = header + "".join(f"M{i},higher,value,1,\n" for i in range(5))
    assert "lower-is-better" in training.check_my_metrics("5.1", one_way).message
    both = one_way + "L,lower,value,3,\n"
    assert training.check_my_metrics("5.1", both).ok


@pytest.mark.parametrize(("score", "status"), [(1.0, "meeting"), (0.9, "near"), (0.8999, "below")])
def test_status_checker_uses_the_bands(score: float, status: str):
    assert training.check_status("4.2", score, status).ok
    assert not training.check_status("4.2", score, "nearly").ok


def test_entry_and_follow_up_checkers(kit: Kit, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(training.STRICT_ENV, raising=False)
    kit.import_metrics(b"name,direction,kind,target\nA,higher,value,10\nB,lower,value,5\n")
    result = kit.import_values(
        b"metric,date,value\nA,2026-10-31,8\nB,2026-10-31,4\nA,2026-10-30,9\nB,2026-10-30,6\n"
    )
    day = dt.date(2026, 10, 31)
    assert training.check_entered(kit, "3.1", result, "A", day, 8).ok
    wrong = training.check_entered(kit, "3.1", result, "A", day, 8.5)
    assert not wrong.ok and "asks for 8.5" in wrong.message
    # Week scores: A = mean(8, 9) / 10 = 0.85; B = 5 / mean(4, 6) = 1.0 -> A is lowest.
    assert training.check_lowest(kit, "5.3", "a ", period="week").ok
    assert not training.check_lowest(kit, "5.3", "B", period="week").ok
    near_too = training.check_count_below(kit, "4.3", 2, period="week")
    assert training.check_count_below(kit, "4.3", 1, period="week").ok
    assert not near_too.ok


def test_methodology_worked_examples_hold(kit: Kit):
    """The numbers docs/methodology.md works through, computed by the engine."""
    kit.import_metrics(
        b"name,direction,kind,aggregation,target,weight\n"
        b"Calls,higher,ratio,,0.9,1\nEMS,lower,value,median,6.0,1\nPermits,higher,value,sum,25,2\n"
    )
    days = pd.date_range("2026-10-25", "2026-10-31").strftime("%Y-%m-%d")
    num, den = [36, 40, 38, 41, 35, 20, 15], [40, 44, 42, 45, 39, 22, 18]
    ems = [6.1, 6.4, 5.9, 7.0, 6.3, 6.6, 6.2]
    permits = [20, 25, 18, 22, 21, 17, 15]  # total 138
    lines = ["metric,date,value,numerator,denominator"]
    for i, day in enumerate(days):
        lines += [
            f"Calls,{day},,{num[i]},{den[i]}",
            f"EMS,{day},{ems[i]},,",
            f"Permits,{day},{permits[i]},,",
        ]
    kit.import_values(("\n".join(lines) + "\n").encode())
    week = kit.scores("2026-10-31").query("period == 'week'").set_index("metric")
    assert week.loc["Calls", "value"] == pytest.approx(0.90)
    assert week.loc["Calls", "score"] == pytest.approx(1.0)
    assert week.loc["EMS", "value"] == pytest.approx(6.3)
    assert week.loc["EMS", "score"] == pytest.approx(6.0 / 6.3)
    assert week.loc["Permits", "target"] == pytest.approx(175)
    assert week.loc["Permits", "score"] == pytest.approx(138 / 175)
    # CityScore with weight 2 on Permits: (1.0 + 6/6.3 + 2 * 138/175) / 4
    expected = (1.0 + 6.0 / 6.3 + 2 * 138 / 175) / 4
    assert week.loc["CityScore", "score"] == pytest.approx(expected)


def test_lesson_3_unit_after_a_number_gets_a_short_message(
    demo_kit: Kit, monkeypatch: pytest.MonkeyPatch
):
    """'9 permits' is told to drop the unit, not given the decimal-comma advice meant for '6,81'."""
    monkeypatch.delenv(training.STRICT_ENV, raising=False)
    with pytest.raises(ValidationError) as caught:
        demo_kit.import_values(training.csv_with_mistakes(demo_kit).encode())
    problems = caught.value.problems.set_index("value")["reason"]
    permits = next(v for v in problems.index if str(v).endswith(" permits"))
    assert problems[permits] == "not a number: type the number only, without a unit"
    comma = next(v for v in problems.index if "," in str(v))
    assert "decimals with a dot" in problems[comma] and "unit" not in problems[comma]
