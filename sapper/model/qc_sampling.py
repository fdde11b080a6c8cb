"""How many sample units a post-clearance inspection takes, and which: pure, no I/O.

IMAS 09.20 (post-clearance inspection of land) inspects cleared land by sampling, after ISO 2859
(sampling procedures for inspection by attributes). sapper uses a zero-acceptance plan: the lot
passes only if no sample unit has a defect, and the sample is the smallest for which a lot whose
defect rate is at the limit ``p`` shows no defect with a probability of at most ``1 - C``
(the confidence ``C``). For a lot of N units holding D = ceil(p N) defective ones that chance is
hypergeometric, C(N - D, n) / C(N, n); for a large lot it tends to the binomial (1 - p)^n, so
n = ceil(ln(1 - C) / ln(1 - p)): 59 units for C = p = 95 % / 5 % (Wilks, 1941, the "59 samples"
of 95/95 acceptance), about 3 / p at 95 % (the rule of three).

Sample units are square cells of a grid laid over the lot in its UTM zone, clipped to the lot.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from sapper.model.geometry import as_multipolygon, metric_epsg_for, to_metric, to_wgs84

# Assumptions (IMAS 09.20 leaves them to the national authority; label them in reports):
DEFAULT_CONFIDENCE = 0.95
DEFAULT_DEFECT_RATE = 0.05  # assumption: a lot with 5 % of its cells defective must be caught
DEFAULT_CELL_M = 10.0  # assumption: 10 m x 10 m sample units, a day's inspection holds several
MIN_CELL_SHARE = 0.1  # a cell less than 10 % inside the lot is an edge sliver, not a sample unit


def binomial_sample_size(confidence: float, defect_rate: float) -> int:
    """n for a lot too large to matter: the smallest n with (1 - p)^n <= 1 - C."""
    _check(confidence, defect_rate)
    n = math.log(1 - confidence) / math.log(1 - defect_rate)
    return max(1, math.ceil(n - 1e-9))


def sample_size(lot: int, confidence: float, defect_rate: float) -> int:
    """The smallest n (at most the lot) whose zero-acceptance plan catches a lot at the defect limit.

    Hypergeometric, as an inspection draws without replacement: the chance that n units drawn
    from N, D = max(1, ceil(p N)) of them defective, are all sound is the product of
    (N - D - i) / (N - i) for i < n.
    """
    _check(confidence, defect_rate)
    if lot < 1:
        raise ValueError(f"a lot needs at least one sample unit, not {lot}")
    defects = max(1, math.ceil(defect_rate * lot - 1e-9))
    miss = 1.0  # chance that every unit inspected so far is sound
    n = 0
    while n < lot and miss > 1 - confidence:
        miss *= (lot - defects - n) / (lot - n)
        n += 1
    return n


def _check(confidence: float, defect_rate: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie between 0 and 1 (e.g. 0.95), not {confidence}")
    if not 0 < defect_rate < 1:
        raise ValueError(f"defect rate must lie between 0 and 1 (e.g. 0.05), not {defect_rate}")


@dataclass(frozen=True)
class Draw:
    """The lot cut into sample units, and the ones drawn (in lon/lat, inside the lot)."""

    lot_cells: int
    samples: list[MultiPolygon]


def grid_cells(lot: BaseGeometry, cell_m: float) -> tuple[np.ndarray, int]:
    """The lot cut into square cells of ``cell_m`` metres on its UTM zone's grid, clipped to it
    (in that zone's metres, whose EPSG code comes with them). Only the cells drawn are brought
    back to lon/lat, so a lot of a square kilometre or more is cut in a fraction of a second."""
    if cell_m <= 0:
        raise ValueError(f"cell size must be positive, not {cell_m} m")
    epsg = metric_epsg_for(lot)
    if lot.is_empty:
        return np.array([], dtype=object), epsg
    metric = to_metric(lot, epsg)
    minx, miny, maxx, maxy = metric.bounds
    xs = minx + cell_m * np.arange(max(1, math.ceil((maxx - minx) / cell_m)))
    ys = miny + cell_m * np.arange(max(1, math.ceil((maxy - miny) / cell_m)))
    gx, gy = np.meshgrid(xs, ys)
    boxes = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell_m, gy.ravel() + cell_m)
    shapely.prepare(metric)
    inside = shapely.intersection(boxes[shapely.intersects(metric, boxes)], metric)
    return inside[shapely.area(inside) >= MIN_CELL_SHARE * cell_m * cell_m], epsg


def draw_samples(lot: BaseGeometry, cell_m: float, confidence: float, defect_rate: float, seed: int) -> Draw:
    """The sample units of a lot, drawn at random with ``seed``: the same seed, the same draw.

    The cells drawn are clipped again in lon/lat, so each lies inside the lot exactly as stored."""
    cells, epsg = grid_cells(lot, cell_m)
    if not len(cells):
        raise ValueError("the lot holds no sample unit: is its cleared land smaller than a cell?")
    n = sample_size(len(cells), confidence, defect_rate)
    chosen = sorted(random.Random(seed).sample(range(len(cells)), n))
    samples = [as_multipolygon(to_wgs84(cells[i], epsg).intersection(lot)) for i in chosen]
    return Draw(lot_cells=len(cells), samples=samples)
