"""A backtest splits each hazard once while it does not change: the same sectors, and nothing kept after the run."""

from __future__ import annotations

import shapely
from shapely.geometry import Polygon, box

from sapper.plan.sectors import Sector, same_splits, split_into_sectors

AREA = Polygon([(0, 0), (310, 40), (290, 250), (-20, 200)])


def _same(a: list[Sector], b: list[Sector]) -> bool:
    return [(s.index, s.label, s.row, s.col, s.area_m2, shapely.to_wkb(s.geometry)) for s in a] == [
        (s.index, s.label, s.row, s.col, s.area_m2, shapely.to_wkb(s.geometry)) for s in b
    ]


def test_an_area_split_again_in_a_run_gets_the_first_split_and_only_for_the_same_parameters() -> None:
    plain = split_into_sectors(AREA)
    narrow = split_into_sectors(AREA, width=20.0)
    ruin = [box(100, 100, 130, 120)]
    with_ruin = split_into_sectors(AREA, obstacles=ruin)
    with same_splits():
        first = split_into_sectors(AREA)
        again = split_into_sectors(Polygon(AREA.exterior.coords))  # another object, the same polygon
        assert _same(first, plain) and _same(again, plain)
        assert all(a.geometry is b.geometry for a, b in zip(first, again, strict=True))  # not split again
        again.clear()  # a caller's list is its own
        assert _same(split_into_sectors(AREA), plain)
        assert _same(split_into_sectors(AREA, width=20.0), narrow)
        assert _same(split_into_sectors(AREA, obstacles=ruin), with_ruin)
        moved = split_into_sectors(shapely.affinity.translate(AREA, 1.0, 0.0))
        assert not _same(moved, plain)
    after = split_into_sectors(AREA)
    assert _same(after, plain) and after[0].geometry is not first[0].geometry  # the run's memory is gone
