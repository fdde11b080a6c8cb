"""Photos and PDFs of hazards, items, reports and QC samples: upload, list, download, thumbnail, delete.

An attachment is seen by whoever sees its record and by no one else: an attachment of another
organisation's restricted hazard answers 404 exactly as a missing one. Adding or deleting one
is a change to its record, so it takes the rights to write that record (``check_write``: its
organisation, and for a team leader their own team's items and reports). The bytes decide
the content type (``sapper.model.attachments``); downloads say it, with the file name in
``Content-Disposition`` (PDFs as a download, never shown inline).
"""

from __future__ import annotations

from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as email_policy
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from sapper.i18n import N_
from sapper.model.accounts import Role, User
from sapper.model.attachments import PDF, thumbnail
from sapper.model.errors import NotFound
from sapper.server.auth import reader, writer
from sapper.server.context import registers
from sapper.server.errors import ApiError
from sapper.server.features import dumps
from sapper.server.permissions import check_write, is_visible, visible
from sapper.server.web import json_response
from sapper.store.attachments import Attachment, Attachments, attachable
from sapper.store.register import Register
from sapper.store.schema import layer

router = APIRouter(prefix="/api", tags=["Attachments"])
PathId = Annotated[int, Path(ge=1, le=2**62)]
Collection = Annotated[str, Path(pattern="^(hazards|items|reports|qc_samples)$")]


def _store(reg: Register) -> Attachments:
    return Attachments(reg).ensure()


def describe(att: Attachment) -> dict[str, object]:
    out = att.described()
    out["href"] = f"/api/attachments/{att.id}"
    out["thumbnail"] = None if att.content_type == PDF else f"/api/attachments/{att.id}/thumbnail"
    return out


def _may_write(reg: Register, user: User, kind: str, record_id: int) -> bool:
    record = reg.get(kind, record_id)
    try:
        check_write(reg, user, layer(kind), record, record)
    except ApiError:
        return False
    return True


def _visible_attachment(reg: Register, user: User, attachment_id: int) -> Attachment:
    """The attachment if its record is one the user sees; 404 with the same words otherwise."""
    att = _store(reg).get(attachment_id)
    if att is None or not is_visible(reg, user, layer(att.record_kind), att.record_id):
        raise NotFound(f"attachment {attachment_id}")
    return att


def files_of(request: Request, body: bytes) -> list[tuple[str, bytes]]:
    """(file name, bytes) of every file part of a multipart/form-data body (standard library parser)."""
    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise ApiError(400, N_("send the files as multipart/form-data, one part per file (field name 'file')"))
    head = f"Content-Type: {ctype}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=email_policy).parsebytes(head + body)
    parts = message.iter_parts() if isinstance(message, EmailMessage) else ()
    found = [(part.get_filename() or "", part.get_payload(decode=True) or b"") for part in parts if part.get_filename()]
    if not found:
        raise ApiError(400, N_("the request holds no file: send one part with a filename per file"))
    return found


@router.get("/{collection}/{record_id}/attachments", summary="The photos and PDFs attached to a record")
def list_attachments(collection: Collection, record_id: PathId, request: Request) -> Response:
    user = reader(request)
    reg = registers(request).get()
    record = visible(reg, user, collection, record_id)
    kind = layer(collection).kind
    found = [describe(a) for a in _store(reg).of_record(kind, int(record.id))]
    can_add = user.can(Role.FIELD_TEAM) and _may_write(reg, user, kind, record_id)
    return json_response(dumps({"attachments": found, "can_add": can_add}))


@router.post("/{collection}/{record_id}/attachments", status_code=201, summary="Attach photos or PDFs to a record")
async def add_attachments(collection: Collection, record_id: PathId, request: Request) -> Response:
    user = writer(request)
    await run_in_threadpool(_check_may_add, request, user, collection, record_id)  # before reading what was sent
    body = await request.body()
    files = files_of(request, body)
    return await run_in_threadpool(_add, request, user, collection, record_id, files)


def _check_may_add(request: Request, user: User, collection: str, record_id: int) -> None:
    reg = registers(request).get()
    kind = attachable(collection)
    record = visible(reg, user, kind, record_id)
    check_write(reg, user, layer(kind), record, record)


def _add(request: Request, user: User, collection: str, record_id: int, files: list[tuple[str, bytes]]) -> Response:
    _check_may_add(request, user, collection, record_id)  # again: the record may have changed meanwhile
    reg = registers(request).get()
    kind = attachable(collection)
    reg.user = user.name
    attachments = _store(reg)
    with reg.transaction():  # every file or none
        added = [attachments.add(kind, record_id, name, data) for name, data in files]
    return json_response(dumps({"attachments": [describe(a) for a in added]}), status=201)


@router.get("/attachments/{attachment_id}", summary="Download an attachment (its content type told by its bytes)")
def download(attachment_id: PathId, request: Request) -> Response:
    user = reader(request)
    reg = registers(request).get()
    att = _visible_attachment(reg, user, attachment_id)
    how = "attachment" if att.content_type == PDF else "inline"
    headers = {
        "Content-Disposition": f"{how}; filename*=UTF-8''{quote(att.name)}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=3600",
    }
    return Response(_store(reg).data(att.id), media_type=att.content_type, headers=headers)


@router.get("/attachments/{attachment_id}/thumbnail", summary="A small JPEG of a photo, for lists")
def download_thumbnail(attachment_id: PathId, request: Request) -> Response:
    user = reader(request)
    reg = registers(request).get()
    att = _visible_attachment(reg, user, attachment_id)
    if att.content_type == PDF:
        raise ApiError(404, N_("attachment {id} is a PDF; it has no thumbnail"), params={"id": attachment_id})
    small = thumbnail(_store(reg).data(att.id))
    return Response(small, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


@router.delete("/attachments/{attachment_id}", status_code=204, summary="Delete an attachment (its record's writers)")
def delete(attachment_id: PathId, request: Request) -> Response:
    user = writer(request)
    reg = registers(request).get()
    att = _visible_attachment(reg, user, attachment_id)
    record = reg.get(att.record_kind, att.record_id)
    check_write(reg, user, layer(att.record_kind), record, record)
    reg.user = user.name
    _store(reg).delete(att.id)
    return Response(status_code=204)
