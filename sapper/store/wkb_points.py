"""A column of 2D points read from their binary form as one array of coordinates.

A window of items is thousands of points, each a few bytes of WKB (behind a GeoPackage header
on a GeoPackage): cutting and parsing them one by one cost more than making the points.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

# ISO WKB of a 2D point, little-endian: byte order 1, type 1, then x and y as doubles.
_WKB_POINT = np.frombuffer(b"\x01\x01\x00\x00\x00", dtype=np.uint8)
_WKB_POINT_BYTES = 21


def decode(blobs: Sequence[bytes | None], header: int = 0, magic: bytes = b"") -> list[BaseGeometry | None] | None:
    """The points of ``blobs``, each ``header`` bytes (starting with ``magic``) and then the WKB of a
    little-endian 2D point; None if any is something else (null, another type, another layout) or
    has a NaN coordinate (an empty point): the caller reads those the usual way."""
    if not blobs:
        return None
    try:
        joined = b"".join(blobs)  # type: ignore[arg-type]  # a None raises: not all points
    except TypeError:
        return None
    size = header + _WKB_POINT_BYTES
    if len(joined) != size * len(blobs):
        return None
    table = np.frombuffer(joined, dtype=np.uint8).reshape(len(blobs), size)
    expected = np.frombuffer(magic, dtype=np.uint8)
    if not ((table[:, : len(magic)] == expected).all() and (table[:, header : header + 5] == _WKB_POINT).all()):
        return None
    xy = table[:, header + 5 :].copy().view("<f8")
    if np.isnan(xy).any():
        return None
    return list(shapely.points(xy))
