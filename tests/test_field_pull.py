"""`sapper pull` against a stand-in ODK Central on 127.0.0.1, answering as Central's API documents
(docs.getodk.org/central-api): a session token from ``POST /v1/sessions``, the OData table of
submissions, each submission's XML and its attachments. pyodk is the real client."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sapper.field.forms import form
from sapper.store import open_register
from sapper.store.submissions import APPLIED, PENDING, REJECTED, Submissions
from sapper.testing.server import LAT, LON, ServerThread, seeded

TOKEN = "lSpAIeksRu1CNZs7!qjAot2T17dPzkrw9B4iTtpj7OoIJBmXvnHM8z8Ka4QPEjR7"
EMAIL, SECRET = "office@mac.example", "central-password"
FORM = "sapper_item_found"


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


def item_xml(instance_id: str, hazard: int, category: str = "uxo") -> bytes:
    version = form(FORM).version
    return (
        f'<?xml version="1.0"?><data xmlns:jr="http://openrosa.org/javarosa" id="{FORM}" version="{version}">'
        f"<start>2026-11-30T09:00:00.000+03:00</start><end>2026-11-30T09:10:00.000+03:00</end>"
        f"<today>2026-11-30</today><hazard>{hazard}</hazard><position>{LAT + 0.0004} {LON + 0.0004} 400 4.5</position>"
        f"<category>{category}</category><model>M107</model><photo>item.jpg</photo><depth_cm>10</depth_cm>"
        f"<condition>corroded</condition><state>found</state><found_on>2026-11-30</found_on><notes/>"
        f"<meta><instanceID>{instance_id}</instanceID></meta></data>"
    ).encode()


class StandInCentral:
    """The parts of Central's API that pyodk and `sapper pull` use; it logs every request."""

    def __init__(self) -> None:
        self.submissions: dict[str, bytes] = {}
        self.photos: dict[str, bytes] = {}
        self.log: list[str] = []
        self.app = Starlette(
            routes=[
                Route("/v1/sessions", self.session, methods=["POST"]),
                Route("/v1/users/current", self.current),
                Route("/v1/projects/{project:int}/forms/{form}.svc/Submissions", self.table),
                Route("/v1/projects/{project:int}/forms/{form}/submissions/{iid}.xml", self.xml),
                Route("/v1/projects/{project:int}/forms/{form}/submissions/{iid}/attachments", self.attachments),
                Route("/v1/projects/{project:int}/forms/{form}/submissions/{iid}/attachments/{name}", self.file),
            ]
        )

    def _authorised(self, request: Request) -> bool:
        self.log.append(f"{request.method} {request.url.path}")
        return request.headers.get("Authorization") == f"Bearer {TOKEN}"

    async def session(self, request: Request) -> Response:
        self.log.append("POST /v1/sessions")
        body = await request.json()
        if (body.get("email"), body.get("password")) != (EMAIL, SECRET):
            return JSONResponse(
                {"code": 401.2, "message": "Could not authenticate with the provided credentials."}, 401
            )
        return JSONResponse({"token": TOKEN, "csrf": "x", "expiresAt": "2099-01-01T00:00:00.000Z"})

    async def current(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse({"code": 401.2, "message": "Could not authenticate."}, 401)
        return JSONResponse({"id": 1, "type": "user", "email": EMAIL, "displayName": "Office"})

    async def table(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse({"code": 401.2, "message": "Could not authenticate."}, 401)
        p, f = request.path_params["project"], request.path_params["form"]
        rows = [
            {
                "__id": iid,
                "__system": {
                    "submissionDate": f"2026-11-30T16:0{n}:00.000Z",
                    "submitterId": "7",
                    "submitterName": "Team 3",
                    "attachmentsPresent": 1,
                    "attachmentsExpected": 1,
                    "status": None,
                    "reviewState": None,
                    "deviceId": "collect:x1",
                    "edits": 0,
                    "formVersion": form(FORM).version,
                },
                "meta": {"instanceID": iid},
            }
            for n, iid in enumerate(self.submissions)
        ]
        context = f"{request.base_url}v1/projects/{p}/forms/{f}.svc/$metadata#Submissions"
        return JSONResponse({"@odata.context": context, "value": rows})

    async def xml(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse({"code": 401.2, "message": "Could not authenticate."}, 401)
        return Response(self.submissions[request.path_params["iid"]], media_type="application/xml")

    async def attachments(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse({"code": 401.2, "message": "Could not authenticate."}, 401)
        return JSONResponse([{"name": "item.jpg", "exists": True}, {"name": "sketch.png", "exists": False}])

    async def file(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse({"code": 401.2, "message": "Could not authenticate."}, 401)
        return Response(self.photos[request.path_params["iid"]], media_type="image/jpeg")


@pytest.fixture
def central() -> Iterator[tuple[StandInCentral, str]]:
    stand_in = StandInCentral()
    server = ServerThread(stand_in.app).start()
    try:
        yield stand_in, server.url
    finally:
        server.stop()


def sapper(*args: str, ok: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "sapper", "-u", "office", *args],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
    )
    assert (result.returncode == 0) == ok, result.stdout + result.stderr
    return result


def pull(target: str, url: str, *extra: str, ok: bool = True, **env: str) -> str:
    creds = {"SAPPER_CENTRAL_USER": EMAIL, "SAPPER_CENTRAL_PASSWORD": SECRET} | env
    args = ["pull", target, "--central", url, "--project", "4", "--form", FORM, "--as", "leader", *extra]
    done = sapper(*args, ok=ok, **creds)
    return (done.stdout + done.stderr).replace("\n", "")


def test_pull_keeps_new_submissions_for_approval_and_fetches_each_once(target: str, central) -> None:
    stand_in, url = central
    demo = seeded(target)
    for n in (1, 2):
        stand_in.submissions[f"uuid:p{n}"] = item_xml(f"uuid:p{n}", demo.hazards[0])
        stand_in.photos[f"uuid:p{n}"] = photo()
    said = pull(target, url)
    assert "2 listed, 0 already held, 2 new (2 attachments), 2 waiting for approval" in said
    with open_register(target) as reg:
        store = Submissions(reg.backend)
        first = store.by_instance("uuid:p1")
        assert first is not None and first.status == PENDING and first.username == "leader"
        assert store.attachment(first.id, "item.jpg").data == stand_in.photos["uuid:p1"]  # type: ignore[union-attr]
        assert reg.list("item", where={"source_key": ["odk:uuid:p1"]}) == []  # not in the register before approval
    stand_in.log.clear()
    stand_in.submissions["uuid:p3"] = item_xml("uuid:p3", demo.hazards[0], "ap_mine")
    stand_in.photos["uuid:p3"] = photo()
    stand_in.submissions["uuid:p4"] = item_xml("uuid:p4", 99_999)  # a hazard the register does not hold
    stand_in.photos["uuid:p4"] = photo()
    said = pull(target, url, "--approve")
    assert "4 listed, 2 already held, 2 new (2 attachments)" in said
    assert "1 written to the register, 1 rejected" in said and "uuid:p4" in said
    assert not [line for line in stand_in.log if "uuid:p1" in line or "uuid%3Ap1" in line]  # not fetched again
    with open_register(target) as reg:
        item = reg.list("item", where={"source_key": ["odk:uuid:p3"]})[0]
        assert item.category.value == "ap_mine" and item.hazard_id == demo.hazards[0]
        assert Submissions(reg.backend).by_instance("uuid:p3").status == APPLIED  # type: ignore[union-attr]
        refused = Submissions(reg.backend).by_instance("uuid:p4")
        assert refused is not None and refused.status == REJECTED and "99999" in (refused.reason or "")  # kept


def test_a_submission_already_imported_from_an_export_is_not_fetched(target: str, central, tmp_path: Path) -> None:
    stand_in, url = central
    demo = seeded(target)
    stand_in.submissions["uuid:e1"] = item_xml("uuid:e1", demo.hazards[0])
    stand_in.photos["uuid:e1"] = photo()
    pull(target, url, "--approve")
    with open_register(target) as reg:
        Submissions(reg.backend).backend.execute("DELETE FROM sapper_field_submissions")
    said = pull(target, url, "--approve")
    assert "1 listed, 1 already held, 0 new" in said  # its record carries odk:uuid:e1
    with open_register(target) as reg:
        assert len(reg.list("item", where={"source_key": ["odk:uuid:e1"]})) == 1


def test_wrong_credentials_or_an_unknown_account_are_one_clear_error(target: str, central, tmp_path: Path) -> None:
    _, url = central
    seeded(target)
    said = pull(target, url, ok=False, SAPPER_CENTRAL_PASSWORD="wrong")
    assert f"ODK Central at {url}" in said and "Traceback" not in said
    config = tmp_path / "pyodk_config.toml"
    config.write_text(f'[central]\nbase_url = "{url}"\nusername = "{EMAIL}"\npassword = "{SECRET}"\n')
    args = ["pull", target, "--project", "4", "--form", FORM, "--as", "nobody", "--config", str(config)]
    failed = sapper(*args, ok=False)
    assert "no sapper account 'nobody'" in failed.stderr
