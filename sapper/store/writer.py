"""Writes sent to the database from a thread of their own, while the caller goes on.

A bulk insert's COPY keeps the PostgreSQL server busy for about as long as the client took
to check the rows; sent from here (its text made as the server takes it), the client checks
the next batch meanwhile, as ogr2ogr's client and server work at the same time. Writes run one after the
other, in the order given, on the caller's connection: nothing else may use that connection
until ``wait`` has returned (the backend calls it before every other statement).

The first write that fails stops the queue (what was queued after it is dropped: it would
only fail on the aborted transaction) and its error is raised in the caller's thread by
``wait``, again on every call, until ``discard`` (a rollback) clears it: a failed write can
be neither committed nor lost.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

Job = Callable[[], None]
_STOP = None


class QueuedWrites:
    """One connection's writes in flight, done in order by one thread started on first use."""

    def __init__(self, name: str = "sapper-writer") -> None:
        self._name = name
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._queued = 0  # jobs handed over and not yet done (read and changed under the lock)
        self._done = threading.Condition()
        self._error: BaseException | None = None

    @property
    def pending(self) -> bool:
        """Whether a write is queued or under way (or one failed and was not yet discarded)."""
        with self._done:
            return self._queued > 0 or self._error is not None

    def submit(self, job: Job) -> None:
        """Queue ``job`` after the writes already queued; its error comes back through ``wait``."""
        with self._done:
            if self._error is not None:
                raise self._error
            self._queued += 1
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()
        self._jobs.put(job)

    def wait(self) -> None:
        """Return once every queued write is done; raise the error of one that failed."""
        with self._done:
            self._done.wait_for(lambda: self._queued == 0)
            if self._error is not None:
                raise self._error

    def discard(self) -> BaseException | None:
        """Wait for the write under way, drop the error (the transaction is being rolled back)
        and return it."""
        with self._done:
            self._done.wait_for(lambda: self._queued == 0)
            error, self._error = self._error, None
            return error

    def close(self) -> None:
        """Wait for the writes and stop the thread (an error left is dropped with the connection)."""
        self.discard()
        if self._thread is not None and self._thread.is_alive():
            self._jobs.put(_STOP)
            self._thread.join()
        self._thread = None

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _STOP:
                return
            with self._done:
                failed = self._error is not None
            error: BaseException | None = None
            if not failed:  # after a failure the queued writes are dropped, not run
                try:
                    job()
                except BaseException as exc:  # handed to the caller's thread by ``wait``
                    error = exc
            with self._done:
                if error is not None and self._error is None:
                    self._error = error
                self._queued -= 1
                self._done.notify_all()
