"""OpenRosa for ODK Collect and KoboCollect: form list, forms with their lists, submissions.

A device is set up with the server address ``https://HOST/openrosa`` and a sapper account;
it asks for ``/formList``, each form's XForm and manifest (the team's hazards.csv,
tasks.csv and qc_samples.csv, only what that user may see), and sends filled forms to ``/submission`` as
multipart/form-data (``xml_submission_file`` and the photos). Credentials go as HTTP Basic
once the server challenges with ``WWW-Authenticate: Basic``. A submission is kept once per
instance id and waits for a supervisor (``field_review``), unless the server was started
with ``--field-auto-approve``. Specifications: docs.getodk.org/openrosa-form-list,
/openrosa-form-submission and /openrosa-http.
"""

from __future__ import annotations

import io
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as email_policy
from functools import cache
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from PIL import Image, UnidentifiedImageError
from starlette.concurrency import run_in_threadpool

from sapper.field.forms import ATTACHED_LISTS, all_forms
from sapper.field.media import media_files
from sapper.field.openrosa import OPENROSA_VERSION, FormEntry, MediaEntry, form_list, manifest, read_instance, response
from sapper.field.xlsform import XLSForm
from sapper.i18n import N_
from sapper.model.accounts import Role, User
from sapper.model.errors import SapperError
from sapper.server.auth import authenticated
from sapper.server.context import registers, settings
from sapper.server.errors import ApiError
from sapper.server.field_review import approve, signs_alone, store
from sapper.server.permissions import seen_by
from sapper.server.web import root
from sapper.store.submissions import APPLIED, APPROVED, REJECTED, Attachment

PREFIX = "/openrosa"
router = APIRouter(prefix=PREFIX, include_in_schema=False)
HEADERS = {"X-OpenRosa-Version": OPENROSA_VERSION}
BASIC = {**HEADERS, "WWW-Authenticate": 'Basic realm="sapper"'}
XML = "text/xml; charset=utf-8"
FormId = Annotated[str, Path(max_length=100)]


@cache
def _forms() -> dict[str, tuple[XLSForm, str]]:
    """Every form and its XForm, converted once per process."""
    return {form.form_id: (form, form.xform()) for form in all_forms()}


def _form(form_id: str) -> tuple[XLSForm, str]:
    found = _forms().get(form_id)
    if found is None:
        raise ApiError(
            404, N_("no form {id!r} (forms: {forms})"), HEADERS, {"id": form_id, "forms": ", ".join(_forms())}
        )
    return found


def field_user(request: Request) -> User:
    """The logged-in user; a device without credentials is challenged for Basic, as ODK Collect expects."""
    try:
        user = authenticated(request)
    except ApiError as exc:
        raise ApiError(exc.status, exc.template, BASIC, exc.params) from None
    if user is None:
        raise ApiError(401, N_("log in with your sapper user name and password"), BASIC)
    return user


def _xml(body: bytes, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type=XML, headers=HEADERS)


def _team_media(request: Request, user: User) -> dict[str, bytes]:
    team = user.team_id if user.role == Role.FIELD_TEAM else None
    return media_files(registers(request).get(), seen_by(user), team)


@router.get("/formList")
def form_list_route(request: Request) -> Response:
    field_user(request)
    base = f"{root(request)}{PREFIX}"
    wanted = request.query_params.get("formID")
    entries = [
        FormEntry(
            form_id=form.form_id,
            name=form.title,
            version=form.version,
            xform=xform,
            download_url=f"{base}/forms/{form.form_id}.xml",
            manifest_url=f"{base}/forms/{form.form_id}/manifest" if form.media else None,
        )
        for form, xform in _forms().values()
        if wanted in (None, form.form_id)
    ]
    return _xml(form_list(entries))


@router.get("/forms/{form_id}.xml")
def form_download(form_id: FormId, request: Request) -> Response:
    field_user(request)
    return _xml(_form(form_id)[1].encode("utf-8"))


