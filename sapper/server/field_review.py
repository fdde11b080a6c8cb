"""Field submissions waiting for a supervisor: list them, see their photos, approve or reject.

Approval writes the submission's records through the register with the same checks as every
other write (``check_write``): the approving supervisor's, and for items and reports the rights
of the team leader who sent them (their own team only). Records and the new status are written
in one transaction. A submission the register's rules refuse (an unknown or hidden hazard, a
polygon that does not close) is kept as rejected with the reason; nothing is dropped.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from sapper.field.openrosa import read_instance
from sapper.field.records import field_records, write_inspection
from sapper.i18n import N_
from sapper.model.accounts import Role, User
from sapper.model.attachments import ATTACHABLE
from sapper.model.errors import SapperError
from sapper.server.auth import supervisor
from sapper.server.context import registers
from sapper.server.errors import ApiError
from sapper.server.features import dumps
from sapper.server.permissions import FIELD_KINDS, check_write, seen_by
from sapper.server.web import json_response
from sapper.store.attachments import Attachments
from sapper.store.corrections import Corrections
from sapper.store.register import Register
from sapper.store.schema import layer
from sapper.store.submissions import APPLIED, APPROVED, PENDING, REJECTED, STATUSES, Submission, Submissions

router = APIRouter(prefix="/api/submissions", tags=["Field submissions"])
SubmissionId = Annotated[int, Path(ge=1, le=2**62)]


class Rejection(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="Why, for the team that sent it.")


class Correction(BaseModel):
    values: dict[str, Annotated[str, Field(max_length=20_000)]] = Field(
        min_length=1, max_length=200, description="Answers to replace, by the form's field name."
    )


def store(reg: Register) -> Submissions:
    return Submissions(reg.backend).ensure()


def signs_alone(form_id: str, sender: User) -> bool:
    """Whether the sender's own rights may write the submission when the server approves field data by
    itself: not a QC inspection's result from a team, which a supervisor signs off (IMAS 09.20: quality
    control is the organisation's check on the teams' work, not the team's own)."""
    return form_id != "sapper_qc_inspection" or sender.role.at_least(Role.SUPERVISOR)


def approve(reg: Register, sub: Submission, approver: User, sender: User | None) -> Submission:
    """Write what the submission holds, or keep it as rejected with the reason the register gave."""
    submissions = store(reg)
    try:
        if sender is None:
            raise SapperError(f"the account {sub.username!r} that sent it no longer exists")
        made = field_records(reg, read_instance(Corrections(reg.backend).current_xml(sub)), sender)
        written: dict[str, list[int]] = {}
        reg.user = approver.name if approver.name == sender.name else f"{sender.name} (approved by {approver.name})"
        with reg.transaction():
            for kind, records in made:
                lay = layer(kind)
                for record in records:
                    before = reg.get(kind, record.id) if record.id is not None else None  # an update, not a new one
                    check_write(reg, approver, lay, record, before)
                    if kind in FIELD_KINDS and sender.name != approver.name:
                        check_write(reg, sender, lay, record)
                if kind == "qc_sample":  # an inspection result, recorded as the CLI records it
                    stored = [write_inspection(reg, record) for record in records]
                else:
                    stored = reg.add_many(records)
                written.setdefault(kind, []).extend(int(r.id) for r in stored)
            _attach_photos(reg, submissions, sub, written)
            if not submissions.decide(sub.id, APPLIED if written else APPROVED, approver.name, None, written):
                raise ApiError(409, DECIDED, params={"id": sub.id})
    except (SapperError, ValueError) as exc:
        _reject(submissions, sub, approver, str(exc))
    except ApiError as exc:
        if exc.status == 409:
            raise
        _reject(submissions, sub, approver, exc.message)
    out = submissions.get(sub.id)
    assert out is not None
    return out


DECIDED = N_("submission {id} was decided by someone else meanwhile")


def _attach_photos(reg: Register, submissions: Submissions, sub: Submission, written: dict[str, list[int]]) -> None:
    """The submission's photos become attachments of the main record of each kind it made
    (an EOD task's report and its first item, not every one of a hundred items)."""
    targets = [(kind, ids[0]) for kind, ids in written.items() if ids and kind in ATTACHABLE]
    names = submissions.attachment_names(sub.id) if targets else []
    files = [(name, found.data) for name in names if (found := submissions.attachment(sub.id, name)) is not None]
    if files:
        Attachments(reg).ensure().add_photos(targets, files)


def _reject(submissions: Submissions, sub: Submission, by: User, reason: str) -> None:
    if not submissions.decide(sub.id, REJECTED, by.name, reason, {}):
        raise ApiError(409, DECIDED, params={"id": sub.id})


