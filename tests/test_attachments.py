"""Photos and PDFs on hazards, items and reports over real HTTP, on both backends: upload, list,
download and delete; bytes that are not a photo refused by name; another organisation's
restricted hazard's photos as missing as the hazard; a field submission's photo attached to the
item its approval makes."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image
from test_openrosa import collect, download, fill, form_list, item_answers, photo, send

from sapper.store import open_register
from sapper.store.attachments import TABLE
from sapper.testing.server import Served, served_demo


@pytest.fixture(scope="module")
def api(module_target: str) -> Iterator[Served]:
    with served_demo(module_target) as served:
        yield served


def png(colour: tuple[int, int, int] = (10, 200, 30), size: tuple[int, int] = (640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def upload(client: httpx.Client, path: str, *files: tuple[str, bytes, str]) -> httpx.Response:
    return client.post(path, files=[("file", f) for f in files])


def test_upload_list_download_thumbnail_and_delete(api: Served) -> None:
    hazard = api.demo.hazards[1]
    picture = png()
    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    with api.client("super") as sup:
        made = upload(sup, f"/api/hazards/{hazard}/attachments", ("site/../edge.png", picture, "image/png"),
                      ("map.pdf", pdf, "application/octet-stream"))  # fmt: skip
        assert made.status_code == 201, made.text
        png_att, pdf_att = made.json()["attachments"]
        assert (png_att["name"], png_att["content_type"], png_att["size"]) == ("edge.png", "image/png", len(picture))
        assert (pdf_att["content_type"], pdf_att["added_by"]) == ("application/pdf", "super")
        listed = sup.get(f"/api/hazards/{hazard}/attachments").json()
        assert [a["id"] for a in listed["attachments"]] == [png_att["id"], pdf_att["id"]] and listed["can_add"]
        got = sup.get(png_att["href"])
        assert got.content == picture and got.headers["content-type"] == "image/png"
        assert got.headers["content-disposition"] == "inline; filename*=UTF-8''edge.png"
        assert got.headers["x-content-type-options"] == "nosniff"
        pdf_got = sup.get(pdf_att["href"])
        assert pdf_got.content == pdf and pdf_got.headers["content-disposition"].startswith("attachment;")
        thumb = sup.get(png_att["thumbnail"])
        assert thumb.headers["content-type"] == "image/jpeg"
        assert max(Image.open(io.BytesIO(thumb.content)).size) == 200
    with api.client("viewer") as viewer:  # a viewer sees them, may add none
        assert viewer.get(f"/api/hazards/{hazard}/attachments").json()["can_add"] is False
        assert upload(viewer, f"/api/hazards/{hazard}/attachments", ("a.png", picture, "image/png")).status_code == 403
        assert viewer.delete(png_att["href"]).status_code == 403
    with api.client("leader") as leader:  # a team leader adds photos to items and reports, not hazards
        refused = upload(leader, f"/api/hazards/{hazard}/attachments", ("a.png", picture, "image/png"))
        assert refused.status_code == 403
        item = api.demo.items[0]  # of the leader's team
        assert upload(leader, f"/api/items/{item}/attachments", ("i.png", picture, "image/png")).status_code == 201
    with api.client("ngo") as ngo:  # another organisation sees mac's open hazard's photos, deletes none
        assert ngo.get(png_att["href"]).content == picture
        assert ngo.delete(png_att["href"]).status_code == 403
    with api.client("super") as sup:
        assert sup.delete(pdf_att["href"]).status_code == 204
        assert sup.get(pdf_att["href"]).status_code == 404
        assert [a["id"] for a in sup.get(f"/api/hazards/{hazard}/attachments").json()["attachments"]] == [png_att["id"]]
    reg = open_register(api.target, read_only=True)
    try:  # both writes audited, as writes of records are
        actions = [(e.action, e.user) for e in reg.backend.read_audit(TABLE, pdf_att["id"])]
        assert actions == [("insert", "super"), ("delete", "super")]
    finally:
        reg.close()


def test_a_file_that_is_not_a_photo_is_refused_naming_the_record_and_file(api: Served) -> None:
    item = api.demo.items[1]
    disguised = b"<html><script>alert(1)</script></html>"
    with api.client("super") as sup:
        refused = upload(sup, f"/api/items/{item}/attachments", ("good.png", png(), "image/png"),
                         ("evil.jpg", disguised, "image/jpeg"))  # fmt: skip
        assert refused.status_code == 422, refused.text
        words = refused.json()["description"]
        assert words.startswith(f"item {item}: evil.jpg is not a photo") and "PDF" in words
        assert sup.get(f"/api/items/{item}/attachments").json()["attachments"] == []  # all or nothing
        assert upload(sup, f"/api/items/{item}/attachments", ("e.jpg", b"", "image/jpeg")).status_code == 422
        assert sup.post(f"/api/items/{item}/attachments", content=b"x").status_code == 400
        assert upload(sup, f"/api/teams/{api.demo.teams[0]}/attachments", ("a.png", png(), "i")).status_code == 400


def test_a_restricted_hazards_photo_is_missing_for_another_organisation(api: Served) -> None:
    secret = api.demo.secret_hazard
    with api.client("ngo") as ngo:
        made = upload(ngo, f"/api/hazards/{secret}/attachments", ("depot.png", png((1, 2, 3)), "image/png"))
        assert made.status_code == 201, made.text
        att = made.json()["attachments"][0]
        assert ngo.get(att["href"]).status_code == 200
    with api.client("super") as sup:
        hidden = sup.get(att["href"])
        missing = sup.get("/api/attachments/999999")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["description"] == f"attachment {att['id']} does not exist"
        assert sup.get(att["thumbnail"]).status_code == 404
        assert sup.get(f"/api/hazards/{secret}/attachments").status_code == 404
        assert sup.delete(att["href"]).status_code == 404
        assert upload(sup, f"/api/hazards/{secret}/attachments", ("x.png", png(), "image/png")).status_code == 404


def test_an_approved_submissions_photo_is_attached_to_the_item_it_makes(api: Served) -> None:
    instance_id = f"uuid:{uuid.uuid4()}"
    jpeg = photo()
    with collect(api) as client:
        xml = fill(
            download(client, form_list(client), "sapper_item_found"), item_answers(api.demo.hazards[0]), instance_id
        )
        assert send(client, xml, {"item.jpg": ("item.jpg", jpeg, "image/jpeg")}).status_code == 201
    with api.client("super") as sup:
        sub = next(s for s in sup.get("/api/submissions").json() if s["instance_id"] == instance_id)
        done = sup.post(f"/api/submissions/{sub['id']}/approve")
        assert done.status_code == 200 and done.json()["status"] == "applied", done.text
        item_id = done.json()["records"]["item"][0]
        attached = sup.get(f"/api/items/{item_id}/attachments").json()["attachments"]
        assert [(a["name"], a["content_type"], a["added_by"]) for a in attached] == [
            ("item.jpg", "image/jpeg", "leader (approved by super)")
        ]
        assert sup.get(attached[0]["href"]).content == jpeg
