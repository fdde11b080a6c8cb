"""The hazard areas of the scenario, drawn in metres; one ``Area`` becomes one hazard.

Regions: ``historic`` (the published 234 ha), ``early`` (the residential part and airfield
at the published early stage, 40 ha) and ``todo`` (a subset of the 560 ha still to do).
Reported areas include their roads: road corridors are their own hazards, cut out of the
areas around them, so no square metre belongs to two hazards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shapely.geometry import LineString, MultiPolygon, box
from shapely.geometry.base import BaseGeometry

from sapper.model import Contamination, HazardStatus, LandUse
from sapper.scenarios.palmyra import shapes
from sapper.scenarios.palmyra.figures import Feature, feature, heritage, outline

HISTORIC, EARLY, TODO = "historic", "early", "todo"


@dataclass
class Area:
    key: str  # stable: becomes the hazard's source_key
    name: str
    region: str
    shape: MultiPolygon  # metric (UTM 37N)
    land_use: LandUse
    contamination: Contamination
    status: HazardStatus
    priority: int  # 1 highest; published 2016 order: historic part, then residential and airfield
    depth_cm: int
    evidence: str
    blocks_access: bool = False
    road_m: float = 0.0  # length of road or street in it, for road corridors
    estimated_items: int | None = None  # None: the items placed in it
    notes: str = ""


SEEN = "quadcopter imagery of the whole site (published) and items seen on the surface"


def historic_areas(fig: dict[str, Any]) -> tuple[list[Area], BaseGeometry]:
    """The historic part: outline zones, Bel precinct, castle hill, surroundings and roads."""
    h, pub = fig["historic"], fig["published"]
    city = shapes.metric(outline().geometry)
    bel_at = shapes.metric(feature("Temple of Bel").geometry)
    bel = shapes.rectangle(bel_at, h["bel_precinct_m"], h["bel_precinct_m"], 0.0)
    arch = shapes.metric(feature("Monumental Arch").geometry).buffer(40)
    bel = bel.union(bel.union(arch).convex_hull.difference(city))  # with the way from the arch
    castle = shapes.metric(feature("Fakhr-al-Din al-Ma'ani Castle").geometry).buffer(h["castle_hill_radius_m"])
    core = city.union(bel).union(castle)
    # The published 234 ha includes surroundings: a belt of one width around the core makes up the rest.
    belt_m = shapes.solve(lambda w: core.buffer(w).area, pub["historic_ha"] * 1e4, 0.0, 1000.0)
    whole = core.buffer(belt_m)

    roads = _historic_roads(fig, whole, city)
    used = shapes.polygonal(MultiPolygon([p for a in roads for p in a.shape.geoms]).buffer(0))
    parts: list[Area] = []
    for k, zone in enumerate(shapes.split_west_to_east(city.difference(used), h["zones"]), start=1):
        inside = [f.name for f in _monuments() if zone.distance(shapes.metric(f.geometry)) < 20]
        label = ", ".join(inside[:2]) + (f" and {len(inside) - 2} more" if len(inside) > 2 else "")
        area = _historic(f"H-Z{k}", f"Ancient city zone {k} ({label or 'open ruins'})", zone, LandUse.HERITAGE, fig)
        area.notes = "monuments: " + (", ".join(inside) or "none")
        parts.append(area)
    parts.append(
        _historic("H-BEL", "Temple of Bel precinct and way from the arch", bel.difference(used), LandUse.HERITAGE, fig)
    )
    parts.append(_historic("H-CASTLE", "Castle hill", castle.difference(used), LandUse.HERITAGE, fig))
    belt = whole.difference(core).difference(used)
    for side, piece in shapes.wedges(belt, city.centroid, ["north", "east", "south", "west"]).items():
        area = _historic(f"H-S-{side.upper()}", f"Surroundings, {side}", piece, LandUse.OPEN_GROUND, fig)
        area.status, area.contamination = HazardStatus.SUSPECTED, Contamination.MIXED_MINES
        area.evidence = "surroundings of the site: mines laid on the approaches suspected"
        area.notes = f"belt {belt_m:.0f} m wide around the site (assumption reconciling 156 ha with 234 ha)"
        parts.append(area)
    return parts + roads, whole


def _historic(key: str, name: str, shape: BaseGeometry, land_use: LandUse, fig: dict[str, Any]) -> Area:
    return Area(
        key=key,
        name=name,
        region=HISTORIC,
        shape=shapes.polygonal(shape),
        land_use=land_use,
        contamination=Contamination.MIXED,
        status=HazardStatus.CONFIRMED,
        priority=1,
        depth_cm=fig["historic"]["clearance_depth_cm"],
        evidence=SEEN,
    )


def _monuments() -> list[Feature]:
    return [f for f in heritage() if f.kind != "heritage_site"]


def _historic_roads(fig: dict[str, Any], whole: BaseGeometry, city: BaseGeometry) -> list[Area]:
    """Named roads, a perimeter track and tracks between the ruins: the published 23 km in all.

    Tracks are a grid (assumed spacing), nearest the city centre first, taken until the total
    length is the published one.
    """
    h = fig["historic"]
    track_w = h["track_width_m"]
    plan: list[tuple[str, str, list[LineString], float, bool]] = []
    for k, raw in enumerate(h["roads"], start=1):
        lines = shapes.segments(shapes.metric(LineString(raw["line"])).intersection(whole))
        plan.append((f"H-R{k}", raw["name"], lines, h["road_width_m"], raw["blocks_access"]))
    ring = shapes.segments(whole.buffer(-track_w / 2 - 2).boundary)
    plan.append(("H-R-RING", "Perimeter track", ring, track_w, True))
    have = sum(line.length for *_, lines, _w, _b in plan for line in lines)
    centre = city.centroid
    grid = shapes.grid_lines(whole.buffer(-track_w), h["track_spacing_m"])
    grid.sort(key=lambda s: (round(s.distance(centre), 3), s.bounds))
    tracks = shapes.take_length(grid, fig["published"]["historic_roads_km"] * 1000 - have)
    minx, miny, maxx, maxy = whole.bounds
    third = (maxx - minx) / 3
    for k, label in enumerate(("west", "centre", "east")):
        band = box(minx + k * third, miny, minx + (k + 1) * third, maxy)
        lines = [seg for t in tracks for seg in shapes.segments(t.intersection(band))]
        plan.append((f"H-R-T{k + 1}", f"Tracks between the ruins, {label}", lines, track_w, False))
    areas: list[Area] = []
    used: BaseGeometry = MultiPolygon()
    for key, name, lines, width, blocks in plan:
        strip = shapes.corridor(lines, width).intersection(whole).difference(used)
        used = used.union(strip)
        area = _historic(key, name, strip, LandUse.ROAD, fig)
        area.depth_cm, area.blocks_access = h["road_depth_cm"], blocks
        area.road_m = sum(line.length for line in lines)
        area.evidence = "published: charges set into roads at crossroads; roads give access to the site"
        areas.append(area)
    return areas
