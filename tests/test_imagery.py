"""A GeoTIFF under the web map (``sapper.server.geotiff``, served by ``sapper.server.imagery``): real
files written with rasterio, served by a real server, tiles fetched over HTTP and decoded, their
pixels checked against where the image lies on the ground."""

from __future__ import annotations

import io
import math
import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import rasterio
from PIL import Image
from pyproj import Transformer
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning
from rasterio.transform import from_origin
from rasterio.warp import transform as warp_transform

from sapper.model.errors import SapperError
from sapper.server import create_app
from sapper.server.geotiff import GeoTiff
from sapper.server.imagery import open_imagery
from sapper.testing.server import LAT, LON, Demo, Served, seeded, serving

# rasterio 1.4 itself still multiplies with `*`, which affine 3 warns about
pytestmark = pytest.mark.filterwarnings("ignore:Use `@` matmul:PendingDeprecationWarning")
RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)
MARGIN_M = 50.0  # from the image's north-west corner to that of the zoom-16 tile holding Palmyra


def tile_pixel(lon: float, lat: float, z: int) -> tuple[int, int, int, int]:
    """The XYZ tile holding a point at zoom z, and the point's pixel column and row in it."""
    n = 1 << z
    fx = (lon + 180) / 360 * n
    fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int(fx), int(fy), int(fx % 1 * 256), int(fy % 1 * 256)


def corner() -> tuple[float, float]:
    """Lon/lat of the north-west corner of the zoom-16 tile (about 500 m wide) that holds Palmyra."""
    x, y, _, _ = tile_pixel(LON, LAT, 16)
    return x / 65536 * 360 - 180, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / 65536))))


def write_ortho(
    path: Path, size: int, pixel_m: float, kind: str, crs: str = "EPSG:32637", overviews: bool = False
) -> Path:
    """A square orthophoto MARGIN_M inside a zoom-16 tile near Palmyra, in UTM zone 37N (Palmyra's) or
    WGS84: quadrants NW red, NE green, SW blue, SE empty (alpha 0 or nodata).
    ``kind``: rgba, rgb (nodata 0), grey16 (one uint16 band, values 1000/2000/3000, nodata 0)."""
    half = size // 2
    lon, lat = corner()
    if crs == "EPSG:4326":
        dlat = MARGIN_M / 111_320
        dlon = dlat / math.cos(math.radians(lat))
        transform = from_origin(lon + dlon, lat - dlat, pixel_m * dlon / MARGIN_M, pixel_m * dlat / MARGIN_M)
    else:
        east, north = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
        transform = from_origin(east + MARGIN_M, north - MARGIN_M, pixel_m, pixel_m)
    rgb = np.zeros((3, size, size), np.uint8)
    rgb[0, :half, :half] = rgb[1, :half, half:] = rgb[2, half:, :half] = 255
    profile: dict[str, Any] = {"driver": "GTiff", "width": size, "height": size, "crs": crs, "transform": transform}
    profile |= {"tiled": True, "blockxsize": 256, "blockysize": 256, "compress": "deflate"}
    if kind == "rgba":
        alpha = np.full((1, size, size), 255, np.uint8)
        alpha[0, half:, half:] = 0
        data, profile = np.concatenate([rgb, alpha]), profile | {"photometric": "RGB", "alpha": "YES"}
    elif kind == "rgb":
        data, profile = rgb, profile | {"photometric": "RGB", "nodata": 0}
    else:
        data = np.zeros((1, size, size), np.uint16)
        data[0, :half, :half], data[0, :half, half:], data[0, half:, :half] = 1000, 2000, 3000
        profile["nodata"] = 0
    with rasterio.open(path, "w", count=len(data), dtype=data.dtype, **profile) as dst:
        dst.write(data)
        if overviews:
            dst.build_overviews([2, 4, 8, 16], Resampling.average)
    return path


def write_unplaced(path: Path) -> Path:
    """A plain TIFF (a scan, say) with no CRS and no georeferencing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path, "w", driver="GTiff", width=8, height=8, count=1, dtype="uint8") as dst:
            dst.write(np.zeros((1, 8, 8), np.uint8))
    return path


def lonlat_bounds(path: Path) -> list[float]:
    """West, south, east, north of the image's four corners, by pyproj (not the code under test)."""
    with rasterio.open(path) as src:
        to_lonlat = Transformer.from_crs(src.crs, "EPSG:4326", always_xy=True)
        n = src.width
        xs, ys = rasterio.transform.xy(src.transform, [0, 0, n, n], [0, n, 0, n], offset="ul")
        lons, lats = to_lonlat.transform(xs, ys)
    return [min(lons), min(lats), max(lons), max(lats)]


