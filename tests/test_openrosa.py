"""ODK Collect's exchange with sapper over real HTTP, on both backends: the OpenRosa form list, form
and media download, HEAD then multipart POST of submissions with photos, resends, and the
supervisor's approval or rejection of what came from the field."""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from email.utils import formatdate
from typing import Any

import httpx
import pytest
from lxml import etree
from PIL import Image

from sapper.model.records import Activity
from sapper.store import open_register
from sapper.testing.server import LAT, LON, PASSWORD, Served, served_demo

OPENROSA = {"X-OpenRosa-Version": "1.0"}
XFORMS = "http://www.w3.org/2002/xforms"
LIST_NS = {"x": "http://openrosa.org/xforms/xformsList"}
MANIFEST_NS = {"m": "http://openrosa.org/xforms/xformsManifest"}
RESPONSE_NS = {"r": "http://openrosa.org/http/response"}


@pytest.fixture(scope="module")
def api(module_target: str) -> Iterator[Served]:
    with served_demo(module_target) as served:
        reg = open_register(served.target, user="seed")
        try:  # the leader's team has one task, on the first hazard
            task = reg.add(
                Activity(
                    activity_type="clearance",
                    hazard_id=served.demo.hazards[0],
                    team_id=served.demo.teams[0],
                    organisation="mac",
                )
            )
        finally:
            reg.close()
        served.task = task.id  # type: ignore[attr-defined]
        yield served


def collect(api: Served, user: str = "leader") -> httpx.Client:
    """A client that talks like ODK Collect: OpenRosa headers, a Date, Basic once challenged."""
    headers = {**OPENROSA, "Date": formatdate(usegmt=True), "Accept-Language": "en"}
    return httpx.Client(base_url=api.url, headers=headers, auth=httpx.BasicAuth(user, PASSWORD), timeout=30)


def form_list(client: httpx.Client) -> dict[str, dict[str, str]]:
    r = client.get("/openrosa/formList")
    assert r.status_code == 200 and r.headers["X-OpenRosa-Version"] == "1.0"
    assert r.headers["content-type"].startswith("text/xml") and r.headers["Date"]
    doc = etree.fromstring(r.content)
    assert doc.tag == "{http://openrosa.org/xforms/xformsList}xforms"
    return {
        x.findtext("x:formID", namespaces=LIST_NS): {
            child.tag.split("}")[1]: child.text for child in x if isinstance(child.tag, str)
        }
        for x in doc.findall("x:xform", LIST_NS)
    }


def fill(xform: bytes, answers: dict[str, str], instance_id: str) -> bytes:
    """The form's own primary instance with answers filled in, as ODK Collect saves it."""
    doc = etree.fromstring(xform)
    primary = doc.find(f".//{{{XFORMS}}}instance")[0]  # type: ignore[index]
    data = etree.fromstring(etree.tostring(primary))
    for node in data.iter():
        node.tag = etree.QName(node).localname
    for template in [n for n in data.iter() if any(k.endswith("}template") for k in n.attrib)]:
        template.getparent().remove(template)  # the repeat's template is not part of what Collect sends
    etree.cleanup_namespaces(data)
    for name, value in answers.items():
        node = data.find(name)
        assert node is not None, name
        node.text = value
    data.find("meta/instanceID").text = instance_id  # type: ignore[union-attr]
    return etree.tostring(data, xml_declaration=True, encoding="utf-8")


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


def send(client: httpx.Client, xml: bytes, files: dict[str, tuple[str, bytes, str]] | None = None) -> httpx.Response:
    head = client.head("/openrosa/submission")
    assert head.status_code == 204
    assert int(head.headers["X-OpenRosa-Accept-Content-Length"]) > 1_000_000
    parts = {"xml_submission_file": ("submission.xml", xml, "text/xml"), **(files or {})}
    return client.post("/openrosa/submission", files=parts)


