"""Safety-distance conflicts found with a spatial index agree with the plain rule, pair by pair, at the edges.

The rule (IMAS 10.20): two sectors are never worked at once when they lie closer than the larger of
their safety distances. Exactly at that distance they do not conflict; a hair closer they do.
"""

from __future__ import annotations

import itertools

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import box

from sapper.plan.problem import WorkSector, find_conflicts
from sapper.plan.rules.methods import Decision


def sector(index: int, geometry, safety_m: float) -> WorkSector:
    return WorkSector(index, 1, f"S{index}", geometry, geometry.area, 50.0, Decision(()), safety_m=safety_m)


def by_rule(sectors: list[WorkSector]) -> list[tuple[int, int]]:
    """Every pair, one distance at a time: the rule as written."""
    return [
        (a.index, b.index)
        for a, b in itertools.combinations(sectors, 2)
        if float(shapely.distance(a.geometry, b.geometry)) < max(a.safety_m, b.safety_m)
    ]


def test_exactly_at_the_safety_distance_is_no_conflict_and_closer_is() -> None:
    sectors = [
        sector(0, box(0, 0, 30, 80), 50.0),
        sector(1, box(80, 0, 110, 80), 50.0),  # 50 m from 0: exactly the distance, no conflict
        sector(2, box(0, 129.5, 30, 200), 50.0),  # 49.5 m from 0
        sector(3, box(210, 0, 240, 80), 100.0),  # 100 m from 1: exactly its own distance
        sector(4, box(-100, 0, -75, 80), 50.0),  # 75 m from 0 and from 5, both of 50 m
        sector(5, box(-175, 0, -150, 80), 50.0),
        sector(6, box(-250, 0, -245, 80), 100.0),  # 70 m from 5: inside 6's 100 m, outside 5's 50 m
    ]
    pairs = find_conflicts(sectors)
    assert pairs == by_rule(sectors)
    assert (0, 1) not in pairs and (1, 3) not in pairs and (4, 5) not in pairs
    assert (0, 2) in pairs and (5, 6) in pairs


def test_a_field_of_turned_sectors_gives_the_pairs_of_the_rule() -> None:
    """Turned blocks, distances no round number, safety distances mixed: the same pairs as one by one."""
    rng = np.random.default_rng(7)
    sectors = []
    for k in range(150):
        x, y = rng.uniform(0, 1500, 2)
        block = affinity.rotate(box(x, y, x + 30, y + 80), float(rng.uniform(0, 180)), origin="centroid")
        sectors.append(sector(k, block, float(rng.choice([0.0, 25.0, 50.0, 100.0]))))
    pairs = find_conflicts(sectors)
    assert pairs == by_rule(sectors)
    assert len(pairs) > 50


def test_one_sector_or_none_has_no_conflicts() -> None:
    assert find_conflicts([]) == []
    assert find_conflicts([sector(0, box(0, 0, 30, 80), 50.0)]) == []
