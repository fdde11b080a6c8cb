"""A GeoTIFF cut into web-mercator PNG tiles on demand, so a drone orthophoto needs no conversion.

The file may be in any CRS GDAL knows (a drone orthophoto usually comes in UTM); RGB, RGBA, one band
(grey or a colour table), 8-bit or stretched from 16-bit or float. A tile is a window of a web-mercator
view of the file (a GDAL warped VRT at the finest zoom's pixels); a coarser tile is a smaller read of a
larger window, which GDAL serves from the file's overviews. Where the file has no overviews that coarse,
warping the view would read every pixel at full resolution, so those tiles read the file skipping pixels
and warp the small result instead. Open handles are reused across requests, one request at a time each
(a GDAL dataset must not be read by two threads at once); recent tiles are kept in a small cache.
"""

from __future__ import annotations

import io
import math
import queue
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from PIL import Image
from rasterio.crs import CRS
from rasterio.enums import ColorInterp, Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.transform import Affine
from rasterio.vrt import WarpedVRT
from rasterio.warp import calculate_default_transform, reproject, transform_bounds
from rasterio.windows import Window

from sapper.model.errors import SapperError

TILE = 256  # pixels per tile side, as web maps ask
WORLD = 2 * math.pi * 6378137.0  # width of the web-mercator (EPSG:3857) world, metres
MAX_LAT = 85.0511287798066  # web mercator's edge
MAX_ZOOM = 24  # ~1 cm pixels: no orthophoto is finer
OVERSAMPLE = 2  # source pixels read per tile pixel when reading then warping, for a sharp warp
CACHED_TILES = 512  # recent tiles kept per process (a photo tile is some 50-120 kB as PNG)


@dataclass
class _Handle:
    """An open GeoTIFF and, once a tile needs it, its web-mercator view (a warped VRT) and alpha band."""

    src: Any
    view: Any = None
    alpha: int = 0


