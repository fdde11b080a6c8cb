"""Write the scenario into a register through its public API, in one transaction.

Everything goes through ``Register.add_many`` and ``Register.release``, so the register's
own rules hold for the scenario as for any user: the first progress report puts a hazard
in clearance, a release cuts its polygon and closes it when nothing is left, and an item
destroyed in place near a site that forbids it would be refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sapper.model import Activity, ActivityStatus, ActivityType, Item, ItemState, Report, SapperError
from sapper.scenarios.palmyra import shapes
from sapper.scenarios.palmyra.items import PlacedItem
from sapper.scenarios.palmyra.plan import Plan, make_plan
from sapper.store import Register
from sapper.store.schema import LAYERS

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
        for report, day in zip(reports, plan.work.reports):  # EOD reports (after these) release nothing
            if day.releases:
                reg.release(report.hazard_id, None, report_id=report.id)
            tick("land release", 1)
        items = [_item(i, hazards, teams, plan) for i in plan.items]
        for start in range(0, len(items), ITEM_CHUNK):
            tick("explosive items", 0)
            chunk = reg.add_many(items[start : start + ITEM_CHUNK])
            tick("explosive items", len(chunk))
    return plan


def _activities(
    reg: Register, plan: Plan, hazards: dict[str, int], teams: dict[str, int]
) -> dict[tuple[int, str], int]:
    """One activity per work line and hazard that produced reports: {(line index, hazard key): activity id}."""
    snapshot = plan.fig["scenario"]["snapshot"]
    records, keys = [], []
    for index, line in enumerate(plan.work.lines):
        for key in dict.fromkeys(r.hazard for r in plan.work.reports if r.line == index):
            reports = [r for r in plan.work.reports if r.line == index and r.hazard == key]
            finished = key in plan.work.closed or line["to"] < snapshot
            first, last = reports[0].day, reports[-1].day
            number = f"{index + 1}" if len(keys) == 0 or keys[-1][0] != index else f"{index + 1}-{key}"
            records.append(
                Activity(
                    activity_type=reports[0].activity,
                    hazard_id=hazards[key],
                    team_id=teams[line["teams"][0]],
                    status=ActivityStatus.COMPLETED if finished else ActivityStatus.ONGOING,
                    start_on=first,
                    end_on=last if finished else None,
                    notes="teams: " + ", ".join(line["teams"]),
                    organisation=plan.fig["scenario"]["organisation"],
                    source_key=f"palmyra:activity:{number}",
                )
            )
            keys.append((index, key))
    return {key: rec.id for key, rec in zip(keys, reg.add_many(records))}


def _reports(
    reg: Register,
    plan: Plan,
    hazards: dict[str, int],
    teams: dict[str, int],
    activities: dict[tuple[int, str], int],
) -> list[Report]:
    """The teams' daily reports, then the EOD teams' (one a day each: the items it disposed of)."""
    found = Counter(item.report for item in plan.items if item.report is not None)
    org = plan.fig["scenario"]["organisation"]
    records = [
        Report(
            activity_type=r.activity,
            report_date=r.day,
            hazard_id=hazards[r.hazard],
            team_id=teams[r.team],
            activity_id=activities[r.line, r.hazard],
            geometry=shapes.wgs84(r.shape),
            items_found=found[k - 1],
            reported_by=f"leader, {r.team}",
            notes=f"{r.sectors} sector(s) of 30 x 80 m" if r.releases else "looked over: evidence found, land stays",
            organisation=org,
            source_key=f"palmyra:report:{k:03d}",
        )
        for k, r in enumerate(plan.work.reports, start=1)
    ]
    disposed: dict[tuple[str, object], list[PlacedItem]] = {}
    for item in plan.items:
        if item.disposed_by and item.found_on:
            disposed.setdefault((item.disposed_by, item.found_on), []).append(item)
    for (team, day), done in sorted(disposed.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        where = Counter(i.hazard for i in done).most_common(1)[0][0]
        blasts = sum(i.state == ItemState.DESTROYED_IN_PLACE for i in done)
        records.append(
            Report(
                activity_type=ActivityType.EOD_SPOT,
                report_date=day,  # type: ignore[arg-type]
                hazard_id=hazards[where],
                team_id=teams[team],
                notes=f"{len(done)} item(s) disposed of: {blasts} destroyed in place, "
                f"{len(done) - blasts} rendered safe (and removed)",
                reported_by=f"leader, {team}",
                organisation=org,
                source_key=f"palmyra:report:eod:{team}:{day}",
            )
        )
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
