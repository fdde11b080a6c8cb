"""The residential part (Tadmur), the water and power plants, the depot and the airfield.

Published: the residential part and airfield were at an early stage with 40 ha, 9.5 km of
road and 1,432 objects; 560 ha were still to do. Here the early stage is the airfield's
runway (checked first so aircraft could land; assumption) and the town quarters nearest
the Temple of Bel, where work moved on from the historic part (assumption), sized so the
two make 40 ha. What is still to do is a subset of the 560 ha: the rest of the assumed
town outline, the plants, the depot and the airfield's strip and apron.
"""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from sapper.model import Contamination, HazardStatus, LandUse
from sapper.scenarios.palmyra import shapes
from sapper.scenarios.palmyra.areas import EARLY, TODO, Area
from sapper.scenarios.palmyra.figures import feature

IEDS = "published: the residential part held most IEDs"
MERGE_BELOW_M2 = 30_000  # assumption: a quarter cut smaller than 3 ha joins its neighbour


def town_areas(fig: dict[str, Any], historic: BaseGeometry) -> list[Area]:
    """Early quarters and their streets, the runway, the other quarters, plants, depot, airfield."""
    plants = [_plant(raw, fig) for raw in fig["plants"]]
    runway, airfield = _airfield(fig)
    taken = shapely.union_all([historic, *(p.shape for p in plants), runway, airfield])
    town = Polygon([tuple(xy) for xy in fig["residential"]["town"]])
    town = shapes.metric(town).difference(taken)

    # The early quarters: the town nearest the Temple of Bel, as much as makes 40 ha with the runway.
    bel = shapes.metric(feature("Temple of Bel").geometry)
    wanted = fig["published"]["early_ha"] * 1e4 - runway.area
    radius = shapes.solve(lambda r: town.intersection(bel.buffer(r, quad_segs=32)).area, wanted, 0.0, 5000.0)
    early = town.intersection(bel.buffer(radius, quad_segs=32))
    streets = _streets(fig, early, bel)

    areas = [*_early_quarters(fig, early, streets), _runway(fig, runway)]
    areas += _todo_quarters(fig, town.difference(early))
    areas += plants
    areas.append(_airfield_rest(fig, airfield))
    return areas


def _streets(fig: dict[str, Any], early: BaseGeometry, bel: BaseGeometry) -> BaseGeometry:
    """The street grid of the early quarters, nearest the ruins first: the published 9.5 km."""
    r = fig["residential"]
    grid = shapes.grid_lines(early, r["street_spacing_m"])
    grid.sort(key=lambda s: (round(s.distance(bel), 3), s.bounds))
    lines = shapes.take_length(grid, fig["published"]["early_roads_km"] * 1000)
    return shapely.MultiLineString(lines)


def _early_quarters(fig: dict[str, Any], early: BaseGeometry, streets: BaseGeometry) -> list[Area]:
    r = fig["residential"]
    strips = shapes.corridor(shapes.segments(streets), r["street_width_m"]).intersection(early)
    out = []
    for k, cell in enumerate(_quarter_cells(early, r["quarter_m"]), start=1):
        blocks = shapes.polygonal(cell.difference(strips))
        road = shapes.polygonal(cell.intersection(strips))
        out.append(_quarter(f"E-Q{k}", f"Tadmur early quarter {k}", EARLY, blocks, fig))
        length = sum(s.length for s in shapes.segments(streets.intersection(cell)))
        street = _quarter(f"E-S{k}", f"Streets of early quarter {k}", EARLY, road, fig)
        street.land_use, street.blocks_access, street.road_m = LandUse.ROAD, True, length
        street.depth_cm = fig["historic"]["road_depth_cm"]
        street.evidence = "published: charges set into asphalt at crossroads and concreted over"
        out.append(street)
    return out


def _todo_quarters(fig: dict[str, Any], rest: BaseGeometry) -> list[Area]:
    out = []
    sites = {raw["name"]: shapes.metric_point(*raw["at"]) for raw in fig["residential"]["sites"]}
    for k, cell in enumerate(_quarter_cells(rest, fig["residential"]["quarter_m"]), start=1):
        area = _quarter(f"T-Q{k}", f"Tadmur quarter {k}", TODO, cell, fig)
        named = [name for name, at in sites.items() if cell.buffer(1).contains(at)]
        if named:
            # Published: IEDs at hospitals, bakeries, substations, pumping stations; 2017: these first.
            area.status, area.priority = HazardStatus.CONFIRMED, 2
            area.evidence = f"{IEDS}; devices reported at {', '.join(named)}"
        else:
            area.status, area.priority = HazardStatus.SUSPECTED, 3
        out.append(area)
    return out