class GeoTiff:
    """A georeferenced TIFF cut into web-mercator PNG tiles on demand (transparent outside the image)."""

    format = "png"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handles: queue.LifoQueue[_Handle] = queue.LifoQueue()
        self._mercator = CRS.from_epsg(3857)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                with rasterio.open(path) as src:
                    self._describe(src)
        except RasterioError as exc:
            raise SapperError(f"imagery {path}: not a readable GeoTIFF ({exc})") from None
        self.tile = lru_cache(maxsize=CACHED_TILES)(self._render)

    def _describe(self, src: Any) -> None:
        """Check the file can be shown and work out its bands, colour scaling, bounds and zooms."""
        if src.crs is None or src.transform.is_identity:
            raise SapperError(
                f"imagery {self.path}: the GeoTIFF has no coordinate reference system or georeferencing "
                "(give it one, e.g. gdal_edit.py -a_srs EPSG:32637 for UTM zone 37N)"
            )
        if any(np.dtype(t).kind == "c" for t in src.dtypes):
            raise SapperError(f"imagery {self.path}: complex-valued pixels ({src.dtypes[0]}) cannot be shown")
        self.bands = [1, 2, 3] if src.count >= 3 else [1]
        _check_readable(src, self.path)
        self.palette = _palette(src) if src.count < 3 and src.colorinterp[0] == ColorInterp.palette else None
        # palette indices must not be averaged; colours are, when the read is smaller than the window
        self.resampling = Resampling.nearest if self.palette is not None else Resampling.average
        self.stretch = None if src.dtypes[0] == "uint8" else _stretch(src, self.bands)
        try:
            west, south, east, north = transform_bounds(src.crs, "EPSG:4326", *src.bounds, densify_pts=21)
            native, width, height = calculate_default_transform(
                src.crs, self._mercator, src.width, src.height, *src.bounds
            )
        except Exception as exc:  # PROJ cannot reach WGS84 / web mercator from this CRS
            raise SapperError(f"imagery {self.path}: cannot place its CRS on the web map ({exc})") from None
        south, north = max(south, -MAX_LAT), min(north, MAX_LAT)
        if not (math.isfinite(west + south + east + north) and west < east and south < north):
            raise SapperError(f"imagery {self.path}: its bounds do not fit on the web map")
        self.box = (*_mercator(west, south), *_mercator(east, north))
        res = abs(native.a)  # web-mercator metres per source pixel
        maxzoom = min(max(math.ceil(math.log2(WORLD / TILE / res) - 0.01), 0), MAX_ZOOM)
        span = max(width, height) * res
        # where the whole image is about one tile; 16 zooms at most, which bounds the view's size
        minzoom = min(max(math.floor(math.log2(WORLD / span)), maxzoom - 16, 0), maxzoom)
        self.overview_factor = max(src.overviews(1), default=1)
        self.grid = _grid(self.box, minzoom, maxzoom)
        self.info = {
            "name": self.path.stem,
            "format": self.format,
            "bounds": [west, south, east, north],
            "minzoom": minzoom,
            "maxzoom": maxzoom,
            "attribution": src.tags().get("TIFFTAG_COPYRIGHT", ""),
        }

    def metadata(self) -> dict[str, Any]:
        return self.info

    @contextmanager
    def _borrow(self) -> Iterator[_Handle]:
        """An open handle on the file for this request alone (GDAL datasets must not be read by two
        threads at once). Handles are reused last-in first-out, so the one whose blocks GDAL has just
        decoded serves the next tile, likely a neighbour; there are never more than requests at once."""
        try:
            handle = self._handles.get_nowait()
        except queue.Empty:
            handle = _Handle(rasterio.open(self.path))
        try:
            yield handle
        finally:
            self._handles.put(handle)

    def _view(self, handle: _Handle) -> Any:
        """The handle's web-mercator view of the file at the finest zoom's pixels, aligned to the tile
        grid: a tile is a window of it, and a coarser tile a smaller read that GDAL serves from the
        overviews the view takes from the file's."""
        if handle.view is None:
            left, top, res, width, height = self.grid
            handle.view = WarpedVRT(
                handle.src,
                crs=self._mercator,
                transform=Affine(res, 0, left, 0, -res, top),
                width=width,
                height=height,
                resampling=Resampling.nearest if self.palette is not None else Resampling.bilinear,
                add_alpha=ColorInterp.alpha not in handle.src.colorinterp,
            )
            handle.alpha = 1 + list(handle.view.colorinterp).index(ColorInterp.alpha)
        return handle.view

    def _render(self, z: int, x: int, y: int) -> bytes | None:
        """The PNG of tile z/x/y, or None where the image has nothing to show."""
        if not self.info["minzoom"] <= z <= self.info["maxzoom"]:
            return None
        size = WORLD / (1 << z)
        left, top = -WORLD / 2 + x * size, WORLD / 2 - y * size
        x0, y0, x1, y1 = self.box
        if left + size <= x0 or left >= x1 or top <= y0 or top - size >= y1:
            return None
        factor = 1 << (self.info["maxzoom"] - z)  # view pixels per tile pixel
        with self._borrow() as handle:
            if factor <= 2 * self.overview_factor:
                rgba = self._from_view(handle, left, top, factor)
            else:  # the file lacks overviews this coarse: warping the view at full resolution would take long
                rgba = self._read_and_warp(handle.src, left, top, size)
        if rgba is None or not rgba[3].any():
            return None
        opaque = bool((rgba[3] == 255).all())
        pixels = np.ascontiguousarray(rgba[:3] if opaque else rgba).transpose(1, 2, 0)
        buf = io.BytesIO()
        Image.fromarray(pixels, "RGB" if opaque else "RGBA").save(buf, "PNG", compress_level=1)
        return buf.getvalue()

    def _from_view(self, handle: _Handle, left: float, top: float, factor: int) -> np.ndarray:
        view = self._view(handle)
        grid_left, grid_top, res, _, _ = self.grid
        window = Window(round((left - grid_left) / res), round((grid_top - top) / res), TILE * factor, TILE * factor)
        bands = [*self.bands, handle.alpha]
        data = view.read(bands, window=window, out_shape=(len(bands), TILE, TILE), resampling=self.resampling)
        rgba = np.concatenate([self._colours(data[:-1]), np.minimum(data[-1:], 255).astype(np.uint8)])
        if self.palette is not None:
            rgba[3] = np.minimum(rgba[3], self.palette[data[0], 3])
        return rgba

    def _read_and_warp(self, src: Any, left: float, top: float, size: float) -> np.ndarray | None:
        """Read the file's pixels under the tile at about the tile's resolution (a decimated read: GDAL
        skips pixels, or takes what overviews there are), then warp that small array."""
        sx0, sy0, sx1, sy1 = transform_bounds(
            self._mercator, src.crs, left, top - size, left + size, top, densify_pts=11
        )
        inv = ~src.transform
        corners = ((sx0, sy0), (sx0, sy1), (sx1, sy0), (sx1, sy1))
        cols = [inv.a * cx + inv.b * cy + inv.c for cx, cy in corners]
        rows = [inv.d * cx + inv.e * cy + inv.f for cx, cy in corners]
        scale = max(max(max(cols) - min(cols), max(rows) - min(rows)) / (TILE * OVERSAMPLE), 1.0)
        pad = 2 * scale  # room for the warp's interpolation at the window's edges
        c0, c1 = max(math.floor(min(cols) - pad), 0), min(math.ceil(max(cols) + pad), src.width)
        r0, r1 = max(math.floor(min(rows) - pad), 0), min(math.ceil(max(rows) + pad), src.height)
        if c0 >= c1 or r0 >= r1:
            return None
        window = Window(c0, r0, c1 - c0, r1 - r0)
        shape = (max(round((r1 - r0) / scale), 1), max(round((c1 - c0) / scale), 1))
        pixels = src.read(self.bands, window=window, out_shape=(len(self.bands), *shape), resampling=self.resampling)
        mask = src.dataset_mask(window=window, out_shape=shape)
        rgba = np.concatenate([self._colours(pixels), mask[None].astype(np.uint8)])
        if self.palette is not None:
            rgba[3] = np.minimum(rgba[3], self.palette[pixels[0], 3])
        t, sx, sy = src.window_transform(window), (c1 - c0) / shape[1], (r1 - r0) / shape[0]
        read_transform = Affine(t.a * sx, t.b * sy, t.c, t.d * sx, t.e * sy, t.f)  # the window, read smaller
        out = np.zeros((4, TILE, TILE), np.uint8)
        dst_transform = Affine(size / TILE, 0, left, 0, -size / TILE, top)
        warp = {"src_crs": src.crs, "dst_crs": self._mercator, "resampling": Resampling.bilinear}
        reproject(
            rgba, out, src_transform=read_transform, dst_transform=dst_transform, src_alpha=4, dst_alpha=4, **warp
        )
        return out

    def _colours(self, pixels: np.ndarray) -> np.ndarray:
        """Three 8-bit bands: the RGB bands as they are, grey repeated, a palette looked up, or a stretch."""
        if self.palette is not None:
            return self.palette[pixels[0], :3].transpose(2, 0, 1)
        if self.stretch is not None:
            low, high = self.stretch
            scaled = (pixels.astype(np.float32) - low[:, None, None]) * (255.0 / (high - low))[:, None, None]
            pixels = np.nan_to_num(np.clip(scaled, 0, 255)).astype(np.uint8)
        return pixels if len(pixels) == 3 else np.repeat(pixels, 3, axis=0)


