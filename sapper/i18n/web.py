"""The language of a request, and the web UI's messages in it.

A request's language is, in order: ``?lang=`` in the address, the language kept with the user's
account, the browser's ``Accept-Language``, English. The pages fetch ``/ui/i18n/messages`` once
(i18n.js) and translate their labels in the browser, which shapes Arabic itself. The path is
outside ``/ui/api``: the offline worker keeps nothing of it (it is no user data), the page keeps the last copy.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from sapper import i18n
from sapper.i18n import vocabulary
from sapper.i18n.catalogues import messages

router = APIRouter(prefix="/ui/i18n", tags=["Web UI"])


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


def _account_language(request: Request) -> None:
    """Look up who is asking so their account's language counts; bad credentials just do not count here."""
    from sapper.server.auth import authenticated

    try:
        authenticated(request)
    except Exception:  # the page itself answers 401; the messages stay in the browser's language
        request.state.user = None


@router.get("/messages", include_in_schema=False)
def ui_messages(request: Request) -> JSONResponse:
    """The translations the pages need, in the request's language: {lang, dir, messages}."""
    _account_language(request)
    language = request_language(request)
    body: dict[str, Any] = {
        "lang": language,
        "dir": i18n.direction(language),
        "languages": i18n.LANGUAGES,
        "messages": messages(language) if language != i18n.DEFAULT else {},
        "labels": {code: vocabulary.label(code, language) for code in vocabulary.LABELS},
    }
    headers = {"Content-Language": language, "Vary": "Accept-Language, Cookie, Authorization"}
    return JSONResponse(body, headers=headers)
