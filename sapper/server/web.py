"""Content negotiation and links, shared by the OGC API and the REST API."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response

from sapper.i18n import N_
from sapper.server.context import settings
from sapper.server.errors import bad_request

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"  # the OGC API's document (OGC API - Features Part 1)
FORMATS = {"json": JSON, "geojson": GEOJSON, "html": HTML}


def wants_html(request: Request) -> bool:
    """``f=html|json`` decides; otherwise the Accept header (a browser asks for HTML first)."""
    f = request.query_params.get("f")
    if f is not None:
        if f not in FORMATS:
            raise bad_request(N_("f={f!r}: choose json or html"), f=f)
        return f == "html"
    accept = request.headers.get("accept", "")
    html_at = accept.find(HTML)
    if html_at < 0:
        return False
    json_at = [i for i in (accept.find(JSON), accept.find(GEOJSON)) if i >= 0]
    return not json_at or html_at < min(json_at)


def root(request: Request) -> str:
    """The server's address that links start with, without a trailing slash: ``--base-url`` when
    given, else the address the client reached, its Host header checked (``hosts.TrustedHost``)."""
    return settings(request).base_url or str(request.base_url).rstrip("/")


def link(href: str, rel: str, type_: str, title: str = "") -> dict[str, Any]:
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


def with_query(url: str, params: dict[str, Any]) -> str:
    clean = {k: v for k, v in params.items() if v is not None}
    return f"{url}?{urlencode(clean)}" if clean else url


def self_links(request: Request, path: str, json_type: str = JSON, title: str = "") -> list[dict[str, Any]]:
    """``self`` in the format answered and ``alternate`` in the other, keeping the query."""
    params = {k: v for k, v in request.query_params.items() if k != "f"}
    html = wants_html(request)
    json_url = with_query(f"{root(request)}{path}", {**params, "f": "json"})
    html_url = with_query(f"{root(request)}{path}", {**params, "f": "html"})
    this, other = (html_url, json_url) if html else (json_url, html_url)
    this_type, other_type = (HTML, json_type) if html else (json_type, HTML)
    return [
        link(this, "self", this_type, f"{title} (this document)" if title else "this document"),
        link(other, "alternate", other_type, f"{title} as {'JSON' if html else 'HTML'}"),
    ]


def json_response(body: str | bytes, media_type: str = JSON, status: int = 200, **headers: str) -> Response:
    return Response(content=body, status_code=status, media_type=media_type, headers=headers or None)
