"""The user's own imagery under the web map (e.g. a drone orthophoto): an MBTiles file or a GeoTIFF.

Both are served the same way, as XYZ web-mercator tiles at ``/ui/imagery/{z}/{x}/{y}``, so the map
page does not care which the server was given: MBTiles hold finished tiles, which are looked up; a
GeoTIFF is cut into tiles on demand (``geotiff.py``). A file that cannot be shown stops the server
at start, with the reason.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from rasterio.errors import RasterioError

from sapper.i18n import N_
from sapper.model.errors import SapperError
from sapper.server.auth import reader
from sapper.server.errors import ApiError
from sapper.server.geotiff import MAX_LAT, GeoTiff

TILE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}
SQLITE_MAGIC = b"SQLite format 3\0"
TIFF_MAGIC = (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")  # classic TIFF and BigTIFF, either byte order

router = APIRouter(prefix="/ui", tags=["Web UI"])


class MBTiles:
    """An MBTiles file (tiles in a SQLite table, TMS rows), read-only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.format = "png"
        self.info = self._read_metadata()

    def metadata(self) -> dict[str, Any]:
        return self.info

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)

    def _read_metadata(self) -> dict[str, Any]:
        with self._connect() as conn:
            try:
                meta = dict(conn.execute("SELECT name, value FROM metadata").fetchall())
                zooms = conn.execute("SELECT min(zoom_level), max(zoom_level) FROM tiles").fetchone()
            except sqlite3.DatabaseError as exc:
                raise SapperError(f"imagery {self.path}: not an MBTiles file ({exc})") from None
        bounds = [float(v) for v in meta.get("bounds", f"-180,{-MAX_LAT},180,{MAX_LAT}").split(",")]
        self.format = meta.get("format", "png")
        return {
            "name": meta.get("name", self.path.stem),
            "format": self.format,
            "bounds": bounds,
            "minzoom": int(zooms[0] if zooms[0] is not None else meta.get("minzoom", 0)),
            "maxzoom": int(zooms[1] if zooms[1] is not None else meta.get("maxzoom", 0)),
            "attribution": meta.get("attribution", ""),
        }

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                (z, x, (1 << z) - 1 - y),
            ).fetchone()
        return None if row is None else bytes(row[0])


Imagery = MBTiles | GeoTiff


def open_imagery(path: str | Path) -> Imagery:
    """The imagery in a file, told apart by its first bytes; anything else is refused with the reason."""
    path = Path(path)
    if not path.is_file():
        raise SapperError(f"imagery {path}: no such file")
    with path.open("rb") as f:
        head = f.read(16)
    if head.startswith(SQLITE_MAGIC):
        return MBTiles(path)
    if head[:4] in TIFF_MAGIC:
        return GeoTiff(path)
    raise SapperError(f"imagery {path}: neither an MBTiles file nor a GeoTIFF")


def imagery_path(app: FastAPI) -> Path | None:
    """The imagery file the server was started with (``app.state.imagery`` or the settings' ``imagery``)."""
    path = getattr(app.state, "imagery", None) or getattr(getattr(app.state, "settings", None), "imagery", None)
    return Path(path) if path else None


def server_imagery(app: FastAPI) -> Imagery | None:
    """The server's imagery, opened once per process (and again if the file named changes)."""
    path = imagery_path(app)
    if path is None:
        return None
    cached = getattr(app.state, "ui_imagery", None)
    if cached is None or cached.path != path:
        cached = open_imagery(path)
        app.state.ui_imagery = cached
    return cached


def install(app: FastAPI) -> None:
    """Check the imagery file now (a wrong one stops the server at start) and add the tile route."""
    server_imagery(app)
    app.include_router(router)


@router.get("/imagery/{z}/{x}/{y}", summary="A tile of the server's imagery (XYZ numbering, as web maps ask)")
def imagery_tile(
    request: Request,
    z: Annotated[int, PathParam(ge=0, le=2**31)],
    x: Annotated[int, PathParam(ge=0, le=2**31)],
    y: Annotated[int, PathParam(ge=0, le=2**31)],
) -> Response:
    reader(request)
    imagery = server_imagery(request.app)
    if imagery is None:
        raise ApiError(404, N_("this server has no imagery (start it with --imagery and an MBTiles file or a GeoTIFF)"))
    info = imagery.metadata()
    if z > 30:
        raise ApiError(404, N_("no tile {z}/{x}/{y}: zooms run from 0 to 30"), params={"z": z, "x": x, "y": y})
    if x >= 1 << z or y >= 1 << z:
        message = N_("no tile {z}/{x}/{y}: at zoom {z}, x and y run from 0 to {last}")
        raise ApiError(404, message, params={"z": z, "x": x, "y": y, "last": (1 << z) - 1})
    try:
        data = imagery.tile(z, x, y)
    except RasterioError as exc:  # a file damaged inside (its ends were checked at start)
        reason = exc.__cause__ or exc
        message = N_("the imagery file could not be read for tile {z}/{x}/{y} ({reason})")
        raise ApiError(500, message, params={"z": z, "x": x, "y": y, "reason": str(reason)}) from None
    if data is None:
        raise ApiError(
            404,
            N_("the imagery has no tile {z}/{x}/{y}: it has tiles at zooms {low} to {high} within lon/lat {bounds}"),
            params={
                "z": z,
                "x": x,
                "y": y,
                "low": info["minzoom"],
                "high": info["maxzoom"],
                "bounds": ", ".join(f"{v:.5f}" for v in info["bounds"]),
            },
        )
    kind = TILE_TYPES.get(imagery.format, "application/octet-stream")
    return Response(data, media_type=kind, headers={"Cache-Control": "private, max-age=3600"})