def points_on(path: Path) -> dict[str, tuple[float, float]]:
    """Lon/lat of the middle of each quadrant of the image, and of a point a tenth of its width west of it."""
    with rasterio.open(path) as src:
        n = src.width
        where = {"NW": (n / 4, n / 4), "NE": (0.75 * n, n / 4), "SW": (n / 4, 0.75 * n), "SE": (0.75 * n, 0.75 * n)}
        where["west"] = (-0.1 * n, n / 2)  # 30 or 40 m: inside the margin
        cols, rows = zip(*where.values())
        xs, ys = rasterio.transform.xy(src.transform, rows, cols, offset="ul")
        lons, lats = warp_transform(src.crs, "EPSG:4326", xs, ys)
    return dict(zip(where, zip(lons, lats)))


def rgba_at(client: httpx.Client, lon: float, lat: float, z: int) -> tuple[int, ...]:
    """The colour the map shows at a point: a tile with nothing on it is a 404, as MBTiles leave it out."""
    x, y, col, row = tile_pixel(lon, lat, z)
    tile = client.get(f"/ui/imagery/{z}/{x}/{y}")
    if tile.status_code == 404 and "has no tile" in tile.json()["description"]:
        return (0, 0, 0, 0)
    assert tile.status_code == 200 and tile.headers["content-type"] == "image/png", tile.text
    return Image.open(io.BytesIO(tile.content)).convert("RGBA").getpixel((col, row))


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Demo]:
    target = str(tmp_path_factory.mktemp("imagery") / "demo.gpkg")
    return target, seeded(target)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("ortho")
    return {
        "rgba": write_ortho(folder / "rgba.tif", 300, 1.0, "rgba"),
        "rgb_overviews": write_ortho(folder / "rgb_overviews.tif", 1600, 0.25, "rgb", overviews=True),
        "rgb": write_ortho(folder / "rgb.tif", 1600, 0.25, "rgb"),  # coarse tiles read the file, then warp
        "grey16": write_ortho(folder / "grey16.tif", 200, 2.0, "grey16", crs="EPSG:4326"),
    }


@contextmanager
def served(register: tuple[str, Demo], path: Path) -> Iterator[Served]:
    target, demo = register
    with serving(create_app(target, imagery=str(path))) as server:
        yield Served(server.url, target, demo)


@pytest.mark.parametrize("name", ["rgba", "rgb_overviews", "rgb"])
def test_tiles_show_the_orthophoto_where_it_lies(name: str, register: Any, files: dict[str, Path]) -> None:
    """Colours in the right place at the coarsest and finest zoom, transparent where the image is empty or
    absent; the config the map reads names zooms and bounds that hold the image."""
    path = files[name]
    points = points_on(path)
    with served(register, path) as api, api.client("viewer") as client:
        info = client.get("/ui/api/config").json()["imagery"]
        assert info["name"] == name and info["format"] == "png"
        west, south, east, north = info["bounds"]
        assert info["bounds"] == pytest.approx(lonlat_bounds(path), abs=2e-6)
        assert all(west < lon < east and south < lat < north for lon, lat in list(points.values())[:4])
        assert abs(west - LON) < 0.01 and abs(north - LAT) < 0.01  # Palmyra, not somewhere else
        # the finest zoom shows every source pixel (1 m -> 17, 0.25 m -> 19 at Palmyra's latitude)
        assert info["maxzoom"] == {"rgba": 17, "rgb_overviews": 19, "rgb": 19}[name]
        assert info["minzoom"] == 16  # where the whole image (300 or 400 m) fits about one tile
        for z in (info["minzoom"], info["maxzoom"]):
            for quadrant, colour in (("NW", RED), ("NE", GREEN), ("SW", BLUE)):
                assert rgba_at(client, *points[quadrant], z) == (*colour, 255), (quadrant, z)
            assert rgba_at(client, *points["SE"], z)[3] == 0, z
        assert rgba_at(client, *points["west"], info["minzoom"])[3] == 0  # a tile that overlaps the edge
        x, y, _, _ = tile_pixel(*points["NW"], info["maxzoom"])
        off = client.get(f"/ui/imagery/{info['maxzoom']}/{x - 20}/{y}")
        deeper = client.get(f"/ui/imagery/{info['maxzoom'] + 1}/{2 * x}/{2 * y}")
        too_far = client.get("/ui/imagery/3/8/0")
        too_deep = client.get("/ui/imagery/31/0/0")
        negative = client.get("/ui/imagery/3/-1/0")
    assert off.status_code == 404 and "no tile" in off.json()["description"]
    zooms = f"zooms {info['minzoom']} to {info['maxzoom']}"
    assert deeper.status_code == 404 and zooms in deeper.json()["description"]
    assert too_far.status_code == 404 and "run from 0 to 7" in too_far.json()["description"]
    assert too_deep.status_code == 404 and "0 to 30" in too_deep.json()["description"]
    assert negative.status_code == 400 and "x" in negative.json()["description"]


