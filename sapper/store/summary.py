"""The register at a glance: hazards by status, land by release route, items by category."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sapper.model.enums import HazardStatus, ItemCategory, ItemState, ReleaseRoute
from sapper.model.release import Balance
from sapper.store.register import Register
from sapper.store.schema import layer


@dataclass
class StatusLine:
    count: int = 0
    original_m2: float = 0.0
    hazardous_m2: float = 0.0


@dataclass
class Summary:
    hazards: dict[HazardStatus, StatusLine]
    land: Balance
    items: dict[tuple[ItemCategory, ItemState], int]
    teams: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind -> (teams, personnel)
    protected_sites: int = 0

    @property
    def item_total(self) -> int:
        return sum(self.items.values())


def summarise(reg: Register) -> Summary:
    backend = reg.backend
    released_by_hazard: dict[int, float] = defaultdict(float)
    by_route: dict[str, float] = defaultdict(float)
    for hazard_id, route, _n, area in backend.aggregate(layer("release"), ["hazard_id", "route"], ["area_m2"]):
        released_by_hazard[int(hazard_id)] += float(area or 0)
        by_route[route] += float(area or 0)
    hazards = {status: StatusLine() for status in HazardStatus}
    original_total = 0.0
    for hazard_id, status, _n, original in backend.aggregate(layer("hazard"), ["id", "status"], ["original_area_m2"]):
        line = hazards[HazardStatus.parse(status)]
        original = float(original or 0)
        line.count += 1
        line.original_m2 += original
        line.hazardous_m2 += max(original - released_by_hazard.get(int(hazard_id), 0.0), 0.0)
        original_total += original
    items = {
        (ItemCategory.parse(cat), ItemState.parse(st)): int(n)
        for cat, st, n in backend.aggregate(layer("item"), ["category", "state"])
    }
    teams = {
        kind: (int(n), int(people or 0))
        for kind, n, people in backend.aggregate(layer("team"), ["kind"], ["personnel"])
    }
    land = Balance(
        original=original_total,
        cancelled=by_route.get(ReleaseRoute.CANCELLED.value, 0.0),
        reduced=by_route.get(ReleaseRoute.REDUCED.value, 0.0),
        cleared=by_route.get(ReleaseRoute.CLEARED.value, 0.0),
    )
    return Summary(hazards=hazards, land=land, items=items, teams=teams, protected_sites=reg.count("site"))
