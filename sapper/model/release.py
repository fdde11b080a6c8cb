"""Land-release accounting (IMAS 07.11).

Every square metre of an original hazard ends in exactly one of: still hazardous,
cancelled, reduced, cleared. Released areas are measured once, in the metric CRS,
and the hazardous remainder is defined as the original area less what was released,
so the four figures add up exactly; the remaining polygon, cut from the same
geometry, measures the same to within rounding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from sapper.model.enums import ReleaseRoute
from sapper.model.geometry import area_m2, as_multipolygon
from sapper.model.records import Release

# A remainder smaller than this is noise from the cut, not land still to clear.
CLOSE_BELOW_M2 = 0.5
SLIVER_M2 = 0.01


@dataclass(frozen=True)
class Split:
    released: MultiPolygon
    remaining: MultiPolygon
    released_m2: float
    remaining_m2: float

    @property
    def closes_hazard(self) -> bool:
        return self.remaining_m2 < CLOSE_BELOW_M2


def split_hazard(remaining: BaseGeometry, released: BaseGeometry) -> Split:
    """Cut ``released`` out of the hazardous ``remaining`` polygon.

    The cut is made in the stored lon/lat coordinates, where the edges are straight, so
    the two pieces tile the original exactly; only measuring is done in metres.
    """
    cut = released if released.is_valid else shapely.make_valid(released)
    part = _drop_slivers(as_multipolygon(remaining.intersection(cut)))
    left = _drop_slivers(as_multipolygon(remaining.difference(cut)))
    left_m2 = area_m2(left)
    if left_m2 < CLOSE_BELOW_M2:
        part, left, left_m2 = as_multipolygon(remaining), MultiPolygon(), 0.0
    return Split(released=part, remaining=left, released_m2=area_m2(part), remaining_m2=left_m2)


def _drop_slivers(geom: MultiPolygon) -> MultiPolygon:
    """Parts under SLIVER_M2 are floating-point noise where two edges almost coincide."""
    return MultiPolygon([p for p in geom.geoms if area_m2(p) >= SLIVER_M2])


@dataclass(frozen=True)
class Balance:
    """Where the original area of one hazard (or of many, summed) now stands, in m²."""

    original: float
    cancelled: float = 0.0
    reduced: float = 0.0
    cleared: float = 0.0

    @property
    def released(self) -> float:
        return self.cancelled + self.reduced + self.cleared

    @property
    def hazardous(self) -> float:
        return max(self.original - self.released, 0.0)

    def __add__(self, other: Balance) -> Balance:
        return Balance(
            self.original + other.original,
            self.cancelled + other.cancelled,
            self.reduced + other.reduced,
            self.cleared + other.cleared,
        )


def balance(original_m2: float, releases: Iterable[Release]) -> Balance:
    by_route = {route: 0.0 for route in ReleaseRoute}
    for release in releases:
        by_route[release.route] += release.area_m2
    return Balance(
        original=original_m2,
        cancelled=by_route[ReleaseRoute.CANCELLED],
        reduced=by_route[ReleaseRoute.REDUCED],
        cleared=by_route[ReleaseRoute.CLEARED],
    )
