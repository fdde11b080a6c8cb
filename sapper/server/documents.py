"""PDF documents over HTTP: the daily situation report, the completion report of a hazard, the EOD
task report and the monthly report.

Each counts only what the reader may see (``seen_by``); a hidden hazard answers 404 exactly as
a missing one. The header names the reader's organisation and the reader as author.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from sapper.i18n.web import speak_to
from sapper.model.accounts import User
from sapper.report.completion import completion_document
from sapper.report.documents import FIRST_DAY, LAST_DAY, rows, sitrep_document
from sapper.report.eod_report import eod_document
from sapper.report.monthly import file_name, monthly_document
from sapper.report.pdf import Letterhead, letterhead, render_pdf
from sapper.server.auth import reader
from sapper.server.context import registers
from sapper.server.permissions import seen_by, visible
from sapper.server.plans import latest_plan
from sapper.store.query import Filter

router = APIRouter(prefix="/api", tags=["Documents"])
PathId = Annotated[int, Path(ge=1, le=2**62)]
PDF = "application/pdf"
EOD_LISTED = 100  # the newest EOD tasks the web page lists; older ones stay downloadable by id
Month = Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="The month reported, YYYY-MM")]
Owner = Annotated[str | None, Query(max_length=200, description="Only this organisation's records")]
Day = Annotated[date | None, Query(ge=FIRST_DAY, le=LAST_DAY, description="The day reported (default: today)")]


def _pdf(body: bytes, filename: str) -> Response:
    return Response(body, media_type=PDF, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _head(user: User) -> Letterhead:
    return letterhead(user.organisation or None, None, user.name)


@router.get("/reports/sitrep.pdf", summary="The daily situation report as PDF (what you may see)")
def sitrep_pdf(request: Request, on: Day = None) -> Response:
    user = reader(request)
    speak_to(request)  # the account's language, if it keeps one
    day = on or date.today()
    context = sitrep_document(registers(request).get(), day, seen_by(user), latest_plan(request, user))
    return _pdf(render_pdf("sitrep.html", context, _head(user)), f"sitrep-{day.isoformat()}.pdf")


@router.get("/hazards/{hazard_id}/completion.pdf", summary="The completion report of a hazard as PDF (IMAS 08.30)")
def completion_pdf(request: Request, hazard_id: PathId) -> Response:
    user = reader(request)
    speak_to(request)  # the account's language, if it keeps one
    reg = registers(request).get()
    visible(reg, user, "hazard", hazard_id)  # 404 for a hidden hazard as for a missing one
    context = completion_document(reg, hazard_id, seen_by(user))
    return _pdf(render_pdf("completion.html", context, _head(user)), f"completion-{hazard_id}.pdf")


@router.get("/activities/{activity_id}/eod.pdf", summary="The EOD task report of an EOD spot task as PDF (IMAS 09.30)")
def eod_pdf(request: Request, activity_id: PathId) -> Response:
    return _eod(request, "activity", activity_id, f"eod-{activity_id}.pdf")


@router.get("/reports/{report_id}/eod.pdf", summary="The EOD task report of an EOD daily report as PDF (IMAS 09.30)")
def eod_report_pdf(request: Request, report_id: PathId) -> Response:
    return _eod(request, "report", report_id, f"eod-report-{report_id}.pdf")


def _eod(request: Request, kind: str, record_id: int, filename: str) -> Response:
    user = reader(request)
    speak_to(request)  # the account's language, if it keeps one
    reg = registers(request).get()
    visible(reg, user, kind, record_id)  # 404 for a hidden task as for a missing one
    context = eod_document(reg, kind, record_id, seen_by(user))
    return _pdf(render_pdf("eod.html", context, _head(user)), filename)


@router.get("/reports/monthly.pdf", summary="The monthly report as PDF (what you may see)")
def monthly_pdf(request: Request, month: Month, organisation: Owner = None) -> Response:
    user = reader(request)
    speak_to(request)  # the account's language, if it keeps one
    context = monthly_document(registers(request).get(), month, organisation or None, seen_by(user))
    return _pdf(render_pdf("monthly.html", context, _head(user)), file_name(context["month"], organisation))


@router.get("/reports/eod-tasks", summary="The EOD spot tasks you may see, newest first, each with its PDF link")
def eod_tasks(request: Request) -> dict[str, Any]:
    user = reader(request)
    speak_to(request)  # the account's language, if it keeps one
    reg = registers(request).get()
    flt = Filter(where={"activity_type": "eod_spot"}, organisation=seen_by(user))
    tasks = [
        {"kind": "activity", "id": rid, "hazard_id": v["hazard_id"], "team_id": v["team_id"],
         "start_on": v["start_on"], "end_on": v["end_on"], "pdf": f"/api/activities/{rid}/eod.pdf"}
        for rid, v, _ in rows(reg, "activity", flt, geometry=False)
    ]  # fmt: skip
    tasks += [
        {"kind": "report", "id": rid, "hazard_id": v["hazard_id"], "team_id": v["team_id"],
         "start_on": v["report_date"], "end_on": v["report_date"], "pdf": f"/api/reports/{rid}/eod.pdf"}
        for rid, v, _ in rows(reg, "report", flt, geometry=False)
    ]  # fmt: skip
    tasks.sort(key=lambda t: (str(t["start_on"] or ""), t["kind"], t["id"]), reverse=True)
    return {"tasks": tasks[:EOD_LISTED], "total": len(tasks)}
