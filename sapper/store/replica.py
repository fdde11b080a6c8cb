"""A streaming replica of a PostGIS register, to spread reads over a second server.

A hot standby made with ``pg_basebackup -R`` replays the primary's write-ahead log (WAL) and
answers read-only queries with the data as of the last WAL record it replayed. Reads that may be
a moment old go there; everything else stays on the primary. A reader who must see a write
(their own) names the primary's WAL position after it: the replica is used for them only once
``pg_last_wal_replay_lsn()`` has reached it. A replica that fails is left alone for a while and
the primary answers instead, so users see slower pages, never errors.
"""

from __future__ import annotations

import logging
import threading
import time

import psycopg

from sapper.model.errors import SapperError
from sapper.store import is_postgres
from sapper.store.async_reads import AsyncReads
from sapper.store.postgis import PostGISBackend, redact
from sapper.store.reads import Read
from sapper.store.register import Register
from sapper.store.sql import SqlBackend
from sapper.store.thread_registers import ThreadRegisters

log = logging.getLogger("sapper.replica")

# Assumptions, not measured: how long reads stay on the primary after the replica failed before it
# is tried again, and how long to wait for its connection (a host that is down must not hold pages).
RETRY_SECONDS = 10.0
CONNECT_SECONDS = 3
# Sizes of a WAL page's header, short and (first page of a segment) long: PostgreSQL's
# SizeOfXLogShortPHD and SizeOfXLogLongPHD on 64-bit machines (src/include/access/xlog_internal.h).
SHORT_PAGE_HEADER = 24
LONG_PAGE_HEADER = 40


def parse_lsn(text: str) -> int:
    """PostgreSQL's ``X/Y`` WAL position (two hex halves) as one number; ValueError if malformed."""
    high, sep, low = text.strip().partition("/")
    if not sep or not high or not low or len(high) > 8 or len(low) > 8:
        raise ValueError(f"not a WAL position: {text!r}")
    return (int(high, 16) << 32) | int(low, 16)


def format_lsn(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def written_lsn(primary: SqlBackend | psycopg.Connection) -> int:
    """The primary's WAL position after every write it has accepted so far.

    The insert position, not the flushed one: with ``synchronous_commit = off`` a commit can be
    inserted but not yet written, and a reader of it must wait until the replica has it. Right
    after a page boundary PostgreSQL names the position past the new page's header, which no
    record reaches until the next write: the boundary itself is where the last record ended.
    """
    sql = (
        "SELECT pg_current_wal_insert_lsn()::text, current_setting('wal_block_size')::bigint, "
        "pg_size_bytes(current_setting('wal_segment_size'))"
    )
    text, page, segment = primary.execute(sql).fetchone()
    lsn = parse_lsn(text)
    header = LONG_PAGE_HEADER if lsn % segment == LONG_PAGE_HEADER else SHORT_PAGE_HEADER
    return lsn - header if lsn % page == header else lsn


REPLAYED_LSN = Read(
    "SELECT pg_last_wal_replay_lsn()::text", [], lambda rows: parse_lsn(rows[0][0]) if rows and rows[0][0] else 0
)


def replayed_lsn(replica: SqlBackend | psycopg.Connection) -> int:
    return REPLAYED_LSN.answer(replica.execute(REPLAYED_LSN.sql).fetchall())


def lost_connection(exc: psycopg.Error) -> bool:
    """The error ended the connection: no answer at all, a connection failure (08), or a shutdown (57P)."""
    state = exc.sqlstate
    return state is None or state.startswith(("08", "57P"))


def with_connect_timeout(url: str) -> str:
    if "connect_timeout=" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}connect_timeout={CONNECT_SECONDS}"


def replica_for(target: str, url: str | None) -> Replica | None:
    """The read replica of a register, if one is named: a PostgreSQL URL, of a PostGIS register only."""
    if not url:
        return None
    if not is_postgres(target):
        raise SapperError(
            f"--read-replica needs a PostGIS register (postgresql://...); {target} is a GeoPackage file, "
            "which has no replicas: serve it without --read-replica"
        )
    if not is_postgres(url):
        raise SapperError(f"--read-replica must be a postgresql:// URL of a hot standby, not {url!r}")
    return Replica(url)


