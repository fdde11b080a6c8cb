"""The language of a request.

A request's language is, in order: ``?lang=`` in the address, the language kept with the user's
account, the browser's ``Accept-Language``, English (the web UI's messages in it: server/ui_messages.py).
"""

from __future__ import annotations

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from sapper import i18n


def request_language(request: Request) -> str:
    """The language to answer this request in (the account's is known once the request is authenticated)."""
    asked = request.query_params.get("lang")
    if asked:
        try:
            return i18n.parse_language(asked)
        except ValueError:
            pass
    user = getattr(request.state, "user", None)
    kept = getattr(user, "language", None)
    if kept:
        return str(kept)
    return i18n.negotiate(request.headers.get("accept-language")) or i18n.DEFAULT


class RequestLanguage:
    """Puts the request's language (``?lang=``, else Accept-Language) in force while the request runs.

    Documents and sentences made during the request are then in it; the account's language, known
    only once the request is authenticated, is applied where the answer is written (errors, documents).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with i18n.speaking(request_language(Request(scope))):
            await self.app(scope, receive, send)


def speak_to(request: Request) -> str:
    """Once the request is authenticated: its language, the account's included, in force for the rest of it."""
    language = request_language(request)
    i18n.use(language)  # an endpoint runs in a copy of the request's context: this ends with it
    return language