def message(r: httpx.Response) -> str:
    doc = etree.fromstring(r.content)
    assert doc.tag == "{http://openrosa.org/http/response}OpenRosaResponse"
    return doc.findtext("r:message", namespaces=RESPONSE_NS) or ""


def item_answers(hazard: int, lon: float = LON + 0.0004, lat: float = LAT + 0.0004) -> dict[str, str]:
    return {
        "hazard": str(hazard),
        "position": f"{lat} {lon} 400 4.5",
        "category": "ap_mine",
        "model": "PMN-2",
        "photo": "item.jpg",
        "depth_cm": "5",
        "condition": "intact",
        "state": "found",
        "found_on": date(2016, 4, 20).isoformat(),
    }


def download(client: httpx.Client, forms: dict[str, dict[str, str]], form_id: str) -> bytes:
    r = client.get(forms[form_id]["downloadUrl"])
    assert r.status_code == 200
    return r.content


def test_forms_and_their_lists_as_odk_collect_fetches_them(api: Served) -> None:
    with httpx.Client(base_url=api.url, headers=OPENROSA) as anonymous:
        challenge = anonymous.get("/openrosa/formList")
        assert challenge.status_code == 401
        assert challenge.headers["WWW-Authenticate"].startswith("Basic")
        head = anonymous.head("/openrosa/submission")  # Collect asks before sending, and is challenged too
        assert head.status_code == 401 and head.headers["WWW-Authenticate"].startswith("Basic")
    with collect(api) as client:
        forms = form_list(client)
        assert set(forms) == {
            "sapper_daily_report", "sapper_item_found", "sapper_nts", "sapper_eod_task", "sapper_accident",
            "sapper_qc_inspection",
        }  # fmt: skip
        for form_id, entry in forms.items():
            xform = download(client, forms, form_id)
            assert entry["hash"] == "md5:" + hashlib.md5(xform).hexdigest()
            instance = etree.fromstring(xform).find(f".//{{{XFORMS}}}instance")[0]  # type: ignore[index]
            assert (instance.get("id"), instance.get("version")) == (form_id, entry["version"])
            m = client.get(entry["manifestUrl"])
            assert m.status_code == 200 and m.headers["X-OpenRosa-Version"] == "1.0"
            media = {
                f.findtext("m:filename", namespaces=MANIFEST_NS): f
                for f in etree.fromstring(m.content).iterfind("m:mediaFile", MANIFEST_NS)
            }
            attached = {src.split("/")[-1] for src in etree.fromstring(xform).xpath("//*[@src]/@src")}
            assert set(media) == attached  # the lists the form reads, no other
            assert attached & {"hazards.csv", "qc_samples.csv"}
            for node in media.values():
                body = client.get(node.findtext("m:downloadUrl", namespaces=MANIFEST_NS)).content
                assert node.findtext("m:hash", namespaces=MANIFEST_NS) == "md5:" + hashlib.md5(body).hexdigest()
        hazards = media_rows(client, "hazards.csv")
        tasks = media_rows(client, "tasks.csv")
    # the leader's team works on one hazard: its list holds that one
    assert [h["name"] for h in hazards] == [str(api.demo.hazards[0])]
    assert [(t["name"], t["hazard"]) for t in tasks] == [(str(api.task), str(api.demo.hazards[0]))]  # type: ignore[attr-defined]
    with collect(api, "super") as sup:  # a supervisor's lists: every hazard of mac, not ngo's restricted one
        assert {h["name"] for h in media_rows(sup, "hazards.csv")} == {str(h) for h in api.demo.hazards}
    with collect(api, "ngo") as other:
        assert str(api.demo.secret_hazard) in {h["name"] for h in media_rows(other, "hazards.csv")}


def media_rows(client: httpx.Client, name: str) -> list[dict[str, str]]:
    r = client.get(f"/openrosa/forms/sapper_daily_report/media/{name}")
    assert r.status_code == 200
    return list(csv.DictReader(io.StringIO(r.text)))


