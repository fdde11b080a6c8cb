"""The web UI's messages in the reader's language.

The pages fetch ``/ui/i18n/messages`` once (i18n.js) and translate their labels in the browser,
which shapes Arabic itself. The path is outside ``/ui/api``: the offline worker keeps nothing of it
(it is no user data), the page keeps the last copy.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sapper import i18n
from sapper.i18n import vocabulary
from sapper.i18n.catalogues import messages
from sapper.i18n.web import request_language
from sapper.server.auth import authenticated

router = APIRouter(prefix="/ui/i18n", tags=["Web UI"])


def _account_language(request: Request) -> None:
    """Look up who is asking so their account's language counts; bad credentials just do not count here."""
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
