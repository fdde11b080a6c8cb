"""The whole scenario as plain records, before any register is touched (pure and reproducible)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sapper.model import Hazard, ProtectedSite, Team, TeamKind
from sapper.scenarios.palmyra import shapes
from sapper.scenarios.palmyra.areas import EARLY, HISTORIC, TODO, Area, historic_areas
from sapper.scenarios.palmyra.figures import figures
from sapper.scenarios.palmyra.items import PlacedItem, place_items
from sapper.scenarios.palmyra.sites import protected_sites
from sapper.scenarios.palmyra.teams import teams
from sapper.scenarios.palmyra.town import town_areas
from sapper.scenarios.palmyra.work import WorkPlan, plan_work

REGION_NOTE = {
    HISTORIC: "historic part (published 234 ha)",
    EARLY: "residential part and airfield, early stage (published 40 ha)",
    TODO: "residential part and airfield, still to do (part of the published 560 ha)",
}


@dataclass
class Plan:
    fig: dict[str, Any]
    sites: list[ProtectedSite]
    teams: list[Team]
    areas: list[Area]
    work: WorkPlan
    items: list[PlacedItem]

    def hazards(self) -> list[Hazard]:
        estimates = self.estimates()
        org = self.fig["scenario"]["organisation"]
        out = []
        for a in self.areas:
            notes = REGION_NOTE[a.region]
            if a.road_m:
                notes += f"; road length {a.road_m:,.0f} m"
            if a.notes:
                notes += f"; {a.notes}"
            out.append(
                Hazard(
                    name=a.name,
                    geometry=shapes.wgs84(a.shape),
                    status=a.status,
                    contamination=a.contamination,
                    evidence=a.evidence,
                    land_use=a.land_use,
                    priority=a.priority,
                    blocks_access=a.blocks_access,
                    estimated_items=estimates[a.key],
                    clearance_depth_cm=a.depth_cm,
                    reported_on=self.fig["scenario"]["survey_date"],
                    notes=notes,
                    organisation=org,
                    source_key=f"palmyra:hazard:{a.key}",
                )
            )
        return out

    def estimates(self) -> dict[str, int]:
        """Items expected per hazard: those placed; for land still to do, the published final
        total less what is placed and what the depot held, shared by area."""
        placed: dict[str, int] = {a.key: 0 for a in self.areas}
        for item in self.items:
            placed[item.hazard] += 1
        todo = [a for a in self.areas if a.region == TODO]
        fixed = {a.key: a.estimated_items for a in todo if a.estimated_items is not None}
        shared = [a for a in todo if a.key not in fixed]
        left = max(self.fig["items"]["final_total"] - len(self.items) - sum(fixed.values()), 0)
        whole = sum(a.shape.area for a in shared)
        exact = {a.key: left * a.shape.area / whole for a in shared}
        shares = {k: math.floor(v) for k, v in exact.items()}
        for k in sorted(exact, key=lambda k: (shares[k] - exact[k], k))[: left - sum(shares.values())]:
            shares[k] += 1
        return {**placed, **fixed, **shares}


def make_plan(fig: dict[str, Any] | None = None) -> Plan:
    fig = fig or figures()
    sites = protected_sites(fig)
    team_list = teams(fig)
    areas, historic = historic_areas(fig)
    areas += town_areas(fig, historic)
    robots = {t.name for t in team_list if t.kind == TeamKind.ROBOT}
    work = plan_work(fig, {a.key: a for a in areas}, sites, robots)
    eod = [t.name for t in team_list if t.kind == TeamKind.EOD]
    items = place_items(fig, areas, work, sites, eod)
    return Plan(fig=fig, sites=sites, teams=team_list, areas=areas, work=work, items=items)
