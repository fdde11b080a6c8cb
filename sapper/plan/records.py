"""A finished plan as register records (sapper.model.plan), geometries back in WGS 84."""

from __future__ import annotations

import json
from datetime import date

import shapely
from shapely.geometry import MultiLineString
from shapely.geometry.base import BaseGeometry

from sapper.model.geometry import as_multipolygon, to_wgs84
from sapper.model.plan import Plan, PlanAssignment, PlanBundle, PlanDay, PlanLane, PlanPriority, PlanSector
from sapper.plan.build import PlanResult
from sapper.plan.forecasting.forecast import BANDS
from sapper.plan.problem import TICKS_PER_DAY
from sapper.plan.scheduling.timeline import clock


def wgs84_polygon(geom: BaseGeometry, epsg: int) -> BaseGeometry:
    """Back to lon/lat; a sliver that the projection made invalid is repaired, not dropped."""
    out = as_multipolygon(to_wgs84(geom, epsg))
    if not out.is_valid:
        out = as_multipolygon(shapely.make_valid(out))
    return out


def _finish(result: PlanResult, levels: dict[int, float] | None) -> dict[str, date]:
    if not levels:
        return {}
    return {f"finish_p{q}": result.calendar.finish_date(levels[q]) for q in (50, 80, 95)}


def plan_record(result: PlanResult, note: str = "") -> Plan:
    schedule, problem = result.schedule, result.problem
    finish = result.finish_dates
    return Plan(
        start_on=result.settings.start,
        parameters=json.dumps(result.settings.as_dict(), sort_keys=True),
        solver=schedule.solver,
        status=schedule.status,
        objective=round(schedule.objective, 3),
        bound=None if schedule.bound is None else round(schedule.bound, 3),
        gap=schedule.gap,
        greedy_objective=round(result.greedy.objective, 3),
        makespan_days=round(schedule.makespan_days, 3),
        finish_p50=finish.get(50),
        finish_p80=finish.get(80),
        finish_p90=finish.get(90),
        finish_p95=finish.get(95),
        hazards=len(result.priorities),
        sectors=len(problem.sectors),
        unworkable=len(problem.unworkable),
        area_m2=round(sum(s.area_m2 for s in problem.sectors), 1),
        notes="; ".join(filter(None, [note, *schedule.notes])),
    )


def sector_records(result: PlanResult) -> list[PlanSector]:
    problem, schedule, cal = result.problem, result.schedule, result.calendar
    team_id = {t.index: t.team_id for t in problem.teams}
    out = []
    for s in problem.sectors:
        slot = schedule.slots.get(s.index)
        out.append(
            PlanSector(
                plan_id=0,
                hazard_id=s.hazard_id,
                label=s.label,
                geometry=wgs84_polygon(s.geometry, result.epsg),
                area_m2=round(s.area_m2, 2),
                priority_score=s.score,
                priority_rank=result.priorities[s.hazard_id].rank,
                allowed_methods=s.decision.allowed,
                method=slot.method if slot else None,
                disposal=s.decision.disposal,
                activity=s.decision.activity,
                team_id=team_id[slot.team] if slot else None,
                start_on=cal.date_of(slot.start // TICKS_PER_DAY) if slot else None,
                end_on=cal.finish_date(slot.end / TICKS_PER_DAY) if slot else None,
                expected_items=round(sum(s.items.values()), 2),
                safety_m=s.safety_m,
                danger_m=round(s.danger_m, 1),
                why=problem.unworkable.get(s.index) or s.decision.explain(),
                **_finish(result, result.forecast.sector_finish.get(s.index)),
            )
        )
    return out


def lane_records(result: PlanResult) -> list[tuple[int, PlanLane]]:
    team_id = {t.index: t.team_id for t in result.problem.teams}
    out = []
    for s, lp in sorted(result.lanes.items()):
        if not lp.lanes:
            continue
        lanes = to_wgs84(MultiLineString(list(lp.lanes)), result.epsg)
        out.append(
            (
                s,
                PlanLane(
                    plan_id=0,
                    sector_id=0,
                    team_id=team_id[result.schedule.slots[s].team],
                    geometry=lanes,
                    lanes=len(lp.lanes),
                    turns=lp.turns,
                    length_m=round(lp.length_m, 1),
                    lane_width_m=lp.lane_width,
                    estimated_hours=round(lp.estimated_hours, 2),
                ),
            )
        )
    return out


def assignment_records(result: PlanResult) -> list[tuple[int, PlanAssignment]]:
    team_id = {t.index: t.team_id for t in result.problem.teams}
    return [
        (
            w.sector,
            PlanAssignment(
                plan_id=0,
                team_id=team_id[w.team],
                sector_id=0,
                hazard_id=result.problem.sectors[w.sector].hazard_id,
                day=w.on,
                day_index=w.day,
                start=clock(w.start_h),
                end=clock(w.end_h),
                hours=round(w.hours, 2),
                method=w.method,
            ),
        )
        for w in result.work
    ]


def priority_records(result: PlanResult) -> list[PlanPriority]:
    counts: dict[int, int] = {}
    areas: dict[int, float] = {}
    for s in result.problem.sectors:
        counts[s.hazard_id] = counts.get(s.hazard_id, 0) + 1
        areas[s.hazard_id] = areas.get(s.hazard_id, 0.0) + s.area_m2
    return [
        PlanPriority(
            plan_id=0,
            hazard_id=hid,
            rank=pr.rank,
            score=pr.score,
            stake=round(pr.points("stake"), 3),
            danger=round(pr.points("danger"), 3),
            blockage=round(pr.points("blockage"), 3),
            officer=round(pr.points("register"), 3),
            explanation=pr.explain(),
            sectors=counts.get(hid, 0),
            area_m2=round(areas.get(hid, 0.0), 1),
            **_finish(result, result.forecast.hazard_finish.get(hid)),
        )
        for hid, pr in sorted(result.priorities.items(), key=lambda kv: kv[1].rank)
    ]


def day_records(result: PlanResult) -> list[PlanDay]:
    """The burn-down as the charts draw it: one row per working day, to a little past the P95 finish."""
    fc, cal = result.forecast, result.calendar
    if not fc.work or not fc.remaining:
        return []
    out = []
    for i in range(result.chart_days):
        g = int(fc.days[i])
        out.append(
            PlanDay(
                plan_id=0,
                day=cal.day_end(g),
                working_day=g,
                planned_team_days=round(float(fc.planned_work[i]), 3),
                **{f"team_days_p{q}": round(float(fc.work[q][i]), 3) for q in BANDS},
                planned_m2=round(float(fc.planned[i]), 1),
                **{f"m2_p{q}": round(float(fc.remaining[q][i]), 1) for q in BANDS},
            )
        )
    return out


def bundle(result: PlanResult, note: str = "") -> PlanBundle:
    return PlanBundle(
        plan_record(result, note),
        sector_records(result),
        lane_records(result),
        assignment_records(result),
        priority_records(result),
        day_records(result),
    )
