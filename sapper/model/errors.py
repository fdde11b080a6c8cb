"""Errors a user sees: each names the record and the problem."""

from __future__ import annotations

from sapper.i18n import N_


class Problem(str):
    """A sentence that keeps its template and values: it reads as English, and is translated where it is shown.

    ``Problem(N_("priority {priority} is outside 1 to 5"), priority=7)``: translators see the template with its
    named fields (and may reorder them); a value that is itself a Problem is translated too.
    """

    template: str
    params: dict[str, object]

    def __new__(cls, template: str, **params: object) -> Problem:
        made = super().__new__(cls, template.format(**params) if params else template)
        made.template = template
        made.params = params
        return made


class SapperError(Exception):
    """Base of every error sapper reports to a user instead of a traceback."""


class InvalidRecord(SapperError):
    TEMPLATE = N_("{ref}: {problem}")  # translated where the error is shown (server/errors.py)

    def __init__(self, ref: str, problem: str) -> None:
        super().__init__(self.TEMPLATE.format(ref=ref, problem=problem))
        self.ref = ref
        self.problem = problem


class ForbiddenTransition(InvalidRecord):
    """A status change the state machine does not allow."""


class NotFound(SapperError):
    TEMPLATE = N_("{ref} does not exist")

    def __init__(self, ref: str) -> None:
        super().__init__(self.TEMPLATE.format(ref=ref))
        self.ref = ref


class Conflict(SapperError):
    """The record changed since it was read (optimistic locking)."""

    TEMPLATE = N_(
        "{ref} was changed by someone else (you read version {expected}, it is now at version {actual}); "
        "read it again and redo your change"
    )

    def __init__(self, ref: str, expected: int, actual: int) -> None:
        super().__init__(self.TEMPLATE.format(ref=ref, expected=expected, actual=actual))
        self.ref = ref
        self.expected = expected
        self.actual = actual
