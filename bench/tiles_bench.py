"""Vector tile latency, and an items page deep in a layer by cursor against by offset.

The bench register of ``generate.py`` (``--small``: 2,000 hazards, 20,000 items, around
Tadmur) is imported into a GeoPackage and a PostGIS database and served by sapper on
127.0.0.1 (public, read as an anonymous visitor: the visibility rule still applies). It
times, over real HTTP, one client asking again and again:

- a vector tile of hazards and of items at low zooms (10 holds nearly the whole register,
  12 a quarter of the town) and at 15, on the WebMercatorQuad grid (p50 and p95 ms): cold (the
  tile cache emptied before each request), warm (cached, to zoom 10), and on PostGIS the peer, a
  plain ST_AsMVT of every feature in the tile asked of the database directly;
- an items page of 100 in id order: the first page, a page deep in the layer reached with
  ``cursor`` (keyset paging, what the next links give) and the same page with ``offset``.

    python bench/tiles_bench.py                      # --small register, both backends
    python bench/tiles_bench.py --backends gpkg --repeat 50
    python bench/tiles_bench.py --hazards 10000 --items 200000

The data is synthetic (an assumption, not a survey; see generate.py).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import generate
import httpx
import register_imports as imports
import tile_timing

from sapper.server import create_app
from sapper.testing.postgis import Cluster
from sapper.testing.server import serving

ZOOMS = (10, 12, 15)
PAGE = 100


def tile_of(lon: float, lat: float, zoom: int) -> tuple[int, int, int]:
    """(zoom, row, column) of the WebMercatorQuad tile holding a point."""
    side = 1 << zoom
    col = int((lon + 180) / 360 * side)
    row = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * side)
    return zoom, row, col


def timed(client: httpx.Client, url: str, repeat: int) -> tuple[float, float, int]:
    """p50 and p95 milliseconds of ``repeat`` requests (after one warm-up), and the answer's size."""
    size = len(client.get(url).content)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        answer = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert answer.status_code in (200, 204), answer.text
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)], size


def load(source: Path, target: str) -> None:
    for table in ("hazards", "items"):
        imports.sapper_add_many(source, table, target)


def measure(target: str, repeat: int) -> list[str]:
    rows = []
    postgis = target.startswith("postgresql://")
    with serving(create_app(target, public=True)) as server, httpx.Client(base_url=server.url, timeout=120) as client:
        for name in ("hazards", "items"):
            for zoom in ZOOMS:
                tile = tile_of(*generate.TOWN, zoom)
                app = tile_timing.cold_and_warm(client, target, name, tile, repeat)
                label = f"tile {name} z{tile[0]}/{tile[1]}/{tile[2]}"
                rows.append(
                    f"| {label} (cold) | {app['cold p50']:.1f} | {app['cold p95']:.1f} | {app['size'] / 1024:.1f} KiB |"
                )
                rows.append(f"| {label} (warm) | {app['warm p50']:.1f} | {app['warm p95']:.1f} | |")
                if postgis:
                    other = tile_timing.peer(target, name, tile, repeat)
                    rows.append(
                        f"| {label} (peer) | {other['p50']:.1f} | {other['p95']:.1f} | {other['size'] / 1024:.0f} KiB |"
                    )
        ids = [f["id"] for f in client.get("/ogc/collections/items/items", params={"limit": 10_000}).json()["features"]]
        total = client.get("/ogc/collections/items/items", params={"limit": 1}).json()["numberMatched"]
        deep = total - 2 * PAGE  # the page before the last two
        cursor = _id_at(client, deep - 1) if deep > len(ids) else ids[deep - 1]
        for label, params in (
            ("items page 1", {}),
            (f"items page at {deep:,} by cursor", {"cursor": cursor}),
            (f"items page at {deep:,} by offset", {"offset": deep}),
        ):
            query = "&".join(f"{k}={v}" for k, v in {"limit": PAGE, **params}.items())
            p50, p95, _ = timed(client, f"/ogc/collections/items/items?{query}", repeat)
            rows.append(f"| {label} | {p50:.1f} | {p95:.1f} | |")
    return rows


def _id_at(client: httpx.Client, position: int) -> int:
    """The id of the feature at ``position`` (0-based) in id order, walking the next links."""
    url, seen = "/ogc/collections/items/items?limit=10000", 0
    while True:
        page = client.get(url).json()
        features = page["features"]
        if seen + len(features) > position:
            return int(features[position - seen]["id"])
        seen += len(features)
        url = next(lk["href"] for lk in page["links"] if lk["rel"] == "next")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hazards", type=int, default=generate.SMALL_HAZARDS)
    parser.add_argument("--items", type=int, default=generate.SMALL_ITEMS)
    parser.add_argument("--repeat", type=int, default=30, help="requests per figure (default 30)")
    parser.add_argument("--backends", default="gpkg,postgis")
    parser.add_argument("--seed", type=int, default=2016)
    args = parser.parse_args(argv)
    source = generate.default_path(args.hazards, args.items, args.seed)
    if not source.exists():
        generate.generate(source, args.hazards, args.items, args.seed)
    print(f"{args.hazards:,} hazards, {args.items:,} items; {args.repeat} requests per figure")
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sapper-tiles-")))
        for backend in args.backends.split(","):
            if backend == "postgis":
                target = stack.enter_context(Cluster()).new_database("tiles")
            else:
                target = str(work / "tiles.gpkg")
            load(source, target)
            print(f"\n**{backend}**\n\n| request | p50 ms | p95 ms | size |\n|---|---|---|---|", flush=True)
            for line in measure(target, args.repeat):
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
