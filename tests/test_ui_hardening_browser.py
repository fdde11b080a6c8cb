"""The web UI in real Chromium under the server's Content-Security-Policy, on both backends: record
text is shown as text (a hazard named like an HTML tag stays a name and never runs), and no page
of the UI needs anything the policy refuses (fixtures: sapper.testing.browser)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import ConsoleMessage, Page

from sapper.testing.browser import Site, login, map_settled, move_map

NAME = "<img src=x onerror=window.__pwned=1>"
WATCH_CSP = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


@pytest.fixture
def watched(page: Page) -> Iterator[tuple[Page, list[str]]]:
    """The tab, with the policy's refusals as the console reports them and as events."""
    complaints: list[str] = []

    def heard(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning") and ("Refused" in message.text or "Security Policy" in message.text):
            complaints.append(f"{message.type}: {message.text}")

    page.on("console", heard)
    page.add_init_script(WATCH_CSP)
    yield page, complaints


def violations(page: Page) -> list[str]:
    return page.evaluate("window.__violations")


def test_a_hazard_named_like_html_shows_as_text_in_its_tooltip(palmyra: Site, watched: tuple[Page, list[str]]) -> None:
    page, complaints = watched
    with palmyra.api() as client:
        west, south, east, north = client.get("/ui/api/config").json()["extent"]
        lon, lat = (west + east) / 2, (south + north) / 2
        ring = [[lon, lat], [lon + 0.002, lat], [lon + 0.002, lat + 0.002], [lon, lat + 0.002], [lon, lat]]
        feature = {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"name": NAME},
        }
        created = client.post("/ogc/collections/hazards/items", json=feature)
        assert created.status_code == 201, created.text
        hid = created.json()["id"]
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url))
    login(page, palmyra.url, "viewer")
    map_settled(page)
    page.evaluate("window.sapperMap.overlays.filter((o) => o.id !== 'hazards').forEach((o) => o.group.remove())")
    move_map(page, lat + 0.001, lon + 0.001, 17)  # hazards come from vector tiles: hover the new one
    assert page.locator(f".leaflet-hazards-pane path[data-id='{hid}']").count() > 0, "the new hazard is on the map"
    point = page.evaluate(
        f"(() => {{ const p = window.sapperMap.map.latLngToContainerPoint([{lat + 0.001}, {lon + 0.001}]);"
        " const r = document.getElementById('map').getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; })()"
    )
    page.mouse.move(*point)
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for()
    assert tooltip.inner_text() == NAME, "the name is shown as typed"
    assert tooltip.locator("img").count() == 0, "no element was made from the name"
    assert page.evaluate("window.__pwned") is None, "nothing in the name ran"
    assert not [u for u in fetched if u.endswith("/x")], "the browser never asked for the image the name names"
    assert not violations(page) and not complaints, (violations(page), complaints)


def test_no_page_needs_what_the_policy_refuses(palmyra: Site, watched: tuple[Page, list[str]]) -> None:
    page, complaints = watched
    login(page, palmyra.url, "chief")
    map_settled(page)
    header = page.request.get(f"{palmyra.url}/ui/").headers["content-security-policy"]
    assert "script-src 'self'" in header and "unsafe-inline" not in header
    for path, ready in (
        ("/ui/sitrep", "#nav"),
        ("/ui/report", "#draw-map .leaflet-pane"),
        ("/ui/plan", "#nav"),
        ("/ogc?f=html", "main h1"),
        ("/ogc/collections/hazards/items?f=html", "main table"),
    ):
        page.goto(f"{palmyra.url}{path}")
        page.wait_for_selector(ready, state="attached")
        page.wait_for_load_state("networkidle")
        assert not violations(page), (path, violations(page))
    assert not complaints, complaints
