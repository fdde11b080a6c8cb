"""Field submissions over OpenRosa: N item forms with a photo each, sent as ODK Collect sends them.

sapper serves a GeoPackage register on 127.0.0.1 (uvicorn, one process); this script is the
devices: one client on a keep-alive connection sends each submission (HEAD, then a multipart
POST of the instance XML and a JPEG), then a supervisor approves them all over the REST API.
The peer is the same item written straight into the register over the OGC API (POST a
GeoJSON Feature), which is what a field submission costs without the OpenRosa envelope,
the photo and the approval step. The photo is a generated 640 x 480 JPEG (an assumption:
ODK Collect's max-pixels keeps real ones around this order of size).

    python bench/field_bench.py               # 1,000 submissions
    python bench/field_bench.py --count 200
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from PIL import Image

from sapper.field.forms import item_found
from sapper.testing.server import LAT, LON, PASSWORD, served_demo


def _photo() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((640, 480), 40).convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()


def _instance(form_id: str, version: str, hazard: int, n: int) -> bytes:
    lat, lon = LAT + 0.0002 + 0.000001 * (n % 500), LON + 0.0002 + 0.000001 * (n // 500)
    return (
        f'<?xml version="1.0"?><{form_id} id="{form_id}" version="{version}"><hazard>{hazard}</hazard>'
        f"<position>{lat} {lon} 400 4</position><category>uxo</category><model>M107</model>"
        f"<photo>item.jpg</photo><depth_cm>10</depth_cm><condition>intact</condition><state>found</state>"
        f"<found_on>2016-04-20</found_on><notes/><meta><instanceID>uuid:{uuid.uuid4()}</instanceID></meta>"
        f"</{form_id}>"
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    form = item_found()
    jpeg = _photo()
    with tempfile.TemporaryDirectory() as tmp, served_demo(str(Path(tmp) / "register.gpkg")) as api:
        hazard = api.demo.hazards[0]
        device = httpx.Client(
            base_url=api.url, headers={"X-OpenRosa-Version": "1.0"}, auth=("leader", PASSWORD), timeout=60
        )
        start = time.perf_counter()
        for n in range(args.count):
            assert device.head("/openrosa/submission").status_code == 204
            files = {
                "xml_submission_file": ("submission.xml", _instance(form.form_id, form.version, hazard, n), "text/xml"),
                "item.jpg": ("item.jpg", jpeg, "image/jpeg"),
            }
            r = device.post("/openrosa/submission", files=files)
            assert r.status_code == 201, r.text
        received = time.perf_counter() - start
        with api.client("super") as sup:
            start = time.perf_counter()
            pending = sup.get("/api/submissions", params={"limit": args.count}).json()
            for sub in pending:
                assert sup.post(f"/api/submissions/{sub['id']}/approve").status_code == 200
            approved = time.perf_counter() - start
        with api.client("leader") as leader:
            start = time.perf_counter()
            for n in range(args.count):
                lat, lon = LAT + 0.0002 + 0.000001 * (n % 500), LON + 0.0002 + 0.000001 * (n // 500)
                feature = {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {"category": "uxo", "model": "M107", "hazard_id": hazard, "depth_cm": 10},
                }
                r = leader.post("/ogc/collections/items/items", json=feature)
                assert r.status_code == 201, r.text
            direct = time.perf_counter() - start
    n = args.count
    print(f"{n} submissions with a {len(jpeg) / 1000:.0f} kB photo each, GeoPackage, one client")
    print(f"  OpenRosa HEAD + POST (kept, pending): {received:6.1f} s  {n / received:6.1f} per s")
    print(f"  approval (records written):           {approved:6.1f} s  {n / approved:6.1f} per s")
    print(f"  peer: OGC API POST of the same item:  {direct:6.1f} s  {n / direct:6.1f} per s")
    print(f"  received + approved / peer: {(received + approved) / direct:.2f}x")


if __name__ == "__main__":
    main()