def test_submission_with_photo_waits_for_approval_and_a_resend_adds_nothing(api: Served) -> None:
    instance_id = f"uuid:{uuid.uuid4()}"
    jpeg = photo()
    with collect(api) as client:
        xml = fill(
            download(client, form_list(client), "sapper_item_found"), item_answers(api.demo.hazards[0]), instance_id
        )
        first = send(client, xml, {"item.jpg": ("item.jpg", jpeg, "image/jpeg")})
        assert first.status_code == 201, first.text
        assert first.headers["X-OpenRosa-Version"] == "1.0"
        assert "supervisor" in message(first)
        again = send(client, xml, {"item.jpg": ("item.jpg", jpeg, "image/jpeg")})
        assert again.status_code == 202 and "already received" in message(again)
    reg = open_register(api.target, read_only=True)
    try:
        assert reg.list("item", where={"source_key": f"odk:{instance_id}"}) == []  # not in the register yet
    finally:
        reg.close()
    with api.client("super") as sup:
        pending = [s for s in sup.get("/api/submissions").json() if s["instance_id"] == instance_id]
        assert len(pending) == 1 and pending[0]["status"] == "pending" and pending[0]["username"] == "leader"
        sub = pending[0]
        assert sup.get(sub["attachments"][0]).content == jpeg
        done = sup.post(f"/api/submissions/{sub['id']}/approve")
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "applied"
        item_id = done.json()["records"]["item"][0]
        assert sup.post(f"/api/submissions/{sub['id']}/approve").status_code == 409  # decided once
        item = sup.get(f"/ogc/collections/items/items/{item_id}").json()["properties"]
    assert (item["category"], item["model"], item["depth_cm"], item["hazard_id"]) == (
        "ap_mine",
        "PMN-2",
        5,
        api.demo.hazards[0],
    )
    assert item["team_id"] == api.demo.teams[0] and item["organisation"] == "mac"
    with api.client("leader") as leader:
        history = leader.get(f"/api/history/item/{item_id}").json()["entries"]
        assert history[0]["user"] == "leader (approved by super)"
    with collect(api) as client:  # sent once more after approval: still one item
        assert send(client, xml).status_code == 202
    reg = open_register(api.target, read_only=True)
    try:
        assert len(reg.list("item", where={"source_key": f"odk:{instance_id}"})) == 1
    finally:
        reg.close()


def test_the_same_instance_sent_at_once_from_several_connections_is_kept_once(api: Served) -> None:
    instance_id = f"uuid:{uuid.uuid4()}"
    with collect(api) as client:
        xml = fill(
            download(client, form_list(client), "sapper_item_found"), item_answers(api.demo.hazards[0]), instance_id
        )

    def post(_: int) -> int:
        with collect(api) as device:
            return device.post(
                "/openrosa/submission", files={"xml_submission_file": ("s.xml", xml, "text/xml")}
            ).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(post, range(4)))
    assert statuses == [201, 202, 202, 202]
    with api.client("super") as sup:
        assert [s["instance_id"] for s in sup.get("/api/submissions").json()].count(instance_id) == 1


def test_another_organisations_hazard_is_refused_at_approval_and_kept(api: Served) -> None:
    instance_id = f"uuid:{uuid.uuid4()}"
    with collect(api) as client:
        xml = fill(
            download(client, form_list(client), "sapper_item_found"), item_answers(api.demo.secret_hazard), instance_id
        )
        assert send(client, xml).status_code == 201
    with api.client("super") as sup:
        sub = next(s for s in sup.get("/api/submissions").json() if s["instance_id"] == instance_id)
        refused = sup.post(f"/api/submissions/{sub['id']}/approve")
        assert refused.status_code == 422
        assert refused.json()["status"] == "rejected"
        assert f"hazard {api.demo.secret_hazard} does not exist" in refused.json()["reason"]
        kept = [s for s in sup.get("/api/submissions", params={"status": "rejected"}).json() if s["id"] == sub["id"]]
        assert kept and kept[0]["xml"] == xml.decode()
    with api.client("ngo") as ngo:  # the other organisation's supervisor does not see mac's submissions
        assert ngo.get(f"/api/submissions/{sub['id']}").status_code == 404