def _quarter(key: str, name: str, region: str, shape: BaseGeometry, fig: dict[str, Any]) -> Area:
    return Area(
        key=key,
        name=name,
        region=region,
        shape=shapes.polygonal(shape),
        land_use=LandUse.RESIDENTIAL,
        contamination=Contamination.IED,
        status=HazardStatus.CONFIRMED,
        priority=2,
        depth_cm=fig["residential"]["clearance_depth_cm"],
        evidence=IEDS,
    )


def _quarter_cells(area: BaseGeometry, size: float) -> list[MultiPolygon]:
    """Square cells of ``size`` m over ``area``; a small cut joins the neighbour it shares most border with."""
    pieces = [p for p in shapes.cells(area, size, size) if p.area > 0]
    small = [p for p in pieces if p.area < MERGE_BELOW_M2]
    kept = [p for p in pieces if p.area >= MERGE_BELOW_M2]
    for piece in small:
        shared = [k.intersection(piece.buffer(0.01)).area for k in kept]
        best = max(range(len(kept)), key=lambda i: (shared[i], -i))
        kept[best] = shapes.polygonal(kept[best].union(piece), speck_m2=0.0)
    return [shapes.polygonal(p) for p in kept]


def _plant(raw: dict[str, Any], fig: dict[str, Any]) -> Area:
    lon, lat, width, height = raw["rect"]
    shape = shapes.rectangle(shapes.metric_point(lon, lat), width, height)
    area = Area(
        key=f"T-{raw['key'].upper()}",
        name=raw["name"],
        region=TODO,
        shape=shapes.polygonal(shape),
        land_use=LandUse.parse(raw["land_use"]),
        contamination=Contamination.IED,
        status=HazardStatus.CONFIRMED,
        priority=2,
        depth_cm=fig["residential"]["clearance_depth_cm"],
        evidence="published: mines with electric detonators at power substations and water pumping stations",
        estimated_items=raw.get("estimated_items"),
    )
    if area.land_use == LandUse.INDUSTRIAL:
        area.contamination, area.priority = Contamination.AXO, 3
        area.evidence = "published: one depot alone held 12,000+ items"
    return area


def _airfield(fig: dict[str, Any]) -> tuple[Polygon, BaseGeometry]:
    """The runway, and the rest of the airfield: its strip, taxiways and apron."""
    a = fig["airfield"]
    centre = shapes.metric_point(*a["centre"])
    runway = shapes.rectangle(centre, a["runway_length_m"], a["runway_width_m"], a["runway_bearing_deg"])
    strip = shapes.rectangle(centre, a["runway_length_m"], a["strip_width_m"], a["runway_bearing_deg"])
    along, across, length, depth = a["apron"]
    apron = box(-length / 2, 0, length / 2, depth)
    apron = shapely.affinity.rotate(apron, 90.0 - a["runway_bearing_deg"], origin=(0, 0))
    apron = shapely.affinity.translate(apron, centre.x, centre.y)
    offset = shapely.affinity.rotate(shapely.Point(along, across), 90.0 - a["runway_bearing_deg"], origin=(0, 0))
    apron = shapely.affinity.translate(apron, offset.x, offset.y)
    return runway, strip.union(apron).difference(runway)


def _runway(fig: dict[str, Any], runway: Polygon) -> Area:
    return Area(
        key="E-RUNWAY",
        name="Airfield runway 08/26",
        region=EARLY,
        shape=shapes.polygonal(runway),
        land_use=LandUse.AIRFIELD,
        contamination=Contamination.UXO,
        status=HazardStatus.CONFIRMED,
        priority=2,
        depth_cm=fig["airfield"]["clearance_depth_cm"],
        evidence="airbase retaken 27 March 2016 (published); shelling and abandoned ordnance on the runway",
        blocks_access=True,
        road_m=fig["airfield"]["runway_length_m"],
        notes="runway 2,880 x 45 m (Wikipedia: Palmyra Airport); not counted in the 9.5 km of road",
    )


def _airfield_rest(fig: dict[str, Any], rest: BaseGeometry) -> Area:
    return Area(
        key="T-AIRFIELD",
        name="Airfield strip, taxiways and apron",
        region=TODO,
        shape=shapes.polygonal(rest),
        land_use=LandUse.AIRFIELD,
        contamination=Contamination.MIXED,
        status=HazardStatus.SUSPECTED,
        priority=3,
        depth_cm=fig["airfield"]["clearance_depth_cm"],
        evidence="fighting positions and abandoned ordnance around the aprons suspected",
    )
