"""Reads of a PostGIS register on a server's event loop: a page waits for PostgreSQL without a thread.

A server runs each plain (sync) endpoint in a worker thread. Under load the hand-offs to those
threads and back, and the threads' turns at the interpreter with the event loop, cost more than
the page: with 50 clients on two servers, the items page made in threads answered 812 requests/s
with a p99 of 153 ms, and its reads sent from the event loop 1,108 requests/s with a p99 of 64 ms
(``bench/national_servers_bench.py``, bench/README.md). A page written as ``reads.Steps`` is
driven here, its reads sent through a small pool of asynchronous connections; a GeoPackage's
sqlite3 reads cannot wait that way, so its pages stay in the worker threads (``reads.drive``).
"""

from __future__ import annotations

import time
from typing import Any, TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from sapper.store.postgis import PostGISBackend
from sapper.store.reads import Read, Steps

T = TypeVar("T")
R = TypeVar("R")

# Connections per server process. An assumption, sized by the benchmark above: a page's read takes
# about a millisecond of PostgreSQL's time, so a few connections keep it busy for one process; more
# only queue in PostgreSQL instead of here.
POOL_SIZE = 4
# How long a read waits for a free connection, or for the first one to open, before it fails (the
# server answers 503 with Retry-After). An assumption: a page read takes milliseconds, so a read that
# found no connection in 10 s meets a stalled or unreachable database, and is better refused than left
# hanging as long as a proxy's timeout.
WAIT_SECONDS = 10.0


class AsyncReads:
    """A pool of asynchronous connections to one database, opened on first use in the running loop."""

    def __init__(self, url: str, *, read_only: bool = False, wait_s: float | None = None) -> None:
        # Writes the reads' SQL and decodes their geometries, as the register's own backend does.
        self.dialect = PostGISBackend.unconnected()
        self._read_only = read_only
        self._wait_s = WAIT_SECONDS if wait_s is None else wait_s
        self._answered_at = float("-inf")  # time.monotonic() when a read last got its answer
        self._pool = AsyncConnectionPool(
            url,
            min_size=POOL_SIZE,
            max_size=POOL_SIZE,
            kwargs={"autocommit": True},
            configure=self._configure,
            timeout=self._wait_s,
            open=False,
        )

    async def _configure(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """The settings ``PostGISBackend`` gives its own connection, for the same plans and rights."""
        await conn.execute("SET jit = off")
        if self._read_only:
            await conn.execute("SET default_transaction_read_only = on")

    async def run(self, read: Read[T]) -> T:
        """The read's answer. A connection found broken (the database restarted, or ended it) is
        replaced, with every idle one that broke too, and the read asked once more: a read changes
        nothing, so asking again is safe, and readers see one slow page, not an error."""
        await self._pool.open()  # once; later calls return at once
        async with self._pool.connection() as conn:
            try:
                return await self._asked(conn, read)
            except psycopg.OperationalError:
                if not conn.broken:
                    raise
        await self._pool.check()
        async with self._pool.connection() as conn:
            return await self._asked(conn, read)

    def busy(self, exc: BaseException) -> bool:
        """Whether ``exc`` is a wait for a connection that ran out while the database went on answering
        the reads on the others: it is busy, not lost. (A read under way is no sign: on a host that
        vanished, it waits for TCP to give up, hours by default; answers are.)"""
        return isinstance(exc, PoolTimeout) and time.monotonic() - self._answered_at < self._wait_s

    async def _asked(self, conn: psycopg.AsyncConnection[Any], read: Read[T]) -> T:
        answer = await _ask(conn, read)
        self._answered_at = time.monotonic()
        return answer

    async def drive(self, steps: Steps[R]) -> R:
        """``reads.drive`` on the event loop: each read waits here, not in a thread."""
        try:
            read = next(steps)
            while True:
                read = steps.send(await self.run(read))
        except StopIteration as done:
            return done.value

    async def close(self) -> None:
        await self._pool.close()


async def _ask(conn: psycopg.AsyncConnection[Any], read: Read[T]) -> T:
    cursor = await conn.execute(read.sql, read.params or None)
    return read.answer(await cursor.fetchall())
