"""Driving the web UI in a real browser for tests: Debian's Chromium through Playwright, the
Palmyra scenario served by a real uvicorn server on 127.0.0.1, and what tests ask of the page.

Loaded by the test suite as a pytest plugin (``pytest_plugins`` in tests/conftest.py), so every
browser test module gets the same fixtures: ``palmyra`` (the served scenario, on GeoPackage and
PostGIS), ``browser``, ``page`` (a fresh tab that must raise no script error and reach no other
server) and ``shots`` (where screenshots go: ``$SAPPER_SCREENSHOTS`` for the README's, from the
GeoPackage runs).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from sapper.server import create_app
from sapper.testing.palmyra import palmyra_site
from sapper.testing.server import PASSWORD, serving

CHROMIUM = "/usr/bin/chromium"
ONE_BACKEND = pytest.mark.parametrize("module_target", ["gpkg"], indirect=True)  # what the backend cannot change
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Site:
    url: str
    app: Any
    tokens: dict[str, str]

    def api(self, user: str = "chief") -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.tokens[user]}"}, timeout=30)


@pytest.fixture(scope="module")
def palmyra(module_target: str) -> Iterator[Site]:
    """The Palmyra scenario served, on each backend (the suite's ``module_target``): each module its own
    copy of the scenario built once (sapper.testing.palmyra), which its tests may change."""
    tokens = palmyra_site(module_target)
    app = create_app(module_target)
    with serving(app) as server:
        yield Site(server.url, app, tokens)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "the browser tests need Debian's chromium: ./install.sh --test"
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser tab (no cookies, no storage) that must raise no script error and must ask
    nothing of any server but ours: the UI works with no internet."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    fetched: list[str] = []
    tab.on("request", lambda r: fetched.append(r.url))
    yield tab
    context.close()
    assert not errors, f"script errors in the page: {errors}"
    outside = [u for u in fetched if not u.startswith(("http://127.0.0.1:", "blob:http://127.0.0.1:", "data:"))]
    assert not outside, f"the page reached outside the server: {outside}"


@pytest.fixture
def shots(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """Where a test's screenshots go; the README's come from the GeoPackage runs."""
    callspec = getattr(request.node, "callspec", None)
    backend = callspec.params.get("module_target", "gpkg") if callspec else "gpkg"
    readme = os.environ.get("SAPPER_SCREENSHOTS")
    folder = Path(readme) if readme and backend == "gpkg" else tmp_path / backend
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page: Page, folder: Path, name: str, full_page: bool = False) -> Path:
    """A PNG of the page, written small: quantised to 256 colours (the UI uses few)."""
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(page.screenshot(full_page=full_page))).convert("RGB")
    path = folder / f"{name}.png"
    image.quantize(colors=256).save(path, optimize=True)
    return path


def login(page: Page, url: str, name: str, path: str = "/ui/") -> None:
    page.goto(f"{url}{path}")
    page.wait_for_url(re.compile(r".*/ui/login\?next=.*"))
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}{path}")


def map_settled(page: Page, after: str | None = None) -> str:
    """Wait until the map has loaded the view (a round after ``after``); the new round's number."""
    not_old = f":not([data-rounds='{after}'])" if after else ""
    page.wait_for_selector(f"body[data-rounds]{not_old}[data-loading='0']", state="attached")
    return page.get_attribute("body", "data-rounds") or ""


def move_map(page: Page, lat: float, lon: float, zoom: float) -> None:
    before = map_settled(page)
    page.evaluate(f"void window.sapperMap.map.setView([{lat}, {lon}], {zoom}, {{animate: false}})")
    map_settled(page, before)


def requested(urls: list[str], collection: str) -> str:
    """The last page-one request the map made for a collection."""
    mine = [u for u in urls if f"/ogc/collections/{collection}/items?" in u and not re.search("(offset|cursor)=", u)]
    assert mine, f"the map never asked for {collection}"
    return mine[-1]


def matched(site: Site, url: str) -> int:
    with site.api() as client:
        answer = client.get(url)
    assert answer.status_code == 200, answer.text
    return answer.json()["numberMatched"]


def drawn(page: Page, pane: str) -> int:
    return page.locator(f".leaflet-{pane}-pane path.leaflet-interactive").count()