def _grid(box: tuple[float, ...], minzoom: int, maxzoom: int) -> tuple[float, float, float, int, int]:
    """Left, top, pixel size, width and height of a web-mercator raster at maxzoom's pixels that covers
    the tiles of minzoom under the box: every tile of the image at any of its zooms is a whole window."""
    step, res = WORLD / (1 << minzoom), WORLD / (1 << maxzoom) / TILE
    x0, y0, x1, y1 = (v + WORLD / 2 for v in box)
    left, right = math.floor(x0 / step) * step, math.ceil(x1 / step) * step
    bottom, top = math.floor(y0 / step) * step, math.ceil(y1 / step) * step
    return left - WORLD / 2, top - WORLD / 2, res, round((right - left) / res), round((top - bottom) / res)


def _check_readable(src: Any, path: Path) -> None:
    """Read the first and the last block: a file cut short (an unfinished copy) fails here, not per tile."""
    rows, cols = src.block_shapes[0]
    last_col, last_row = (src.width - 1) // cols * cols, (src.height - 1) // rows * rows
    try:
        for col, row in ((0, 0), (last_col, last_row)):
            src.read(1, window=Window(col, row, min(cols, src.width - col), min(rows, src.height - row)))
    except RasterioError as exc:
        reason = exc.__cause__ or exc  # GDAL's own words, not rasterio's "see previous exception"
        raise SapperError(
            f"imagery {path}: the GeoTIFF cannot be read, it may be damaged or cut short ({reason})"
        ) from None


def _mercator(lon: float, lat: float) -> tuple[float, float]:
    """Web-mercator metres of a WGS84 point (the spherical formula EPSG:3857 defines)."""
    r = WORLD / (2 * math.pi)
    return r * math.radians(lon), r * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def _palette(src: Any) -> np.ndarray:
    """A single band's colour table as a 256 x RGBA lookup."""
    table = np.zeros((256, 4), np.uint8)
    for index, colour in src.colormap(1).items():
        if 0 <= index < 256:
            table[index] = colour
    return table


def _stretch(src: Any, bands: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Low and high values per band (2nd and 98th percentiles of a coarse read) mapped to 0 and 255,
    for pixels that are not 8-bit (16-bit or float orthophotos)."""
    step = max(src.width, src.height) / 1024
    shape = (max(round(src.height / step), 1), max(round(src.width / step), 1)) if step > 1 else src.shape
    pixels = src.read(bands, out_shape=(len(bands), *shape), masked=True).astype(np.float64)
    low, high = [], []
    for band in pixels:
        valid = band.compressed()
        valid = valid[np.isfinite(valid)]
        lo, hi = np.percentile(valid, [2, 98]) if valid.size else (0.0, 1.0)
        low.append(lo)
        high.append(hi if hi > lo else lo + 1)
    return np.array(low, np.float32), np.array(high, np.float32)
