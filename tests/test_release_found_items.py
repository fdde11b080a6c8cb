"""Land is not released while explosive items recorded on it are still `found`, unless confirmed.

On both backends, through the register, the command line and the REST API over real HTTP:
the refusal names the items and leaves the register as it was; --force / "force": true
releases and says so in the release's notes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from shapely.geometry import Point, box

from sapper import Register, init_register
from sapper.model import Hazard, Item
from sapper.store.landrelease import ItemsStillFound
from sapper.testing.server import LAT, LON, Served, served_demo

W = 0.004


def quarter(reg: Register) -> Hazard:
    return reg.add(Hazard(name="Quarter", geometry=box(LON, LAT, LON + W, LAT + W)))


def west_half() -> object:
    return box(LON - 0.001, LAT - 0.001, LON + W / 2, LAT + W + 0.001)


def snapshot(reg: Register) -> tuple[object, ...]:
    """What a refused release must leave alone: the hazard, its releases and its audit log."""
    hazard = reg.get("hazard", 1)
    return (hazard.version, hazard.geometry.wkb, reg.count("release"), len(reg.history("hazard", 1)))


def test_found_items_on_the_land_stop_the_release_until_forced(reg: Register) -> None:
    h = quarter(reg)
    linked_west = reg.add(Item(category="uxo", geometry=Point(LON + 0.001, LAT + 0.001), hazard_id=h.id))
    loose_west = reg.add(Item(category="ap_mine", geometry=Point(LON + 0.0015, LAT + 0.003)))  # no hazard_id
    linked_east = reg.add(Item(category="uxo", geometry=Point(LON + 0.003, LAT + 0.001), hazard_id=h.id))
    reg.add(Item(category="uxo", geometry=Point(LON + 0.0012, LAT + 0.001), hazard_id=h.id, state="removed"))
    before = snapshot(reg)

    with pytest.raises(ItemsStillFound) as refused:
        reg.release(h.id, "cleared", geometry=west_half())
    # Only what lies on the released half: the linked item in the east half stays with the hazard.
    assert refused.value.item_ids == [linked_west.id, loose_west.id]
    assert f"items {linked_west.id}, {loose_west.id} are still `found`" in str(refused.value)
    assert snapshot(reg) == before

    piece = reg.release(h.id, "cleared", geometry=west_half(), force=True)
    assert f"released with items {linked_west.id}, {loose_west.id} still found" in piece.notes
    # Closing the hazard weighs every item linked to it, wherever it lies.
    with pytest.raises(ItemsStillFound) as refused:
        reg.release(h.id, "cancelled")
    assert refused.value.item_ids == [linked_west.id, linked_east.id]
    for item in (linked_west, linked_east):
        reg.change("item", item.id, state="removed")
    assert reg.release(h.id, "cancelled").notes == ""


def sapper(register: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sapper", "-r", register, "release", *args],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


def test_the_command_line_asks_for_force(target: str) -> None:
    with init_register(target, user="qa") as reg:
        h = quarter(reg)
        item = reg.add(Item(category="uxo", geometry=Point(LON + 0.001, LAT + 0.001), hazard_id=h.id))
        before = snapshot(reg)
    refused = sapper(target, str(h.id), "--route", "cleared")
    assert refused.returncode == 1
    assert f"release of hazard {h.id}: item {item.id} is still `found`" in refused.stderr
    assert "--force" in refused.stderr and "Traceback" not in refused.stderr
    with init_register(target, user="qa") as reg:
        assert snapshot(reg) == before
    done = sapper(target, str(h.id), "--route", "cleared", "--force")
    assert done.returncode == 0, done.stderr
    assert "status released" in done.stdout


@pytest.fixture(scope="module")
def api(module_target: str) -> Iterator[Served]:
    with served_demo(module_target) as served:
        yield served


def test_the_api_needs_the_supervisors_confirmation(api: Served) -> None:
    hazard = api.demo.hazards[1]  # the demo's items 1, 6, 11, 16 and 21 lie in it, still found
    expected = [i for n, i in enumerate(api.demo.items) if n % 5 == 1]
    with api.client("super") as sup:
        before = sup.get(f"/api/hazards/{hazard}/balance").json()
        refused = sup.post(f"/api/hazards/{hazard}/release", json={"route": "cleared"})
        assert refused.status_code == 409, refused.text
        message = refused.json()["description"]
        assert f"items {', '.join(map(str, expected))} are still `found`" in message
        assert '"force": true' in message
        assert sup.get(f"/api/hazards/{hazard}/balance").json() == before
        done = sup.post(f"/api/hazards/{hazard}/release", json={"route": "cleared", "force": True})
        assert done.status_code == 201, done.text
        assert done.json()["hazard"]["status"] == "released"
        assert "still found" in done.json()["release"]["properties"]["notes"]