class Replica:
    """Thread-local read-only registers on a standby, and whether it may answer now.

    One standby per URL: the highest replay position seen is remembered, and it only moves forward.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._registers = ThreadRegisters(self._open_one)
        self._down_until = 0.0
        self._replayed = 0
        self._async: AsyncReads | None = None  # the event loop's reads, made in the loop on first use

    def check(self, primary: SqlBackend) -> None:
        """Refuse a URL that is not a standby of this primary's database; warn if it cannot be reached."""
        try:
            backend = PostGISBackend(with_connect_timeout(self.url), read_only=True)
        except ConnectionError as exc:
            log.warning("read replica: %s; reads go to the primary until it answers", self._reason(exc))
            return
        except FileNotFoundError:
            raise SapperError(f"{redact(self.url)} holds no register: it is not a replica of the register") from None
        try:
            sql = "SELECT pg_is_in_recovery(), current_database(), (SELECT system_identifier FROM pg_control_system())"
            standby, database, system = backend.execute(sql).fetchone()
            own_database, own_system = primary.execute(sql).fetchone()[1:]
        finally:
            backend.close()
        where = redact(self.url)
        if not standby:
            raise SapperError(
                f"{where} is not a streaming replica (pg_is_in_recovery() is false): give a hot standby "
                "made from the primary with pg_basebackup -R, or leave out --read-replica"
            )
        if system != own_system or database != own_database:
            raise SapperError(
                f"{where} is not a replica of the register's database ({own_database}): its cluster or "
                f"database ({database}) differ, so its reads would show other data"
            )

    def register(self, needed_lsn: int = 0) -> Register | None:
        """This thread's register on the replica if it may answer a reader who must see ``needed_lsn``."""
        if time.monotonic() < self._down_until:
            return None
        try:
            reg = self._registers.get()
            if needed_lsn > self._replayed:
                self._saw(replayed_lsn(reg.backend))
            return reg if needed_lsn <= self._replayed else None
        except (ConnectionError, FileNotFoundError, psycopg.OperationalError) as exc:
            self.failed(exc)
            return None

    async def reads(self, needed_lsn: int = 0) -> AsyncReads | None:
        """``register`` on the event loop: the replica's async reads, if it may answer now."""
        if time.monotonic() < self._down_until:
            return None
        if self._async is None:
            self._async = AsyncReads(with_connect_timeout(self.url), read_only=True, wait_s=CONNECT_SECONDS)
        try:
            if needed_lsn > self._replayed:
                self._saw(await self._async.run(REPLAYED_LSN))
        except psycopg.OperationalError as exc:  # the pool's time-out too
            self.failed(exc)
            return None
        return self._async if needed_lsn <= self._replayed else None

    def _open_one(self) -> Register:
        return Register(PostGISBackend(with_connect_timeout(self.url), read_only=True), user="server")

    def _saw(self, lsn: int) -> None:
        with self._lock:
            self._replayed = max(self._replayed, lsn)

    def failed(self, exc: BaseException, read: str = "this read") -> None:
        """A lost replica: reads go to the primary for ``RETRY_SECONDS``, then it is tried again.

        A replica busy answering is not lost: a read that waited ``CONNECT_SECONDS`` for one of its
        connections while the replica answered reads on the others goes to the primary alone. Taking
        the replica out for it would send every read to the primary at the moment of most load.
        One line of the log says what happened to ``read`` (the request, where there is one)."""
        if isinstance(exc, psycopg.Error) and not lost_connection(exc):
            # a query refused on a live replica (a recovery conflict, say): no reason to leave it
            log.warning(
                "%s failed on read replica %s (%s); asking the primary", read, redact(self.url), self._reason(exc)
            )
            return
        if self._async is not None and self._async.busy(exc):
            log.info("read replica %s busy: every connection in use; %s goes to the primary", redact(self.url), read)
            return
        with self._lock:
            self._down_until = time.monotonic() + RETRY_SECONDS
        log.warning(
            "read replica %s failed (%s): reads go to the primary for %.0f s, starting with %s",
            redact(self.url),
            self._reason(exc),
            RETRY_SECONDS,
            read,
        )

    def _reason(self, exc: BaseException) -> str:
        """The error's first line, naming the replica as the operator gave it."""
        text = str(exc).strip().replace(redact(with_connect_timeout(self.url)), redact(self.url))
        return text.splitlines()[0] if text else type(exc).__name__

    def close_all(self) -> None:
        self._registers.close_all()

    async def close_reads(self) -> None:
        if self._async is not None:
            await self._async.close()
