"""Write the scenario into a register through its public API, in one transaction.

Everything goes through ``Register.add_many`` and ``Register.release``, so the register's
own rules hold for the scenario as for any user: the first progress report puts a hazard
in clearance, a release cuts its polygon and closes it when nothing is left, and an item
destroyed in place near a site that forbids it would be refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sapper.model import Activity, ActivityStatus, Item, Report, SapperError
from sapper.store import Register
from sapper.store.schema import LAYERS
from scenarios.palmyra import shapes
from scenarios.palmyra.items import PlacedItem
from scenarios.palmyra.plan import Plan, make_plan

Progress = Callable[[str, int], None]  # (what is being written now, how many records were just written)
ITEM_CHUNK = 1000


def units(plan: Plan) -> int:
    """How many writes the build makes (for a progress bar)."""
    return len(plan.sites) + len(plan.teams) + len(plan.areas) + 2 * len(plan.work.reports) + len(plan.items)


def refuse_non_empty(reg: Register) -> None:
    held = {lay.kind: reg.count(lay.kind) for lay in LAYERS}
    if any(held.values()):
        listed = ", ".join(f"{n} {kind}" for kind, n in held.items() if n)
        raise SapperError(
            f"the register already holds records ({listed}); the Palmyra scenario is built into an empty "
            "register: give a new .gpkg file or an empty database"
        )


def build(reg: Register, plan: Plan | None = None, progress: Progress | None = None) -> Plan:
    """Build the Palmyra register into the empty ``reg``, all or nothing; returns what it wrote.

    Every record carries a ``source_key`` ``palmyra:<kind>:<key>`` to find it again.
    """
    refuse_non_empty(reg)
    plan = plan or make_plan()
    tick = progress or (lambda _what, _n: None)
    with reg.transaction():
        tick("protected sites", 0)
        sites = reg.add_many(plan.sites)
        tick("teams", len(sites))
        teams = {t.name: t.id for t in reg.add_many(plan.teams)}
        tick("hazard areas", len(teams))
        stored = reg.add_many(plan.hazards())
        hazards = {a.key: h.id for a, h in zip(plan.areas, stored)}
        tick("daily reports", len(hazards))
        activities = _activities(reg, plan, hazards, teams)
        reports = _reports(reg, plan, hazards, teams, activities)
        tick("land release", len(reports))
        for report in reports:
            reg.release(report.hazard_id, None, report_id=report.id)
            tick("land release", 1)
        items = [_item(i, hazards, teams, plan) for i in plan.items]
        for start in range(0, len(items), ITEM_CHUNK):
            tick("explosive items", 0)
            chunk = reg.add_many(items[start : start + ITEM_CHUNK])
            tick("explosive items", len(chunk))
    return plan


def _activities(reg: Register, plan: Plan, hazards: dict[str, int], teams: dict[str, int]) -> dict[int, int]:
    """One activity per work line that produced reports: {line index: activity id}."""
    snapshot = plan.fig["scenario"]["snapshot"]
    records, lines = [], []
    for index, line in enumerate(plan.work.lines):
        reports = [r for r in plan.work.reports if r.line == index]
        if not reports:
            continue
        finished = line["hazard"] in plan.work.closed or line["to"] < snapshot
        first, last = reports[0].day, reports[-1].day
        records.append(
            Activity(
                activity_type=reports[0].activity,
                hazard_id=hazards[line["hazard"]],
                team_id=teams[line["teams"][0]],
                status=ActivityStatus.COMPLETED if finished else ActivityStatus.ONGOING,
                start_on=first,
                end_on=last if finished else None,
                notes="teams: " + ", ".join(line["teams"]),
                organisation=plan.fig["scenario"]["organisation"],
                source_key=f"palmyra:activity:{index + 1}",
            )
        )
        lines.append(index)
    return {index: rec.id for index, rec in zip(lines, reg.add_many(records))}


def _reports(
    reg: Register, plan: Plan, hazards: dict[str, int], teams: dict[str, int], activities: dict[int, int]
) -> list[Report]:
    found = Counter(item.report for item in plan.items if item.report is not None)
    records = [
        Report(
            activity_type=r.activity,
            report_date=r.day,
            hazard_id=hazards[r.hazard],
            team_id=teams[r.team],
            activity_id=activities[r.line],
            geometry=shapes.wgs84(r.shape),
            items_found=found[k - 1],
            reported_by=f"leader, {r.team}",
            notes=f"{r.sectors} sector(s) of 30 x 80 m",
            organisation=plan.fig["scenario"]["organisation"],
            source_key=f"palmyra:report:{k:03d}",
        )
        for k, r in enumerate(plan.work.reports, start=1)
    ]
    return reg.add_many(records)


def _item(i: PlacedItem, hazards: dict[str, int], teams: dict[str, int], plan: Plan) -> Item:
    return Item(
        category=i.category,
        geometry=i.point,
        state=i.state,
        hazard_id=hazards[i.hazard],
        team_id=teams[i.team] if i.team else None,
        model=i.model,
        condition=i.condition,
        depth_cm=i.depth_cm,
        weight_kg=i.weight_kg,
        found_on=i.found_on,
        notes=i.notes,
        organisation=plan.fig["scenario"]["organisation"],
        source_key=f"palmyra:item:{i.key}",
    )