def test_supervisor_rejects_with_a_reason_and_bad_input_is_named(api: Served) -> None:
    with collect(api) as client:
        forms = form_list(client)
        report = download(client, forms, "sapper_daily_report")
        ring = [(LAT, LON), (LAT, LON + 0.0005), (LAT + 0.0005, LON + 0.0005), (LAT + 0.0005, LON)]
        open_ring = ";".join(f"{lat} {lon} 0 3" for lat, lon in ring)  # the last point is not the first
        answers = {"hazard": str(api.demo.hazards[0]), "activity_type": "clearance", "report_date": "2016-04-21",
                   "area_kind": "shape", "area": open_ring, "items_found": "0", "hours": "7"}  # fmt: skip
        open_id = f"uuid:{uuid.uuid4()}"
        assert send(client, fill(report, answers, open_id)).status_code == 201
        closed_id = f"uuid:{uuid.uuid4()}"
        closed = {**answers, "area": open_ring + f";{LAT} {LON} 0 3"}
        assert send(client, fill(report, closed, closed_id)).status_code == 201
        missing_id, old_id = f"uuid:{uuid.uuid4()}", f"uuid:{uuid.uuid4()}"
        assert send(client, fill(report, {**closed, "activity_type": ""}, missing_id)).status_code == 201
        old = fill(report, closed, old_id).replace(b'version="', b'version="old-')
        assert send(client, old).status_code == 201  # kept, to be corrected
        bad_photo = send(
            client, fill(report, closed, f"uuid:{uuid.uuid4()}"), {"p.jpg": ("p.jpg", b"text", "image/jpeg")}
        )
        assert bad_photo.status_code == 400 and "not an image" in bad_photo.text
        assert client.post("/openrosa/submission", files={"x": ("x", b"<a/>", "text/xml")}).status_code == 400
    with collect(api, "viewer") as viewer:
        assert viewer.post("/openrosa/submission", files={"xml_submission_file": ("s.xml", b"<a/>")}).status_code == 403
    with api.client("super") as sup:
        subs = {s["instance_id"]: s for s in sup.get("/api/submissions").json()}
        refused = sup.post(f"/api/submissions/{subs[open_id]['id']}/approve").json()
        assert refused["status"] == "rejected" and "does not close" in refused["reason"]
        missing = sup.post(f"/api/submissions/{subs[missing_id]['id']}/approve").json()
        assert missing["status"] == "rejected" and missing["reason"].endswith(f"{missing_id}: activity_type is missing")
        old = sup.post(f"/api/submissions/{subs[old_id]['id']}/approve").json()
        assert old["status"] == "rejected" and "sent with version 'old-" in old["reason"]
        r = sup.post(f"/api/submissions/{subs[closed_id]['id']}/reject", json={"reason": "wrong hazard, resend"})
        assert r.status_code == 200 and r.json()["reason"] == "wrong hazard, resend"
        assert r.json()["decided_by"] == "super"
    with api.client("leader") as leader:
        assert leader.get("/api/submissions").status_code == 403  # supervisors decide


