"""The web UI's service worker, with the list of files it keeps and their version.

The worker (``static/ui/sw.js``) is served at ``/ui/sw.js`` so that its scope covers the pages
under ``/ui/``. Before its code goes a line naming the files to keep (the pages and everything
under ``/static/ui``, ``/static/vendor/leaflet`` and ``/static/vendor/leaflet.vectorgrid``) and a
version made from their bytes: a release that changes any of them changes the worker's own
bytes, so browsers install the new worker, which fetches the files again into a cache named
after the new version and deletes the old one.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response
from starlette.routing import Mount

WORKER = "ui/sw.js"
KEPT_FOLDERS = ("ui", "vendor/leaflet", "vendor/leaflet.vectorgrid")
KEPT_SUFFIXES = {".html", ".js", ".css", ".png", ".svg"}


def static_folder(app: FastAPI) -> Path:
    """The folder the app serves at /static (the package's own, unless a test points it elsewhere)."""
    for route in app.routes:
        if isinstance(route, Mount) and route.path == "/static":
            return Path(route.app.directory)  # type: ignore[attr-defined]
    raise LookupError("the app serves no /static folder")


def kept_files(static: Path) -> list[Path]:
    """The static files the worker keeps, the worker itself excepted."""
    found = [
        path
        for folder in KEPT_FOLDERS
        for path in (static / folder).rglob("*")
        if path.is_file() and path.suffix in KEPT_SUFFIXES
    ]
    return sorted(p for p in found if p != static / WORKER)


def _stamp(static: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when a file does (name, size, time), so the hash is made once per release."""
    files = [*kept_files(static), static / WORKER]
    return tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)


@lru_cache(maxsize=8)
def _manifest(static: Path, stamp: tuple[tuple[str, int, int], ...], pages: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    urls = list(pages)
    for path in [*kept_files(static), static / WORKER]:
        name = path.relative_to(static).as_posix()
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
        if path != static / WORKER:
            urls.append(f"/static/{name}")
    for page in pages:
        digest.update(page.encode() + b"\0")
    body = {"version": digest.hexdigest()[:16], "files": urls}
    return f"self.SAPPER_OFFLINE = {json.dumps(body)};\n" + (static / WORKER).read_text(encoding="utf-8")


def service_worker(app: FastAPI, page_files: dict[str, str]) -> Response:
    """The worker's script: the manifest line, then sw.js."""
    static = static_folder(app)
    pages = tuple(f"/ui/{name}" for name in page_files)
    text = _manifest(static, _stamp(static), pages)
    return Response(text, media_type="text/javascript", headers={"Service-Worker-Allowed": "/ui/"})
