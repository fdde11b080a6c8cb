"""Tiles per second from a drone orthophoto served as a GeoTIFF, with overviews and without, against the
peer: the same image turned into MBTiles by GDAL first (gdal_translate + gdaladdo), whose tiles are looked up.

The orthophoto is synthetic (an assumption, not a survey): 10,000 x 10,000 RGB pixels of 5 cm in UTM zone
37N (500 m square near Tadmur), tiled 512 x 512 and DEFLATE-compressed as drone software writes it, with a
texture of blocks, streets and noise so that it compresses like a picture rather than a flat colour. It is
written once to bench/data/imagery/ and kept.

Two runs on the very same list of tiles (seeded; every zoom the image has, up to --per-zoom tiles each):
  in process  one thread, tile cache off: what making one tile costs (read, warp, PNG), cold and
              again at once with the file's blocks in GDAL's cache;
  over HTTP   ``sapper serve`` in its own process, N clients at once, each tile asked once (so the
              server's tile cache never answers): what a map sees.
The tiles are split into rounds, and each round asks every source in turn, so that the machine's other
load weighs on all alike. The MBTiles peer answers the tiles its zooms hold; the conversion time it
needed first is printed too.

    python bench/imagery_bench.py                  # 10,000 px, 40 tiles per zoom, 4 clients
    python bench/imagery_bench.py --size 4000 --per-zoom 10
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
from pyproj import Transformer
from rasterio.enums import Resampling
from rasterio.transform import from_origin
from rasterio.windows import Window

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "imagery"
TOWN = (38.272, 34.556)  # Tadmur town centre: the image's north-west corner
PIXEL_M = 0.05  # a drone orthophoto's ground sample distance (assumption: 5 cm, typical at 150 m flying height)
sys.path.insert(0, str(HERE.parent))

from sapper.server.imagery import open_imagery  # noqa: E402


def write_orthophoto(path: Path, size: int, seed: int = 2016) -> None:
    """Write the synthetic orthophoto a band of 512 rows at a time (little memory)."""
    east, north = Transformer.from_crs("EPSG:4326", "EPSG:32637", always_xy=True).transform(*TOWN)
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": 3,
        "dtype": "uint8",
        "crs": "EPSG:32637",
        "transform": from_origin(east, north, PIXEL_M, PIXEL_M),
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "photometric": "RGB",
        "BIGTIFF": "IF_SAFER",
    }
    rng = np.random.default_rng(seed)
    base = np.array([196, 178, 142], np.int16)  # desert sand
    cols = np.arange(size)
    with rasterio.open(path, "w", **profile) as dst:
        for row0 in range(0, size, 512):
            rows = np.arange(row0, min(row0 + 512, size))[:, None]
            blocks = ((rows // 400 + cols // 400) % 3 == 0) * -40  # buildings every 20 m
            streets = ((rows % 400 < 60) | (cols % 400 < 60)) * 25
            noise = rng.integers(-12, 13, (3, len(rows), size), dtype=np.int16)
            data = np.clip(base[:, None, None] + blocks + streets + noise, 0, 255).astype(np.uint8)
            dst.write(data, window=Window(0, row0, size, len(rows)))


def prepare(size: int) -> dict[str, Path | float]:
    DATA.mkdir(parents=True, exist_ok=True)
    plain, with_ovr, mbtiles = (DATA / f"ortho-{size}{suffix}" for suffix in (".tif", "-ovr.tif", ".mbtiles"))
    if not plain.exists():
        t0 = time.perf_counter()
        write_orthophoto(plain, size)
        print(f"wrote {plain.name} ({plain.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")
    if not with_ovr.exists():
        shutil.copy(plain, with_ovr)
        t0 = time.perf_counter()
        with rasterio.open(with_ovr, "r+") as dst:
            dst.build_overviews([2, 4, 8, 16, 32, 64], Resampling.average)
        print(f"built overviews in {time.perf_counter() - t0:.1f} s")
    took = mbtiles.with_suffix(".seconds")  # the conversion's time, kept with its result
    if shutil.which("gdal_translate") and not mbtiles.exists():
        t0 = time.perf_counter()
        subprocess.run(["gdal_translate", "-q", "-of", "MBTILES", str(plain), str(mbtiles)], check=True)
        subprocess.run(["gdaladdo", "-q", "-r", "average", str(mbtiles), "2", "4", "8", "16", "32", "64"], check=True)
        took.write_text(f"{time.perf_counter() - t0:.1f}")
    convert_s = float(took.read_text()) if took.exists() else float("nan")
    return {"plain": plain, "ovr": with_ovr, "mbtiles": mbtiles, "convert_s": convert_s}


def tile_list(path: Path, per_zoom: int, seed: int) -> list[tuple[int, int, int]]:
    """Up to per_zoom tiles at every zoom of the GeoTIFF, within its bounds, seeded."""
    info = open_imagery(path).metadata()
    west, south, east, north = info["bounds"]
    rng, tiles = random.Random(seed), []
    for z in range(info["minzoom"], info["maxzoom"] + 1):
        (x0, y0), (x1, y1) = tile_of(west, north, z), tile_of(east, south, z)
        every = [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
        tiles += rng.sample(every, min(per_zoom, len(every)))
    return tiles


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    return int((lon + 180) / 360 * n), int((1 - np.arcsinh(np.tan(np.radians(lat))) / np.pi) / 2 * n)


class InProcess:
    """One thread, no tile cache: each tile timed once cold, then at once again with the file's blocks in
    GDAL's cache (as when a map pans over tiles that share them)."""

    def __init__(self, path: Path) -> None:
        imagery = open_imagery(path)
        self.make = getattr(imagery, "_render", imagery.tile)  # the GeoTIFF's uncached renderer
        self.cold: dict[tuple[int, int, int], float] = {}
        self.warm: dict[tuple[int, int, int], float] = {}
        self.found = 0

    def run(self, tiles: list[tuple[int, int, int]]) -> None:
        for times in (self.cold, self.warm):
            for tile in tiles:
                t0 = time.perf_counter()
                data = self.make(*tile)
                times[tile] = time.perf_counter() - t0
                self.found += times is self.cold and data is not None


