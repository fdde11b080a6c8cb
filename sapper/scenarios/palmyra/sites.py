"""Protected sites: the 13 heritage features of the data and the assumed civilian sites.

Why these methods are forbidden (DESIGN.md, "Render-safe procedure versus destruction in
place"; IMAS 09.30 EOD and IMAS 10.20 safety distances): near a monument a blast may
destroy what the clearance is meant to save, so an item there is rendered safe and
removed, never destroyed in place; heavy machines shake and crush buried and standing
remains. The Uran-6 robot's use next to standing monuments was limited by blast risk
(published), so standing monuments also forbid the robot. Civilian sites held IEDs
(published: power substations, water pumping stations, bakeries, hospitals); the town
needs the building afterwards, so no blast and no machine there either. Buffer widths
are assumptions (data/palmyra.toml [sites]).
"""

from __future__ import annotations

from typing import Any

from shapely.geometry import Point

from sapper.model import Method, ProtectedSite, SiteKind
from sapper.scenarios.palmyra.figures import Feature, heritage

NO_BLAST_NO_MACHINE = (Method.DESTRUCTION_IN_PLACE, Method.MECHANICAL)
STANDING = (*NO_BLAST_NO_MACHINE, Method.ROBOT)


def heritage_site(f: Feature, fig: dict[str, Any], organisation: str) -> ProtectedSite:
    kind = SiteKind.parse(f.kind)
    standing = f.name not in fig["sites"]["not_standing"]
    if kind == SiteKind.HERITAGE_SITE:
        # The whole property: no blast and no machine anywhere inside; robots only away from monuments.
        buffer, forbidden, value = 0.0, NO_BLAST_NO_MACHINE, 5
    elif kind == SiteKind.NECROPOLIS:
        buffer, forbidden, value = fig["sites"]["necropolis_buffer_m"], STANDING, 5
    else:
        buffer = fig["sites"]["monument_buffer_m"]
        forbidden, value = (STANDING, 5) if standing else (NO_BLAST_NO_MACHINE, 4)
    notes = f"condition 2017: {f.condition}" + ("" if standing else " (no standing structure in 2016)")
    if f.note:
        notes += f"; {f.note}"
    return ProtectedSite(
        name=f.name,
        kind=kind,
        geometry=f.geometry,
        buffer_m=float(buffer),
        forbidden_methods=forbidden,
        heritage_value=value,
        source=f.source,
        notes=notes,
        organisation=organisation,
        source_key=f"palmyra:site:{f.name}",
    )


def civilian_site(raw: dict[str, Any], fig: dict[str, Any], organisation: str) -> ProtectedSite:
    return ProtectedSite(
        name=raw["name"],
        kind=SiteKind.parse(raw["kind"]),
        geometry=Point(*raw["at"]),
        buffer_m=float(fig["sites"]["civilian_buffer_m"]),
        forbidden_methods=NO_BLAST_NO_MACHINE,
        heritage_value=0,
        source="scenario assumption: position in the modern town assumed, not surveyed",
        notes="published: IEDs with electric detonators were found at such sites in Palmyra",
        organisation=organisation,
        source_key=f"palmyra:site:{raw['name']}",
    )


def protected_sites(fig: dict[str, Any]) -> list[ProtectedSite]:
    org = fig["scenario"]["organisation"]
    sites = [heritage_site(f, fig, org) for f in heritage()]
    sites += [civilian_site(raw, fig, org) for raw in fig["residential"]["sites"]]
    return sites
