"""Limits on what a client may send, over real HTTP on both backends: a body larger than the server
reads is refused (413) on every route, declared or chunked, and a geometry with more vertices than
it accepts (422), on every route that takes one; what is refused leaves the register as it was."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from sapper.server import create_app
from sapper.testing.server import LAT, LON, Served, seeded, served_demo, serving

HAZARDS = "/ogc/collections/hazards/items"
MAX_VERTICES = 1000


@pytest.fixture(scope="module")
def small(module_target: str) -> Iterator[Served]:
    """A server that reads at most 1 MB per request and 1,000 vertices per geometry."""
    with served_demo(module_target, max_body_mb=1, max_vertices=MAX_VERTICES) as served:
        yield served


def polygon(vertices: int, lon: float = LON + 0.05, size: float = 0.001) -> dict[str, Any]:
    """A closed ring of ``vertices`` positions (the last repeats the first): a comb along one side."""
    teeth = [[lon + size * i / (vertices - 3), LAT + size] for i in range(vertices - 3)]
    ring = [[lon, LAT], *teeth, [lon + size, LAT], [lon, LAT]]
    assert len(ring) == vertices
    return {"type": "Polygon", "coordinates": [ring]}


def hazard(geometry: dict[str, Any], name: str = "Comb field") -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": {"name": name}}


def post_json(client: httpx.Client, url: str, document: dict[str, Any]) -> httpx.Response:
    """POST a large document as JSON, encoded by orjson (tens of MB: the standard library takes seconds)."""
    return client.post(url, content=orjson.dumps(document), headers={"Content-Type": "application/json"})


def counts(api: Served) -> tuple[int, int]:
    with api.client("admin") as c:
        hazards = c.get(HAZARDS, params={"limit": 1}).json()["numberMatched"]
        reports = c.get("/ogc/collections/reports/items", params={"limit": 1}).json()["numberMatched"]
    return hazards, reports


def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(small: Served) -> None:
    before = counts(small)
    # the headers alone: a server that waited for the 300 MB would never answer
    with socket.create_connection(("127.0.0.1", int(small.url.rsplit(":", 1)[1])), timeout=10) as sock:
        sock.sendall(
            b"POST /api/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + small.demo.tokens["leader"].encode() + b"\r\n"
            b"Content-Length: 300000000\r\n\r\n"
        )
        head = sock.recv(65536).decode()
    assert head.startswith("HTTP/1.1 413"), head
    assert "300,000,000 bytes" in head and "at most 1,000,000 bytes (1 MB)" in head and "--max-body-mb" in head
    with small.client("super") as c:  # every route, the OGC API's and the REST API's, and before any login
        for path in ("/api/login", "/api/reports", HAZARDS, "/api/activities"):
            r = c.post(path, content=b" " * 1_200_000, headers={"Content-Type": "application/json"})
            assert r.status_code == 413, (path, r.text)
            assert r.json()["description"].startswith("the request body is 1,200,000 bytes; this server reads at most")
    assert counts(small) == before


def test_a_chunked_body_stops_being_read_at_the_limit(small: Served) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:  # no Content-Length: the size shows only while reading
        nonlocal sent
        for _ in range(64):
            sent += 65536
            yield b" " * 65536

    with small.client("leader") as c:
        r = c.post("/api/reports", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413, r.text
        assert "passed 1,000,000 bytes" in r.json()["description"]
        assert r.headers["x-content-type-options"] == "nosniff"
        ok = c.post("/api/reports", json={"report_date": "2016-04-12", "activity_type": "ts"})
        assert ok.status_code == 201, "a body within the limit is read as before"


def test_a_geometry_over_the_vertex_limit_is_refused_on_every_route(small: Served) -> None:
    before = counts(small)
    big = polygon(MAX_VERTICES + 1)
    hid = small.demo.hazards[0]
    with small.client("super") as sup:
        created = sup.post(HAZARDS, json=hazard(big))
        assert created.status_code == 422, created.text
        assert created.json()["description"] == (
            "new hazard: geometry has 1,001 vertices; at most 1,000 are accepted (set with sapper serve --max-vertices)"
        )
        current = sup.get(f"{HAZARDS}/{hid}")
        version = {"If-Match": current.headers["etag"]}
        patched = sup.patch(f"{HAZARDS}/{hid}", json={"geometry": big}, headers=version)
        assert patched.status_code == 422 and patched.json()["description"].startswith(f"hazard {hid}: geometry has")
        put = sup.put(f"{HAZARDS}/{hid}", json=hazard(big, "Hazard 0"), headers=version)
        assert put.status_code == 422 and "1,001 vertices" in put.json()["description"]
        released = sup.post(f"/api/hazards/{hid}/release", json={"route": "cancelled", "geometry": big})
        assert released.status_code == 422, released.text
        assert released.json()["description"].startswith(f"release of hazard {hid}: geometry has 1,001 vertices")
        assert sup.get(f"{HAZARDS}/{hid}").json() == current.json(), "the hazard is as it was"
    with small.client("leader") as leader:
        report = {"report_date": "2016-04-12", "activity_type": "clearance", "geometry": big}
        r = leader.post("/api/reports", json=report)
        assert r.status_code == 422 and r.json()["description"].startswith("new report: geometry has 1,001 vertices")
    assert counts(small) == before
    with small.client("super") as sup:  # at the limit is accepted
        assert sup.post(HAZARDS, json=hazard(polygon(MAX_VERTICES))).status_code == 201


def test_the_default_limits_refuse_a_million_vertex_polygon(small: Served) -> None:
    """Defaults (20 MB, 100,000 vertices): a million vertices do not fit in the body; 150,000 in a
    body that fits are refused by their count; a field survey's polygon passes."""
    with serving(create_app(small.target)) as server, Served(server.url, small.target, small.demo).client("super") as c:
        million = post_json(c, HAZARDS, hazard(polygon(1_000_000)))
        assert million.status_code == 413 and "20,000,000 bytes (20 MB)" in million.json()["description"]
        many = post_json(c, HAZARDS, hazard(polygon(150_000, size=0.01)))
        assert many.status_code == 422 and "at most 100,000 are accepted" in many.json()["description"]
        assert c.post(HAZARDS, json=hazard(polygon(2_000))).status_code == 201


def test_sapper_serve_passes_the_limits_to_every_worker(tmp_path: Path) -> None:
    gpkg = str(tmp_path / "register.gpkg")
    demo = seeded(gpkg)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "sapper", "serve", gpkg, "--port", str(port), "--workers", "2"]
    cmd += ["--max-body-mb", "0.5", "--max-vertices", "50", "--base-url", "https://mac.example/sapper/"]
    proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE, text=True)
    try:
        headers = {"Authorization": f"Bearer {demo.tokens['super']}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as c:
            deadline = time.monotonic() + 30
            while True:
                try:
                    landing = c.get("/ogc")
                    break
                except httpx.TransportError:
                    assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
                    time.sleep(0.2)
            assert landing.json()["links"][0]["href"] == "https://mac.example/sapper/ogc?f=json"
            body = c.post(HAZARDS, content=b" " * 600_000, headers={"Content-Type": "application/json"})
            assert body.status_code == 413 and "500,000 bytes (0.5 MB)" in body.json()["description"]
            vertices = c.post(HAZARDS, json=hazard(polygon(51)))
            assert vertices.status_code == 422 and "at most 50 are accepted" in vertices.json()["description"]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    assert "serving" in out and "https://mac.example/sapper/" in out
