"""Priority of every open hazard: a transparent score with its explanation.

score = stake + danger + blockage + the officer's own priority, each part from weights
in data/priority.toml. Geometries are in metres (a metric CRS): the planner converts
the register's lon/lat once before calling this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely import STRtree

from sapper.model.enums import Contamination, ItemCategory, LandUse, SiteKind
from sapper.model.records import Hazard, Item, ProtectedSite
from sapper.plan.rules.datafiles import DataFileError, Section, load


@dataclass(frozen=True)
class Weights:
    site_radius_m: float
    stake_max: float
    heritage_value_points: float
    site_kind: dict[SiteKind, float]
    land_use: dict[LandUse, float]
    points_per_item_per_ha: float
    density_max: float
    ied_points: float
    contamination: dict[Contamination, float]
    access_m: float
    flag_points: float
    per_hazard_reached: float
    blockage_max: float
    register_points: tuple[float, ...]  # for priority 1..5
    doubling_points: float = 10.0  # the plan's objective: score points that double a hectare's value


@dataclass(frozen=True)
class Part:
    name: str  # stake, danger, blockage, register
    points: float
    why: str


@dataclass(frozen=True)
class Priority:
    hazard_id: int
    score: float
    rank: int
    parts: tuple[Part, ...]

    def explain(self) -> str:
        return "; ".join(f"{p.name} {p.points:.1f} ({p.why})" for p in self.parts)

    def points(self, name: str) -> float:
        return sum(p.points for p in self.parts if p.name == name)


def load_weights(path: str | Path | None = None) -> Weights:
    data = load("priority.toml", path)
    stake, danger, block = data.section("stake"), data.section("danger"), data.section("blockage")
    points = data.section("register").raw.get("points", [])
    if not (isinstance(points, list) and len(points) == 5 and all(isinstance(p, (int, float)) for p in points)):
        raise DataFileError(data.section("register").where, "points: give five numbers, for priority 1 to 5")
    return Weights(
        site_radius_m=stake.number("radius_m"),
        stake_max=stake.number("max_points"),
        heritage_value_points=stake.number("heritage_value_points"),
        site_kind=stake.mapping("site_kind", SiteKind, lambda s, k: s.number(k)),
        land_use=stake.mapping("land_use", LandUse, lambda s, k: s.number(k)),
        points_per_item_per_ha=danger.number("points_per_item_per_ha"),
        density_max=danger.number("max_density_points"),
        ied_points=danger.number("ied_points"),
        contamination=danger.mapping("contamination", Contamination, lambda s, k: s.number(k)),
        access_m=block.number("access_m"),
        flag_points=block.number("flag_points"),
        per_hazard_reached=block.number("per_hazard_reached"),
        blockage_max=block.number("max_points"),
        register_points=tuple(float(p) for p in points),
        doubling_points=_doubling(data.section("objective")),
    )


def _doubling(section: Section) -> float:
    value = section.number("doubling_points", 10.0)
    if value <= 0:
        raise DataFileError(section.where, "doubling_points must be above zero")
    return value


def gives_access(hazard: Hazard) -> bool:
    """A road, or a hazard flagged as blocking access, opens the way to others."""
    return hazard.blocks_access or hazard.land_use == LandUse.ROAD


def access_links(hazards: Sequence[Hazard], access_m: float) -> dict[int, list[int]]:
    """For each access hazard (road), the other hazards it is the nearest way in to.

    A hazard within ``access_m`` of several roads is reached by the nearest one only, so
    each quarter waits for one road, not for every road around it.
    """
    roads = [h for h in hazards if gives_access(h) and h.geometry is not None]
    others = [h for h in hazards if not gives_access(h) and h.geometry is not None]
    links: dict[int, list[int]] = {int(h.id): [] for h in roads}  # type: ignore[arg-type]
    if not roads or not others:
        return links
    tree = STRtree([h.geometry for h in roads])
    for hazard in others:
        near = tree.query(hazard.geometry, predicate="dwithin", distance=access_m)
        if len(near):
            dist = shapely.distance(hazard.geometry, tree.geometries.take(near))
            links[int(roads[int(near[int(np.argmin(dist))])].id)].append(int(hazard.id))  # type: ignore[arg-type]
    return links


def _stake(hazard: Hazard, sites: Sequence[ProtectedSite], tree: STRtree | None, w: Weights) -> Part:
    notes, points = [], w.land_use.get(hazard.land_use, 0.0)
    if points:
        notes.append(f"covers {hazard.land_use.value} {points:g}")
    if tree is not None:
        near = tree.query(hazard.geometry, predicate="dwithin", distance=w.site_radius_m)
        dists = shapely.distance(hazard.geometry, tree.geometries.take(near)) if len(near) else []
        for index, dist in sorted(zip(near.tolist(), np.asarray(dists).tolist()), key=lambda p: p[1]):
            site = sites[index]
            value = w.site_kind.get(site.kind, 0.0)
            if site.kind.is_heritage:
                value += w.heritage_value_points * site.heritage_value
            value *= max(0.0, 1.0 - dist / w.site_radius_m) if w.site_radius_m else 1.0
            if value > 0:
                points += value
                notes.append(f"{site.kind.value} {site.name!r} at {dist:.0f} m {value:.1f}")
    capped = min(points, w.stake_max)
    if capped < points:
        notes.append(f"capped at {w.stake_max:g}")
    return Part("stake", capped, ", ".join(notes) or "nothing at stake nearby")


def _danger(hazard: Hazard, found: Sequence[Item], mix: dict[ItemCategory, float] | None, w: Weights) -> Part:
    area_ha = (hazard.original_area_m2 or float(hazard.geometry.area)) / 10_000.0
    items = max(hazard.estimated_items, len(found))
    density = items / area_ha if area_ha > 0 else 0.0
    dens_pts = min(density * w.points_per_item_per_ha, w.density_max)
    if found:
        ied_share = sum(1 for i in found if i.category.is_ied) / len(found)
        basis = f"{len(found)} found"
    else:
        ied_share = sum(share for cat, share in (mix or {}).items() if cat.is_ied)
        basis = f"expected from {hazard.contamination.value}"
    ied_pts = w.ied_points * ied_share
    cont_pts = w.contamination.get(hazard.contamination, 0.0)
    why = (
        f"{items} items on {area_ha:.2f} ha = {density:.1f}/ha {dens_pts:.1f}, "
        f"IED share {ied_share:.0%} ({basis}) {ied_pts:.1f}, {hazard.contamination.value} {cont_pts:g}"
    )
    return Part("danger", dens_pts + ied_pts + cont_pts, why)


def _blockage(hazard: Hazard, reached: list[int], w: Weights) -> Part:
    if not gives_access(hazard):
        return Part("blockage", 0.0, "gives access to no other hazard")
    points = (w.flag_points if hazard.blocks_access else 0.0) + w.per_hazard_reached * len(reached)
    flag = "blocks access, " if hazard.blocks_access else ""
    shown = ", ".join(str(i) for i in reached[:8]) + (" ..." if len(reached) > 8 else "")
    return Part("blockage", min(points, w.blockage_max), f"{flag}way in to {len(reached)} hazards ({shown or 'none'})")


def prioritise(
    hazards: Sequence[Hazard],
    sites: Sequence[ProtectedSite],
    items: Sequence[Item],
    weights: Weights,
    mixes: dict[Contamination, dict[ItemCategory, float]] | None = None,
) -> list[Priority]:
    """Score every hazard; highest score first (rank 1). Geometries in metres."""
    placed = [s for s in sites if s.geometry is not None]
    tree = STRtree([s.geometry for s in placed]) if placed else None
    by_hazard: dict[int, list[Item]] = {}
    for item in items:
        if item.hazard_id is not None:
            by_hazard.setdefault(item.hazard_id, []).append(item)
    links = access_links(hazards, weights.access_m)
    scored = []
    for hazard in hazards:
        if hazard.geometry is None or hazard.geometry.is_empty:
            continue
        hid = int(hazard.id)  # type: ignore[arg-type]
        parts = (
            _stake(hazard, placed, tree, weights),
            _danger(hazard, by_hazard.get(hid, []), (mixes or {}).get(hazard.contamination), weights),
            _blockage(hazard, links.get(hid, []), weights),
            Part(
                "register",
                weights.register_points[min(max(hazard.priority, 1), 5) - 1],
                f"officer's priority {hazard.priority}",
            ),
        )
        scored.append((sum(p.points for p in parts), hid, parts))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [Priority(hid, round(score, 3), rank, parts) for rank, (score, hid, parts) in enumerate(scored, 1)]
