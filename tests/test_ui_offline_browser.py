"""The daily report page offline, in Debian's Chromium (Playwright) against a real uvicorn server
serving the Palmyra scenario (fixtures: sapper.testing.browser).

The page and its data are kept by a service worker, so it reloads with the network off; what a
team leader sends meanwhile waits in the browser and goes when the network returns, each record
once: a resend after a lost answer adds nothing (the server is idempotent on the record's
``source_key``), and a record the server refuses stays on the page with the server's sentence.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Route
from shapely.geometry import mapping, shape
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from sapper.server.headers import CONTENT_SECURITY_POLICY
from sapper.testing.browser import ONE_BACKEND, Site, login, screenshot
from sapper.testing.server import PASSWORD

DAY = "2016-04-10"  # the Palmyra scenario's latest daily reports
AGORA = 4  # a hazard in clearance, worked by team 1


def by_key(site: Site, collection: str, key: str) -> list[dict[str, Any]]:
    """The records of a collection stored under a source_key (searched among the day's records)."""
    with site.api() as client:
        answer = client.get(f"/ogc/collections/{collection}/items", params={"limit": 10_000})
    assert answer.status_code == 200, answer.text
    return [f for f in answer.json()["features"] if f["properties"]["source_key"] == key]


def until(page: Page, script: str, seconds: float = 20) -> None:
    """Wait until a script is true in the page (wait_for_function evaluates text, which the CSP forbids)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"still false after {seconds} s: {script}"
        page.wait_for_timeout(100)


def entries(page: Page) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        "#outbox li",
        "lis => lis.map(li => ({key: li.dataset.key, kind: li.dataset.kind, state: li.dataset.state,"
        " id: li.dataset.id || '', text: li.innerText}))",
    )


def draw_square(page: Page, dx: int = 0) -> None:
    box = page.locator("#draw-map").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2
    for x, y in ((-30, -20), (30, -20), (30, 20), (-30, 20)):
        page.mouse.click(cx + x, cy + y)


def new_hazard(site: Site, name: str) -> int:
    """A hazard of the team's organisation, made by the supervisor (the leader's page lists it)."""
    with site.api() as client:
        agora = client.get(f"/ogc/collections/hazards/items/{AGORA}").json()
        near = shape(agora["geometry"]).centroid.buffer(0.0004, quad_segs=2)
        made = client.post(
            "/ogc/collections/hazards/items",
            json={"type": "Feature", "geometry": mapping(near), "properties": {"name": name}},
        )
    assert made.status_code == 201, made.text
    return made.json()["id"]


def version_tag(client: httpx.Client, hazard_id: int) -> str:
    return client.get(f"/ogc/collections/hazards/items/{hazard_id}").headers["ETag"]


def test_reports_and_an_item_made_offline_go_once_when_the_network_returns(
    palmyra: Site, page: Page, shots: Path
) -> None:
    doomed = new_hazard(palmyra, "Suspected area, cancelled while the team is out")
    login(page, palmyra.url, "leader", "/ui/report")
    page.wait_for_selector("body[data-loading='0'][data-offline='ready']", state="attached")

    with palmyra.api() as client:  # changed after the page read it: offline, the page shows what it kept
        renamed = client.patch(
            f"/ogc/collections/hazards/items/{doomed}",
            json={"properties": {"name": "renamed while the team is out"}},
            headers={"Content-Type": "application/merge-patch+json", "If-Match": version_tag(client, doomed)},
        )
        assert renamed.status_code == 200, renamed.text
    page.context.set_offline(True)
    reloaded = page.reload()
    assert reloaded is not None and reloaded.from_service_worker, "the page came from the worker's cache"
    page.wait_for_selector("body[data-loading='0']", state="attached")
    assert page.input_value("#team_id") == "1"
    kept = page.inner_text(f"#hazard_id option[value='{doomed}']")
    assert "cancelled while the team is out" in kept, "the team's hazards as the page last read them"
    assert page.locator("#draw-map path.leaflet-interactive").count() > 0, "the hazards drawn from the kept data"

    page.fill("#report_date", DAY)
    page.select_option("#hazard_id", str(AGORA))
    draw_square(page)
    page.fill("#items_found", "1")
    page.fill("#notes", "offline report one")
    page.click("#send")
    page.wait_for_selector("#queued")
    page.select_option("#hazard_id", str(doomed))
    draw_square(page, dx=80)
    page.fill("#notes", "offline report two")
    page.click("#send")
    page.select_option("#hazard_id", str(AGORA))
    page.check("#place_item")
    box = page.locator("#draw-map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert page.input_value("#item_lat") != "", "a click on the map places the item"
    page.fill("#item_notes", "offline item")
    page.click("#send-item")
    until(page, "document.querySelectorAll('#outbox li[data-state=queued]').length === 3")
    one, two, item = entries(page)
    assert [e["kind"] for e in (one, two, item)] == ["report", "report", "item"]
    assert "queued" in one["text"]
    screenshot(page, shots, "report-offline", full_page=True)
    for entry in (one, two):
        assert by_key(palmyra, "reports", entry["key"]) == [], "nothing reached the server while offline"

    with palmyra.api() as client:  # meanwhile the office cancels the second report's hazard
        assert client.delete(f"/ogc/collections/hazards/items/{doomed}").status_code == 204

    reached: list[int] = []
    answers: list[str] = []

    def lose_the_answer(route: Route) -> None:
        """The server gets the first report and answers; the answer never reaches the page."""
        if reached:
            route.continue_()
            return
        answer = route.fetch()
        reached.append(answer.status)
        answers.append(answer.text())
        route.abort("connectionreset")

    page.route("**/api/reports", lose_the_answer)
    page.context.set_offline(False)
    until(page, "document.querySelector('#outbox li[data-state=queued]')?.innerText.includes('not sent yet')")
    assert reached == [201], f"the first report reached the server, its answer was lost: {answers}"
    assert entries(page)[0]["state"] == "queued", "with no answer the page cannot know: it keeps it"
    page.unroute("**/api/reports")
    page.evaluate("window.dispatchEvent(new Event('online'))")  # the next round of sending
    until(page, "document.querySelectorAll('#outbox li[data-state=queued]').length === 0")
    one, two, item = entries(page)
    assert (one["state"], two["state"], item["state"]) == ("sent", "refused", "sent")
    assert f"hazard {doomed} does not exist" in two["text"], "the server's sentence is shown"
    assert page.locator(f"#outbox li[data-key='{two['key']}'] button.edit").count() == 1, "kept to fix"
    screenshot(page, shots, "report-outbox", full_page=True)

    stored = by_key(palmyra, "reports", one["key"])
    assert [r["id"] for r in stored] == [int(one["id"])], "sent twice, stored once"
    assert stored[0]["properties"]["notes"] == "offline report one"
    assert by_key(palmyra, "reports", two["key"]) == []
    items = by_key(palmyra, "items", item["key"])
    assert [i["id"] for i in items] == [int(item["id"])]
    assert (items[0]["properties"]["team_id"], items[0]["properties"]["hazard_id"]) == (1, AGORA)

    page.reload()  # what was sent stays sent: nothing goes a second time
    page.wait_for_selector("body[data-loading='0']", state="attached")
    assert [e["state"] for e in entries(page)] == ["sent", "refused", "sent"]
    assert len(by_key(palmyra, "reports", one["key"])) == 1
    page.click(f"#outbox li[data-key='{two['key']}'] button.edit")
    assert page.input_value("#notes") == "offline report two", "the refused report back in the form"
    until(page, "document.querySelectorAll('#outbox li').length === 2")  # and out of the outbox (stored async)
    assert [e["key"] for e in entries(page)] == [one["key"], item["key"]]


def test_a_resend_under_the_same_key_adds_nothing_and_answers_the_stored_record(palmyra: Site) -> None:
    report = {"report_date": DAY, "activity_type": "clearance", "hazard_id": AGORA, "source_key": "k-report-1"}
    item = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [38.27, 34.55]},
        "properties": {"category": "uxo", "hazard_id": AGORA, "source_key": "k-item-1"},
    }
    with palmyra.api("leader") as leader, palmyra.api("chief") as chief:
        first = leader.post("/api/reports", json=report)
        again = leader.post("/api/reports", json=report)
        assert (first.status_code, again.status_code) == (201, 200), again.text
        assert again.json()["id"] == first.json()["id"] and again.json() == first.json()
        made = leader.post("/ogc/collections/items/items", json=item)
        remade = leader.post("/ogc/collections/items/items", json=item)
        assert (made.status_code, remade.status_code) == (201, 200), remade.text
        assert remade.json()["id"] == made.json()["id"]
        other = chief.post("/api/reports", json=report)  # another user's key is not theirs to read
        assert other.status_code == 409, other.text
    assert len(by_key(palmyra, "reports", "k-report-1")) == 1
    assert len(by_key(palmyra, "items", "k-item-1")) == 1


@ONE_BACKEND
def test_the_worker_is_served_for_the_pages_with_a_version_of_the_files(palmyra: Site) -> None:
    with palmyra.api() as client:
        answer = client.get("/ui/sw.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "worker-src" not in CONTENT_SECURITY_POLICY, (
        "a worker from this server is allowed by script-src 'self'"
    )
    head = answer.text.splitlines()[0]
    assert head.startswith("self.SAPPER_OFFLINE = ")
    for url in ("/ui/report", "/static/ui/report.js", "/static/ui/outbox.js", "/static/vendor/leaflet/leaflet.js"):
        assert f'"{url}"' in head


@pytest.fixture
def static_copy(palmyra: Site, tmp_path: Path) -> Iterator[Path]:
    """The server's static files served from a copy, as a new release would replace them."""
    mount = next(r for r in palmyra.app.routes if isinstance(r, Mount) and r.path == "/static")
    original = mount.app
    folder = tmp_path / "static"
    shutil.copytree(Path(original.directory), folder)
    mount.app = StaticFiles(directory=folder)
    try:
        yield folder
    finally:
        mount.app = original


