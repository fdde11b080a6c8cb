"""A read that met a connection the database had ended is asked once more, on a new connection.

A restart of PostgreSQL (or an operator's ``pg_terminate_backend``) ends every connection of a
server, and each worker thread finds its own ended only when it next uses it. Reads (GET, HEAD)
change nothing, so one that failed that way is asked again after every thread was told to open
its connection anew: users see a slow answer, not an error. Writes are never asked twice.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg_pool import PoolTimeout
from starlette.types import ASGIApp, Receive, Scope, Send

from sapper.server.asking_again import Watched, empty_body_then
from sapper.server.context import Registers
from sapper.store import is_postgres
from sapper.store.replica import lost_connection

log = logging.getLogger("sapper.server")


class LostConnections:
    """Asks a read again once when the database had ended the connection it used; after any request
    that met an ended connection, every thread opens its connection anew."""

    def __init__(self, app: ASGIApp, registers: Registers) -> None:
        self.app = app
        self.registers = registers
        self.on_postgres = is_postgres(registers.target)  # a GeoPackage has no connection to lose

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.on_postgres:
            await self.app(scope, receive, send)
            return
        watched = Watched(send)
        try:
            await self.app(scope, receive, watched)
            return
        except psycopg.OperationalError as exc:
            if isinstance(exc, PoolTimeout) or not lost_connection(exc):
                raise  # no connection came free in time: asking again would only wait as long again
            self.registers.renew()
            if watched.started or scope["method"] not in ("GET", "HEAD"):
                raise
            method, path = scope["method"], scope["path"]
            log.warning("%s %s: the database had ended the connection (%s); asking again", method, path, exc)
        await self.app(scope, empty_body_then(receive), send)
