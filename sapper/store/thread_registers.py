"""One register per worker thread, opened again when its connection broke, all closed at shutdown.

sqlite3 and psycopg connections must not be shared by threads working at the same time, so a
server keeps a register per thread; the primary's and the replica's are kept the same way.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from sapper.store.register import Register
from sapper.store.sql import SqlBackend


def connection_lost(backend: SqlBackend) -> bool:
    """A PostgreSQL connection that broke (its server restarted or went away) must be opened again."""
    conn = getattr(backend, "conn", None)
    return bool(getattr(conn, "broken", False) or getattr(conn, "closed", False) is True)


class ThreadRegisters:
    """This thread's register, made by ``open_one`` the first time and again after its connection broke."""

    def __init__(self, open_one: Callable[[], Register]) -> None:
        self._open_one = open_one
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[Register] = []
        self._generation = 0  # bumped by ``renew``: registers opened before it are opened again

    def get(self) -> Register:
        reg: Register | None = getattr(self._local, "register", None)
        stale = getattr(self._local, "generation", 0) != self._generation
        if reg is not None and (stale or connection_lost(reg.backend)):
            self.drop(reg)
            reg = None
        if reg is None:
            self._local.generation = self._generation
            reg = self._open_one()
            self._local.register = reg
            with self._lock:
                self._open.append(reg)
        return reg

    def renew(self) -> None:
        """Every thread opens its register again on its next use: one of their connections was found
        ended by the database (a restart ends them all, and each shows it only when next used)."""
        with self._lock:
            self._generation += 1

    def drop(self, reg: Register) -> None:
        """Forget a register whose connection is gone; the thread opens a new one on its next read."""
        if getattr(self._local, "register", None) is reg:
            self._local.register = None
        with self._lock:
            self._open = [r for r in self._open if r is not reg]
        with contextlib.suppress(Exception):  # its connection is gone already
            reg.close()

    def close_all(self) -> None:
        with self._lock:
            for reg in self._open:
                with contextlib.suppress(Exception):  # closing is best effort at shutdown
                    reg.close()
            self._open.clear()
