"""The planner's pipeline: from plain register records to a full plan. No database here.

priorities -> work left after reports -> sectors -> methods per sector -> teams and
durations -> greedy plan -> CP-SAT plan -> lanes -> Monte Carlo forecast -> team-days.
Records come in WGS 84 as the register holds them; everything is measured in the UTM
zone of the hazards, and the result keeps that zone to write geometries back.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import shapely

from sapper.i18n import N_
from sapper.model.enums import ActivityType, HazardStatus, Method
from sapper.model.geometry import as_multipolygon, densified, to_metric, utm_epsg
from sapper.model.records import Hazard, Item, ProtectedSite, Release, Report, Team
from sapper.plan import lanes as lanes_mod
from sapper.plan.forecasting.forecast import Forecast, forecast
from sapper.plan.forecasting.learning import Learned, learn
from sapper.plan.lanes.for_plan import plan_lanes_for
from sapper.plan.notes.pace import Reported, reported_pace
from sapper.plan.problem import Problem, WorkTeam
from sapper.plan.progress.in_hand import in_hand
from sapper.plan.progress.worked import Remaining, remaining_by_hazard
from sapper.plan.regions.country import plan_in_regions
from sapper.plan.regions.part import Data, Part, plan_part
from sapper.plan.rules.methods import load_rules, team_methods
from sapper.plan.rules.practice import Mismatch, find_mismatches
from sapper.plan.rules.priority import Priority, access_links, load_weights, prioritise
from sapper.plan.rules.productivity import SEARCH_METHODS, load_productivity
from sapper.plan.rules.safety import load_safety
from sapper.plan.scheduling.schedule import Schedule
from sapper.plan.scheduling.timeline import Calendar, DayWork, day_work
from sapper.plan.survey.rates import explain_rates, learn_survey_rates
from sapper.plan.survey.suspected import learn_outcomes, load_survey

Progress = Callable[[str, float], None]  # (step, share of the step done)
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
    survey: str | None = None  # survey and EOD figures (rules/data/survey.toml)
    accept_recorded_practice: bool = False  # plan methods the reports show in use where the rules forbid them
    work_in_hand_first: bool = False  # each team first finishes the hazard it reported on last (progress/in_hand.py)
    regions: int = 1  # plan this many regions apart (0: as many as the work needs), in parallel, and join them
    processes: int = 1  # processes planning regions at once

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
    reported: Reported | None = None  # the land the register released per day of work (notes/pace.py)

    @property
    def finish_dates(self) -> dict[int, date]:
        return {q: self.calendar.finish_date(d) for q, d in self.forecast.finish.items()}

    @property
    def chart_days(self) -> int:
        """How many days of the burn-down are worth showing: up to a little past the P95 finish
        (the slowest runs' long tails say nothing more)."""
        fc = self.forecast
        return min(len(fc.days), int(max(fc.finish[95], self.schedule.makespan_days) * 1.08) + 2)


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


def make_teams(teams: Sequence[Team], data: Data) -> tuple[list[WorkTeam], dict[int, str]]:
    crew, idle = [], {}
    for team in teams:
        methods = tuple(m for m in team_methods(team, data.rules) if m in PLANNED_METHODS)
        if not team.active:
            idle[int(team.id)] = N_("not active")  # type: ignore[arg-type]
        elif not methods:
            idle[int(team.id)] = N_("offers no method the plan gives work to (support)")  # type: ignore[arg-type]
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
    part = Part(
        hazards,
        remaining,
        priorities,
        items,
        sites,
        crew,
        {m for t in crew for m in t.methods},
        access_links(list(hazards.values()), data.weights.access_m),
        shares,
        learned,
        recorded,
        surveyed,
        in_hand(inputs.reports) if settings.work_in_hand_first else {},
    )
    if settings.regions != 1:
        planned = plan_in_regions(part, data, settings, step)
    else:
        planned = plan_part(part, data, settings, step)
    problem, greedy, best = planned.problem, planned.greedy, planned.schedule
    for t in problem.teams:
        if all(slot.team != t.index for slot in best.slots.values()):
            idle.setdefault(t.team_id, N_("no sector its methods may work, or no time left for it"))
    step("lanes")
    lane_plans = plan_lanes_for(problem, best, settings.processes) if settings.lanes else {}
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