def test_a_single_16_bit_band_in_wgs84_is_stretched_to_greys(files: dict[str, Path]) -> None:
    """One uint16 band in lon/lat: darker to lighter greys by value, nodata transparent."""
    image = open_imagery(files["grey16"])
    assert isinstance(image, GeoTiff)
    points = points_on(files["grey16"])
    z = image.metadata()["maxzoom"]
    colours = {}
    for quadrant in ("NW", "NE", "SW", "SE"):
        x, y, col, row = tile_pixel(*points[quadrant], z)
        colours[quadrant] = Image.open(io.BytesIO(image.tile(z, x, y))).getpixel((col, row))
    assert colours["NW"][3] == colours["NE"][3] == colours["SW"][3] == 255 and colours["SE"][3] == 0
    nw, ne, sw = (colours[q][0] for q in ("NW", "NE", "SW"))
    assert nw < ne < sw and all(c[0] == c[1] == c[2] for c in colours.values() if c[3])


def test_tiles_fetched_at_once_by_many_clients_are_the_tiles_made_one_by_one(
    register: Any, files: dict[str, Path]
) -> None:
    """Each worker thread reads through its own handle on the file: 8 clients at once get what a fresh,
    uncached reader makes alone."""
    path = files["rgb_overviews"]
    alone = GeoTiff(path)
    z = alone.metadata()["maxzoom"] - 1
    west, south, east, north = alone.metadata()["bounds"]
    x0, y0, _, _ = tile_pixel(west, north, z)
    x1, y1, _, _ = tile_pixel(east, south, z)
    wanted = [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    assert len(wanted) >= 16
    with served(register, path) as api, api.client("viewer") as client, ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda xy: client.get(f"/ui/imagery/{z}/{xy[0]}/{xy[1]}"), wanted))
    for (x, y), response in zip(wanted, got):
        expected = alone._render(z, x, y)
        assert response.status_code == (200 if expected else 404), (x, y)
        if expected:
            assert response.content == expected, (x, y)


def test_files_that_cannot_be_shown_are_refused_at_start(register: Any, files: dict[str, Path], tmp_path: Path) -> None:
    target, _ = register
    text = tmp_path / "notes.tif"
    text.write_text("not a picture\n")
    no_crs = write_unplaced(tmp_path / "scan.tif")
    cut = tmp_path / "cut.tif"
    cut.write_bytes(files["rgb_overviews"].read_bytes()[:5000])
    cases = [
        (text, "neither an MBTiles file nor a GeoTIFF"),
        (no_crs, "no coordinate reference system"),
        (cut, "damaged or cut short"),
        (tmp_path / "missing.tif", "no such file"),
    ]
    for path, reason in cases:
        with pytest.raises(SapperError, match=reason):
            create_app(target, imagery=str(path))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_sapper_serve_with_a_geotiff(tmp_path: Path, files: dict[str, Path]) -> None:
    """`sapper serve --imagery ortho.tif` in a real process serves its tiles; a GeoTIFF without a CRS
    stops it at start with one line that says why."""
    register = str(tmp_path / "r.gpkg")
    run = [sys.executable, "-m", "sapper"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    subprocess.run([*run, "init", register], check=True, capture_output=True)
    subprocess.run(
        [*run, "-r", register, "user", "add", "eye", "--role", "viewer", "--password-stdin"],
        input="s3cret-pass\n",
        text=True,
        check=True,
        capture_output=True,
    )
    no_crs = write_unplaced(tmp_path / "scan.tif")
    refused = subprocess.run(
        [*run, "serve", register, "--port", str(_free_port()), "--imagery", str(no_crs)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert refused.returncode == 1 and len(errors) == 1 and "no coordinate reference system" in errors[0]
    assert "Traceback" not in refused.stderr

    port = _free_port()
    cmd = [*run, "serve", register, "--port", str(port), "--imagery", str(files["rgba"])]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        auth, deadline = ("eye", "s3cret-pass"), time.monotonic() + 30
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=auth, timeout=30) as client:
            while True:
                try:
                    info = client.get("/ui/api/config").json()["imagery"]
                    break
                except httpx.TransportError:
                    assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
                    time.sleep(0.2)
            colour = rgba_at(client, *points_on(files["rgba"])["NE"], info["maxzoom"])
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    assert info["name"] == "rgba" and colour == (*GREEN, 255)
