"""Limits on what a client may send: the size of a request body, and the vertices of a geometry.

A 300 MB body read in full, or a polygon of a million vertices stored, slows the server (and
every map that later draws the record) for everyone. One middleware guards every route: a body
whose declared size (Content-Length) passes the limit is refused before a byte of it is read,
and a body sent without one (chunked) stops being read once it passes the limit. Both answer
413 with a sentence naming the limit and the option that sets it. The vertex limit travels with
the request (a context variable) to ``features.read_geometry``, where every geometry a client
sends is parsed.
"""

from __future__ import annotations

from contextvars import ContextVar

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sapper.server.context import Settings
from sapper.server.errors import error_response

BODY_OPTION = "sapper serve --max-body-mb"
VERTICES_OPTION = "sapper serve --max-vertices"
_max_vertices: ContextVar[int] = ContextVar("max_vertices", default=Settings.max_vertices)


def max_vertices() -> int:
    """The vertex limit of the server answering this request."""
    return _max_vertices.get()


def too_large(settings: Settings, size: str) -> str:
    limit = settings.max_body_bytes
    return (
        f"the request body {size}; this server reads at most {limit:,} bytes ({settings.max_body_mb:g} MB) "
        f"per request (set with {BODY_OPTION})"
    )


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP server itself refuses a malformed length
    return None


class BodyLimit:
    """Refuses a request body larger than ``settings.max_body_bytes`` on every route."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.settings.max_body_bytes
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            response = error_response(413, too_large(self.settings, f"is {declared:,} bytes"))
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # an HTTPException passes through FastAPI's body parsing to the error handlers
                    raise HTTPException(413, too_large(self.settings, f"passed {limit:,} bytes"))
            return message

        _max_vertices.set(self.settings.max_vertices)
        await self.app(scope, limited, send)
