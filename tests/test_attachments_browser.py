"""The details panel shows a hazard's photos as thumbnails and lets a supervisor add one, in Debian's
Chromium against a real server (fixtures: sapper.testing.browser)."""

from __future__ import annotations

import io

from PIL import Image
from playwright.sync_api import Page
from shapely.geometry import shape

from sapper.testing.browser import ONE_BACKEND, Site, login, map_settled, move_map

HAZARD = 4  # Agora, in the Palmyra scenario


def png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 200), colour).save(out, "PNG")
    return out.getvalue()


def open_hazard(page: Page, site: Site, hazard_id: int) -> None:
    with site.api() as client:
        hazard = client.get(f"/ogc/collections/hazards/items/{hazard_id}").json()
    inside = shape(hazard["geometry"]).representative_point()
    map_settled(page)
    for layer in ("items", "progress"):
        page.uncheck(f"[data-layer='{layer}'] input")
    move_map(page, inside.y, inside.x, 17)
    point = page.evaluate(
        f"(() => {{ const p = window.sapperMap.map.latLngToContainerPoint([{inside.y}, {inside.x}]);"
        " const r = document.getElementById('map').getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; })()"
    )
    page.mouse.click(*point)
    page.wait_for_selector("#details-title")


@ONE_BACKEND
def test_the_details_panel_shows_a_photo_and_adds_one(palmyra: Site, page: Page) -> None:
    with palmyra.api() as client:
        sent = client.post(f"/api/hazards/{HAZARD}/attachments", files={"file": ("gate.png", png((200, 30, 30)))})
        assert sent.status_code == 201, sent.text
    first = sent.json()["attachments"][0]
    login(page, palmyra.url, "chief")
    open_hazard(page, palmyra, HAZARD)
    thumb = page.locator(f"#attachments a.attachment[data-id='{first['id']}'] img")
    thumb.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    assert thumb.get_attribute("src") == first["thumbnail"]
    assert page.locator(f"#attachments a[data-id='{first['id']}']").get_attribute("href") == first["href"]
    page.set_input_files(
        "#add-photo", files=[{"name": "wall.png", "mimeType": "image/png", "buffer": png((1, 90, 200))}]
    )
    page.wait_for_selector("#attachments a.attachment:nth-of-type(2) img")
    with palmyra.api() as client:
        names = [a["name"] for a in client.get(f"/api/hazards/{HAZARD}/attachments").json()["attachments"]]
    assert names[-2:] == ["gate.png", "wall.png"]


@ONE_BACKEND
def test_a_viewer_sees_the_photos_but_no_way_to_add_one(palmyra: Site, page: Page) -> None:
    with palmyra.api() as client:
        assert client.post(f"/api/hazards/{HAZARD}/attachments", files={"file": ("a.png", png((9, 9, 9)))}).is_success
    login(page, palmyra.url, "viewer")
    open_hazard(page, palmyra, HAZARD)
    page.wait_for_selector("#attachments a.attachment img")
    assert page.locator("#add-photo").count() == 0
