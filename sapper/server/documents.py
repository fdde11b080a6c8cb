"""PDF documents over HTTP: the daily situation report and the completion report of a hazard.

Each counts only what the reader may see (``seen_by``); a hidden hazard answers 404 exactly as
a missing one. The header names the reader's organisation and the reader as author.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from sapper.model.accounts import User
from sapper.report.completion import completion_document
from sapper.report.documents import FIRST_DAY, LAST_DAY, sitrep_document
from sapper.report.pdf import Letterhead, letterhead, render_pdf
from sapper.server.auth import reader
from sapper.server.context import registers
from sapper.server.permissions import seen_by, visible
from sapper.server.plans import latest_plan

router = APIRouter(prefix="/api", tags=["Documents"])
PathId = Annotated[int, Path(ge=1, le=2**62)]
PDF = "application/pdf"
Day = Annotated[date | None, Query(ge=FIRST_DAY, le=LAST_DAY, description="The day reported (default: today)")]


def _pdf(body: bytes, filename: str) -> Response:
    return Response(body, media_type=PDF, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _head(user: User) -> Letterhead:
    return letterhead(user.organisation or None, None, user.name)


@router.get("/reports/sitrep.pdf", summary="The daily situation report as PDF (what you may see)")
def sitrep_pdf(request: Request, on: Day = None) -> Response:
    user = reader(request)
    day = on or date.today()
    context = sitrep_document(registers(request).get(), day, seen_by(user), latest_plan(request, user))
    return _pdf(render_pdf("sitrep.html", context, _head(user)), f"sitrep-{day.isoformat()}.pdf")


@router.get("/hazards/{hazard_id}/completion.pdf", summary="The completion report of a hazard as PDF (IMAS 08.30)")
def completion_pdf(request: Request, hazard_id: PathId) -> Response:
    user = reader(request)
    reg = registers(request).get()
    visible(reg, user, "hazard", hazard_id)  # 404 for a hidden hazard as for a missing one
    context = completion_document(reg, hazard_id, seen_by(user))
    return _pdf(render_pdf("completion.html", context, _head(user)), f"completion-{hazard_id}.pdf")
