"""Every failure reaches the client as a 4xx (503 when the register is busy) with a sentence.

The body follows the OGC API exception schema (``code``, ``description``) so GIS clients
show the sentence; ``detail`` repeats it for clients that expect FastAPI's field.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sapper.model.errors import Conflict, ForbiddenTransition, InvalidRecord, NotFound, SapperError
from sapper.store import dberrors

log = logging.getLogger("sapper.server")


class ApiError(Exception):
    """An error with its HTTP status, raised anywhere in a request."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    code = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else str(status)
    return JSONResponse(
        {"code": code, "description": message, "detail": message},
        status_code=status,
        headers=headers,
    )


def status_of(exc: SapperError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, (Conflict, ForbiddenTransition)):
        return 409
    if isinstance(exc, InvalidRecord):
        return 422
    return 400


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "header"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"


def integrity_errors() -> list[type[Exception]]:
    """The databases' own refusals of a duplicate key (the register checks everything else first)."""
    import sqlite3

    import psycopg

    return [sqlite3.IntegrityError, psycopg.IntegrityError]


async def _duplicate(request: Request, exc: Exception) -> JSONResponse:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return error_response(409, f"conflicts with a record already stored ({detail}); a source_key names one record only")


# How long a client is told to wait when another process (an import) holds the register's write lock.
RETRY_AFTER_SECONDS = 5


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """A write that waited its busy timeout for another writer answers 503 with Retry-After."""
    if dberrors.is_busy(exc):
        message = f"the register is busy with another write (an import?); try again in {RETRY_AFTER_SECONDS} s"
        return error_response(503, message, {"Retry-After": str(RETRY_AFTER_SECONDS)})
    log.error("database error on %s %s", request.method, request.url.path, exc_info=exc)
    sentence = dberrors.explain(exc, "the register")
    return error_response(500, sentence or f"internal error ({type(exc).__name__}); the server log has the details")


def _database_errors() -> list[type[Exception]]:
    """Errors of the database itself (locks, disk) rather than of a request."""
    import sqlite3

    import psycopg

    return [sqlite3.OperationalError, psycopg.errors.LockNotAvailable]


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.headers)

    @app.exception_handler(SapperError)
    async def sapper_error(request: Request, exc: SapperError) -> JSONResponse:
        return error_response(status_of(exc), str(exc))

    for integrity in integrity_errors():
        app.add_exception_handler(integrity, _duplicate)
    for database in _database_errors():
        app.add_exception_handler(database, _database_error)

    @app.exception_handler(ValueError)
    async def value_error(request: Request, exc: ValueError) -> JSONResponse:
        return error_response(400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"nothing at {request.url.path}; the API starts at /ogc (features) and /api (operations)"
        if exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        return error_response(exc.status_code, message, getattr(exc, "headers", None))

    app.add_middleware(CatchAll)


class CatchAll:
    """A bug answers 500 with a sentence and keeps the connection, instead of resetting it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            response = error_response(500, f"internal error ({type(exc).__name__}); the server log has the details")
            await response(scope, receive, send)
