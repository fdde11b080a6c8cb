"""Which methods may work a sector and which one is chosen, from a rules table (data/methods.toml).

Terrain (the hazard's land use) gives the search methods in order of preference;
contamination and protected-site buffers strike some out, each with its reason. A team
is only ever given a sector with a method that is still allowed there. Geometries in
metres.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from sapper.model.enums import ActivityType, Contamination, LandUse, Method, SiteKind, TeamKind
from sapper.model.geometry import grown_boxes
from sapper.model.records import Hazard, ProtectedSite, Team
from sapper.plan.rules.datafiles import DataFileError, Section, load
from sapper.plan.rules.productivity import SEARCH_METHODS


@dataclass(frozen=True)
class TerrainRule:
    land_use: tuple[LandUse, ...]
    activity: ActivityType
    methods: tuple[Method, ...]
    reason: str


@dataclass(frozen=True)
class ContaminationRule:
    contamination: tuple[Contamination, ...]
    forbid: tuple[Method, ...]
    reason: str


@dataclass(frozen=True)
class SiteRule:
    kinds: tuple[SiteKind, ...]
    forbid: tuple[Method, ...]
    reason: str


@dataclass(frozen=True)
class Rules:
    terrain: tuple[TerrainRule, ...]
    contamination: tuple[ContaminationRule, ...]
    site: tuple[SiteRule, ...]
    disposal_preferred: Method
    disposal_fallback: Method
    disposal_reason: str
    heritage_in_danger_area: bool
    team_kind: dict[TeamKind, tuple[Method, ...]]

    def terrain_for(self, land_use: LandUse) -> TerrainRule:
        for rule in self.terrain:
            if land_use in rule.land_use:
                return rule
        return TerrainRule((land_use,), ActivityType.CLEARANCE, SEARCH_METHODS, "no terrain rule: any search method")


@dataclass(frozen=True)
class Decision:
    """The methods for one sector: allowed search methods (preferred first) and disposal."""

    allowed: tuple[Method, ...]
    forbidden: dict[Method, str] = field(default_factory=dict)  # method -> why
    disposal: Method = Method.DESTRUCTION_IN_PLACE
    activity: ActivityType = ActivityType.CLEARANCE
    reasons: tuple[str, ...] = ()

    def explain(self) -> str:
        out = [f"allowed {', '.join(m.value for m in self.allowed) or 'nothing'}; disposal {self.disposal.value}"]
        out += [f"no {m.value}: {why}" for m, why in self.forbidden.items()]
        return "; ".join(out)


def _methods(section: Section, key: str) -> tuple[Method, ...]:
    return section.words(key, Method)


def load_rules(path: str | Path | None = None) -> Rules:
    data = load("methods.toml", path)
    terrain = []
    for t in data.tables("terrain"):
        methods = _methods(t, "methods")
        wrong = [m.value for m in methods if m not in SEARCH_METHODS]
        if wrong:
            raise DataFileError(t.where, f"methods: {', '.join(wrong)} is not a search method")
        terrain.append(
            TerrainRule(
                t.words("land_use", LandUse),
                t.term("activity", t.text("activity"), ActivityType),
                methods,
                t.text("reason"),
            )
        )
    disposal = data.section("disposal")
    return Rules(
        terrain=tuple(terrain),
        contamination=tuple(
            ContaminationRule(c.words("contamination", Contamination), _methods(c, "forbid"), c.text("reason"))
            for c in data.tables("contamination")
        ),
        site=tuple(
            SiteRule(s.words("kinds", SiteKind), _methods(s, "forbid"), s.text("reason")) for s in data.tables("site")
        ),
        disposal_preferred=disposal.term("preferred", disposal.text("preferred"), Method),
        disposal_fallback=disposal.term("fallback", disposal.text("fallback"), Method),
        disposal_reason=disposal.text("reason", ""),
        heritage_in_danger_area=disposal.flag("heritage_in_danger_area", True),
        team_kind=data.mapping("team_kind", TeamKind, _methods),
    )


def team_methods(team: Team, rules: Rules) -> tuple[Method, ...]:
    """What a team can do: its own capabilities, or what its kind usually does."""
    return tuple(team.capabilities) or rules.team_kind.get(team.kind, ())


def site_distances(
    geometries: Sequence[BaseGeometry], sites: Sequence[ProtectedSite], reach_m: float
) -> list[list[tuple[int, float]]]:
    """For each geometry, every site (its position in ``sites``, in that order) that may lie within
    ``reach_m`` of it, with the exact distance; every site within ``reach_m`` is among them.

    One spatial index query for all geometries (boxes grown by ``reach_m``), then one distance per
    pair found: a sector is measured against the sites near it, not against every site.
    """
    found: list[list[tuple[int, float]]] = [[] for _ in geometries]
    placed = [k for k, site in enumerate(sites) if site.geometry is not None]
    if not geometries or not placed or not reach_m >= 0:
        return found
    site_geoms = np.array([sites[k].geometry for k in placed], dtype=object)
    geoms = np.array(geometries, dtype=object)
    grow = reach_m + 1e-9 * max(1.0, reach_m) + 1e-6  # a box never falls short of the reach by rounding
    where, which = shapely.STRtree(site_geoms).query(grown_boxes(geoms, grow))
    order = np.lexsort((which, where))
    where, which = where[order], which[order]
    dist = shapely.distance(geoms[where], site_geoms[which])
    for g, k, d in zip(where.tolist(), which.tolist(), dist.tolist(), strict=True):
        found[g].append((placed[k], d))
    return found


def decide(
    hazard: Hazard,
    geometry: BaseGeometry,
    sites: Sequence[ProtectedSite],
    rules: Rules,
    danger_radius_m: float = 0.0,
) -> Decision:
    """The methods for one part of a hazard (a sector), with every rule that applied."""
    return decide_all(hazard, [geometry], sites, rules, danger_radius_m)[0]


def decide_all(
    hazard: Hazard,
    geometries: Sequence[BaseGeometry],
    sites: Sequence[ProtectedSite],
    rules: Rules,
    danger_radius_m: float = 0.0,
) -> list[Decision]:
    """:func:`decide` for each of a hazard's sectors, the sites near them found in one query."""
    danger = danger_radius_m if danger_radius_m > 0 else 0.0
    reach = max([danger, *(s.buffer_m for s in sites if s.geometry is not None)])
    near = site_distances(geometries, sites, reach) if sites else [[] for _ in geometries]
    return [_decide(hazard, [(sites[k], d) for k, d in pairs], rules, danger_radius_m) for pairs in near]


