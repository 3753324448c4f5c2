"""What a checker returns: ``Feedback`` (correct, a hint that names the usual mistake, or not
answered yet) and the number and text comparisons the lessons' checkers build on.

Trainers (and the tests) set ``CITYSCORE_TRAINING_STRICT=1`` to make a wrong or missing answer raise
``WrongAnswer`` instead, so a solved notebook that executes without error has every answer right.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cityscore.core.errors import CityScoreError
from cityscore.core.names import closest

STRICT_ENV = "CITYSCORE_TRAINING_STRICT"
TOLERANCE = 0.005  # answers within half a hundredth count: learners read rounded numbers


class WrongAnswer(CityScoreError):
    """Raised in strict mode when an exercise's answer is wrong or missing."""


@dataclass(frozen=True)
class Feedback:
    """A checker's verdict: ``status`` is ``correct``, ``wrong`` or ``unanswered``."""

    exercise: str
    status: str
    message: str

    @property
    def ok(self) -> bool:
        return self.status == "correct"

    def __repr__(self) -> str:
        mark = {"correct": "✔ Correct", "wrong": "✘ Not yet", "unanswered": "… Not answered yet"}
        return f"Exercise {self.exercise} — {mark[self.status]}: {self.message}"

    __str__ = __repr__


def verdict(exercise: str, status: str, message: str) -> Feedback:
    """The feedback; in strict mode a wrong or missing answer raises ``WrongAnswer`` instead."""
    feedback = Feedback(exercise, status, message)
    if status != "correct" and os.environ.get(STRICT_ENV) == "1":
        raise WrongAnswer(repr(feedback))
    return feedback


def unanswered(exercise: str) -> Feedback:
    """The feedback for an answer still ``...``."""
    return verdict(
        exercise, "unanswered", "replace the `...` with your answer and run the cell again."
    )


def is_placeholder(answer: object) -> bool:
    """True for the ``...`` a learner has not replaced yet."""
    return answer is Ellipsis


def close_enough(a: float, b: float, tolerance: float = TOLERANCE) -> bool:
    """True when both are finite and within ``tolerance`` of each other."""
    return bool(np.isfinite(a) and np.isfinite(b) and abs(a - b) <= tolerance)


def check_number(
    exercise: str,
    answer: object,
    expected: float,
    what: str,
    mistakes: Mapping[str, float] | None = None,
    tolerance: float = TOLERANCE,
) -> Feedback:
    """Compare a numeric answer with ``expected``; name the mistake if it matches a known wrong result.

    ``mistakes`` maps a hint (what the learner probably did) to the number that mistake produces.
    """
    if is_placeholder(answer):
        return unanswered(exercise)
    try:
        value = float(answer)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return verdict(
            exercise, "wrong", f"the answer should be a number ({what}); got {answer!r}."
        )
    if close_enough(value, expected, tolerance):
        return verdict(exercise, "correct", f"{what} is {expected:.4g}.")
    for hint, wrong in (mistakes or {}).items():
        if close_enough(value, wrong, tolerance):
            return verdict(exercise, "wrong", f"{value:.4g} is what you get if you {hint}.")
    return verdict(
        exercise,
        "wrong",
        f"{value:.4g} is not {what}. Check the formula in the lesson and try again.",
    )


def check_text(
    exercise: str, answer: object, expected: str | Sequence[str], what: str, why: str = ""
) -> Feedback:
    """Compare a name or word with the expected one(s), ignoring case and surrounding spaces."""
    if is_placeholder(answer):
        return unanswered(exercise)
    allowed = [expected] if isinstance(expected, str) else list(expected)
    given = str(answer).strip().casefold()
    if given in {a.casefold() for a in allowed}:
        return verdict(exercise, "correct", f"{what} is {' / '.join(allowed)}. {why}".strip())
    hint = closest(str(answer), allowed)
    return verdict(exercise, "wrong", f"{answer!r} is not {what}{hint}. {why}".strip())
