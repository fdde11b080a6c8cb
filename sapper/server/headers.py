"""Headers every answer carries: how a client may cache it, and what a browser may do with it.

Record text (a hazard's name, a team's notes) comes from many hands and ends up in pages. The
pages never put it into HTML, and the headers are the second line: scripts, styles and images
only from this server (the map draws its own tiles as images, some from ``data:`` and ``blob:``
URLs), no page inside another site's frame, no guessing a JSON answer is HTML, and no address
of ours sent to other sites. One policy for every answer: the web UI's pages, the OGC API's HTML
pages, static files and imagery alike.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Referrer-Policy": "no-referrer",
}


class AnswerHeaders:
    """Sets the security headers above on every HTTP answer, replacing a route's own, and asks
    clients to revalidate what they keep (unless a route says otherwise).

    Answers depend on who asks and change with every write: a client may keep one, but must
    ask again before using it. Without this, QGIS's cache hands one user's answer for a URL to
    the next user who logs in, and old data after an edit.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                headers.setdefault("Cache-Control", "private, no-cache")
            await send(message)

        await self.app(scope, receive, sending)
