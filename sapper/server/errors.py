"""Every failure reaches the client as a 4xx (503 when the register is busy) with a sentence.

The body follows the OGC API exception schema (``code``, ``description``) so GIS clients
show the sentence; ``detail`` repeats it for clients that expect FastAPI's field. The sentence
is in the request's language (``sapper.i18n.web``); ``code`` stays the same in every language,
for programs. Sentences are kept as templates with their values until the answer is written,
so they are translated then, when the account of the request is known.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from sapper.i18n import N_, translate
from sapper.i18n.errors import localised, render
from sapper.i18n.web import RequestLanguage, request_language
from sapper.model.errors import Conflict, ForbiddenTransition, InvalidRecord, NotFound, SapperError
from sapper.server.asking_again import Watched
from sapper.store import async_reads, dberrors

log = logging.getLogger("sapper.server")


class ApiError(Exception):
    """An error with its HTTP status, raised anywhere in a request.

    ``message`` may hold ``{name}`` fields filled from ``params``: the template is what is translated.
    """

    def __init__(
        self, status: int, message: str, headers: dict[str, str] | None = None, params: dict[str, object] | None = None
    ) -> None:
        super().__init__(message.format(**params) if params else message)
        self.status = status
        self.template = message
        self.params = params or {}
        self.message = str(self)
        self.headers = headers or {}

    def sentence(self, language: str) -> str:
        return render(self.template, self.params, language)


def bad_request(message: str, **params: object) -> ApiError:
    return ApiError(400, message, params=params or None)


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None, language: str | None = None
) -> JSONResponse:
    code = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else str(status)
    response = JSONResponse(
        {"code": code, "description": message, "detail": message},
        status_code=status,
        headers=headers,
    )
    if language:
        response.headers["Content-Language"] = language
    return response


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
    return "; ".join(parts) or N_("invalid request")


def integrity_errors() -> list[type[Exception]]:
    """The databases' own refusals of a duplicate key (the register checks everything else first)."""
    import sqlite3

    import psycopg

    return [sqlite3.IntegrityError, psycopg.IntegrityError]


async def _duplicate(request: Request, exc: Exception) -> JSONResponse:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    language = request_language(request)
    message = translate(
        N_("conflicts with a record already stored ({detail}); a source_key names one record only"), language
    )
    return error_response(409, message.format(detail=detail), language=language)


# How long a client is told to wait when another process (an import) holds the register's write lock.
RETRY_AFTER_SECONDS = 5


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """A write that waited its busy timeout for another writer answers 503 with Retry-After."""
    language = request_language(request)
    if dberrors.is_busy(exc):
        message = translate(N_("the register is busy with another write (an import?); try again in {s} s"), language)
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return error_response(503, message.format(s=RETRY_AFTER_SECONDS), retry, language)
    log.error("database error on %s %s", request.method, request.url.path, exc_info=exc)
    sentence = dberrors.explain(exc, "the register")
    return error_response(500, sentence or internal_error(exc, language), language=language)


def internal_error(exc: Exception, language: str) -> str:
    return translate(N_("internal error ({kind}); the server log has the details"), language).format(
        kind=type(exc).__name__
    )


def _database_errors() -> list[type[Exception]]:
    """Errors of the database itself (locks, disk) rather than of a request."""
    import sqlite3

    import psycopg

    return [sqlite3.OperationalError, psycopg.errors.LockNotAvailable]


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        language = request_language(request)
        return error_response(exc.status, exc.sentence(language), exc.headers, language)

    @app.exception_handler(SapperError)
    async def sapper_error(request: Request, exc: SapperError) -> JSONResponse:
        language = request_language(request)
        return error_response(status_of(exc), localised(exc, language), language=language)

    for integrity in integrity_errors():
        app.add_exception_handler(integrity, _duplicate)
    for database in _database_errors():
        app.add_exception_handler(database, _database_error)

    @app.exception_handler(ValueError)
    async def value_error(request: Request, exc: ValueError) -> JSONResponse:
        language = request_language(request)
        return error_response(400, localised(exc, language), language=language)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        language = request_language(request)
        return error_response(400, translate(_validation_message(exc), language), language=language)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        language = request_language(request)
        message = translate(exc.detail if isinstance(exc.detail, str) else str(exc.detail), language)
        if exc.status_code == 404 and exc.detail == "Not Found":
            message = translate(
                N_("nothing at {path}; the API starts at /ogc (features) and /api (operations)"), language
            ).format(path=request.url.path)
        if exc.status_code == 405:
            message = translate(N_("{method} is not allowed on {path}"), language).format(
                method=request.method, path=request.url.path
            )
        return error_response(exc.status_code, message, getattr(exc, "headers", None), language)

    app.add_middleware(CatchAll)
    app.add_middleware(RequestLanguage)


class CatchAll:
    """A bug answers 500 with a sentence and keeps the connection, instead of resetting it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        watched = Watched(send)
        try:
            await self.app(scope, receive, watched)
        except PoolTimeout as exc:  # the primary's: a replica's is asked of the primary before it gets here
            log.warning("%s %s found no connection to the register: %s", scope.get("method"), scope.get("path"), exc)
            if watched.started:
                raise
            await no_connection(Request(scope))(scope, receive, send)
        except Exception as exc:
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if watched.started:
                raise
            response = error_response(500, internal_error(exc, "en"))
            await response(scope, receive, send)


def no_connection(request: Request) -> JSONResponse:
    """503 with Retry-After: every connection to the register stayed busy, or none would open, too long."""
    language = request_language(request)
    message = translate(
        N_("the server found no free connection to the register within {wait:.0f} s; try again in {s} s"), language
    )
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return error_response(503, message.format(wait=async_reads.WAIT_SECONDS, s=RETRY_AFTER_SECONDS), retry, language)
