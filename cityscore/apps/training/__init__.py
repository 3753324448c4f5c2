"""The training course (``notebooks/training/``): what a lesson calls as ``training.<name>``.

Each checker takes a learner's answer and returns ``Feedback``: a confirmation, a hint that names the
usual mistake, or "not answered yet" for the ``...`` placeholder. Expected answers are computed from
the learner's own database with the kit, never stored, so they stay right whatever the demo's end date.
Trainers (and the tests) set ``CITYSCORE_TRAINING_STRICT=1`` to make a wrong or missing answer raise
``WrongAnswer`` instead, so a solved notebook that executes without error has every answer right.
"""

from __future__ import annotations

from cityscore.apps.training.checks import (
    FIELD_HINTS,
    QUESTIONS,
    check_baseline,
    check_biggest_drag,
    check_choice,
    check_citywide,
    check_count_below,
    check_entered,
    check_fixed_csv,
    check_lowest,
    check_metric_row,
    check_my_metrics,
    check_query,
    check_score,
    check_stale,
    check_status,
)
from cityscore.apps.training.feedback import (
    STRICT_ENV,
    TOLERANCE,
    Feedback,
    WrongAnswer,
    check_number,
    check_text,
    is_placeholder,
)
from cityscore.apps.training.material import (
    EXAMPLE_METRICS,
    city_system,
    course_date,
    csv_with_mistakes,
    daily_report,
    expected_work_order_values,
    read_csv_text,
    sample_month,
    scratch_folder,
    scratch_kit,
)
from cityscore.apps.training.solutions import SOLUTIONS_FILE, load_solutions, solved

__all__ = [
    "EXAMPLE_METRICS",
    "FIELD_HINTS",
    "QUESTIONS",
    "SOLUTIONS_FILE",
    "STRICT_ENV",
    "TOLERANCE",
    "Feedback",
    "WrongAnswer",
    "check_baseline",
    "check_biggest_drag",
    "check_choice",
    "check_citywide",
    "check_count_below",
    "check_entered",
    "check_fixed_csv",
    "check_lowest",
    "check_metric_row",
    "check_my_metrics",
    "check_number",
    "check_query",
    "check_score",
    "check_stale",
    "check_status",
    "check_text",
    "city_system",
    "course_date",
    "csv_with_mistakes",
    "daily_report",
    "expected_work_order_values",
    "is_placeholder",
    "load_solutions",
    "read_csv_text",
    "sample_month",
    "scratch_folder",
    "scratch_kit",
    "solved",
]
