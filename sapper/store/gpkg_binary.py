"""GeoPackage binary geometry (OGC GeoPackage 1.2, clause 2.1.3), without SpatiaLite.

Header: magic "GP", version 0, flags (little-endian, envelope [minx, maxx, miny, maxy]
or empty flag), srs_id, then ISO WKB. A point is written without envelope (envelope
indicator 0, which the spec allows for any geometry): its envelope would repeat its
coordinates in 32 more bytes. GDAL writes points the same way.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

_MAGIC = b"GP"
_FLAG_LE = 0x01
_FLAG_ENV_XY = 0x02  # envelope indicator 1: [minx, maxx, miny, maxy]
_FLAG_EMPTY = 0x10
_HEADER = struct.Struct("<2sBBi")
_ENVELOPE = struct.Struct("<4d")
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_WKB_POINTS = {1, 1001, 2001, 3001}  # ISO WKB point, point Z, M, ZM


def encode(geom: BaseGeometry | None, srs_id: int = 4326) -> bytes | None:
    if geom is None:
        return None
    return encode_many([geom], srs_id)[0]


def encode_many(geoms: Sequence[BaseGeometry | None], srs_id: int = 4326) -> list[bytes | None]:
    """Vectorised: one WKB and bounds pass for the whole batch."""
    array = np.asarray(geoms, dtype=object)
    wkbs = shapely.to_wkb(array, byte_order=1, flavor="iso", output_dimension=2)
    bounds = shapely.bounds(array)
    empties = shapely.is_empty(array)
    points = shapely.get_type_id(array) == 0
    out: list[bytes | None] = []
    pack_header, pack_env = _HEADER.pack, _ENVELOPE.pack
    bare = pack_header(_MAGIC, 0, _FLAG_LE, srs_id)
    for wkb, (minx, miny, maxx, maxy), empty, point in zip(wkbs, bounds, empties, points):
        if wkb is None:
            out.append(None)
        elif empty or math.isnan(minx):
            out.append(pack_header(_MAGIC, 0, _FLAG_LE | _FLAG_EMPTY, srs_id) + wkb)
        elif point:
            out.append(bare + wkb)
        else:
            out.append(pack_header(_MAGIC, 0, _FLAG_LE | _FLAG_ENV_XY, srs_id) + pack_env(minx, maxx, miny, maxy) + wkb)
    return out


def _wkb_offset(blob: bytes) -> int:
    flags = blob[3]
    return _HEADER.size + _ENVELOPE_BYTES[(flags >> 1) & 0x07]


def decode(blob: bytes | None) -> BaseGeometry | None:
    if blob is None:
        return None
    blob = bytes(blob)
    if blob[:2] != _MAGIC:
        raise ValueError("not a GeoPackage geometry blob")
    return shapely.from_wkb(blob[_wkb_offset(blob) :])


def decode_many(blobs: Sequence[bytes | None]) -> list[BaseGeometry | None]:
    wkbs = [None if b is None else bytes(b)[_wkb_offset(b) :] for b in blobs]
    return list(shapely.from_wkb(np.asarray(wkbs, dtype=object)))


def envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) from the header, or from the geometry if the header has none.

    A point's coordinates are read straight from its WKB: the R-tree fill and every
    bounding-box test call this once per point, where decoding would cost the most."""
    if blob is None:
        return None
    flags = blob[3]
    if flags & _FLAG_EMPTY:
        return None
    if (flags >> 1) & 0x07:
        little = flags & _FLAG_LE
        return struct.unpack_from("<4d" if little else ">4d", blob, _HEADER.size)
    if len(blob) >= _HEADER.size + 21:
        order = "<" if blob[_HEADER.size] == 1 else ">"
        if struct.unpack_from(order + "I", blob, _HEADER.size + 1)[0] in _WKB_POINTS:
            x, y = struct.unpack_from(order + "2d", blob, _HEADER.size + 5)
            return None if math.isnan(x) or math.isnan(y) else (x, x, y, y)
    geom = decode(blob)
    if geom is None or geom.is_empty:
        return None
    minx, miny, maxx, maxy = geom.bounds
    return minx, maxx, miny, maxy


def is_empty(blob: bytes | None) -> int | None:
    if blob is None:
        return None
    return 1 if envelope(blob) is None else 0


def intersects_box(blob: bytes | None, minx: float, miny: float, maxx: float, maxy: float) -> int:
    """Exact test of a geometry against a box: the R-tree stores rounded float32 boxes, so
    its hits are only candidates. The envelope settles most cases without decoding."""
    env = envelope(blob)
    if env is None:
        return 0
    gminx, gmaxx, gminy, gmaxy = env
    if gmaxx < minx or gminx > maxx or gmaxy < miny or gminy > maxy:
        return 0
    if (gminx >= minx and gmaxx <= maxx) or (gminy >= miny and gmaxy <= maxy):
        return 1  # inside the box in one axis and overlapping in the other: they intersect
    return int(shapely.intersects(decode(blob), shapely.box(minx, miny, maxx, maxy)))


def st_function(index: int):
    """The ST_MinX/MaxX/MinY/MaxY function the spec's R-tree triggers call."""

    def fn(blob: bytes | None) -> float | None:
        env = envelope(blob)
        return None if env is None else env[index]

    return fn
