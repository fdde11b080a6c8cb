"""The register as seen from a request: one connection per worker thread.

sqlite3 and psycopg connections must not be shared by threads working at the same time;
FastAPI runs each request's endpoint in a pooled worker thread, so every thread opens the
register once and keeps it. A thread handles one request at a time, so setting the
register's user for the audit log before a write is safe.

Pages written as the reads they need (``sapper.store.reads``) are made on the event loop on
PostGIS, their reads sent through ``page_reads()``, a pool of async connections.

With a read replica, ``get()`` answers the reads a request may take from it (``read_route``,
set by ``sapper.server.replica_reads``) on the replica; writes, accounts and the rest use ``primary()``.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

import anyio
from fastapi import Request

from sapper.store import Register, is_postgres, open_register
from sapper.store.accounts import Accounts
from sapper.store.async_reads import AsyncReads
from sapper.store.plans import PlanRuns
from sapper.store.replica import Replica
from sapper.store.thread_registers import ThreadRegisters


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


@dataclass
class ReadRoute:
    """A request whose reads may go to the replica, once it has replayed ``needed_lsn``."""

    needed_lsn: int = 0
    used_replica: bool = False


read_route: ContextVar[ReadRoute | None] = ContextVar("read_route", default=None)


class Registers:
    """Thread-local registers on one target (and its read replica), all closed when the server stops."""

    def __init__(self, target: str, replica: Replica | None = None) -> None:
        self.target = target
        self.replica = replica
        self._registers = ThreadRegisters(self._open_primary)
        self._reads: AsyncReads | None = None  # the event loop's reads of the primary, made on first use

    def get(self) -> Register:
        """The register this request works on: the replica for reads routed there, if it may answer."""
        route = read_route.get()
        if route is not None and self.replica is not None:
            reg = self.replica.register(route.needed_lsn)
            if reg is not None:
                route.used_replica = True
                return reg
        return self.primary()

    async def page_reads(self) -> AsyncReads | None:
        """Where a page made on the event loop reads, as ``get`` chooses: the replica's or the
        primary's async reads; None on a GeoPackage, whose reads block (pages made in a thread)."""
        if not is_postgres(self.target):
            return None
        route = read_route.get()
        if route is not None and self.replica is not None:
            reads = await self.replica.reads(route.needed_lsn)
            if reads is not None:
                route.used_replica = True
                return reads
        if self._reads is None:
            self._reads = AsyncReads(self.target)
        return self._reads

    def primary(self) -> Register:
        return self._registers.get()

    def renew(self) -> None:
        """The primary's connections were ended (``thread_registers.ThreadRegisters.renew``)."""
        self._registers.renew()

    def _open_primary(self) -> Register:
        reg = open_register(self.target, user="server")
        Accounts(reg.backend).ensure()
        PlanRuns(reg.backend).ensure()  # now, not on the first read of plans while an import holds the file
        return reg

    def accounts(self) -> Accounts:
        return Accounts(self.primary().backend)

    def close_all(self) -> None:
        self._registers.close_all()
        if self.replica is not None:
            self.replica.close_all()

    async def close_reads(self) -> None:
        if self._reads is not None:
            await self._reads.close()
        if self.replica is not None:
            await self.replica.close_reads()


# Pages of a GeoPackage made at once, each in a worker thread: more threads only take turns at the
# interpreter with each other and the event loop. Items pages at 50 clients (bench/README.md): 363
# requests/s and a p99 of 232 ms with up to 16 at once, 478 and 124 ms with 2, 598 and 97 ms with 1.
# Two, so that a long page (a whole layer for a GIS tool) leaves the other for the map's pages.
PAGE_THREADS = 2


def page_threads(request: Request) -> anyio.CapacityLimiter:
    """The limiter of the worker threads that make a GeoPackage's pages (made by the app's lifespan)."""
    return request.app.state.page_threads


def registers(request: Request) -> Registers:
    return request.app.state.registers


def settings(request: Request) -> Settings:
    return request.app.state.settings
