"""GDAL's OGC API - Features reader loads every collection from the server, paging through next links."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from shapely.geometry import Point

from sapper.model.records import ProtectedSite
from sapper.store import open_register
from sapper.testing.server import LAT, LON, PASSWORD, Served, served_demo

pytestmark = pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="GDAL's ogrinfo is not installed")


@pytest.fixture(scope="module")
def api(module_target: str) -> Iterator[Served]:
    with served_demo(module_target) as served:
        with open_register(module_target, user="test") as reg:  # the demo's only site is a square: add a point one
            reg.add(ProtectedSite(name="Monument", kind="monument", geometry=Point(LON + 0.035, LAT + 0.001)))
        yield served


def ogrinfo(api: Served, *args: str, auth: tuple[str, ...] | None = None) -> subprocess.CompletedProcess[str]:
    auth = auth or ("--config", "GDAL_HTTP_HEADERS", f"Authorization: Bearer {api.demo.tokens['viewer']}")
    cmd = ["ogrinfo", "-ro", *auth, "-oo", "PAGE_SIZE=7", f"OAPIF:{api.url}/ogc", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_gdal_lists_and_reads_every_collection(api: Served) -> None:
    with api.client("viewer") as c:
        collections = [col["id"] for col in c.get("/ogc/collections").json()["collections"]]
        expected = {name: c.get(f"/ogc/collections/{name}/items").json()["numberMatched"] for name in collections}
    listing = ogrinfo(api)
    assert listing.returncode == 0, listing.stderr
    for name in collections:
        assert re.search(rf"^\d+: {name}\b", listing.stdout, re.M), listing.stdout
        read = ogrinfo(api, "-al", name)
        assert read.returncode == 0, read.stderr
        assert read.stdout.count(f"OGRFeature({name}):") == expected[name], name
    assert expected["items"] == 25  # more than three pages of 7
    hazards = ogrinfo(api, "-al", "hazards").stdout
    assert "name (String) = Hazard 0" in hazards and "MULTIPOLYGON (((38.27 34.55" in hazards
    assert "Depot (restricted)" not in hazards
    for hid in api.demo.hazards:  # the id member is GDAL's feature id, the id property a field
        assert f"OGRFeature(hazards):{hid}\n  id (Integer) = {hid}\n" in hazards
    assert re.search(r"^\d+: protected_site_points \(title: .*\) \(Point\)$", listing.stdout, re.M)
    points = ogrinfo(api, "-al", "protected_site_points").stdout
    assert "name (String) = Monument" in points and "POINT (38.305 34.551)" in points


def test_gdal_with_basic_authentication_and_a_bbox(api: Served) -> None:
    auth = ("--config", "GDAL_HTTP_AUTH", "BASIC", "--config", "GDAL_HTTP_USERPWD", f"viewer:{PASSWORD}")
    read = ogrinfo(api, "-al", "-spat", "38.2700", "34.5500", "38.2730", "34.5510", "items", auth=auth)
    assert read.returncode == 0, read.stderr
    assert read.stdout.count("OGRFeature(items):") == 10
    refused = ogrinfo(api, auth=("--config", "GDAL_HTTP_AUTH", "BASIC", "--config", "GDAL_HTTP_USERPWD", "viewer:x"))
    assert refused.returncode != 0
