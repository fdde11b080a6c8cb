"""Errors a user sees: each names the record and the problem."""

from __future__ import annotations


class SapperError(Exception):
    """Base of every error sapper reports to a user instead of a traceback."""


class InvalidRecord(SapperError):
    def __init__(self, ref: str, problem: str) -> None:
        super().__init__(f"{ref}: {problem}")
        self.ref = ref
        self.problem = problem


class ForbiddenTransition(InvalidRecord):
    """A status change the state machine does not allow."""


class NotFound(SapperError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"{ref} does not exist")
        self.ref = ref


class Conflict(SapperError):
    """The record changed since it was read (optimistic locking)."""

    def __init__(self, ref: str, expected: int, actual: int) -> None:
        super().__init__(
            f"{ref} was changed by someone else (you read version {expected}, "
            f"it is now at version {actual}); read it again and redo your change"
        )
        self.ref = ref
        self.expected = expected
        self.actual = actual
