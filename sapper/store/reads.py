"""A read as data: its SQL, its parameters and how its rows become the answer.

A page that reads the register is written once, as a generator that yields the reads it needs
and gets each one's answer back (the way psycopg itself is written). ``drive`` runs it on a
register's own connection, in the calling thread; ``sapper.store.async_reads`` runs the same
generator on a server's event loop, where a PostGIS read waits without holding a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sapper.store.sql import SqlBackend

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Read(Generic[T]):
    """One SELECT and what its rows mean."""

    sql: str
    params: list[Any]
    answer: Callable[[Sequence[Sequence[Any]]], T]


# A page, a report...: yields reads, is sent each one's answer, returns its result.
Steps = Generator[Read[Any], Any, R]


def run(backend: SqlBackend, read: Read[T]) -> T:
    return read.answer(backend.execute(read.sql, read.params).fetchall())


def drive(steps: Steps[R], backend: SqlBackend) -> R:
    """Runs ``steps`` to their end, each read on ``backend``, in this thread."""
    try:
        read = next(steps)
        while True:
            read = steps.send(run(backend, read))
    except StopIteration as done:
        return done.value
