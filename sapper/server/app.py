"""The operations server: one FastAPI app for the OGC API, the REST API and the web UI.

``create_app(target)`` serves a register (a .gpkg file or a postgresql:// URL). Static
files are served from ``sapper/server/static`` at ``/static``. A web UI plugs in as a module
``sapper.server.ui`` with an ``install(app)`` function; once it is there, ``/`` leads to
``/ui/``, and until then to the OGC API landing page.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import escape
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sapper.server import accounts_api, errors, ogc, ogc_edit, plans, rest, tasks
from sapper.server.context import Registers, Settings
from sapper.server.features import dumps
from sapper.server.html import page, table
from sapper.server.web import OPENAPI, json_response, link, root, wants_html

STATIC = Path(__file__).parent / "static"
# Worker threads per process; each holds its own database connection, so 16 keeps a few
# processes within PostgreSQL's default of 100 connections. The work is mostly Python, which
# runs one thread at a time anyway.
THREADS = 16
UI_MODULE = "sapper.server.ui"
TARGET_ENV = "SAPPER_SERVE_TARGET"
PUBLIC_ENV = "SAPPER_SERVE_PUBLIC"
IMAGERY_ENV = "SAPPER_SERVE_IMAGERY"


def create_app(
    target: str,
    *,
    public: bool = False,
    token_days: float = 30.0,
    plan_seconds: float = 600.0,
    imagery: str | None = None,
) -> FastAPI:
    """The server for one register; registers are opened per worker thread on first use.

    ``plan_seconds`` caps the solver time of a plan asked for over the API.
    """
    registers = Registers(str(target))
    registers.get()  # fail now, with the register's own message, if the target is wrong

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        yield
        app.state.planner.stop()
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
    app.state.settings = Settings(target=str(target), public=public, token_days=token_days, imagery=imagery)
    app.state.planner = plans.Planner(max_seconds=plan_seconds)
    errors.install(app)
    app.add_middleware(Revalidate)
    app.include_router(ogc.router())
    app.include_router(ogc_edit.router())
    app.include_router(rest.router)
    app.include_router(plans.router)
    app.include_router(tasks.router)
    app.include_router(accounts_api.router)
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

    @app.get("/ogc/api", tags=["OGC API - Features"], summary="The API definition (OpenAPI), as JSON or HTML")
    def api_definition(request: Request) -> Response:
        doc = app.openapi()
        if wants_html(request):
            rows = [
                (escape(method.upper()), escape(path), escape(op.get("summary", "")))
                for path, ops in doc["paths"].items()
                for method, op in ops.items()
            ]
            links = [link(f"{root(request)}/openapi.json", "service-desc", OPENAPI, "OpenAPI document")]
            return page("API", table(rows, ["method", "path", "what"]), links)
        return json_response(dumps(doc), OPENAPI)

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


class Revalidate:
    """Answers depend on who asks and change with every write: a client may keep one, but must
    ask again before using it. Without this, QGIS's cache hands one user's answer for a URL to
    the next user who logs in, and old data after an edit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).setdefault("Cache-Control", "private, no-cache")
            await send(message)

        await self.app(scope, receive, sending)


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        doc.setdefault("components", {}).setdefault("schemas", {})["GeoJSONGeometry"] = ogc_edit.GEOMETRY_COMPONENT
        doc["components"]["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer"},
            "basic": {"type": "http", "scheme": "basic"},
        }
        doc["security"] = [{"bearer": []}, {"basic": []}, {}]
        app.openapi_schema = doc
    return app.openapi_schema


def from_environment() -> FastAPI:
    """App factory for ``uvicorn --factory`` with several worker processes."""
    target = os.environ.get(TARGET_ENV)
    if not target:
        raise RuntimeError(f"set {TARGET_ENV} to the register to serve")
    return create_app(target, public=os.environ.get(PUBLIC_ENV) == "1", imagery=os.environ.get(IMAGERY_ENV) or None)
