"""A rejected field submission is corrected by a supervisor of its organisation and approved, over
real HTTP on both backends: the XML as sent is kept, the correction (who, when, what, why it had
been refused) is kept beside it, and the approval writes the corrected answers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from test_openrosa import collect, download, fill, form_list, item_answers, photo, send

from sapper.model.errors import InvalidRecord
from sapper.store.corrections import corrected
from sapper.testing.server import Served, served_demo


@pytest.fixture(scope="module")
def api(module_target: str) -> Iterator[Served]:
    with served_demo(module_target) as served:
        yield served


def rejected(api: Served) -> tuple[dict, bytes]:
    """An item sent on a hazard the team cannot see, refused at approval; and the XML as sent."""
    instance_id = f"uuid:{uuid.uuid4()}"
    with collect(api) as client:
        xml = fill(
            download(client, form_list(client), "sapper_item_found"), item_answers(api.demo.secret_hazard), instance_id
        )
        assert send(client, xml, {"item.jpg": ("item.jpg", photo(), "image/jpeg")}).status_code == 201
    with api.client("super") as sup:
        sub = next(s for s in sup.get("/api/submissions").json() if s["instance_id"] == instance_id)
        refused = sup.post(f"/api/submissions/{sub['id']}/approve").json()
    assert refused["status"] == "rejected"
    return refused, xml


def test_a_corrected_rejected_submission_is_approved_with_its_corrections_kept(api: Served) -> None:
    sub, xml = rejected(api)
    hazard = api.demo.hazards[0]
    with api.client("super") as sup:
        path = f"/api/submissions/{sub['id']}"
        fixed = sup.post(f"{path}/correct", json={"values": {"hazard": str(hazard), "model": "PMN-4"}})
        assert fixed.status_code == 200, fixed.text
        assert (fixed.json()["status"], fixed.json()["reason"]) == ("pending", None)
        (correction,) = fixed.json()["corrections"]
        assert correction["by"] == "super"
        assert correction["changes"] == {
            "hazard": [str(api.demo.secret_hazard), str(hazard)],
            "model": ["PMN-2", "PMN-4"],
        }
        assert f"hazard {api.demo.secret_hazard} does not exist" in correction["reason"]
        assert sup.get(path).json()["xml"] == xml.decode()  # as it came from the field, for the record
        assert sup.post(f"{path}/correct", json={"values": {"model": "x"}}).status_code == 409  # pending now
        done = sup.post(f"{path}/approve")
        assert done.status_code == 200 and done.json()["status"] == "applied", done.text
        item_id = done.json()["records"]["item"][0]
        item = sup.get(f"/ogc/collections/items/items/{item_id}").json()["properties"]
        assert (item["hazard_id"], item["model"]) == (hazard, "PMN-4")
        photos = sup.get(f"/api/items/{item_id}/attachments").json()["attachments"]
        assert [p["name"] for p in photos] == ["item.jpg"]
        assert [c["changes"] for c in sup.get(f"{path}/corrections").json()] == [correction["changes"]]


def test_a_correction_is_refused_when_it_names_no_answer_or_comes_from_another_organisation(api: Served) -> None:
    sub, _xml = rejected(api)
    path = f"/api/submissions/{sub['id']}"
    with api.client("super") as sup:
        unknown = sup.post(f"{path}/correct", json={"values": {"hazrd": "1"}})
        assert unknown.status_code == 422
        assert unknown.json()["description"].startswith(f"sapper_item_found submission {sub['id']}: it has no answer")
        same = sup.post(f"{path}/correct", json={"values": {"model": "PMN-2"}})
        assert same.status_code == 422 and "changes no answer" in same.text
        assert sup.get(path).json()["status"] == "rejected"  # nothing changed
    with api.client("ngo") as ngo:  # another organisation's supervisor does not see it
        assert ngo.post(f"{path}/correct", json={"values": {"model": "x"}}).status_code == 404
    with api.client("leader") as leader:  # correcting is a supervisor's
        assert leader.post(f"{path}/correct", json={"values": {"model": "x"}}).status_code == 403
    with api.client("super") as sup:
        assert sup.get(f"{path}/corrections").json() == []


SURVEY = b"""<?xml version="1.0"?>
<sapper_nts id="sapper_nts"><hazard>4</hazard>
<informant><informant_name>Ali</informant_name><informant_role>shepherd</informant_role></informant>
<informant><informant_name>Omar</informant_name><informant_role>farmer</informant_role></informant>
<outcome><decision>confirm</decision></outcome>
<meta><instanceID>uuid:1</instanceID></meta></sapper_nts>"""


def test_a_correction_reaches_the_rows_of_a_repeat_and_the_fields_of_a_group() -> None:
    xml, changes = corrected(
        SURVEY, {"informant[2]/informant_role": "shepherd", "outcome/decision": "cancel", "hazard": "5"}, "nts 1"
    )
    assert changes == {
        "informant[2]/informant_role": ["farmer", "shepherd"],
        "outcome/decision": ["confirm", "cancel"],
        "hazard": ["4", "5"],
    }
    assert b"<informant_name>Omar</informant_name><informant_role>shepherd</informant_role>" in xml  # the 2nd row
    assert b"<informant_name>Ali</informant_name><informant_role>shepherd</informant_role>" in xml  # the 1st as it was
    assert b"<decision>cancel</decision>" in xml and b"<instanceID>uuid:1</instanceID>" in xml
    for wrong in ("informant/informant_role", "informant[3]/informant_name", "meta/instanceID", "outcome"):
        with pytest.raises(InvalidRecord, match="informant\\[1\\]/informant_name"):
            corrected(SURVEY, {wrong: "x"}, "nts 1")  # the refusal lists the answers there are
