"""Background jobs over HTTP: how far a job got, what it made (a PDF) once done, and how to stop it.

Every server on the register answers for every job, as both read the register's job table. A
report job is its requester's alone (it counts what they may see); a plan job is their
organisation's, as its plan is (``/api/plans`` shows those in full).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from sapper.i18n import N_
from sapper.jobs import Job, JobTable
from sapper.jobs.table import KEEP_OUTPUT_DAYS
from sapper.model.accounts import Role, User
from sapper.server.auth import reader, visible_to, writer
from sapper.server.context import registers
from sapper.server.errors import ApiError
from sapper.server.features import dumps
from sapper.server.web import json_response

router = APIRouter(prefix="/api", tags=["Jobs"])
JobId = Annotated[int, Path(ge=1, le=2**62)]
SHARED_KINDS = {"plan"}  # jobs every user of the organisation may follow; the others are their requester's


def job_out(job: Job) -> dict[str, Any]:
    def moment(value: datetime | None) -> str | None:
        return value.isoformat(timespec="seconds") if value else None

    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "step": job.step,
        "by": job.by,
        "requested_at": moment(job.requested_at),
        "started_at": moment(job.started_at),
        "finished_at": moment(job.finished_at),
        "attempts": job.attempts,
        "error": job.error,
        "result": job.result,
        "download": f"/api/jobs/{job.id}/result"
        if job.status == "done" and "media_type" in (job.result or {})
        else None,
    }


def _job(request: Request, user: User, job_id: int) -> tuple[JobTable, Job]:
    table = JobTable(registers(request).get().backend)
    job = table.get(job_id)
    mine = job is not None and job.organisation == visible_to(user)
    if job is None or not mine or (job.kind not in SHARED_KINDS and job.by != user.name):
        raise ApiError(404, N_("job {id} does not exist"), params={"id": job_id})
    return table, job


@router.get("/jobs/{job_id}", summary="One background job: its status and step while it runs, its result when done")
def get_job(job_id: JobId, request: Request) -> Response:
    _table, job = _job(request, reader(request), job_id)
    return json_response(dumps(job_out(job)))


@router.get("/jobs/{job_id}/result", summary="What a done job made (a PDF report)")
def job_result(job_id: JobId, request: Request) -> Response:
    table, job = _job(request, reader(request), job_id)
    if job.status != "done":
        message = N_("job {id} is {status}; its result comes when it is done")
        raise ApiError(409, message, params={"id": job.id, "status": job.status})
    body = table.output(job.id)
    if body is None:
        message = N_("what job {id} made was kept {days} days and is gone; ask for it again")
        raise ApiError(410, message, params={"id": job.id, "days": KEEP_OUTPUT_DAYS})
    result = job.result or {}
    disposition = f'attachment; filename="{result.get("filename", f"job-{job.id}")}"'
    return Response(body, media_type=result.get("media_type"), headers={"Content-Disposition": disposition})


@router.post("/jobs/{job_id}/cancel", summary="Stop a queued or running job (its requester, or a supervisor)")
def cancel_job(job_id: JobId, request: Request) -> Response:
    user = writer(request)
    table, job = _job(request, user, job_id)
    if job.by != user.name and not user.can(Role.SUPERVISOR):
        message = N_("job {id} was asked for by {by}; only they or a supervisor may cancel it")
        raise ApiError(403, message, params={"id": job.id, "by": job.by})
    if not table.cancel(job.id, user.name):
        ended = table.get(job.id) or job
        message = N_("job {id} is {status} already; only a queued or running job can be cancelled")
        raise ApiError(409, message, params={"id": job.id, "status": ended.status})
    return json_response(dumps(job_out(table.get(job.id) or job)))
