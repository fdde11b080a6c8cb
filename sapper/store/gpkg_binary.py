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
from operator import itemgetter

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from sapper.store import wkb_points

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
    return encode_array(np.asarray(geoms, dtype=object), srs_id)[0]


def encode_array(geoms: np.ndarray, srs_id: int = 4326) -> tuple[list[bytes | None], np.ndarray]:
    """Blobs of a whole array, and its bounds (minx, miny, maxx, maxy; NaN where empty or None).

    One WKB, bounds and header pass for the batch: the headers of all geometries with an
    envelope are packed by numpy, and each blob is its header and its WKB joined."""
    wkbs = shapely.to_wkb(geoms, byte_order=1, flavor="iso", output_dimension=2)
    bounds = shapely.bounds(geoms)
    present = ~shapely.is_missing(geoms)
    blank = present & (shapely.is_empty(geoms) | np.isnan(bounds[:, 0]))
    points = present & ~blank & (shapely.get_type_id(geoms) == 0)
    boxed = present & ~blank & ~points
    out = np.full(len(geoms), None, dtype=object)
    bare = _HEADER.pack(_MAGIC, 0, _FLAG_LE, srs_id)
    out[points] = [bare + wkb for wkb in wkbs[points]]
    empty = _HEADER.pack(_MAGIC, 0, _FLAG_LE | _FLAG_EMPTY, srs_id)
    out[blank] = [empty + wkb for wkb in wkbs[blank]]
    if boxed.any():
        heads = np.empty(int(boxed.sum()), dtype=[("header", "S8"), ("envelope", "<f8", 4)])
        heads["header"] = _HEADER.pack(_MAGIC, 0, _FLAG_LE | _FLAG_ENV_XY, srs_id)
        heads["envelope"] = bounds[boxed][:, [0, 2, 1, 3]]  # the header's order: minx, maxx, miny, maxy
        raw, size = heads.tobytes(), heads.itemsize
        out[boxed] = [raw[k : k + size] + wkb for k, wkb in zip(range(0, len(raw), size), wkbs[boxed])]
    return out.tolist(), bounds


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


# Where the WKB starts in a blob, by its flags byte (a window of points reads thousands).
_WKB_OFFSETS = tuple(_HEADER.size + _ENVELOPE_BYTES.get((flags >> 1) & 0x07, 0) for flags in range(256))


# A 2D point as sapper and GDAL write it: a header without envelope (magic, version 0, flags 1).
_POINT_MAGIC = b"GP\x00\x01"


# How long a blob of a 2D point is as sapper and GDAL write it (header without envelope, 21 bytes of WKB).
_POINT_BLOB_BYTES = _HEADER.size + 21


def decode_many(blobs: Sequence[bytes | None]) -> list[BaseGeometry | None]:
    first = blobs[0] if blobs else None
    if first is not None and len(first) == _POINT_BLOB_BYTES:  # a column of polygons is not joined to find out
        points = wkb_points.decode(blobs, _HEADER.size, _POINT_MAGIC)
        if points is not None:
            return points
    wkbs = _same_header_wkbs(blobs)
    if wkbs is not None:
        try:
            return _from_wkbs(wkbs)
        except TypeError:  # not bytes (a memoryview, say): made bytes below
            pass
    offsets = _WKB_OFFSETS
    return _from_wkbs([None if b is None else bytes(b[offsets[b[3]] :]) for b in blobs])


def _from_wkbs(wkbs: list[bytes | None]) -> list[BaseGeometry | None]:
    return shapely.from_wkb(np.fromiter(wkbs, dtype=object, count=len(wkbs))).tolist()


_FLAGS = itemgetter(3)


def _same_header_wkbs(blobs: Sequence[bytes | None]) -> list[bytes | None] | None:
    """The WKB of every blob cut in one C-level pass when all have the same flags (a layer
    written by one tool: GDAL and sapper give every polygon an XY envelope); None otherwise."""
    try:
        flags = bytes(map(_FLAGS, blobs))  # a None (or a blob too short) raises: cut one by one
    except (TypeError, IndexError):
        return None
    if not flags or flags.count(flags[0]) != len(flags):
        return None
    return list(map(itemgetter(slice(_WKB_OFFSETS[flags[0]], None)), blobs))


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
    if ((gminx >= minx and gmaxx <= maxx) or (gminy >= miny and gmaxy <= maxy)) and _one_piece(blob):
        return 1  # in one piece, inside the box in one axis and overlapping in the other: they intersect
    return int(shapely.intersects(decode(blob), shapely.box(minx, miny, maxx, maxy)))


def _one_piece(blob: bytes) -> bool:
    """A point, line or polygon: connected, so it crosses every line across its envelope. The parts
    of a multi-geometry can lie on both sides of a box that meets none of them."""
    start = _WKB_OFFSETS[blob[3]]
    order = "<" if blob[start] == 1 else ">"
    return struct.unpack_from(order + "I", blob, start + 1)[0] % 1000 in (1, 2, 3)


def st_function(index: int):
    """The ST_MinX/MaxX/MinY/MaxY function the spec's R-tree triggers call."""

    def fn(blob: bytes | None) -> float | None:
        env = envelope(blob)
        return None if env is None else env[index]

    return fn
