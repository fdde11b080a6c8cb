"""Scan lines across polygons, with numpy instead of one GEOS overlay per line.

A coverage plan needs the pieces of hundreds of parallel lines that fall inside a
polygon with holes. Intersecting each line with GEOS costs tens of microseconds a line;
here every boundary edge is crossed with every scan line it spans in one vectorised
pass, and the crossings of each line are paired left to right (even-odd rule).

Crossing rule: an edge crosses the line ``y`` when ``min(y1, y2) <= y < max(y1, y2)``
(half-open), so a vertex on the line counts once and horizontal edges never count. Each
closed ring then crosses every line an even number of times, which makes the pairing
exact; what comes out is the inside of the polygon just above the line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True, slots=True)
class Edges:
    """Every boundary edge of a polygonal geometry, as arrays (one row an edge)."""

    x1: np.ndarray
    y1: np.ndarray
    x2: np.ndarray
    y2: np.ndarray
    part: np.ndarray  # which polygon of the geometry the edge bounds

    def __len__(self) -> int:
        return len(self.x1)

    def rotated(self, angle_deg: float, origin: tuple[float, float]) -> Edges:
        """The edges turned by ``-angle_deg`` about ``origin``: that direction becomes the x axis."""
        x1, y1 = to_frame(self.x1, self.y1, angle_deg, origin)
        x2, y2 = to_frame(self.x2, self.y2, angle_deg, origin)
        return Edges(x1, y1, x2, y2, self.part)

    def select(self, mask: np.ndarray) -> Edges:
        return Edges(self.x1[mask], self.y1[mask], self.x2[mask], self.y2[mask], self.part[mask])


def polygon_edges(geom: BaseGeometry) -> Edges:
    """Edges of all rings (exteriors and holes) of a Polygon or MultiPolygon."""
    polygons = shapely.get_parts(geom)
    rings = shapely.get_rings(polygons, return_index=True)
    ring_geoms, ring_part = rings
    coords, ring_of_point = shapely.get_coordinates(ring_geoms, return_index=True)
    same_ring = ring_of_point[:-1] == ring_of_point[1:]
    start = coords[:-1][same_ring]
    end = coords[1:][same_ring]
    part = np.asarray(ring_part)[ring_of_point[:-1][same_ring]]
    return Edges(start[:, 0], start[:, 1], end[:, 0], end[:, 1], part)


def to_frame(x: np.ndarray, y: np.ndarray, angle_deg: float, origin: tuple[float, float]):
    """Coordinates in a frame whose x axis points ``angle_deg`` counter-clockwise from east."""
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    dx, dy = x - origin[0], y - origin[1]
    return dx * c + dy * s, -dx * s + dy * c


def from_frame(x: np.ndarray, y: np.ndarray, angle_deg: float, origin: tuple[float, float]):
    """Inverse of :func:`to_frame`."""
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    return origin[0] + x * c - y * s, origin[1] + x * s + y * c


@dataclass(frozen=True, slots=True)
class Segments:
    """Pieces of scan lines inside a polygon, sorted by line then x."""

    line: np.ndarray  # index into the ``ys`` that were scanned
    x0: np.ndarray
    x1: np.ndarray
    edge0: np.ndarray  # edge index (into the scanned Edges) the piece starts on
    edge1: np.ndarray  # edge index it ends on

    def __len__(self) -> int:
        return len(self.line)

    @property
    def length(self) -> np.ndarray:
        return self.x1 - self.x0


def scan(edges: Edges, ys: np.ndarray, min_length: float = 1e-9) -> Segments:
    """The pieces of the horizontal lines ``y = ys[k]`` inside the polygon bounded by ``edges``.

    ``ys`` must be sorted ascending. Pieces shorter than ``min_length`` (a line grazing a
    vertex) are left out.
    """
    ys = np.asarray(ys, dtype=float)
    lo = np.minimum(edges.y1, edges.y2)
    hi = np.maximum(edges.y1, edges.y2)
    first = np.searchsorted(ys, lo, side="left")
    stop = np.searchsorted(ys, hi, side="left")
    count = np.maximum(stop - first, 0)
    total = int(count.sum())
    if total == 0:
        empty_f, empty_i = np.empty(0), np.empty(0, dtype=np.int64)
        return Segments(empty_i, empty_f, empty_f, empty_i, empty_i)
    edge = np.repeat(np.arange(len(edges)), count)
    offsets = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    line = np.repeat(first, count) + offsets
    y = ys[line]
    x1, y1, x2, y2 = edges.x1[edge], edges.y1[edge], edges.x2[edge], edges.y2[edge]
    x = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    order = np.lexsort((x, line))
    line, x, edge = line[order], x[order], edge[order]
    # Each ring crosses each line an even number of times, so the sorted crossings pair up.
    start, end = slice(0, None, 2), slice(1, None, 2)
    keep = (x[end] - x[start]) > min_length
    return Segments(line[start][keep], x[start][keep], x[end][keep], edge[start][keep], edge[end][keep])


def pass_positions(ymin: float, ymax: float, width: float, spacing: float) -> np.ndarray:
    """Centre lines of passes covering ``[ymin, ymax]``.

    The first pass is half a width above ``ymin``, the next ones ``spacing`` apart, and
    the last one half a width below ``ymax`` (so the last gap may be shorter). A strip
    narrower than one width gets a single pass on its middle.
    """
    height = ymax - ymin
    if height <= width:
        return np.array([(ymin + ymax) / 2.0])
    span = height - width
    regular = math.floor(span / spacing - 1e-9) + 1
    ys = ymin + width / 2.0 + spacing * np.arange(regular)
    return np.append(ys, ymax - width / 2.0)
