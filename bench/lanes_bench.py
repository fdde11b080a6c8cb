"""The lanes benchmark: sapper's plan_lanes against the C++ planner `coverage-path-planner`.

Both plan parallel lanes (zigzag) on the same polygons with the same lane spacing and
direction; the peer runs twice, with passes only and with one border lap round the
area and each obstacle (as sapper drives). All are timed (median of several runs) and
measured the same way:

- path length: the whole drive from the first lane to the last, laps, passes and the
  moves between them (the peer's approach from its start point is left out); for
  sapper also the laps' share of it;
- coverage: share of the free area (area minus obstacles) under the path's footprint,
  the footprint sapper's lanes use: every segment of the path buffered by half the
  lane width with flat ends, and a disc of that radius at every bend (a pivot turn);
- missed in reach: m2 of the free area the footprint misses although a disc of the
  lane width reaches it (inside the opening of the free area); sapper's laps make it 0;
- in obstacles: metres of path inside an obstacle (should be 0).

    python bench/lanes_bench.py                 # all four cases, 7 runs each
    python bench/lanes_bench.py --runs 21
    python bench/lanes_bench.py --readme        # also write the figures into bench/README.md

The peer (`pip install coverage-path-planner`, the `bench` extra) is optional: without
it only sapper's figures are printed.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from readme_section import write_section
from shapely import affinity
from shapely.geometry import Polygon, box

from sapper.plan.lanes import plan_lanes
from sapper.plan.lanes.laps import QUAD_SEGS, opening

try:
    import coverage_path_planner as peer
except ImportError:  # the peer is an optional extra
    peer = None


@dataclass
class Case:
    name: str
    area: Polygon
    obstacles: list[Polygon]
    width: float


@dataclass
class Result:
    seconds: float
    path: np.ndarray  # (n, 2) points of the whole drive
    laps_m: float = 0.0  # length of sapper's headland laps


def ruins(count: int, size: float, seed: int = 2016) -> list[Polygon]:
    """Seeded obstacles: rotated rectangles 10-60 m, 10 m apart and 20 m inside the area edge (an assumption)."""
    rng = np.random.default_rng(seed)
    found: list[Polygon] = []
    while len(found) < count:
        cx, cy = rng.uniform(50, size - 50, 2)
        w, h = rng.uniform(10, 60, 2)
        ruin = affinity.rotate(box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), rng.uniform(0, 90))
        if all(ruin.distance(other) > 10 for other in found) and box(20, 20, size - 20, size - 20).contains(ruin):
            found.append(ruin)
    return found


def cases() -> list[Case]:
    rect = box(0, 0, 500, 300)
    square = box(0, 0, 1000, 1000)
    obstacles = ruins(20, 1000)
    out = []
    for width in (1.75, 1.0):
        out.append(Case(f"500 x 300 m, {width} m lanes", rect, [], width))
        out.append(Case(f"1 km2 + 20 ruins, {width} m lanes", square, obstacles, width))
    return out


def run_sapper(case: Case, angle: float) -> Result:
    t0 = time.perf_counter()
    plan = plan_lanes(case.area, case.width, obstacles=case.obstacles, angle=angle)
    path = plan.path  # built on demand: count it, as the peer returns its path
    seconds = time.perf_counter() - t0
    return Result(seconds, shapely.get_coordinates(path), plan.lap_length_m)


def run_peer_laps(case: Case, angle: float) -> Result:
    """The peer with one border lap round the area and one round each obstacle, as sapper drives."""
    return run_peer(case, angle, laps=1)


def run_peer(case: Case, angle: float, laps: int = 0) -> Result:
    env = peer.Environment(_peer_polygon(case.area))
    for obstacle in case.obstacles:
        env.addObstacle(_peer_polygon(obstacle))
    settings = peer.PathSettings()
    settings.pattern = "lines"
    settings.offset = case.width  # distance between lines
    settings.angle = math.radians(angle)
    settings.distanceToBorder = 0.0  # lanes run to the edge, as sapper's do
    settings.mowArea = True
    settings.mowBorder = laps > 0
    settings.borderLaps = laps
    settings.mowExclusionsBorder = laps > 0
    settings.exclusionsBorderLaps = laps
    start = peer.Point(*case.area.exterior.coords[0])
    t0 = time.perf_counter()
    result = peer.PathService().computeFullTask(env, settings, start)
    seconds = time.perf_counter() - t0
    points = np.array([(p.x, p.y) for p in result.path.getPoints()])
    return Result(seconds, points[1:])  # leave out the approach from the start point


def _peer_polygon(poly: Polygon):
    return peer.Polygon([peer.Point(x, y) for x, y in list(poly.exterior.coords)[:-1]])


def measure(case: Case, path: np.ndarray) -> dict[str, float]:
    free = case.area.difference(shapely.union_all(case.obstacles)) if case.obstacles else case.area
    segments = shapely.linestrings(np.stack([path[:-1], path[1:]], axis=1))
    segments = segments[shapely.length(segments) > 1e-9]
    half = case.width / 2 + 2e-6  # 2 micrometres wider so that abutting footprints overlap
    bends = shapely.buffer(shapely.points(_bends(path)), half, quad_segs=QUAD_SEGS)
    strips = shapely.buffer(segments, half, cap_style="flat")
    footprint = shapely.union_all(np.concatenate([strips, bends]), grid_size=1e-6)
    missed = shapely.difference(free, footprint, grid_size=1e-6)
    reach = opening(free, case.width)
    inside = shapely.union_all(case.obstacles).buffer(-1e-6) if case.obstacles else Polygon()
    return {
        "length_m": float(shapely.length(segments).sum()),
        "coverage": 1.0 - missed.area / free.area,
        "missed_in_reach_m2": float(shapely.intersection(missed, reach, grid_size=1e-6).area),
        "in_obstacles_m": float(shapely.length(shapely.intersection(segments, inside)).sum()),
    }


def _bends(path: np.ndarray) -> np.ndarray:
    """Inner points of the path where its direction changes."""
    d = np.diff(path, axis=0)
    cross = d[:-1, 0] * d[1:, 1] - d[:-1, 1] * d[1:, 0]
    dot = np.einsum("ij,ij->i", d[:-1], d[1:])
    return path[1:-1][(np.abs(cross) > 1e-9) | (dot < 0)]


def timed(fn: Callable[[Case, float], Result], case: Case, angle: float, runs: int) -> tuple[float, Result]:
    results = [fn(case, angle) for _ in range(runs)]
    return statistics.median(r.seconds for r in results), results[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--readme", action="store_true", help="write the table into bench/README.md")
    args = parser.parse_args()
    version = peer.PathService().getVersion() if peer else None
    print(f"peer: coverage-path-planner {version}" if peer else "peer: coverage-path-planner not installed")
    header = (
        "| case | planner | time (ms) | path (m) | of it laps | coverage | missed in reach (m2) | in ruins (m) "
        "| time ratio | length ratio |"
    )
    lines = [header, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    print(header)
    for case in cases():
        # sapper picks the direction; the peer gets the same one so both sweep alike.
        angle = plan_lanes(case.area, case.width, obstacles=case.obstacles).angle
        ours_t, ours_run = timed(run_sapper, case, angle, args.runs)
        ours = measure(case, ours_run.path)
        rows = [("sapper", ours_t, ours, ours_run.laps_m)]
        if peer:
            for name, fn in (("coverage-path-planner", run_peer), ("coverage-path-planner, laps", run_peer_laps)):
                peer_t, peer_run = timed(fn, case, angle, args.runs)
                rows.append((name, peer_t, measure(case, peer_run.path), None))
        for name, t, m, laps in rows:
            ratio_t = f"{ours_t / t:.2f}" if name != "sapper" else ""
            ratio_l = f"{ours['length_m'] / m['length_m']:.3f}" if name != "sapper" else ""
            share = f"{laps / m['length_m']:.2%}" if laps is not None else ""
            row = (
                f"| {case.name} | {name} | {t * 1000:.2f} | {m['length_m']:,.0f} | {share} | {m['coverage']:.3%} "
                f"| {m['missed_in_reach_m2']:,.2f} | {m['in_obstacles_m']:.1f} | {ratio_t} | {ratio_l} |"
            )
            lines.append(row)
            print(row, flush=True)
    print("ratios: sapper / peer (below 1: sapper faster or shorter)")
    if args.readme:
        _write_readme(lines, args.runs, version)


def _write_readme(lines: list[str], runs: int, version: str | None) -> None:
    machine = f"{sys.platform}, Python {sys.version.split()[0]}, shapely {shapely.__version__}"
    body = "\n".join(
        [
            f"Median of {runs} runs; peer coverage-path-planner {version or '(not installed)'}; {machine}.",
            "Ratios are sapper / peer (below 1: sapper faster or shorter).",
            "",
            *lines,
        ]
    )
    write_section("lanes-bench", body, heading="Lanes")


if __name__ == "__main__":
    main()
