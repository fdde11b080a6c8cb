"""The operations server: one FastAPI app for the OGC API, the REST API and the web UI.

``create_app(target)`` serves a register (a .gpkg file or a postgresql:// URL). Static
files are served from ``sapper/server/static`` at ``/static``. A web UI plugs in as a module
``sapper.server.ui`` with an ``install(app)`` function; once it is there, ``/`` leads to
``/ui/``, and until then to the OGC API landing page.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from sapper.jobs import JobQueue, WorkerThread
from sapper.server import (
    accounts_api,
    attachments,
    documents,
    errors,
    field_review,
    jobs_api,
    ogc,
    ogc_edit,
    openapi,
    openrosa,
    plans,
    rest,
    tasks,
    tiles,
)
from sapper.server.context import PAGE_THREADS, Registers, Settings
from sapper.server.features import dumps
from sapper.server.headers import AnswerHeaders
from sapper.server.hosts import TrustedHost, parse_base_url
from sapper.server.html import page, table
from sapper.server.limits import BodyLimit
from sapper.server.lost_connections import LostConnections
from sapper.server.replica_reads import ReplicaReads
from sapper.server.web import JSON, OPENAPI, json_response, link, root, wants_html
from sapper.store import open_register
from sapper.store.accounts import check_token_days
from sapper.store.replica import replica_for
from sapper.store.tile_rebuilds import Later, StaleBounds

STATIC = Path(__file__).parent / "static"
# Worker threads per process; each holds its own database connection, so 16 keeps a few
# processes within PostgreSQL's default of 100 connections. The work is mostly Python, which
# runs one thread at a time anyway.
THREADS = 16
UI_MODULE = "sapper.server.ui"
TARGET_ENV = "SAPPER_SERVE_TARGET"
PUBLIC_ENV = "SAPPER_SERVE_PUBLIC"
IMAGERY_ENV = "SAPPER_SERVE_IMAGERY"
MAX_BODY_ENV = "SAPPER_SERVE_MAX_BODY_MB"
MAX_VERTICES_ENV = "SAPPER_SERVE_MAX_VERTICES"
BASE_URL_ENV = "SAPPER_SERVE_BASE_URL"
TOKEN_DAYS_ENV = "SAPPER_SERVE_TOKEN_DAYS"
FIELD_AUTO_APPROVE_ENV = "SAPPER_SERVE_FIELD_AUTO_APPROVE"
WORKER_ENV = "SAPPER_SERVE_WORKER"
READ_REPLICA_ENV = "SAPPER_SERVE_READ_REPLICA"
TILE_STALE_ENV = "SAPPER_SERVE_TILE_STALE_S"


@cache
def set_aside_from_collector() -> None:
    """Set the objects of the started server (modules, routes, schemas: 170,000) aside from the
    cycle collector, which walked them all on every full collection: 100-230 ms with every
    request waiting, several times a minute under load (measured), the slowest answers.

    Once per process: what is set aside is never collected, so an app made and dropped again
    (as tests do) must not be."""
    gc.collect()
    gc.freeze()


def create_app(
    target: str,
    *,
    public: bool = False,
    token_days: float = 30.0,
    plan_seconds: float = 600.0,
    imagery: str | None = None,
    max_body_mb: float = Settings.max_body_mb,
    max_vertices: int = Settings.max_vertices,
    base_url: str | None = None,
    field_auto_approve: bool = False,
    read_replica: str | None = None,
    worker: bool = True,
    tile_stale_s: float = StaleBounds.max_age_s,
) -> FastAPI:
    """The server for one register; registers are opened per worker thread on first use.

    ``plan_seconds`` caps the solver time of a plan asked for over the API; ``token_days`` is how long a
    login's token lives (at most ``MAX_TOKEN_DAYS``); ``max_body_mb`` and ``max_vertices`` limit what a
    client may send; ``base_url`` is the public address every link starts with; ``read_replica`` is a
    streaming replica of a PostGIS register that answers reads (``sapper.server.replica_reads``);
    ``worker`` makes the register's background jobs in this process too (else it only queues them);
    ``tile_stale_s`` is how long a national-zoom tile may be served out of date while it is built again
    (0: never, ``sapper.store.tile_rebuilds``).
    """
    if max_body_mb <= 0 or max_vertices < 4:
        raise ValueError("the body limit must be above 0 MB and the vertex limit at least 4 (a triangle)")
    check_token_days(token_days, "the server's token life (--token-days)")
    registers = Registers(str(target), replica_for(str(target), read_replica))
    registers.get()  # fail now, with the register's own message, if the target is wrong
    if registers.replica is not None:
        registers.replica.check(registers.primary().backend)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        app.state.page_threads = anyio.CapacityLimiter(PAGE_THREADS)  # made in the event loop it serves
        working = WorkerThread(str(target)).start() if worker else None
        set_aside_from_collector()
        yield
        if working is not None:
            working.stop()
        rebuilds.close()
        jobs.close()
        await registers.close_reads()
        registers.close_all()

    app = FastAPI(
        title="sapper operations server",
        version="1",
        description="Register, plan and track the clearance of explosive hazards: OGC API - Features under /ogc, "
        "operations under /api. Log in with POST /api/login and send 'Authorization: Bearer TOKEN'.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.registers = registers
    app.state.settings = settings = Settings(
        target=str(target),
        public=public,
        token_days=token_days,
        imagery=imagery,
        max_body_mb=max_body_mb,
        max_vertices=max_vertices,
        base_url=parse_base_url(base_url),
        field_auto_approve=field_auto_approve,
    )
    app.state.jobs = jobs = JobQueue(str(target))
    bounds = StaleBounds(max_age_s=tile_stale_s)
    app.state.tile_rebuilds = rebuilds = Later(lambda: open_register(str(target), user="server"), bounds)
    app.state.planner = plans.Planner(jobs, max_seconds=plan_seconds)
    app.add_middleware(ReplicaReads, registers=registers)  # inside errors' CatchAll: a failed read is asked again
    app.add_middleware(LostConnections, registers=registers)  # outside it: a read on an ended connection, again
    errors.install(app)
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(AnswerHeaders)  # outside the others: their own answers (413) carry the headers too
    app.add_middleware(TrustedHost, settings=settings)  # outermost: every link and redirect sees its Host
    app.include_router(ogc.router())
    app.include_router(tiles.router())
    app.include_router(ogc_edit.router())
    app.include_router(rest.router)
    app.include_router(plans.router)
    app.include_router(documents.router)
    app.include_router(jobs_api.router)
    app.include_router(tasks.router)
    app.include_router(accounts_api.router)
    app.include_router(field_review.router)
    app.include_router(openrosa.router)
    app.include_router(attachments.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    has_ui = importlib.util.find_spec(UI_MODULE) is not None
    if has_ui:
        importlib.import_module(UI_MODULE).install(app)

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        if has_ui and wants_html(request):
            return RedirectResponse("/ui/", status_code=303)
        suffix = "?f=html" if wants_html(request) else ""
        return RedirectResponse(f"/ogc{suffix}", status_code=303)

    @app.get("/ogc/api", tags=["OGC API - Features"], summary="The OGC API's definition (OpenAPI 3.0), JSON or HTML")
    def api_definition(request: Request) -> Response:
        ogc_root = f"{root(request)}{ogc.PREFIX}"
        doc = {**_ogc_openapi(app), "servers": [{"url": ogc_root, "description": "the OGC API's landing page"}]}
        if wants_html(request):
            rows = [
                (escape(method.upper()), escape(f"{ogc.PREFIX}{path}".rstrip("/")), escape(op.get("summary", "")))
                for path, ops in doc["paths"].items()
                for method, op in ops.items()
            ]
            links = [
                link(f"{ogc_root}/api?f=json", "service-desc", OPENAPI, "OpenAPI document of the OGC API"),
                link(f"{root(request)}/openapi.json", "describedby", JSON, "OpenAPI document of the whole server"),
            ]
            return page("API", table(rows, ["method", "path", "what"]), links)
        return json_response(dumps(doc), OPENAPI)

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        app.openapi_schema = openapi.document(app)
    return app.openapi_schema


def _ogc_openapi(app: FastAPI) -> dict[str, Any]:
    """Built once, from the whole server's document."""
    if getattr(app.state, "ogc_openapi", None) is None:
        app.state.ogc_openapi = openapi.ogc_document(app.openapi(), ogc.PREFIX)
    return app.state.ogc_openapi


def from_environment() -> FastAPI:
    """App factory for ``uvicorn --factory`` with several worker processes."""
    target = os.environ.get(TARGET_ENV)
    if not target:
        raise RuntimeError(f"set {TARGET_ENV} to the register to serve")
    return create_app(
        target,
        public=os.environ.get(PUBLIC_ENV) == "1",
        imagery=os.environ.get(IMAGERY_ENV) or None,
        token_days=float(os.environ.get(TOKEN_DAYS_ENV) or 30.0),
        max_body_mb=float(os.environ.get(MAX_BODY_ENV) or Settings.max_body_mb),
        max_vertices=int(os.environ.get(MAX_VERTICES_ENV) or Settings.max_vertices),
        base_url=os.environ.get(BASE_URL_ENV) or None,
        field_auto_approve=os.environ.get(FIELD_AUTO_APPROVE_ENV) == "1",
        read_replica=os.environ.get(READ_REPLICA_ENV) or None,
        worker=os.environ.get(WORKER_ENV) != "0",
        tile_stale_s=float(os.environ.get(TILE_STALE_ENV) or StaleBounds.max_age_s),
    )
