"""The planner's pipeline: from plain register records to a full plan. No database here.

priorities -> work left after reports -> sectors -> methods per sector -> teams and
durations -> greedy plan -> CP-SAT plan -> lanes -> Monte Carlo forecast -> team-days.
Records come in WGS 84 as the register holds them; everything is measured in the UTM
zone of the hazards, and the result keeps that zone to write geometries back.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import shapely

from sapper.model.enums import ActivityType, Contamination, HazardStatus, ItemCategory, ItemState, Method
from sapper.model.geometry import as_multipolygon, densified, to_metric, utm_epsg
from sapper.model.records import Hazard, Item, ProtectedSite, Release, Report, Team
from sapper.plan import lanes as lanes_mod
from sapper.plan.forecasting.forecast import Forecast, forecast
from sapper.plan.forecasting.learning import Learned, apply_learned, learn
from sapper.plan.in_hand import in_hand, keep_in_hand
from sapper.plan.lanes.shapes import long_axis_angle
from sapper.plan.methods import Rules, decide, load_rules, team_methods
from sapper.plan.pace import Reported, reported_pace
from sapper.plan.practice import Mismatch, accepted, find_mismatches
from sapper.plan.priority import Priority, Weights, access_links, load_weights, prioritise
from sapper.plan.problem import Problem, WorkSector, WorkTeam, build_problem
from sapper.plan.productivity import SEARCH_METHODS, Productivity, load_productivity
from sapper.plan.safety import Safety, load_safety
from sapper.plan.scheduling.cpsat import cpsat_schedule
from sapper.plan.scheduling.greedy import greedy_schedule, wspt_schedule
from sapper.plan.scheduling.schedule import Schedule, check
from sapper.plan.scheduling.timeline import Calendar, DayWork, day_work
from sapper.plan.sectors import split_into_sectors
from sapper.plan.survey import Outlook, SurveyData, learn_outcomes, load_survey
from sapper.plan.survey_rates import explain_rates, learn_survey_rates
from sapper.plan.tasks import hazard_work, number
from sapper.plan.worked import Remaining, remaining_by_hazard

Progress = Callable[[str, float], None]  # (step, share of the step done)
LANE_PROFILE = {Method.ROBOT: "uran-6", Method.MECHANICAL: "mv-4", Method.MANUAL: "manual"}
HANDLED = (ItemState.REMOVED, ItemState.DESTROYED_IN_PLACE)
MIN_SECTOR_M2 = 1.0
# what the plan gives teams: search, survey, and EOD disposal and depot removal
PLANNED_METHODS = (*SEARCH_METHODS, Method.SURVEY, Method.DESTRUCTION_IN_PLACE, Method.RENDER_SAFE_REMOVE)


@dataclass
class Settings:
    start: date
    sector_width_m: float = 30.0  # Palmyra 2016: 30 x 80 m sectors (shared data README)
    sector_length_m: float = 80.0
    time_limit_s: float = 20.0
    workers: int = 8
    candidates: int = 8
    window: int = 60
    runs: int = 1000
    seed: int = 0
    rest_weekdays: tuple[int, ...] = ()
    lanes: bool = True
    optimise: bool = (
        True  # CP-SAT; False: its starting list schedule (WSPT) stands in (a backtest plans every past day)
    )
    weights: str | None = None  # data files replacing the packaged ones
    rules: str | None = None
    productivity: str | None = None
    safety: str | None = None
    survey: str | None = None  # survey and EOD figures (data/survey.toml)
    accept_recorded_practice: bool = False  # plan methods the reports show in use where the rules forbid them
    work_in_hand_first: bool = False  # each team first finishes the hazard it reported on last (in_hand.py)

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["start"] = self.start.isoformat()
        out["rest_weekdays"] = list(self.rest_weekdays)
        return out


@dataclass
class Inputs:
    hazards: Sequence[Hazard]
    items: Sequence[Item] = ()
    sites: Sequence[ProtectedSite] = ()
    teams: Sequence[Team] = ()
    reports: Sequence[Report] = ()
    releases: Sequence[Release] = ()

    @property
    def worked_on(self) -> list[date]:
        """The days work was reported or land released: a new plan starts after the last."""
        return [r.report_date for r in self.reports] + [r.released_on for r in self.releases]


@dataclass
class PlanResult:
    settings: Settings
    epsg: int  # the metric CRS every geometry below is in
    priorities: dict[int, Priority]
    hazards: dict[int, Hazard]  # open hazards, metric
    remaining: dict[int, Remaining]
    problem: Problem
    greedy: Schedule
    schedule: Schedule
    forecast: Forecast
    calendar: Calendar
    work: list[DayWork]
    lanes: dict[int, lanes_mod.LanePlan] = field(default_factory=dict)  # by sector
    idle_teams: dict[int, str] = field(default_factory=dict)  # team id -> why it has no sector work
    mismatches: list[Mismatch] = field(default_factory=list)  # methods the reports show where the rules forbid them
    learned: Learned | None = None  # the rates and item densities the reports taught (learning.py)
    reported: Reported | None = None  # the land the register released per day of work (pace.py)

    @property
    def finish_dates(self) -> dict[int, date]:
        return {q: self.calendar.finish_date(d) for q, d in self.forecast.finish.items()}

    @property
    def chart_days(self) -> int:
        """How many days of the burn-down are worth showing: up to a little past the P95 finish
        (the slowest runs' long tails say nothing more)."""
        fc = self.forecast
        return min(len(fc.days), int(max(fc.finish[95], self.schedule.makespan_days) * 1.08) + 2)


@dataclass(frozen=True)
class Data:
    weights: Weights
    rules: Rules
    productivity: Productivity
    safety: Safety
    survey: SurveyData


def load_data(settings: Settings) -> Data:
    return Data(
        load_weights(settings.weights),
        load_rules(settings.rules),
        load_productivity(settings.productivity),
        load_safety(settings.safety),
        load_survey(settings.survey),
    )


def _metric(records: Sequence[Any], epsg: int) -> list[Any]:
    """Copies with geometries in metres; a polygon the projection left invalid is repaired."""
    out = []
    for r in records:
        if r.geometry is None or r.geometry.is_empty:
            out.append(r)
            continue
        polygonal = r.geometry.geom_type in ("Polygon", "MultiPolygon")
        # polygons measured as the register measures them (geometry.area_m2: edges split first)
        geom = to_metric(densified(r.geometry) if polygonal else r.geometry, epsg)
        if polygonal and not geom.is_valid:
            geom = as_multipolygon(shapely.make_valid(geom))
        out.append(dataclasses.replace(r, geometry=geom))
    return out


def metric_epsg(hazards: Sequence[Hazard]) -> int:
    minx, miny, maxx, maxy = shapely.total_bounds([h.geometry for h in hazards])
    return utm_epsg((minx + maxx) / 2.0, (miny + maxy) / 2.0)


def expected_items(
    hazard: Hazard, rem: Remaining, recorded: list[Item], prod: Productivity
) -> tuple[float, dict[ItemCategory, float]]:
    """Items not yet found still expected in the hazard, and their mix by category."""
    original = hazard.original_area_m2 or float(hazard.geometry.area)
    share = rem.area_m2 / original if original > 0 else 0.0
    if hazard.estimated_items or recorded:
        unknown = max(0, hazard.estimated_items - len(recorded)) * share
    else:
        unknown = prod.items_per_ha(hazard.contamination, hazard.land_use) * rem.area_m2 / 10_000.0
    if recorded:
        counts = Counter(i.category for i in recorded)
        mix = {c: n / len(recorded) for c, n in counts.items()}
    else:
        mix = prod.mix.get(hazard.contamination) or prod.mix.get(Contamination.UNKNOWN, {})
    return unknown, mix


def make_sectors(
    hazards: dict[int, Hazard],
    remaining: dict[int, Remaining],
    priorities: dict[int, Priority],
    items: Sequence[Item],
    sites: Sequence[ProtectedSite],
    team_can: set[Method],
    data: Data,
    settings: Settings,
    outlook: Outlook,
    recorded: dict[int, set[Method]] | None = None,
    surveyed: frozenset[int] = frozenset(),
) -> tuple[list[WorkSector], list[tuple[int, int]]]:
    """Sectors of every open hazard, by priority, with their survey and EOD tasks (tasks.py),
    and the (before, after) pairs of those tasks."""
    recorded = recorded or {}
    by_hazard: dict[int, list[Item]] = defaultdict(list)
    for item in items:
        if item.hazard_id is not None:
            by_hazard[item.hazard_id].append(item)
    out: list[WorkSector] = []
    pairs: list = []
    for hid in sorted(priorities, key=lambda h: priorities[h].rank):
        hazard, rem = hazards[hid], remaining[hid]
        if rem.area_m2 <= 0 or rem.geometry.is_empty:
            continue
        unknown, mix = expected_items(hazard, rem, by_hazard[hid], data.productivity)
        waiting = [i for i in by_hazard[hid] if i.state not in HANDLED and i.geometry is not None]
        danger = data.safety.danger_radius_of(c for c, share in mix.items() if share > 0)
        poly_area = float(rem.geometry.area)
        mine: list[WorkSector] = []
        for sector in split_into_sectors(rem.geometry, settings.sector_width_m, settings.sector_length_m):
            if sector.area_m2 < MIN_SECTOR_M2:
                continue  # a sliver left by the grid: nothing to plan
            share = sector.area_m2 / poly_area if poly_area else 0.0
            found = Counter(i.category for i in waiting if sector.geometry.intersects(i.geometry))
            expect = {c: unknown * share * m + found.get(c, 0) for c, m in mix.items()}
            for c, n in found.items():
                expect.setdefault(c, float(n))
            decision = decide(hazard, sector.geometry, sites, data.rules, danger)
            if recorded.get(hid):  # the officer accepts what the reports show for this land
                plain = decide(hazard, sector.geometry, (), data.rules, danger)
                decision = accepted(decision, recorded[hid], plain)
            usable = [m for m in decision.allowed if m in team_can]
            mine.append(
                WorkSector(
                    index=-1,
                    hazard_id=hid,
                    label=f"H{hid}-{sector.label}",
                    geometry=sector.geometry,
                    area_m2=sector.area_m2 * rem.factor,
                    score=priorities[hid].score,
                    decision=decision,
                    items=expect,
                    safety_m=data.safety.working_distance(hazard.contamination, usable),
                    danger_m=danger,
                    land_use=hazard.land_use,
                )
            )
        work, tied = hazard_work(hazard, mine, outlook, data.survey, team_can, hid in surveyed)
        out += work
        pairs += tied
    return out, number(out, pairs)


def make_teams(teams: Sequence[Team], data: Data) -> tuple[list[WorkTeam], dict[int, str]]:
    crew, idle = [], {}
    for team in teams:
        methods = tuple(m for m in team_methods(team, data.rules) if m in PLANNED_METHODS)
        if not team.active:
            idle[int(team.id)] = "not active"  # type: ignore[arg-type]
        elif not methods:
            idle[int(team.id)] = "offers no method the plan gives work to (support)"  # type: ignore[arg-type]
        else:
            crew.append(
                WorkTeam(
                    len(crew),
                    int(team.id),  # type: ignore[arg-type]
                    team.name,
                    team.kind,
                    methods,
                    team.geometry,
                    team.personnel,
                    team.lane_width_m,
                    data.productivity.day(team.kind),
                )
            )
    return crew, idle


def plan_lanes_for(problem: Problem, schedule: Schedule) -> dict[int, lanes_mod.LanePlan]:
    out = {}
    for s, slot in schedule.slots.items():
        if problem.sectors[s].task != "clearance":
            continue  # survey and EOD teams work no lanes
        team = problem.teams[slot.team]
        options: dict[str, float] = {"lane_width": team.lane_width_m, "overlap": 0.0}
        profile = lanes_mod.PROFILES.get(LANE_PROFILE.get(slot.method, ""))
        if profile is not None:
            # the asset's pace and turn time, with the team's own lane width
            options = {**profile.options(), "lane_width": team.lane_width_m}
            options["overlap"] = profile.overlap if profile.overlap < team.lane_width_m else 0.0
        start = None
        if team.base is not None:
            start = (team.base.x, team.base.y)
        geom = problem.sectors[s].geometry
        # lanes along the sector's long side: the fewest turns, without trying every direction
        out[s] = lanes_mod.plan_lanes(geom, angle=long_axis_angle(geom), start=start, **options)
    return out


def make_plan(inputs: Inputs, settings: Settings, progress: Progress | None = None) -> PlanResult:
    def step(name: str, share: float = 1.0) -> None:
        if progress:
            progress(name, share)

    data = load_data(settings)
    open_hazards = [
        h
        for h in inputs.hazards
        if h.status != HazardStatus.RELEASED and h.geometry is not None and not h.geometry.is_empty
    ]
    if not open_hazards:
        raise ValueError("no open hazard to plan: every hazard is released or has no polygon")
    epsg = metric_epsg(open_hazards)
    hazards = {int(h.id): h for h in _metric(open_hazards, epsg)}  # type: ignore[arg-type]
    items, sites = _metric(inputs.items, epsg), _metric(inputs.sites, epsg)
    teams, reports = _metric(inputs.teams, epsg), _metric(inputs.reports, epsg)
    learned = learn(reports, inputs.teams, inputs.hazards, data.productivity, data.rules)  # the reports' evidence
    survey = learn_survey_rates(reports, inputs.teams, data.rules, data.survey, data.productivity)
    data = dataclasses.replace(data, productivity=learned.productivity or data.productivity, survey=survey)
    step("priorities")
    remaining = remaining_by_hazard(list(hazards.values()), reports, inputs.releases)
    ranked = prioritise(list(hazards.values()), sites, items, data.weights, data.productivity.mix)
    priorities = {p.hazard_id: p for p in ranked}
    crew, idle = make_teams(teams, data)
    step("sectors")
    surveyed = frozenset(int(r.hazard_id) for r in reports if r.activity_type == ActivityType.NTS and r.hazard_id)
    shares = learn_outcomes(inputs.hazards, inputs.releases, data.survey, surveyed)
    shares = dataclasses.replace(shares, note=explain_rates(data.survey))
    mismatches = find_mismatches(list(hazards.values()), reports, teams, data.rules)
    recorded: dict[int, set[Method]] = defaultdict(set)
    for m in mismatches if settings.accept_recorded_practice else ():
        recorded[m.hazard_id].add(m.method)
    can = {m for t in crew for m in t.methods}
    sectors, sequence = make_sectors(
        hazards, remaining, priorities, items, sites, can, data, settings, shares, recorded, surveyed
    )
    links = access_links(list(hazards.values()), data.weights.access_m)
    problem = build_problem(
        sectors,
        crew,
        data.productivity,
        links,
        data.weights.doubling_points,
        data.safety.keep_clear,
        sequence,
        shares,
    )
    problem = apply_learned(problem, learned)  # where reports tell, their all-in rates time the work
    if settings.work_in_hand_first:
        problem = keep_in_hand(problem, in_hand(inputs.reports))
    step("greedy plan")
    greedy = greedy_schedule(problem)
    step("optimised plan")
    best = (
        wspt_schedule(problem)
        if not settings.optimise
        else cpsat_schedule(
            problem,
            greedy,
            time_limit_s=settings.time_limit_s,
            workers=settings.workers,
            candidates=settings.candidates,
            window=settings.window,
            seed=settings.seed,
        )
    )
    broken = check(problem, best)
    if broken:  # never hand out a plan that breaks a rule
        raise AssertionError("the plan breaks its own rules: " + "; ".join(broken[:5]))
    for t in crew:
        if all(slot.team != t.index for slot in best.slots.values()):
            idle.setdefault(t.team_id, "no sector its methods may work, or no time left for it")
    step("lanes")
    lane_plans = plan_lanes_for(problem, best) if settings.lanes else {}
    step("forecast", 0.0)
    outlook = forecast(
        problem,
        best,
        data.productivity,
        runs=settings.runs,
        seed=settings.seed,
        progress=lambda done, total: step("forecast", done / max(total, 1)),
        learned=learned,
    )
    calendar = Calendar(settings.start, settings.rest_weekdays)
    return PlanResult(
        settings=settings,
        epsg=epsg,
        priorities=priorities,
        hazards=hazards,
        remaining=remaining,
        problem=problem,
        greedy=greedy,
        schedule=best,
        forecast=outlook,
        calendar=calendar,
        work=day_work(problem, best, calendar),
        lanes=lane_plans,
        idle_teams=idle,
        learned=learned,
        mismatches=mismatches,
        reported=reported_pace(inputs.reports, inputs.releases),
    )
