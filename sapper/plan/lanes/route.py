"""Short moves inside a polygon with holes, for the transits between lanes.

A move from one lane to the next must not cut through a ruin. When the straight line
stays inside the free area it is the move; otherwise the shortest path bends only at
reflex corners of the free area (corners of obstacles, inward corners of the outline),
so it is searched on the visibility graph of those corners (Lozano-Pérez & Wesley 1979)
with Dijkstra. To stay fast with many obstacles, the graph starts with the corners of
the obstacles that block the straight line and grows by the obstacles that block its
edges until a path exists: the result is the shortest path around the obstacles in the
way, which is the shortest path unless a detour round another obstacle would be shorter.
"""

from __future__ import annotations

import heapq

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

# Moves along the boundary must count as inside despite rounding: the blocked ground is
# shrunk by this much (metres) before testing.
TOLERANCE_M = 1e-6


class Router:
    """Routes between points of a polygonal free area (metric coordinates)."""

    def __init__(self, free: BaseGeometry) -> None:
        # Blocked ground: outside the outline, and each hole less any part of the area inside
        # it (a walled-in yard); each blocker brings its reflex corners.
        blockers = shapely.get_parts(room_around(free).difference(free))
        self.blockers = shapely.buffer(blockers, -TOLERANCE_M, quad_segs=1, join_style="mitre")
        self.tree = shapely.STRtree(self.blockers)
        corners = reflex_corners(free)
        owner = self.tree.query_nearest(shapely.points(corners), all_matches=False)[1]
        self.corners = [corners[owner == k] for k in range(len(blockers))]

    def blocked_by(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (move index, blocker index) for the straight moves a[i] -> b[i] that enter blocked ground."""
        if len(a) == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        lines = shapely.linestrings(np.stack([a, b], axis=1))
        hit = self.tree.query(lines, predicate="intersects")
        return hit[0], hit[1]

    def straight(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """For pairs of points (rows of ``a`` and ``b``): is the straight move inside the free area?"""
        ok = np.ones(len(a), dtype=bool)
        ok[self.blocked_by(a, b)[0]] = False
        return ok

    def route(self, a: tuple[float, float], b: tuple[float, float]) -> list[tuple[float, float]]:
        """A short path from ``a`` to ``b`` inside the free area (straight if none is found)."""
        ends = np.array([a, b], dtype=float)
        _, hit = self.blocked_by(ends[:1], ends[1:])
        active = set(hit.tolist())
        while active:
            nodes = np.vstack([ends, *(self.corners[k] for k in sorted(active))])
            i, j = np.triu_indices(len(nodes), k=1)
            pair, hit = self.blocked_by(nodes[i], nodes[j])
            ok = np.ones(len(i), dtype=bool)
            ok[pair] = False
            path = _shortest(nodes, i[ok], j[ok])
            if path is not None:
                return [tuple(nodes[k]) for k in path]
            grown = active | set(hit.tolist())
            if grown == active:
                break
            active = grown
        return [a, b]


def reflex_corners(free: BaseGeometry) -> np.ndarray:
    """Corners where the free area's interior angle exceeds 180 degrees (where shortest paths bend)."""
    oriented = shapely.orient_polygons(free)  # exteriors counter-clockwise, holes clockwise
    rings = shapely.get_rings(shapely.get_parts(oriented))
    corners = []
    for ring in rings:
        pts = shapely.get_coordinates(ring)[:-1]
        if len(pts) < 3:
            continue
        prev_pt, next_pt = np.roll(pts, 1, axis=0), np.roll(pts, -1, axis=0)
        u, v = pts - prev_pt, next_pt - pts
        cross = u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]
        corners.append(pts[cross < 0])  # a right turn with the interior on the left
    return np.concatenate(corners) if corners else np.empty((0, 2))


def _shortest(nodes: np.ndarray, i: np.ndarray, j: np.ndarray) -> list[int] | None:
    """Dijkstra from node 0 to node 1 over the undirected edges (i, j); None if unreachable."""
    w = np.hypot(*(nodes[i] - nodes[j]).T)
    adjacent: list[list[tuple[int, float]]] = [[] for _ in range(len(nodes))]
    for u, v, d in zip(i.tolist(), j.tolist(), w.tolist()):
        adjacent[u].append((v, d))
        adjacent[v].append((u, d))
    dist = {0: 0.0}
    prev: dict[int, int] = {}
    heap = [(0.0, 0)]
    while heap:
        d, u = heapq.heappop(heap)
        if u == 1:
            path = [1]
            while path[-1] != 0:
                path.append(prev[path[-1]])
            return path[::-1]
        if d > dist[u]:
            continue
        for v, dv in adjacent[u]:
            if d + dv < dist.get(v, np.inf):
                dist[v] = d + dv
                prev[v] = u
                heapq.heappush(heap, (d + dv, v))
    return None


def room_around(ground: BaseGeometry) -> BaseGeometry:
    """A box a little larger than the ground's (1 m and 1 % more on every side): the ground and the
    way around its edges, for what lies outside it to be cut from."""
    minx, miny, maxx, maxy = ground.bounds
    pad = 1.0 + 0.01 * max(maxx - minx, maxy - miny)
    return shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
