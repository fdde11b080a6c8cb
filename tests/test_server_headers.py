"""What every answer tells a browser, and where its links point, over real HTTP on both backends:
security headers on every answer (a Content-Security-Policy with no inline script on every page,
the web UI's and the OGC API's), and links built from ``--base-url`` or this server's own address,
never from a Host header a client made up."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from shapely.geometry import mapping

from sapper.server import create_app
from sapper.testing.server import LAT, LON, Served, served_demo, serving, square

HAZARDS = "/ogc/collections/hazards/items"
EVIL = {"Host": "evil.example"}
BASE = "https://mac.example/sapper"


@pytest.fixture(scope="module")
def api(module_target: str) -> Iterator[Served]:
    with served_demo(module_target) as served:
        yield served


@pytest.fixture(scope="module")
def behind_proxy(api: Served) -> Iterator[Served]:
    """The same register served again, as it would be behind a reverse proxy at BASE."""
    with serving(create_app(api.target, base_url=f"{BASE}/")) as server:
        yield Served(server.url, api.target, api.demo)


def hazard(name: str) -> dict[str, Any]:
    return {"type": "Feature", "geometry": mapping(square(LON + 0.06, LAT)), "properties": {"name": name}}


def pages(api: Served) -> list[str]:
    hid = api.demo.hazards[0]
    return [
        "/ogc?f=html",
        "/ogc/conformance?f=html",
        "/ogc/collections?f=html",
        f"{HAZARDS}?f=html",
        f"{HAZARDS}/{hid}?f=html",
        "/ogc/api?f=html",
        "/ui/",
        "/ui/login",
        "/ui/sitrep",
        "/static/ui/map.html",
    ]


def readings(api: Served) -> list[str]:
    hid = api.demo.hazards[0]
    return [
        "/",
        "/ogc",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections/",  # a redirect to the path without the slash
        "/ogc/collections/hazards",
        HAZARDS,
        f"{HAZARDS}?limit=2",
        f"{HAZARDS}/{hid}",
        "/ogc/collections/hazards/queryables",
        "/ogc/api",
        "/api/me",
        "/nowhere",
        *pages(api),
    ]


def test_every_answer_carries_the_security_headers(api: Served) -> None:
    with api.client("viewer") as c, api.client() as anonymous:
        answers = [c.get(path) for path in readings(api)]
        answers += [c.get("/static/ui/map.js"), c.get("/static/sapper.css"), anonymous.get("/ogc/collections")]
        answers += [c.post(HAZARDS, json={"type": "Feature"})]  # refused: a viewer may not write
    assert {r.status_code for r in answers} >= {200, 303, 307, 401, 403, 404}
    for r in answers:
        assert r.headers.get("x-content-type-options") == "nosniff", r.url
        assert r.headers.get("referrer-policy") == "no-referrer", r.url


def test_every_page_has_a_strict_content_security_policy(api: Served) -> None:
    with api.client("viewer") as c:
        for path in pages(api):
            r = c.get(path)
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
            policy = {d.split()[0]: d.split()[1:] for d in r.headers["content-security-policy"].split(";") if d.strip()}
            assert policy["default-src"] == ["'self'"], path
            assert policy["script-src"] == ["'self'"], f"{path}: scripts only from this server, none inline"
            assert policy["frame-ancestors"] == ["'none'"], path
            assert set(policy["img-src"]) == {"'self'", "data:", "blob:"}, path
            assert "<script>" not in r.text and " style=" not in r.text, f"{path}: no inline script or style"


def _leaks(r: httpx.Response, name: str) -> list[str]:
    return [f"{k}: {v}" for k, v in r.headers.items() if name in v] + ([r.text[:200]] if name in r.text else [])


def test_a_forged_host_never_appears_in_an_answer(api: Served) -> None:
    with api.client("super") as c:
        answers = [c.get(path, headers=EVIL) for path in readings(api)]
        answers.append(c.post(HAZARDS, json=hazard("Well"), headers=EVIL))
    assert answers[-1].status_code == 201
    for r in answers:
        assert not _leaks(r, "evil.example"), r.url
    landing = answers[1].json()
    assert all(lk["href"].startswith(f"{api.url}/ogc") for lk in landing["links"]), "links use the server's address"
    assert answers[-1].headers["location"].startswith(f"{api.url}{HAZARDS}/")


def test_a_host_that_names_this_server_is_kept(api: Served) -> None:
    port = api.url.rsplit(":", 1)[1]
    with api.client("viewer") as c:
        landing = c.get("/ogc", headers={"Host": f"localhost:{port}"}).json()
        other_port = c.get("/ogc", headers={"Host": "localhost:1"}).json()
    assert landing["links"][0]["href"] == f"http://localhost:{port}/ogc?f=json"
    assert other_port["links"][0]["href"] == f"{api.url}/ogc?f=json", "a port this server does not listen on is not"


def test_with_a_base_url_every_link_starts_with_it(behind_proxy: Served) -> None:
    with behind_proxy.client("super") as c:
        for headers in ({}, EVIL):
            landing = c.get("/ogc", headers=headers).json()
            assert landing["links"] and all(lk["href"].startswith(f"{BASE}/ogc") for lk in landing["links"])
            items = c.get(HAZARDS, params={"limit": 2}, headers=headers).json()
            assert {lk["rel"] for lk in items["links"]} >= {"self", "next", "collection"}
            assert all(lk["href"].startswith(f"{BASE}/ogc/collections/hazards") for lk in items["links"])
            html = c.get("/ogc/collections?f=html", headers=headers).text
            assert f'href="{BASE}/ogc/collections/hazards/items?f=html"' in html and "evil.example" not in html
            assert c.get("/ogc/api", headers=headers).json()["servers"] == [
                {"url": f"{BASE}/ogc", "description": "the OGC API's landing page"}
            ]
        created = c.post(HAZARDS, json=hazard("Mill"))
        assert created.headers["location"].startswith(f"{BASE}{HAZARDS}/")
