"""Work sectors: a hazard area cut into blocks of a set size, one block a team's task.

Palmyra 2016: the site was filmed from a drone and split into sectors of 30 x 80 m, two
sappers to a sector (published figures, see DESIGN.md). Here a grid of ``length`` x
``width`` cells is laid along the area's minimum rotated rectangle (so a road corridor
gets sectors along the road), or at ``angle`` degrees, clipped to the area, with the
obstacles (standing ruins, buildings) cut out.

Slivers: a piece of a cell smaller than ``min_area`` is merged into the touching
sector with which it shares the longest border. It is never dropped: every square
metre of a hazard must end in some sector, so the sectors' areas add up to the area
minus the obstacles. A sliver that touches no other sector stays a sector of its own.
When an obstacle cuts a cell into pieces big enough to stand, they stay one sector
(a MultiPolygon): one team's block of work.

Geometry is plain shapely in a metric CRS (metres); angles are degrees counter-clockwise
from the x axis (east).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from sapper.model.errors import SapperError
from sapper.model.geometry import as_multipolygon
from sapper.plan.lanes.scan import from_frame, to_frame
from sapper.plan.lanes.shapes import free_area, long_axis_angle

PALMYRA_WIDTH_M = 30.0  # published Palmyra 2016 sector size (DESIGN.md)
PALMYRA_LENGTH_M = 80.0
# Pieces under this share of a full sector are merged into a neighbour (an assumption).
MIN_AREA_SHARE = 0.1
# Two pieces count as touching when this close (metres): cell edges are computed in a rotated frame.
TOUCH_M = 1e-6
GRID_M = 1e-9  # precision of the union of merged pieces, metres
# Splits kept while a ``same_splits`` block runs (None outside one): key -> the sectors.
_CACHE: ContextVar[dict[tuple, tuple[Sector, ...]] | None] = ContextVar("sapper_same_splits", default=None)


@dataclass(frozen=True, slots=True)
class Sector:
    """One work block: its place in the grid, its ground (clipped, obstacles removed) and its area."""

    index: int  # position in the suggested working order (a serpentine over the grid rows)
    label: str  # row letter(s) and column number, e.g. "B7"; row A along the grid's first long side
    row: int
    col: int
    geometry: Polygon | MultiPolygon
    area_m2: float


def split_into_sectors(
    area: Polygon | MultiPolygon,
    width: float = PALMYRA_WIDTH_M,
    length: float = PALMYRA_LENGTH_M,
    obstacles: Sequence[BaseGeometry] = (),
    angle: float | None = None,
    min_area: float | None = None,
) -> list[Sector]:
    """Split ``area`` into sectors ``length`` m along ``angle`` and ``width`` m across.

    ``angle`` defaults to the direction of the long side of the area's minimum rotated
    rectangle. ``min_area`` (m2) defaults to a tenth of a full sector; pieces below it
    are merged into a neighbour (see the module notes). Sectors come in a serpentine
    order over the grid rows, so consecutive sectors are next to each other.
    """
    for name, value in (("width", width), ("length", length)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise SapperError(f"sector {name} must be a positive number of metres, not {value!r}")
    if min_area is None:
        min_area = MIN_AREA_SHARE * width * length
    if not min_area >= 0:
        raise SapperError(f"minimum sector area must be 0 m2 or more, not {min_area!r}")
    if angle is not None and not math.isfinite(angle):
        raise SapperError(f"sector angle must be a number of degrees, not {angle!r}")
    cache = _CACHE.get()
    if cache is not None:
        key = (shapely.to_wkb(area), tuple(shapely.to_wkb(o) for o in obstacles), width, length, angle, min_area)
        if key not in cache:
            cache[key] = tuple(_split(area, width, length, obstacles, angle, min_area))
        return list(cache[key])
    return _split(area, width, length, obstacles, angle, min_area)


@contextmanager
def same_splits() -> Iterator[None]:
    """Within the block, an area split again with the same parameters (byte for byte the same polygon)
    gets the sectors of the first split: a backtest plans each past day, and most hazards do not change
    from one day to the next. The memory lasts only as long as the block."""
    token = _CACHE.set({})
    try:
        yield
    finally:
        _CACHE.reset(token)


def _split(
    area: Polygon | MultiPolygon,
    width: float,
    length: float,
    obstacles: Sequence[BaseGeometry],
    angle: float | None,
    min_area: float,
) -> list[Sector]:
    free = free_area(area, obstacles)
    if free.is_empty:
        return []
    if angle is None:
        angle = long_axis_angle(area)
    cells, rows, cols = _grid(free, float(angle), width, length)
    pieces, cell_of = _pieces(cells, free)
    return _sectors(pieces, _merge_slivers(pieces, cell_of, min_area), rows, cols)


def _grid(free: BaseGeometry, angle: float, width: float, length: float):
    """Cells of the grid that meet the area, as polygons in the area's CRS, with their row and column."""
    minx, miny = free.bounds[:2]
    origin = (float(minx), float(miny))
    xy = shapely.get_coordinates(free)
    fx, fy = to_frame(xy[:, 0], xy[:, 1], angle, origin)
    x0, y0 = float(fx.min()), float(fy.min())
    ncol = max(1, math.ceil((float(fx.max()) - x0) / length - 1e-9))
    nrow = max(1, math.ceil((float(fy.max()) - y0) / width - 1e-9))
    # Rotate the lattice of grid corners once, so neighbouring cells share exactly the same corners.
    lx, ly = np.meshgrid(x0 + length * np.arange(ncol + 1), y0 + width * np.arange(nrow + 1))
    wx, wy = from_frame(lx, ly, angle, origin)
    rows, cols = np.divmod(np.arange(nrow * ncol), ncol)
    corner_rows = np.stack([rows, rows, rows + 1, rows + 1, rows], axis=1)  # counter-clockwise, closed
    corner_cols = np.stack([cols, cols + 1, cols + 1, cols, cols], axis=1)
    cells = shapely.polygons(np.stack([wx[corner_rows, corner_cols], wy[corner_rows, corner_cols]], axis=2))
    hit = shapely.STRtree(cells).query(free, predicate="intersects")
    return cells[hit], rows[hit], cols[hit]