def test_survey_eod_task_and_accident_become_records(api: Served) -> None:
    ring = [(LAT + 0.01, LON), (LAT + 0.01, LON + 0.001), (LAT + 0.011, LON + 0.001), (LAT + 0.01, LON)]
    survey = {"survey_date": "2016-04-23", "evidence_kind": "direct", "evidence": "a PMN-2 seen by the road",
              "informant/informant_name": "Khaled", "informant/informant_role": "shepherd",
              "area": ";".join(f"{lat} {lon} 0 3" for lat, lon in ring), "contamination": "ap_mines",
              "land_use": "agriculture", "outcome": "confirm"}  # fmt: skip
    where = f"{LAT + 0.0003} {LON + 0.0003} 0 3"
    eod = {"hazard": str(api.demo.hazards[0]), "done_on": "2016-04-23", "position": where,
           "category": "uxo", "quantity": "2", "disposal": "destroyed_in_place", "danger_area_m": "300"}  # fmt: skip
    accident = {"event_kind": "incident", "happened_at": "2016-04-23T10:00:00.000+03:00",
                "position": f"{LAT} {LON} 0 3", "description": "a vehicle drove into the marked lane"}  # fmt: skip
    ids = {}
    with collect(api, "super") as sup_device, collect(api) as leader_device:
        for device, form_id, answers in (
            (sup_device, "sapper_nts", survey),
            (leader_device, "sapper_eod_task", eod),
            (leader_device, "sapper_accident", accident),
        ):
            ids[form_id] = f"uuid:{uuid.uuid4()}"
            xml = fill(download(device, form_list(device), form_id), answers, ids[form_id])
            assert send(device, xml).status_code == 201
    with api.client("super") as sup:
        subs = {s["instance_id"]: s["id"] for s in sup.get("/api/submissions").json()}
        done = {f: sup.post(f"/api/submissions/{subs[i]}/approve").json() for f, i in ids.items()}
    assert done["sapper_nts"]["status"] == "applied", done["sapper_nts"]["reason"]
    assert done["sapper_eod_task"]["status"] == "applied", done["sapper_eod_task"]["reason"]
    assert (done["sapper_accident"]["status"], done["sapper_accident"]["records"]) == ("approved", {})
    reg = open_register(api.target, read_only=True)
    try:
        hazard = reg.get("hazard", done["sapper_nts"]["records"]["hazard"][0])
        items = [reg.get("item", i) for i in done["sapper_eod_task"]["records"]["item"]]
        report = reg.get("report", done["sapper_eod_task"]["records"]["report"][0])
    finally:
        reg.close()
    # IMAS 07.11: direct evidence makes a confirmed hazard area
    assert (hazard.hazard_class.value, hazard.status.value, hazard.contamination.value) == (
        "cha",
        "confirmed",
        "ap_mines",
    )
    assert "Khaled - shepherd" in hazard.notes and hazard.organisation == "mac"
    assert [(i.category.value, i.state.value) for i in items] == [("uxo", "destroyed_in_place")] * 2
    assert (report.activity_type.value, report.items_found, report.team_id) == ("eod_spot", 2, api.demo.teams[0])


def test_auto_approve_writes_straight_in(target: str) -> None:
    with served_demo(target, field_auto_approve=True) as api, collect(api) as client:
        forms = form_list(client)
        xml = fill(
            download(client, forms, "sapper_item_found"), item_answers(api.demo.hazards[1]), f"uuid:{uuid.uuid4()}"
        )
        r = send(client, xml)
        assert r.status_code == 201 and "written to the register" in message(r)
        track = ";".join(f"{LAT + 0.0001} {LON + 0.0001 * i} 0 3" for i in range(4))
        answers: dict[str, Any] = {"hazard": str(api.demo.hazards[1]), "activity_type": "clearance",
                                   "report_date": "2016-04-22", "area_kind": "track", "track": track,
                                   "items_found": "1", "hours": "6.5"}  # fmt: skip
        r = send(client, fill(download(client, forms, "sapper_daily_report"), answers, f"uuid:{uuid.uuid4()}"))
        assert r.status_code == 201 and "written to the register" in message(r)
        reg = open_register(api.target, read_only=True)
        try:
            reports = [rep for rep in reg.list("report") if (rep.source_key or "").startswith("odk:")]
            hazard = reg.get("hazard", api.demo.hazards[1])
        finally:
            reg.close()
    assert len(reports) == 1 and "hours worked: 6.5" in reports[0].notes
    # a 30 m track walked by a team with 1 m lanes: a strip of about 30 m²
    assert 20 < reports[0].area_m2 < 40
    assert hazard.status.value == "in_clearance"  # the first clearance report moves its hazard, as any report does