async def _get(port: int, paths: list[str], token: str) -> list[int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    statuses = []
    for path in paths:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split()[1])
        length = int(next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1])
        await reader.readexactly(length)
        statuses.append(status)
    writer.close()
    return statuses


class Served:
    """`sapper serve --imagery FILE` in its own process; N keep-alive clients fetch each tile once."""

    def __init__(self, path: Path, folder: Path, workers: int) -> None:
        register = str(folder / f"{path.name}.gpkg")
        run = [sys.executable, "-m", "sapper"]
        subprocess.run([*run, "init", register], check=True, capture_output=True)
        subprocess.run(
            [*run, "-r", register, "user", "add", "bench", "--role", "viewer", "--password-stdin"],
            input="bench-password\n",
            text=True,
            check=True,
            capture_output=True,
        )
        self.token = subprocess.run(
            [*run, "-r", register, "user", "token", "bench"], check=True, capture_output=True, text=True
        ).stdout.strip()  # a bearer token, as map clients use (a password would be hashed on every request)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        cmd = [*run, "serve", register, "--port", str(self.port), "--imagery", str(path), "--workers", str(workers)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.seconds, self.found = 0.0, 0
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("sapper serve did not start") from None
                time.sleep(0.2)

    def run(self, tiles: list[tuple[int, int, int]], clients: int) -> None:
        paths = [f"/ui/imagery/{z}/{x}/{y}" for z, x, y in tiles]

        async def all_clients() -> list[list[int]]:
            return await asyncio.gather(*(_get(self.port, paths[i::clients], self.token) for i in range(clients)))

        t0 = time.perf_counter()
        statuses = [s for share in asyncio.run(all_clients()) for s in share]
        self.seconds += time.perf_counter() - t0
        if bad := sorted({s for s in statuses if s not in (200, 404)}):
            raise RuntimeError(f"unexpected statuses {bad}")
        self.found += statuses.count(200)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10_000, help="pixels per side")
    parser.add_argument("--per-zoom", type=int, default=40, help="tiles asked per zoom level")
    parser.add_argument("--clients", type=int, default=4, help="clients at once over HTTP")
    parser.add_argument("--workers", type=int, default=1, help="sapper serve --workers")
    parser.add_argument("--rounds", type=int, default=5, help="the tiles are split into rounds that alternate sources")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    files = prepare(args.size)
    tiles = tile_list(files["ovr"], args.per_zoom, args.seed)
    random.Random(args.seed).shuffle(tiles)
    info = open_imagery(files["ovr"]).metadata()
    zooms = f"zooms {info['minzoom']}-{info['maxzoom']}"
    print(f"{args.size:,} x {args.size:,} px at {PIXEL_M} m; {zooms}; {len(tiles)} tiles, {args.clients} clients")
    if files["convert_s"] == files["convert_s"]:  # not NaN: it was measured
        print(f"the peer's conversion first (gdal_translate -of MBTILES, gdaladdo): {files['convert_s']:.1f} s")
    sources = {"GeoTIFF, overviews": files["ovr"], "GeoTIFF, no overviews": files["plain"]}
    if Path(files["mbtiles"]).exists():
        sources["MBTiles (peer)"] = files["mbtiles"]
        peer = open_imagery(files["mbtiles"]).metadata()
        print(f"the peer's MBTiles hold zooms {peer['minzoom']}-{peer['maxzoom']} (GDAL's choice); other tiles are 404")
    rounds = [tiles[i :: args.rounds] for i in range(args.rounds)]
    local = {name: InProcess(Path(path)) for name, path in sources.items()}
    with tempfile.TemporaryDirectory() as tmp:
        served: dict[str, Served] = {}
        try:
            for name, path in sources.items():
                served[name] = Served(Path(path), Path(tmp), args.workers)
            for chunk in rounds:  # each round asks every source in turn: the machine's load weighs on all alike
                for name in sources:
                    local[name].run(chunk)
                    served[name].run(chunk, args.clients)
        finally:
            for server in served.values():
                server.stop()
    low = [t for t in tiles if t[0] <= info["minzoom"] + 2]
    print(
        f"\n| served from | in process, tiles/s | again, file blocks cached | zooms {info['minzoom']}-"
        f"{info['minzoom'] + 2} only | over HTTP, {args.clients} clients, tiles/s | tiles with data |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    rates = {}
    for name in sources:
        run, server = local[name], served[name]
        cold, warm = sum(run.cold.values()), sum(run.warm.values())
        low_cold = sum(run.cold[t] for t in low)
        rates[name] = [len(tiles) / cold, len(tiles) / warm, len(low) / low_cold, len(tiles) / server.seconds]
        cells = " | ".join(f"{r:,.1f}" for r in rates[name])
        print(f"| {name} | {cells} | {run.found} / {server.found} |")
    base = rates["GeoTIFF, overviews"]
    for name, rate in rates.items():
        ratios = " / ".join(f"{r / b:.2f}" for r, b in zip(rate, base))
        print(f"{name}: {ratios} x the GeoTIFF with overviews (the columns in order)")


if __name__ == "__main__":
    main()
