"""Which requests read from the replica, and how a user still sees their own writes.

GET and HEAD requests on ``READ_PATHS`` (OGC features and tiles, the web pages' data, the sitrep,
tasks, history) may be answered by the read replica; everything else (writes, accounts, logins,
plan runs and jobs, PDF reports, which may queue a job, field forms) goes to the primary. After
a write the answer carries the primary's WAL position in the ``sapper_lsn`` cookie and the
``Sapper-Wal-Lsn`` header; a later read carrying either is answered by the replica only once it
has replayed that far, else by the primary. A read the replica fails (it went down mid-query, or
the read turned out to write) is asked again of the primary: a lost replica costs time, not errors.
"""

from __future__ import annotations

import logging

import anyio.to_thread
import psycopg
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sapper.server.asking_again import Watched, empty_body_then
from sapper.server.context import ReadRoute, Registers, read_route
from sapper.store.replica import format_lsn, parse_lsn, written_lsn

log = logging.getLogger("sapper.server")

READ_PATHS = (
    "/ogc/",
    "/ui/api/",
    "/api/sitrep",
    "/api/activities",
    "/api/history/",
    "/api/plans/stored",
    "/api/plans/compare",
)
LSN_COOKIE = "sapper_lsn"
LSN_HEADER = "sapper-wal-lsn"
COOKIE_SECONDS = 86_400  # longer than any replica lag worth reading through (assumption)


def may_read_replica(method: str, path: str) -> bool:
    return method in ("GET", "HEAD") and path.startswith(READ_PATHS)


def needed_lsn(headers: Headers) -> int:
    """The WAL position this reader must see: from the header, else the cookie; 0 if none (or garbled)."""
    text = headers.get(LSN_HEADER) or cookie_parser(headers.get("cookie", "")).get(LSN_COOKIE, "")
    try:
        return parse_lsn(text) if text else 0
    except ValueError:
        return 0


class ReplicaReads:
    """Sends the reads it may to the replica; marks every write's answer with the primary's WAL position."""

    def __init__(self, app: ASGIApp, registers: Registers) -> None:
        self.app = app
        self.registers = registers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.registers.replica is None:
            await self.app(scope, receive, send)
        elif may_read_replica(scope["method"], scope["path"]):
            await self._read(scope, receive, send)
        elif scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
        else:
            await self.app(scope, receive, self._marking_writes(send))

    async def _read(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = ReadRoute(needed_lsn(Headers(scope=scope)))
        watched = Watched(send)
        token = read_route.set(route)
        try:
            await self.app(scope, receive, watched)
            return
        except psycopg.Error as exc:
            if watched.started or not route.used_replica or self.registers.replica is None:
                raise
            self.registers.replica.failed(exc, read=f"{scope['method']} {scope['path']}")
        finally:
            read_route.reset(token)
        await self.app(scope, empty_body_then(receive), send)

    def _marking_writes(self, send: Send) -> Send:
        async def mark(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                try:
                    lsn = format_lsn(await anyio.to_thread.run_sync(self._primary_lsn))
                except psycopg.Error as exc:  # the answer matters more than the mark
                    log.warning("could not read the primary's WAL position: %s", exc)
                else:
                    headers = MutableHeaders(scope=message)
                    headers.append(LSN_HEADER, lsn)
                    cookie = f"{LSN_COOKIE}={lsn}; Path=/; Max-Age={COOKIE_SECONDS}; HttpOnly; SameSite=Lax"
                    headers.append("set-cookie", cookie)
            await send(message)

        return mark

    def _primary_lsn(self) -> int:
        return written_lsn(self.registers.primary().backend)