def _pieces(cells: np.ndarray, free: BaseGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Connected polygonal pieces of each cell clipped to the free area, and the cell each came from."""
    shapely.prepare(free)
    clipped = shapely.intersection(cells, free)
    if not math.isclose(float(shapely.area(clipped).sum()), free.area, rel_tol=1e-9, abs_tol=1e-6):
        # Floating overlay can lose a piece whose edge lies along a cell's edge (a thin hazard along the
        # grid: the whole piece came back empty); snap rounding on a nanometre grid does not.
        clipped = shapely.intersection(cells, free, grid_size=GRID_M)
    parts, cell_of = shapely.get_parts(clipped, return_index=True)
    polygonal = shapely.get_type_id(parts) == 3  # Polygon; lines and points where cells only touch
    parts, cell_of = parts[polygonal], cell_of[polygonal]
    keep = shapely.area(parts) > 0
    return parts[keep], cell_of[keep]


def _merge_slivers(pieces: np.ndarray, cell_of: np.ndarray, min_area: float) -> np.ndarray:
    """The cell whose sector each piece joins.

    Pieces of at least ``min_area`` stay in their cell. Smaller ones join the touching
    piece with the longest shared border among those already placed, repeatedly, so a
    chain of slivers follows its big neighbour; those that touch no placed piece stay in
    their own cell.
    """
    areas = shapely.area(pieces)
    key = np.where(areas >= min_area, cell_of, -1)
    small = np.flatnonzero(key < 0)
    if len(small) == 0:
        return key
    tree = shapely.STRtree(pieces)
    touching: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for i in small.tolist():
        near = tree.query(pieces[i], predicate="dwithin", distance=TOUCH_M)
        near = near[near != i]
        shared = shapely.length(shapely.intersection(pieces[i].boundary, shapely.buffer(pieces[near], TOUCH_M)))
        order = np.argsort(-shared, kind="stable")
        touching[i] = (near[order], shared[order])
    changed = True
    while changed:
        changed = False
        for i in small.tolist():
            if key[i] >= 0:
                continue
            near, shared = touching[i]
            placed = near[(key[near] >= 0) & (shared > TOUCH_M)]
            if len(placed):
                key[i] = key[placed[0]]
                changed = True
    return np.where(key >= 0, key, cell_of)


def _sectors(pieces: np.ndarray, key: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> list[Sector]:
    """One sector per cell that received pieces, numbered in a serpentine over the grid rows."""
    cells = np.unique(key)
    serpentine = sorted(cells.tolist(), key=lambda c: (rows[c], cols[c] if rows[c] % 2 == 0 else -cols[c]))
    out = []
    for index, c in enumerate(serpentine):
        members = pieces[key == c]
        # Pieces clipped from neighbouring cells share edges up to the last bit; floating
        # overlay can misjudge such edges, snap rounding on a nanometre grid cannot.
        geom = members[0] if len(members) == 1 else shapely.union_all(members, grid_size=GRID_M)
        if geom.geom_type not in ("Polygon", "MultiPolygon"):  # rounding left a line: keep the ground only
            geom = as_multipolygon(geom)
        row, col = int(rows[c]), int(cols[c])
        out.append(Sector(index, f"{_row_letters(row)}{col + 1}", row, col, geom, float(geom.area)))
    return out


def _row_letters(row: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA, like spreadsheet columns."""
    letters = ""
    row += 1
    while row:
        row, rest = divmod(row - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