@router.get("/forms/{form_id}/manifest")
def form_manifest(form_id: FormId, request: Request) -> Response:
    user = field_user(request)
    form, _xform = _form(form_id)
    files = _team_media(request, user)
    base = f"{root(request)}{PREFIX}/forms/{form_id}/media"
    return _xml(manifest([MediaEntry(name, files[name], f"{base}/{name}") for name in form.media]))


@router.get("/forms/{form_id}/media/{filename}")
def form_media(form_id: FormId, filename: Annotated[str, Path(max_length=100)], request: Request) -> Response:
    user = field_user(request)
    form, _xform = _form(form_id)
    if filename not in form.media or filename not in ATTACHED_LISTS:
        raise ApiError(404, N_("form {id} has no file {name!r}"), HEADERS, {"id": form_id, "name": filename})
    body = _team_media(request, user)[filename]
    return Response(body, media_type="text/csv; charset=utf-8", headers=HEADERS)


@router.head("/submission")
def submission_head(request: Request) -> Response:
    field_user(request)
    limit = str(settings(request).max_body_bytes)
    return Response(status_code=204, headers={**HEADERS, "X-OpenRosa-Accept-Content-Length": limit})


@router.post("/submission")
async def submission_post(request: Request) -> Response:
    body = await request.body()
    return await run_in_threadpool(_receive, request, body)


def _parts(request: Request, body: bytes) -> tuple[bytes, list[Attachment]]:
    """The instance XML and the files of a multipart/form-data body (read with the standard library)."""
    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise ApiError(400, N_("send the submission as multipart/form-data with an xml_submission_file part"), HEADERS)
    head = f"Content-Type: {ctype}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=email_policy).parsebytes(head + body)
    xml: bytes | None = None
    files: list[Attachment] = []
    for part in message.iter_parts() if isinstance(message, EmailMessage) else ():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if name == "xml_submission_file":
            xml = data
        elif part.get_filename():
            files.append(Attachment(part.get_filename() or "", part.get_content_type(), data))
    if xml is None:
        raise ApiError(400, N_("the submission has no xml_submission_file part"), HEADERS)
    for att in files:
        _check_attachment(att)
    return xml, files


def _check_attachment(att: Attachment) -> None:
    if "/" in att.name or "\\" in att.name or not att.name.strip():
        raise ApiError(400, N_("attachment name {name!r} is not a plain file name"), HEADERS, {"name": att.name})
    if att.content_type.startswith("image/"):
        try:
            Image.open(io.BytesIO(att.data)).verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            problem = N_("attachment {name!r} is sent as {type} but is not an image")
            raise ApiError(400, problem, HEADERS, {"name": att.name, "type": att.content_type}) from None


def _receive(request: Request, body: bytes) -> Response:
    user = field_user(request)
    if not user.can(Role.FIELD_TEAM):
        message = N_("{name} is a {role}; sending field forms takes a field_team role")
        raise ApiError(403, message, HEADERS, {"name": user.name, "role": user.role.value})
    xml, files = _parts(request, body)
    try:
        instance = read_instance(xml)
    except SapperError as exc:
        raise ApiError(400, str(exc), HEADERS) from None
    reg = registers(request).get()
    earlier = store(reg).by_instance(instance.instance_id)
    if earlier is not None and earlier.username != user.name:
        message = N_("instance {id} was sent by another user")
        raise ApiError(409, message, HEADERS, {"id": instance.instance_id})
    sub, added = store(reg).receive(
        instance.instance_id, instance.form_id, instance.version, user.name, user.organisation, xml, files
    )
    if not added:
        return _xml(response(f"already received: submission {sub.id} ({sub.status})"), 202)
    if settings(request).field_auto_approve and sub.status == "pending" and signs_alone(sub.form_id, user):
        sub = approve(reg, sub, user, user)
    if sub.status == APPLIED:
        words = "received and written to the register"
    elif sub.status == APPROVED:
        words = "received and approved"
    elif sub.status == REJECTED:
        words = f"received, but the register refused it (kept for correction): {sub.reason}"
    else:
        words = "received; it waits for a supervisor's approval"
    return _xml(response(f"submission {sub.id} {words}"), 201)
