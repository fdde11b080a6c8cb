"""The server's own address in links, never one a client made up.

Answers carry absolute links (OGC API clients follow them) and so do redirects. Built from the
request's ``Host`` header, a forged ``Host: evil.example`` would send the next user of a shared
cache, or a client following a link, elsewhere. So the Host header is replaced before any route
sees it: by ``--base-url`` when the server was given one (behind a reverse proxy, say), else it
is kept only if it names this machine (localhost, its host name or the address the connection
came in on, with the port the server listens on) and otherwise replaced by that address.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from sapper.server.context import Settings

LOOPBACK = {"localhost", "127.0.0.1", "::1"}
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def parse_base_url(value: str | None) -> str | None:
    """A ``--base-url`` checked once at start: scheme and host, an optional path, no trailing slash."""
    if not value:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"base URL {value!r}: give http(s)://host[:port][/path], e.g. https://mac.example/sapper")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _split(host: str, scheme: str) -> tuple[str, int | None]:
    parts = urlsplit(f"//{host}")
    try:
        port = parts.port
    except ValueError:
        return "", None
    return (parts.hostname or ""), port if port is not None else DEFAULT_PORTS.get(scheme)


def _netloc(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


class TrustedHost:
    """Rewrites the Host header (and, with a base URL, the scheme) that links are built from."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.names = LOOPBACK | {socket.gethostname().lower()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = self.trusted(scope)
        await self.app(scope, receive, send)

    def trusted(self, scope: Scope) -> Scope:
        host = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"host"), "")
        scope = dict(scope)
        if self.settings.base_url:
            parts = urlsplit(self.settings.base_url)
            scope["scheme"] = parts.scheme
            trusted = parts.netloc
        else:
            trusted = host if self._names_this_server(host, scope) else self._own_address(scope)
        if trusted != host:
            headers = [(k, v) for k, v in scope.get("headers", ()) if k != b"host"]
            scope["headers"] = [*headers, (b"host", trusted.encode("latin-1"))]
        return scope

    def _names_this_server(self, host: str, scope: Scope) -> bool:
        server = scope.get("server")
        if not host or not server:
            return False
        name, port = _split(host, scope.get("scheme", "http"))
        return port == server[1] and (name.lower() in self.names or name == server[0])

    def _own_address(self, scope: Scope) -> str:
        server = scope.get("server")
        return _netloc(server[0], server[1]) if server else "localhost"
