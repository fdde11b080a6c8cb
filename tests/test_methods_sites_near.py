"""Protected sites near many sectors at once: the same decisions as measuring every sector against every site.

Sectors exactly at a site's buffer distance (reached), a hair beyond it (not reached), a heritage
site exactly at the demolition danger radius, sites with no geometry, and many sites in register
order (the first reason given for a method is the first site's).
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import Point, box

from sapper.model.enums import Contamination, LandUse, Method, SiteKind
from sapper.model.records import Hazard, ProtectedSite
from sapper.plan.rules.methods import Decision, decide, load_rules

RULES = load_rules()


def _hazard() -> Hazard:
    return Hazard(
        id=1, name="H1", geometry=box(0, 0, 300, 300), land_use=LandUse.OPEN_GROUND, contamination=Contamination.UXO
    )


def _one_by_one(hazard: Hazard, geometry, sites, danger: float) -> Decision:
    """The rules read plainly: every site measured against the sector, one distance at a time, in register order."""
    terrain = RULES.terrain_for(hazard.land_use)
    forbidden: dict[Method, str] = {}
    for rule in RULES.contamination:
        if hazard.contamination in rule.contamination:
            for method in rule.forbid:
                forbidden.setdefault(method, f"{hazard.contamination.value}: {rule.reason}")
    for site in sites:
        if site.geometry is None:
            continue
        dist = float(shapely.distance(geometry, site.geometry))
        if not dist <= site.buffer_m:
            continue
        where = f"{dist:.0f} m from {site.kind.value} {site.name!r} (buffer {site.buffer_m:g} m)"
        for rule in RULES.site:
            if site.kind in rule.kinds:
                for method in rule.forbid:
                    forbidden.setdefault(method, f"{where}: {rule.reason}")
        for method in site.forbidden_methods:
            forbidden.setdefault(method, f"{where}: the register says this site forbids it")
    disposal = RULES.disposal_preferred
    if danger > 0 and disposal not in forbidden:
        for site in sites:
            if site.geometry is not None and site.kind.is_heritage:
                dist = float(shapely.distance(geometry, site.geometry))
                if dist <= danger:
                    forbidden[disposal] = (
                        f"{site.kind.value} {site.name!r} at {dist:.0f} m is inside the {danger:.0f} m "
                        "demolition danger area (UN SaferGuard)"
                    )
                    break
    if disposal in forbidden:
        disposal = RULES.disposal_fallback
    reasons = (f"{hazard.land_use.value}: {terrain.reason}", f"disposal {disposal.value}: {RULES.disposal_reason}")
    allowed = tuple(m for m in terrain.methods if m not in forbidden)
    return Decision(allowed, forbidden, disposal, terrain.activity, reasons)


def test_a_sector_exactly_at_a_buffer_is_reached_and_one_a_hair_beyond_is_not() -> None:
    sector = box(0, 0, 30, 80)
    at = ProtectedSite(name="School", kind=SiteKind.SCHOOL, geometry=Point(80, 40), buffer_m=50.0)
    beyond = ProtectedSite(name="School", kind=SiteKind.SCHOOL, geometry=Point(80, 40), buffer_m=49.999999)
    d = decide(_hazard(), sector, [at], RULES)
    assert (
        Method.DESTRUCTION_IN_PLACE in d.forbidden
        and "50 m from school 'School'" in d.forbidden[Method.DESTRUCTION_IN_PLACE]
    )
    assert d.disposal == RULES.disposal_fallback
    d = decide(_hazard(), sector, [beyond], RULES)
    assert Method.DESTRUCTION_IN_PLACE not in d.forbidden and d.disposal == RULES.disposal_preferred


def test_a_heritage_site_exactly_at_the_danger_radius_forbids_a_blast() -> None:
    sector = box(0, 0, 30, 80)
    temple = ProtectedSite(name="Temple", kind=SiteKind.MONUMENT, geometry=Point(30, 360), buffer_m=10.0)
    d = decide(_hazard(), sector, [temple], RULES, danger_radius_m=280.0)
    assert "inside the 280 m demolition danger area" in d.forbidden[Method.DESTRUCTION_IN_PLACE]
    d = decide(_hazard(), sector, [temple], RULES, danger_radius_m=279.999999)
    assert Method.DESTRUCTION_IN_PLACE not in d.forbidden


def test_many_sectors_and_sites_agree_with_one_distance_per_pair() -> None:
    rng = np.random.default_rng(7)
    kinds = [SiteKind.MONUMENT, SiteKind.SCHOOL, SiteKind.HOSPITAL, SiteKind.OTHER, SiteKind.NECROPOLIS]
    sites = []
    for k in range(60):
        x, y = rng.uniform(-400, 700, 2)
        geometry = None if k % 17 == 0 else (Point(x, y) if k % 2 else box(x, y, x + 20, y + 15))
        extra = (Method.DOG,) if k % 5 == 0 else ()
        sites.append(
            ProtectedSite(
                name=f"S{k}",
                kind=kinds[k % len(kinds)],
                geometry=geometry,
                buffer_m=float(rng.choice([0.0, 25.0, 50.0, 100.0])),
                forbidden_methods=extra,
            )
        )
    # sectors on a 30 m grid: with whole-metre sites some lie exactly at a buffer's distance
    sites.append(
        ProtectedSite(
            name="Edge",
            kind=SiteKind.OTHER,
            geometry=Point(130.0, 40.0),
            buffer_m=40.0,
            forbidden_methods=(Method.BAC,),
        )
    )
    sectors = [box(x, y, x + 30, y + 80) for x in range(0, 300, 30) for y in range(0, 320, 80)]
    assert RULES.heritage_in_danger_area
    for danger in (0.0, 40.0, 280.0):
        for sector in sectors:
            d = decide(_hazard(), sector, sites, RULES, danger_radius_m=danger)
            plain = _one_by_one(_hazard(), sector, sites, danger)
            assert d == plain
            assert list(d.forbidden.items()) == list(plain.forbidden.items())  # each method's first reason
    reached = [decide(_hazard(), s, sites, RULES).forbidden for s in sectors]
    assert sum(Method.BAC in f for f in reached) == 5  # two of them exactly 40 m from it