@ONE_BACKEND
def test_a_new_release_replaces_the_kept_files(palmyra: Site, page: Page, static_copy: Path) -> None:
    login(page, palmyra.url, "leader", "/ui/report")
    page.wait_for_selector("body[data-offline='ready']", state="attached")
    before = page.evaluate("caches.keys()")
    assert len([c for c in before if c.startswith("sapper-app-")]) == 1
    with (static_copy / "ui" / "ui.css").open("a") as css:
        css.write("\n/* release two */\n")
    page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
    until(
        page,
        f"caches.keys().then(k => k.some(c => c.startsWith('sapper-app-') && !{before!r}.includes(c)))",
    )
    until(page, "caches.keys().then(k => k.filter(c => c.startsWith('sapper-app-')).length === 1)")
    page.context.set_offline(True)
    css = page.evaluate("fetch('/static/ui/ui.css').then(r => r.text())")
    assert "release two" in css, "the changed file, from the new release's cache"


@ONE_BACKEND
def test_what_one_user_left_queued_is_not_sent_by_the_next(palmyra: Site, page: Page) -> None:
    login(page, palmyra.url, "leader", "/ui/report")
    page.wait_for_selector("body[data-loading='0'][data-offline='ready']", state="attached")
    page.context.set_offline(True)
    page.fill("#report_date", DAY)
    page.fill("#notes", "left behind")
    page.click("#send")
    page.wait_for_selector("#outbox li[data-state=queued]")
    key = page.get_attribute("#outbox li", "data-key")
    page.click("#logout")
    page.wait_for_url(f"{palmyra.url}/ui/login")
    assert page.evaluate("caches.has('sapper-data')") is False, "logging out forgets the kept data"

    page.context.set_offline(False)
    page.fill("#username", "chief")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{palmyra.url}/ui/")
    page.goto(f"{palmyra.url}/ui/report")
    page.wait_for_selector("body[data-loading='0']", state="attached")
    assert page.locator("#outbox li").count() == 0, "the leader's report is not the chief's to send"
    assert key and by_key(palmyra, "reports", key) == []
