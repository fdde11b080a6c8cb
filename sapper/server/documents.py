"""PDF documents over HTTP: the daily situation report, the completion report of a hazard, the EOD
task report and the monthly report.

Each counts only what the reader may see (``seen_by``); a hidden hazard answers 404 exactly as
a missing one. The header names the reader's organisation and the reader as author. With
``?async=1`` the sitrep, completion and monthly reports are made by a background worker instead
(sapper.jobs): the answer is 202 with the job, whose PDF ``/api/jobs/{id}/result`` gives when done.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from sapper import i18n
from sapper.i18n import N_
from sapper.i18n.web import speak_to
from sapper.jobs import Busy
from sapper.jobs.runner import JobContext
from sapper.model.accounts import Role, User
from sapper.report.completion import completion_document
from sapper.report.documents import FIRST_DAY, LAST_DAY, rows, sitrep_document
from sapper.report.eod_report import eod_document
from sapper.report.monthly import file_name, monthly_document
from sapper.report.pdf import Letterhead, letterhead, render_pdf
from sapper.server.auth import need, reader, visible_to
from sapper.server.context import registers
from sapper.server.errors import ApiError
from sapper.server.features import dumps
from sapper.server.jobs_api import job_out
from sapper.server.permissions import seen_by, visible
from sapper.server.plans import latest_plan
from sapper.server.web import json_response
from sapper.store.query import Filter
from sapper.store.register import Register

router = APIRouter(prefix="/api", tags=["Documents"])
PathId = Annotated[int, Path(ge=1, le=2**62)]
PDF = "application/pdf"
EOD_LISTED = 100  # the newest EOD tasks the web page lists; older ones stay downloadable by id
Month = Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="The month reported, YYYY-MM")]
Owner = Annotated[str | None, Query(max_length=200, description="Only this organisation's records")]
Day = Annotated[date | None, Query(ge=FIRST_DAY, le=LAST_DAY, description="The day reported (default: today)")]
Queued = Annotated[
    bool, Query(alias="async", description="Made by a background worker: 202 and the job; the PDF from its result")
]
REPORT_JOB = "report"
MAX_REPORTS_WAITING = 20  # assumption: more queued reports than this is a client asking in a loop


def _pdf(body: bytes, filename: str) -> Response:
    return Response(body, media_type=PDF, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _head(user: User) -> Letterhead:
    return letterhead(user.organisation or None, None, user.name)


@router.get("/reports/sitrep.pdf", summary="The daily situation report as PDF (what you may see)")
def sitrep_pdf(request: Request, on: Day = None, queued: Queued = False) -> Response:
    user = reader(request)
    speak_to(request)  # the account's language, if it keeps one
    params = {"on": (on or date.today()).isoformat(), "plan": latest_plan(request, user)}
    return _answer(request, user, "sitrep", params, queued)


@router.get("/hazards/{hazard_id}/completion.pdf", summary="The completion report of a hazard as PDF (IMAS 08.30)")
def completion_pdf(request: Request, hazard_id: PathId, queued: Queued = False) -> Response:
    user = reader(request)
    speak_to(request)  # the account's language, if it keeps one
    visible(registers(request).get(), user, "hazard", hazard_id)  # 404 for a hidden hazard as for a missing one
    return _answer(request, user, "completion", {"hazard_id": hazard_id}, queued)


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
def monthly_pdf(request: Request, month: Month, organisation: Owner = None, queued: Queued = False) -> Response:
    user = reader(request)
    speak_to(request)  # the account's language, if it keeps one
    return _answer(request, user, "monthly", {"month": month, "organisation": organisation or None}, queued)


def document(reg: Register, kind: str, params: dict[str, Any], seen: str | None, head: Letterhead) -> tuple[bytes, str]:
    """One PDF document and its file name, made in a request or by a background worker alike."""
    if kind == "sitrep":
        day = date.fromisoformat(params["on"])
        context = sitrep_document(reg, day, seen, params["plan"])
        return render_pdf("sitrep.html", context, head), f"sitrep-{day.isoformat()}.pdf"
    if kind == "completion":
        context = completion_document(reg, params["hazard_id"], seen)
        return render_pdf("completion.html", context, head), f"completion-{params['hazard_id']}.pdf"
    context = monthly_document(reg, params["month"], params["organisation"], seen)
    return render_pdf("monthly.html", context, head), file_name(context["month"], params["organisation"])


def _answer(request: Request, user: User, kind: str, params: dict[str, Any], queued: bool) -> Response:
    """The PDF now, or (``queued``) 202 and the job a worker makes it in."""
    if not queued:
        return _pdf(*document(registers(request).get(), kind, params, seen_by(user), _head(user)))
    need(request, Role.VIEWER, N_("queue a report"))  # not an anonymous visitor of a public server
    args = {
        "document": kind,
        "params": params,
        "seen": seen_by(user),
        "head": [user.organisation or None, user.name],
        "language": i18n.current(),
    }
    backend = registers(request).primary().backend  # a write, though asked with GET
    try:
        job = request.app.state.jobs.submit(backend, REPORT_JOB, user.name, visible_to(user), args, MAX_REPORTS_WAITING)
    except Busy as exc:
        raise ApiError(429, str(exc)) from None
    return json_response(dumps(job_out(job)), status=202, Location=f"/api/jobs/{job.id}")


def report_job(ctx: JobContext) -> tuple[dict[str, Any], bytes]:
    """The work of a report job: the document its requester asked for, as they would have had it at once."""
    args = ctx.job.args
    ctx.progress("making the document")
    with i18n.speaking(args["language"]):
        head = letterhead(args["head"][0], None, args["head"][1])
        body, filename = document(ctx.reg, args["document"], args["params"], args["seen"], head)
    return {"filename": filename, "media_type": PDF, "bytes": len(body)}, body


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
