"""The register as seen from a request: one connection per worker thread.

sqlite3 and psycopg connections must not be shared by threads working at the same time;
FastAPI runs each request's endpoint in a pooled worker thread, so every thread opens the
register once and keeps it. A thread handles one request at a time, so setting the
register's user for the audit log before a write is safe.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass

from fastapi import Request

from sapper.store import Register, open_register
from sapper.store.accounts import Accounts
from sapper.store.plans import PlanRuns


@dataclass
class Settings:
    """How the server was started."""

    target: str
    public: bool = False  # anonymous visitors may read unrestricted records
    token_days: float = 30.0
    imagery: str | None = None  # an MBTiles file or a GeoTIFF shown under the map (e.g. a drone orthophoto)
    max_body_mb: float = 20.0  # largest request body (assumption: a day's reports with polygons take a few MB)
    max_vertices: int = 100_000  # per geometry sent (assumption: a walked boundary has hundreds to a few thousand)
    base_url: str | None = None  # the server's public address (https://mac.example/sapper): every link starts with it
    field_auto_approve: bool = False  # field submissions (ODK Collect) go into the register without a supervisor

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1_000_000)


class Registers:
    """Thread-local registers on one target, all closed when the server stops."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[Register] = []

    def get(self) -> Register:
        reg: Register | None = getattr(self._local, "register", None)
        if reg is not None and _broken(reg):
            reg = None
        if reg is None:
            reg = open_register(self.target, user="server")
            Accounts(reg.backend).ensure()
            PlanRuns(reg.backend).ensure()  # now, not on the first read of plans while an import holds the file
            self._local.register = reg
            with self._lock:
                self._open.append(reg)
        return reg

    def accounts(self) -> Accounts:
        return Accounts(self.get().backend)

    def close_all(self) -> None:
        with self._lock:
            for reg in self._open:
                with contextlib.suppress(Exception):  # closing is best effort at shutdown
                    reg.close()
            self._open.clear()


def _broken(reg: Register) -> bool:
    """A PostGIS connection lost (server restarted) is replaced instead of failing forever."""
    conn = getattr(reg.backend, "conn", None)
    return bool(getattr(conn, "broken", False) or getattr(conn, "closed", False) is True)


def registers(request: Request) -> Registers:
    return request.app.state.registers


def settings(request: Request) -> Settings:
    return request.app.state.settings