def _decide(hazard: Hazard, near: list[tuple[ProtectedSite, float]], rules: Rules, danger_radius_m: float) -> Decision:
    """The methods for one sector, given the sites that may reach it (in register order) and their distances."""
    terrain = rules.terrain_for(hazard.land_use)
    forbidden: dict[Method, str] = {}
    reasons = [f"{hazard.land_use.value}: {terrain.reason}"]
    for rule in rules.contamination:
        if hazard.contamination in rule.contamination:
            for method in rule.forbid:
                forbidden.setdefault(method, f"{hazard.contamination.value}: {rule.reason}")
    for site, dist in near:
        if not dist <= site.buffer_m:
            continue
        where = f"{dist:.0f} m from {site.kind.value} {site.name!r} (buffer {site.buffer_m:g} m)"
        for rule in rules.site:
            if site.kind in rule.kinds:
                for method in rule.forbid:
                    forbidden.setdefault(method, f"{where}: {rule.reason}")
        for method in site.forbidden_methods:
            forbidden.setdefault(method, f"{where}: the register says this site forbids it")
    disposal = rules.disposal_preferred
    if rules.heritage_in_danger_area and danger_radius_m > 0 and disposal not in forbidden:
        for site, dist in near:
            if site.kind.is_heritage and dist <= danger_radius_m:
                forbidden[disposal] = (
                    f"{site.kind.value} {site.name!r} at {dist:.0f} m is inside the {danger_radius_m:.0f} m "
                    "demolition danger area (UN SaferGuard)"
                )
                break
    if disposal in forbidden:
        disposal = rules.disposal_fallback
    reasons.append(f"disposal {disposal.value}: {rules.disposal_reason}")
    allowed = tuple(m for m in terrain.methods if m not in forbidden)
    return Decision(allowed, forbidden, disposal, terrain.activity, tuple(reasons))


def method_for(team_can: Sequence[Method], decision: Decision) -> Method | None:
    """The team's method for this sector: the most preferred allowed one it has, or None."""
    for method in decision.allowed:
        if method in team_can:
            return method
    return None
