"""Plans of a whole country in regions: the same sectors and rules as one plan, a team in one region,
the same plan twice; and regions never part hazards a safety distance or danger area joins."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import date

from shapely.geometry import Point, box

from sapper.model.enums import Contamination, HazardClass, HazardStatus, LandUse, Method, TeamKind
from sapper.model.geometry import to_metric, to_wgs84
from sapper.model.records import Hazard, Team
from sapper.plan.build import Inputs, PlanResult, Settings, make_plan
from sapper.plan.regions.country import linked_groups, reach_m
from sapper.plan.rules.safety import load_safety
from sapper.plan.scheduling.schedule import check

EPSG = 32637
TOWNS = {1: (720_000.0, 3_830_000.0), 2: (745_000.0, 3_842_000.0), 3: (731_000.0, 3_861_000.0)}  # 20-30 km apart
KINDS = (TeamKind.SURVEY, TeamKind.MANUAL, TeamKind.MANUAL, TeamKind.DOG, TeamKind.EOD)


def towns_register(towns: dict[int, tuple[float, float]] = TOWNS) -> Inputs:
    """Four hazards in each town (ids town * 100 + k), and five teams based in each town."""
    hazards, teams = [], []
    for town, (x0, y0) in towns.items():
        for k in range(4):
            geom = box(x0 + 300 * k, y0, x0 + 300 * k + 200, y0 + 150)
            hazards.append(
                Hazard(
                    id=town * 100 + k,
                    name=f"town {town} hazard {k}",
                    geometry=to_wgs84(geom, EPSG),
                    hazard_class=HazardClass.SHA if k % 2 else HazardClass.CHA,
                    status=HazardStatus.SUSPECTED if k % 2 else HazardStatus.CONFIRMED,
                    contamination=Contamination.UXO if k % 3 else Contamination.MIXED,
                    land_use=LandUse.OPEN_GROUND if k % 2 else LandUse.RESIDENTIAL,
                    estimated_items=10 + 5 * k,
                    original_area_m2=200 * 150,
                )
            )
        base = to_wgs84(Point(x0 - 200, y0 - 200), EPSG)
        for n, kind in enumerate(KINDS):
            eod = (Method.DESTRUCTION_IN_PLACE, Method.RENDER_SAFE_REMOVE) if kind == TeamKind.EOD else ()
            teams.append(
                Team(
                    id=town * 10 + n,
                    name=f"{kind.value} {town}-{n}",
                    kind=kind,
                    geometry=base,
                    personnel=6,
                    capabilities=eod,
                )
            )
    return Inputs(hazards=hazards, teams=teams)


def settings(regions: int = 1) -> Settings:
    return Settings(
        start=date(2016, 4, 11), time_limit_s=3.0, runs=100, lanes=False, window=8, regions=regions, processes=2
    )


def sectors_of(result: PlanResult) -> set[tuple[str, int, str, str]]:
    return {(s.label, round(s.area_m2), s.task, s.geometry.wkt) for s in result.problem.sectors}


def pairs_by_label(result: PlanResult, pairs) -> set[tuple[str, str]]:
    label = [s.label for s in result.problem.sectors]
    return {tuple(sorted((label[i], label[j]))) for i, j in pairs}


def fingerprint(result: PlanResult):
    slots = sorted((s, x.team, x.method.value, x.start, x.end) for s, x in result.schedule.slots.items())
    return slots, result.schedule.objective, result.forecast.finish


def test_a_plan_in_regions_has_the_single_plans_sectors_and_keeps_its_rules():
    single = make_plan(towns_register(), settings())
    regional = make_plan(towns_register(), settings(regions=3))
    problem = regional.problem
    assert sectors_of(regional) == sectors_of(single)
    # the safety and danger pairs of the whole register, none lost at a region's edge
    assert pairs_by_label(regional, problem.conflicts) == pairs_by_label(single, single.problem.conflicts)
    assert pairs_by_label(regional, problem.danger) == pairs_by_label(single, single.problem.danger)
    assert check(problem, regional.schedule) == []
    assert set(regional.schedule.slots) == set(problem.workable) == set(range(len(problem.sectors)))
    assert sorted(t.team_id for t in problem.teams) == sorted(t.team_id for t in single.problem.teams)
    towns_of_team: dict[int, set[int]] = {}
    for s, slot in regional.schedule.slots.items():
        team = problem.teams[slot.team]
        towns_of_team.setdefault(team.team_id, set()).add(problem.sectors[s].hazard_id // 100)
        assert team.team_id // 10 == problem.sectors[s].hazard_id // 100  # its own town's teams: the nearest
    assert all(len(towns) == 1 for towns in towns_of_team.values())
    assert regional.schedule.status.startswith("3 regions")
    assert len(regional.forecast.finish) and regional.forecast.finish[50] >= regional.schedule.makespan_days * 0.5


def test_a_plan_in_regions_is_the_same_twice():
    first = make_plan(towns_register(), settings(regions=3))
    again = make_plan(towns_register(), settings(regions=3))
    assert fingerprint(first) == fingerprint(again)


def test_hazards_within_a_danger_radius_stay_in_one_region():
    reach = reach_m(load_safety())
    near = {1: TOWNS[1], 2: (TOWNS[1][0] + 900 + reach * 0.9, TOWNS[1][1]), 3: TOWNS[3]}  # town 2 just too close
    inputs = towns_register(near)
    hazards = {int(h.id): h for h in inputs.hazards}
    metric = {h: dataclasses.replace(x, geometry=to_metric(x.geometry, EPSG)) for h, x in hazards.items()}
    groups = linked_groups(metric, reach, {})
    towns = sorted(sorted({h // 100 for h in g}) for g in groups)
    assert towns == [[1, 2], [3]]
    regional = make_plan(inputs, settings(regions=3))
    assert regional.schedule.status.startswith("2 regions")
    assert check(regional.problem, regional.schedule) == []


def test_the_cli_refuses_a_negative_number_of_regions(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "sapper", "plan", str(tmp_path / "none.gpkg"), "--regions", "-1"],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "--regions must be 0 (as many as the work needs) or more" in done.stdout + done.stderr


def test_regions_left_to_the_planner_follow_the_work_still_to_do() -> None:
    from types import SimpleNamespace

    from sapper.plan.regions.country import SECTORS_PER_REGION, regions_for

    size = SimpleNamespace(sector_width_m=30.0, sector_length_m=80.0)

    def work(sectors: float) -> SimpleNamespace:
        return SimpleNamespace(remaining={1: SimpleNamespace(area_m2=sectors * 30.0 * 80.0)})

    assert regions_for(work(10), size) == 1
    assert regions_for(work(SECTORS_PER_REGION), size) == 1
    assert regions_for(work(SECTORS_PER_REGION + 1), size) == 2
    assert regions_for(work(50_000), size) == 50_000 // SECTORS_PER_REGION
    # the three towns are a few hundred sectors: one region, the very plan of --regions 1
    assert fingerprint(make_plan(towns_register(), settings(regions=0))) == fingerprint(
        make_plan(towns_register(), settings(regions=1))
    )