def describe(sub: Submission, attachments: list[str]) -> dict[str, Any]:
    out = dataclasses.asdict(sub)
    out["xml"] = sub.xml.decode("utf-8")
    out["received_at"] = sub.received_at.isoformat()
    out["decided_at"] = sub.decided_at.isoformat() if sub.decided_at else None
    out["attachments"] = [f"/api/submissions/{sub.id}/attachments/{quote(name)}" for name in attachments]
    return out


def _pending(request: Request, sub_id: int) -> tuple[Register, User, Submission]:
    user = supervisor(request)
    reg = registers(request).get()
    sub = _visible(reg, user, sub_id)
    if sub.status != PENDING:
        raise ApiError(409, N_("submission {id} is {status} already"), params={"id": sub_id, "status": sub.status})
    return reg, user, sub


def _visible(reg: Register, user: User, sub_id: int) -> Submission:
    sub = store(reg).get(sub_id)
    org = seen_by(user)
    if sub is None or (org is not None and sub.organisation != org):
        raise ApiError(404, N_("submission {id} does not exist"), params={"id": sub_id})
    return sub


@router.get("", summary="Field submissions of your organisation (supervisor), pending ones by default")
def list_submissions(
    request: Request,
    status: Annotated[str, Query(pattern="^(" + "|".join(STATUSES) + ")$")] = PENDING,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> Response:
    user = supervisor(request)
    submissions = store(registers(request).get())
    found = submissions.list(seen_by(user), status, limit)
    return json_response(dumps([describe(s, submissions.attachment_names(s.id)) for s in found]))


@router.get("/{sub_id}", summary="One field submission, with its XML and links to its photos")
def get_submission(sub_id: SubmissionId, request: Request) -> Response:
    reg = registers(request).get()
    sub = _visible(reg, supervisor(request), sub_id)
    return json_response(dumps(describe(sub, store(reg).attachment_names(sub_id))))


@router.get("/{sub_id}/attachments/{name}", summary="A photo or other file sent with a submission")
def get_attachment(sub_id: SubmissionId, name: Annotated[str, Path(max_length=255)], request: Request) -> Response:
    reg = registers(request).get()
    _visible(reg, supervisor(request), sub_id)
    found = store(reg).attachment(sub_id, name)
    if found is None:
        raise ApiError(404, N_("submission {id} has no attachment {name!r}"), params={"id": sub_id, "name": name})
    return Response(found.data, media_type=found.content_type, headers={"X-Content-Type-Options": "nosniff"})


@router.post("/{sub_id}/approve", summary="Approve a pending submission: its records go into the register")
def approve_submission(sub_id: SubmissionId, request: Request) -> Response:
    reg, user, sub = _pending(request, sub_id)
    sender = registers(request).accounts().find(sub.username)
    done = approve(reg, sub, user, sender)
    status = 200 if done.status in (APPLIED, APPROVED) else 422
    return json_response(dumps(describe(done, store(reg).attachment_names(sub_id))), status=status)


@router.post("/{sub_id}/reject", summary="Reject a pending submission, with the reason (it is kept)")
def reject_submission(sub_id: SubmissionId, body: Rejection, request: Request) -> Response:
    reg, user, sub = _pending(request, sub_id)
    _reject(store(reg), sub, user, body.reason)
    done = store(reg).get(sub_id)
    assert done is not None
    return json_response(dumps(describe(done, store(reg).attachment_names(sub_id))))


@router.post("/{sub_id}/correct", summary="Correct a rejected submission's answers; it goes back to pending")
def correct_submission(sub_id: SubmissionId, body: Correction, request: Request) -> Response:
    user = supervisor(request)
    reg = registers(request).get()
    sub = _visible(reg, user, sub_id)
    corrections = Corrections(reg.backend).ensure()
    if sub.status != REJECTED:
        message = N_("submission {id} is {status}; only a rejected submission is corrected")
        raise ApiError(409, message, params={"id": sub_id, "status": sub.status})
    if corrections.correct(sub, body.values, user.name) is None:
        raise ApiError(409, N_("submission {id} was changed by someone else meanwhile"), params={"id": sub_id})
    done = store(reg).get(sub_id)
    assert done is not None
    out = describe(done, store(reg).attachment_names(sub_id))
    out["corrections"] = [c.described() for c in corrections.of(sub_id)]
    return json_response(dumps(out))


@router.get("/{sub_id}/corrections", summary="Who corrected a submission, when, what, and why it had been rejected")
def submission_corrections(sub_id: SubmissionId, request: Request) -> Response:
    reg = registers(request).get()
    _visible(reg, supervisor(request), sub_id)
    return json_response(dumps([c.described() for c in Corrections(reg.backend).of(sub_id)]))
