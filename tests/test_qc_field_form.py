"""The QC inspection field form (IMAS 09.20), over real HTTP on both backends: a team leader picks a
pending sample of their organisation, sends the result from ODK Collect, and a supervisor's approval
records it as ``sapper qc result`` does: a failed sample fails its plan and reopens the land."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from lxml import etree
from pyxform.xls2xform import convert
from shapely.geometry import box
from test_openrosa import collect, download, fill, form_list, message, photo, send

from sapper.field.forms import qc_inspection
from sapper.model.records import Hazard
from sapper.store import open_register
from sapper.store.qc import make_plan
from sapper.testing.server import LAT, LON, Served, served_demo

FORM = "sapper_qc_inspection"
XFORMS = "{http://www.w3.org/2002/xforms}"


@pytest.fixture(scope="module")
def api(module_target: str) -> Iterator[Served]:
    """The demo register with a hazard of mac cleared and released, and a QC plan of its land."""
    with served_demo(module_target) as served:
        reg = open_register(served.target, user="seed")
        try:
            hazard = reg.add(
                Hazard(name="Grain store", geometry=box(LON, LAT + 0.01, LON + 0.002, LAT + 0.011), organisation="mac")
            )
            reg.release(hazard.id, "cleared", on=date(2016, 4, 2))
            plan, samples = make_plan(reg, hazard.id, seed=11)
        finally:
            reg.close()
        served.qc = (hazard.id, plan.id, [s.id for s in samples])  # type: ignore[attr-defined]
        yield served


def answers(sample: int, result: str, notes: str = "") -> dict[str, str]:
    return {
        "sample": str(sample),
        "inspected_on": date(2016, 5, 2).isoformat(),
        "result": result,
        "items_found": "1" if result == "failed" else "0",
        "depth_cm": "13",
        "notes": notes,
        "photo": "sample.jpg",
    }


def submit(api: Served, values: dict[str, str], instance_id: str) -> httpx.Response:
    with collect(api) as client:
        xml = fill(download(client, form_list(client), FORM), values, instance_id)
        return send(client, xml, {"sample.jpg": ("sample.jpg", photo(), "image/jpeg")})


def approve(api: Served, instance_id: str) -> dict:
    with api.client("super") as sup:
        sub = next(s for s in sup.get("/api/submissions").json() if s["instance_id"] == instance_id)
        return sup.post(f"/api/submissions/{sub['id']}/approve").json()


def test_the_form_converts_with_pyxform_and_offers_passed_or_failed(tmp_path: Path) -> None:
    warnings: list[str] = []
    xform = convert(xlsform=str(qc_inspection().write(tmp_path)), warnings=warnings).xform
    assert warnings == []
    doc = etree.fromstring(xform.encode())
    results = doc.find(f".//{XFORMS}instance[@id='qc_result']")
    assert results is not None
    assert [i.findtext(f"{XFORMS}name") for i in results.iter(f"{XFORMS}item")] == ["passed", "failed"]
    assert doc.find(f".//{XFORMS}instance[@src='jr://file-csv/qc_samples.csv']") is not None


def test_the_sample_list_holds_the_pending_samples_of_the_users_organisation(api: Served) -> None:
    _hazard, _plan, samples = api.qc  # type: ignore[attr-defined]
    path = f"/openrosa/forms/{FORM}/media/qc_samples.csv"
    with collect(api) as client:
        rows = list(csv.DictReader(io.StringIO(client.get(path).text)))
    assert {int(r["name"]) for r in rows} >= set(samples)
    with collect(api, "ngo") as other:  # another organisation does not inspect mac's land
        assert list(csv.DictReader(io.StringIO(other.get(path).text))) == []


def test_a_failed_inspection_sent_twice_is_recorded_once_and_reopens_the_land(api: Served) -> None:
    hazard_id, plan_id, samples = api.qc  # type: ignore[attr-defined]
    instance_id = f"uuid:{uuid.uuid4()}"
    values = answers(samples[0], "failed", "PMN-2 found at 10 cm")
    first = submit(api, values, instance_id)
    assert first.status_code == 201, first.text
    again = submit(api, values, instance_id)
    assert again.status_code == 202 and "already received" in message(again)
    done = approve(api, instance_id)
    assert done["status"] == "applied", done
    assert done["records"] == {"qc_sample": [samples[0]]}
    reg = open_register(api.target, read_only=True)
    try:
        sample = reg.get("qc_sample", samples[0])
        assert (sample.result.value, sample.items_found, sample.inspector) == ("failed", 1, "leader")
        assert sample.inspected_on == date(2016, 5, 2)
        assert "PMN-2 found at 10 cm" in sample.notes and "inspected to 13 cm" in sample.notes
        plan = reg.get("qc_plan", plan_id)
        assert plan.status.value == "failed" and "PMN-2 found at 10 cm" in plan.reason
        assert plan.reopened_m2 > 0
        hazard = reg.get("hazard", hazard_id)
        assert hazard.status.value == "in_clearance"
        assert reg.list("release", where={"hazard_id": hazard_id}) == []  # the cleared land is back in the hazard
    finally:
        reg.close()
    with api.client("super") as sup:  # one submission for the instance, however often it came
        subs = [s for s in sup.get("/api/submissions?status=applied").json() if s["instance_id"] == instance_id]
        assert len(subs) == 1
        photos = sup.get(f"/api/qc_samples/{samples[0]}/attachments").json()["attachments"]
        assert [p["name"] for p in photos] == ["sample.jpg"]  # the inspection's photo stays with the sample
        assert sup.get(photos[0]["href"]).content == photo()


def test_an_unknown_sample_is_refused_naming_it(api: Served) -> None:
    instance_id = f"uuid:{uuid.uuid4()}"
    assert submit(api, answers(987654, "passed"), instance_id).status_code == 201
    refused = approve(api, instance_id)
    assert refused["status"] == "rejected"
    assert "QC sample 987654 is not in the register" in refused["reason"]
    assert refused["records"] == {}


def test_with_auto_approve_a_teams_inspection_still_waits_for_a_supervisor(target: str) -> None:
    """A server that writes field data straight in still leaves a QC result to a supervisor to sign off."""
    with served_demo(target, field_auto_approve=True) as api:
        reg = open_register(api.target, user="seed")
        try:
            hazard = reg.add(
                Hazard(name="Bakery", geometry=box(LON, LAT + 0.02, LON + 0.002, LAT + 0.021), organisation="mac")
            )
            reg.release(hazard.id, "cleared", on=date(2016, 4, 2))
            _plan, samples = make_plan(reg, hazard.id, seed=3)
        finally:
            reg.close()
        instance_id = f"uuid:{uuid.uuid4()}"
        sent = submit(api, answers(samples[0].id, "passed"), instance_id)
        assert sent.status_code == 201 and "waits for a supervisor" in message(sent), sent.text
        done = approve(api, instance_id)
        assert done["status"] == "applied", done
        reg = open_register(api.target, read_only=True)
        try:
            assert reg.get("qc_sample", samples[0].id).result.value == "passed"
        finally:
            reg.close()
