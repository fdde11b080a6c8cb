"""The EOD teams' own work (IMAS 09.30): emptying ammunition depots and disposing of found items.

Where the register has EOD teams, searchers uncover, identify and mark the items they
find and leave their disposal to EOD teams: each block of sectors gets an EOD disposal
task after its search, with the disposal share of the items' handling (rules/data/survey.toml)
of the items still expected there and those found and waiting; the searchers keep the
rest. Only a task whose items are destroyed in place is a demolition, so the danger area
(UN SaferGuard) keeps other teams away only while that task is worked, not for the whole
of the search (``problem.needs_demolition``). An ammunition storage area (IMSMA land
class: a hazard of depot contamination holding many items per hectare) is not searched
at all: its sectors are bulk removal tasks of EOD teams, paced in items per team-day, not
item by item; the stacks are carried to a demolition range, so no blast in the depot.
"""

from __future__ import annotations

from collections.abc import Iterable

import shapely

from sapper.model.enums import ActivityType, Contamination, ItemCategory, Method
from sapper.plan.problem import WorkSector
from sapper.plan.rules.methods import Decision
from sapper.plan.survey.suspected import SurveyData, blocks

EOD_METHODS = (Method.DESTRUCTION_IN_PLACE, Method.RENDER_SAFE_REMOVE)
DEPOT_CONTAMINATION = (Contamination.AXO,)
DEPOT_ITEMS_PER_HA = 500.0  # ASSUMPTION: ten times the densest contamination the scenario's search areas hold
# A depot's items weigh in the plan as the land they would contaminate at a battlefield's density:
# Palmyra's historic part held 2,991 objects on 234 ha (shared data README), about 12.8 per hectare.
# So an open depot (a risk to the town around it) is emptied early, not left to one team at the end.
BATTLEFIELD_ITEMS_PER_HA = 2991 / 234


def is_depot(contamination: Contamination, items: float, area_m2: float) -> bool:
    """An ammunition storage area: abandoned ordnance stacked far denser than any battlefield."""
    return contamination in DEPOT_CONTAMINATION and area_m2 > 0 and items / (area_m2 / 10_000.0) >= DEPOT_ITEMS_PER_HA


def _eod_decision(disposal: Method, activity: ActivityType, why: str) -> Decision:
    other = tuple(m for m in EOD_METHODS if m != disposal)
    forbidden = {} if disposal == Method.DESTRUCTION_IN_PLACE else {Method.DESTRUCTION_IN_PLACE: "no blast here"}
    allowed = (disposal,) if forbidden else (disposal, *other)
    return Decision(allowed, forbidden, disposal, activity, (why,))


def make_depot_task(sector: WorkSector, data: SurveyData) -> None:
    """Turn a depot sector into an EOD bulk-removal task (in place)."""
    items = sum(sector.items.values())
    disposal = sector.decision.disposal
    sector.decision = _eod_decision(disposal, ActivityType.EOD_SPOT, "ammunition storage area: bulk removal by EOD")
    sector.task = "eod"
    sector.label = f"{sector.label}-depot"
    sector.effort_days = dict.fromkeys(EOD_METHODS, items / data.bulk_items_per_day)
    sector.items = {}
    sector.demolitions = False  # carried away to a demolition range
    sector.value_m2 = max(sector.area_m2, items / BATTLEFIELD_ITEMS_PER_HA * 10_000.0)


def disposal_tasks(sectors: list[WorkSector], data: SurveyData) -> tuple[list[WorkSector], list[tuple]]:
    """One EOD disposal task per block of searched sectors, taking over their items.

    Returns the tasks and (sector, task) pairs: a block's items are disposed of once it is
    searched. The land waits for its disposal to be released, so a task weighs as its block.
    """
    tasks, pairs = [], []
    for number, block in enumerate(blocks(sectors, data.block_m2), start=1):
        items = {c: n * data.disposal_share for c, n in _sum_items(s.items for s in block).items()}
        if sum(items.values()) <= 0:
            continue
        blast = all(s.decision.disposal == Method.DESTRUCTION_IN_PLACE for s in block)
        disposal = Method.DESTRUCTION_IN_PLACE if blast else Method.RENDER_SAFE_REMOVE
        base = block[0]
        task = WorkSector(
            index=-1,
            hazard_id=base.hazard_id,
            label=f"H{base.hazard_id}-EOD{number}",
            geometry=shapely.union_all([s.geometry for s in block]),
            area_m2=0.0,
            score=base.score,
            decision=_eod_decision(disposal, ActivityType.EOD_SPOT, "items found by searchers, disposed of by EOD"),
            items=items,
            safety_m=max(s.safety_m for s in block),
            danger_m=max(s.danger_m for s in block),
            land_use=base.land_use,
            task="eod",
            effort_days=dict.fromkeys(EOD_METHODS, 0.0),
            demolitions=blast,
            value_m2=sum(s.area_m2 for s in block),
        )
        tasks.append(task)
        for s in block:
            s.items = {c: n * (1.0 - data.disposal_share) for c, n in s.items.items()}
            s.demolitions = False
            pairs.append((s, task))
    return tasks, pairs


def _sum_items(parts: Iterable[dict[ItemCategory, float]]) -> dict[ItemCategory, float]:
    out: dict[ItemCategory, float] = {}
    for part in parts:
        for cat, n in part.items():
            out[cat] = out.get(cat, 0.0) + n
    return out
