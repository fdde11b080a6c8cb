"""Rates learned from the daily reports: the cited figures are the prior, the reports the evidence.

A daily report is one team-day: the area the team searched that day, all in (the drive
out, setting out and the items it dealt with are inside the day). For each team kind,
method and terrain the log of that all-in rate is normal around the site's log rate mu
(a lognormal rate); mu has a normal prior fitted to the cited triangular range
(productivity.toml), and the reports update it by the conjugate normal update with the
day-to-day spread estimated from the reports (pooled with a prior guess). Older days
count less: each team-day's precision is multiplied by 0.5^(age / half-life), the
discounting of a dynamic model whose rate drifts. Teams differ: each team's own rate
has the kind's rate as its prior (widened by the spread between teams) and its own days
as evidence, so a team with no reports yet gets its kind's rate.

Days differ for every team at once (heat, dust, access): day_pace.py estimates that shared
day effect from the same team-days; a rate's day-to-day spread is split into the part the
day shares (drawn once a day for all teams in the forecast) and the team's own.

Item density (items per hectare by contamination and terrain) is gamma-Poisson: a gamma
prior around the default density, updated with the items found in the area searched.
Reports carry no handling times: the time an item takes stays the prior's.

A learned rate is all-in: ``apply_learned`` is the one place that replaces a plan
option's duration by it, with no travel and no item handling added again. Pure: no
database.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from sapper.model.enums import ActivityType, Contamination, LandUse, Method, TeamKind
from sapper.model.records import Hazard, Report, Team
from sapper.plan.forecasting.day_pace import DayPace, estimate
from sapper.plan.problem import Option, Problem, WorkTeam
from sapper.plan.rules.datafiles import Triangular
from sapper.plan.rules.methods import Rules, team_methods
from sapper.plan.rules.productivity import SEARCH_METHODS, LearningSettings, Productivity, SearchRate

RateKey = tuple[TeamKind, Method, LandUse]
Z90 = 1.2815515655446004  # the standard normal's 90th percentile
# The method a team of each kind searches with when its report does not say BAC.
KIND_METHOD = {
    TeamKind.MANUAL: Method.MANUAL,
    TeamKind.DOG: Method.DOG,
    TeamKind.ROBOT: Method.ROBOT,
    TeamKind.MECHANICAL: Method.MECHANICAL,
}
# Reports whose area was searched (NTS only looks; EOD spot tasks and inspections have no search rate).
SEARCH_ACTIVITIES = (ActivityType.CLEARANCE, ActivityType.BAC, ActivityType.ROUTE_CLEARANCE, ActivityType.TS)


@dataclass(frozen=True)
class TeamDay:
    """One team's reported day: the evidence of one all-in rate."""

    team_id: int
    key: RateKey
    on: date
    area_m2: float
    log_rate: float  # log of the all-in rate in the method's unit
    weight: float  # 0.5^(age / half-life)


@dataclass(frozen=True)
class LearnedRate:
    """The posterior of one rate (log scale: mu ~ N(mu_mean, mu_sd^2); a day ~ N(mu, day_sigma^2))."""

    key: RateKey
    unit: str
    prior: Triangular
    days: int  # team-days of evidence
    observed: float  # their mean all-in rate, in the unit, per day
    mu_mean: float
    mu_sd: float
    day_sigma: float  # the team's own day-to-day spread
    group: RateKey  # teams of one group share the forecast's draw of "which rate holds here"
    shared_sigma: float = 0.0  # the day-to-day spread all teams share that day (day_pace.py)

    @property
    def day_variance(self) -> float:
        """A team-day's whole variance around the rate: its own and the day's."""
        return self.day_sigma**2 + self.shared_sigma**2

    @property
    def mean(self) -> float:
        """Posterior mean of a team-day's rate."""
        return math.exp(self.mu_mean + (self.mu_sd**2 + self.day_variance) / 2.0)

    def level(self, z: float) -> float:
        """The mean day rate at ``z`` standard deviations of mu (z = +-1.28: the 10-90 % interval)."""
        return math.exp(self.mu_mean + z * self.mu_sd + self.day_variance / 2.0)

    @property
    def days_per_unit(self) -> float:
        """Expected days per unit of work: one over the mean day rate, averaged over mu's posterior.

        Work spans days and the days add up: a team's output over a run of days is its mean
        day rate times the days (the day-to-day spread averages out, it does not slow the
        team), so the day's spread enters as the mean rate's exp(+sigma^2 / 2), not as E[1 / rate].
        """
        return math.exp(-self.mu_mean + (self.mu_sd**2 - self.day_variance) / 2.0)


@dataclass
class Learned:
    rates: dict[RateKey, LearnedRate] = field(default_factory=dict)  # by team kind, method, terrain
    team_rates: dict[tuple[int, Method, LandUse], LearnedRate] = field(default_factory=dict)  # by team
    density: dict[tuple[Contamination, LandUse], tuple[float, float]] = field(default_factory=dict)  # gamma a, b
    productivity: Productivity | None = None  # the prior's figures with the learned item densities
    newest: date | None = None
    team_sigma: float = 0.0
    transfer_sigma: float = 0.0
    day_pace: DayPace | None = None  # the day effect shared by all teams (day_pace.py)
    chosen: dict = field(default_factory=dict, repr=False)  # rate_for's answers, asked once per team and sector kind

    def rate_for(self, team: WorkTeam, method: Method, land_use: LandUse) -> LearnedRate | None:
        """The team's own rate if it has reported on this method and terrain, else its kind's
        (widened by the spread between teams: this team may be faster or slower), else none."""
        key = (team.team_id, team.kind, method, land_use)
        if key not in self.chosen:
            own = self.team_rates.get((team.team_id, method, land_use))
            kind = self.rates.get((team.kind, method, land_use))
            if own is not None:
                self.chosen[key] = own
            elif kind is not None:
                self.chosen[key] = dataclasses.replace(kind, mu_sd=math.sqrt(kind.mu_sd**2 + self.team_sigma**2))
            else:
                self.chosen[key] = self.transferred(team, method, land_use)
        return self.chosen[key]

    def transferred(self, team: WorkTeam, method: Method, land_use: LandUse) -> LearnedRate | None:
        """A terrain with no reports, for a method the team (or its kind) reported on elsewhere:
        the terrain's prior, moved by as much as the reports moved that method's rate on the
        terrain with most days (a team faster than the cited figures on one ground is likely
        faster on another), widened by the transfer spread. None if nothing was reported."""
        if self.productivity is None or method not in self.productivity.search:
            return None
        sources = [(r, True) for (t, m, _), r in self.team_rates.items() if t == team.team_id and m == method]
        sources += [(r, False) for (k, m, _), r in self.rates.items() if k == team.kind and m == method]
        if not sources:
            return None
        source, own = max(sources, key=lambda rs: (rs[1], rs[0].days, str(rs[0].key)))
        shift = source.mu_mean - log_moments(source.prior)[0]
        target = self.productivity.rate(method, land_use)
        spread = source.mu_sd**2 + self.transfer_sigma**2 + (0.0 if own else self.team_sigma**2)
        return dataclasses.replace(
            source,
            key=(team.kind, method, land_use),
            unit=target.unit,
            prior=target.rate,
            days=0,
            observed=float("nan"),
            mu_mean=log_moments(target.rate)[0] + shift,
            mu_sd=math.sqrt(spread),
        )


def unit_scale(unit: str, personnel: int, day_hours: float) -> float:
    """Units of a method's rate in one square metre per team-day: a day's area / scale is the rate."""
    if unit == "m2_per_person_day":
        return float(max(personnel, 1))
    if unit == "m2_per_hour":
        return day_hours
    return 1.0


@functools.cache
def log_moments(tri: Triangular, points: int = 2000) -> tuple[float, float]:
    """Mean and standard deviation of log X for a triangular X (midpoint quantiles, exact enough)."""
    a, b, c = tri.low, tri.mode, tri.high
    if c <= a:
        return math.log(b), 0.0
    u = (np.arange(points) + 0.5) / points
    cut = (b - a) / (c - a)
    x = np.where(u < cut, a + np.sqrt(u * (c - a) * (b - a)), c - np.sqrt((1 - u) * (c - a) * (c - b)))
    logs = np.log(x)
    return float(logs.mean()), float(logs.std())


def search_method(activity: ActivityType, team: Team, methods: Sequence[Method]) -> Method | None:
    """The method a report's day was searched with, from its activity and the team's methods."""
    if activity not in SEARCH_ACTIVITIES:
        return None
    searching = [m for m in methods if m in SEARCH_METHODS]
    if activity == ActivityType.BAC and Method.BAC in searching:
        return Method.BAC
    own = KIND_METHOD.get(team.kind)
    if own in searching:
        return own
    rest = [m for m in searching if m != Method.BAC]
    return rest[0] if rest else None


def team_days(
    reports: Sequence[Report],
    teams: Sequence[Team],
    hazards: Sequence[Hazard],
    prod: Productivity,
    rules: Rules,
) -> list[TeamDay]:
    """The reports as team-days (a team's reports of one day summed; the largest names its key).

    Report geometries must be in metres; a report without one counts by its ``area_m2``.
    """
    team_of = {int(t.id): t for t in teams if t.id is not None}
    land = {int(h.id): h.land_use for h in hazards if h.id is not None}
    parts: dict[tuple[int, date], list[tuple[float, RateKey]]] = defaultdict(list)
    for r in reports:
        team = team_of.get(r.team_id) if r.team_id is not None else None
        if team is None or r.hazard_id not in land:
            continue
        method = search_method(r.activity_type, team, team_methods(team, rules))
        area = float(r.geometry.area) if r.geometry is not None and not r.geometry.is_empty else r.area_m2
        if method is None or area <= 0 or method not in prod.search:
            continue
        parts[int(team.id), r.report_date].append((area, (team.kind, method, land[r.hazard_id])))  # type: ignore[arg-type]
    if not parts:
        return []
    newest = max(day for _, day in parts)
    half_life = prod.learning.half_life_days
    out = []
    for (team_id, day), pieces in sorted(parts.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        team = team_of[team_id]
        area = sum(a for a, _ in pieces)
        key = max(pieces, key=lambda p: p[0])[1]
        rate = prod.rate(key[1], key[2])
        scale = unit_scale(rate.unit, team.personnel, prod.day(team.kind).hours)
        weight = 0.5 ** ((newest - day).days / half_life)
        out.append(TeamDay(team_id, key, day, area, math.log(area / scale), weight))
    return out


def _posterior(prior_mean: float, prior_var: float, sources: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Conjugate normal update of a mean: each source is (its estimate, that estimate's variance)."""
    precision = 1.0 / prior_var
    total = prior_mean / prior_var
    for mean, var in sources:
        precision += 1.0 / var
        total += mean / var
    return total / precision, 1.0 / precision


def learn_rates(
    days: Sequence[TeamDay], prod: Productivity, settings: LearningSettings, shared_variance: float = 0.0
) -> Learned:
    """Posterior rates per team kind, method and terrain, and per team, from the team-days.

    ``shared_variance``: the day effect's variance (day_pace.py), the part of each rate's
    day-to-day variance all teams share; the rest is the team's own (floored at 0, as a
    variance component's moment estimate is).
    """
    out = Learned(team_sigma=settings.team_sigma, transfer_sigma=settings.transfer_sigma)
    by_key: dict[RateKey, list[TeamDay]] = defaultdict(list)
    for d in days:
        by_key[d.key].append(d)
    tau2 = settings.team_sigma**2
    for key in sorted(by_key, key=str):
        rows = by_key[key]
        rate: SearchRate = prod.rate(key[1], key[2])
        m0, s0 = log_moments(rate.rate)
        s0 = max(s0, 1e-3)
        by_team: dict[int, list[TeamDay]] = defaultdict(list)
        for d in rows:
            by_team[d.team_id].append(d)
        stats = {}  # team -> (weighted mean of log rate, total weight)
        spread = settings.day_sigma_days * settings.day_sigma**2
        weight_all = settings.day_sigma_days
        for team, team_rows in by_team.items():
            w = np.array([d.weight for d in team_rows])
            y = np.array([d.log_rate for d in team_rows])
            mean = float(np.average(y, weights=w))
            stats[team] = (mean, float(w.sum()))
            spread += float((w * (y - mean) ** 2).sum())
            # the team's mean takes one degree of freedom (V1 - V2 / V1 with weights): a single day shows no spread
            weight_all += float(w.sum() - (w**2).sum() / w.sum())
        sigma2 = spread / weight_all  # the day-to-day variance: the prior guess pooled with the reports
        # a team's mean of days estimates the kind's rate give or take its own rate's spread and the days'
        sources = {team: (mean, tau2 + sigma2 / weight) for team, (mean, weight) in stats.items()}
        kind_mean, kind_var = _posterior(m0, s0**2, list(sources.values()))
        observed = float(np.mean([math.exp(d.log_rate) for d in rows]))
        shared = min(shared_variance, sigma2)
        common = dict(
            unit=rate.unit,
            prior=rate.rate,
            day_sigma=math.sqrt(sigma2 - shared),
            shared_sigma=math.sqrt(shared),
            group=key,
        )
        out.rates[key] = LearnedRate(
            key=key,
            days=len(rows),
            observed=observed,
            mu_mean=kind_mean,
            mu_sd=math.sqrt(kind_var),
            **common,
        )
        for team, (mean, weight) in stats.items():
            others = [src for t, src in sources.items() if t != team]
            prior_mean, prior_var = _posterior(m0, s0**2, others)  # the kind's rate from the other teams
            mu, var = _posterior(prior_mean, prior_var + tau2, [(mean, sigma2 / weight)])
            own = by_team[team]
            out.team_rates[team, key[1], key[2]] = LearnedRate(
                key=key,
                days=len(own),
                observed=float(np.mean([math.exp(d.log_rate) for d in own])),
                mu_mean=mu,
                mu_sd=math.sqrt(var),
                **common,
            )
    return out


def learn_density(
    reports: Sequence[Report], hazards: Sequence[Hazard], prod: Productivity
) -> dict[tuple[Contamination, LandUse], tuple[float, float]]:
    """Gamma posterior (shape, rate per hectare) of items per hectare, by contamination and terrain."""
    of = {int(h.id): (h.contamination, h.land_use) for h in hazards if h.id is not None}
    found: dict[tuple[Contamination, LandUse], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in reports:
        if r.activity_type not in SEARCH_ACTIVITIES or r.hazard_id not in of:
            continue
        area = float(r.geometry.area) if r.geometry is not None and not r.geometry.is_empty else r.area_m2
        if area <= 0:
            continue
        found[of[r.hazard_id]][0] += r.items_found
        found[of[r.hazard_id]][1] += area / 10_000.0
    b0 = prod.learning.items_prior_ha
    a0 = prod.default_items_per_ha * b0
    return {key: (a0 + n, b0 + ha) for key, (n, ha) in sorted(found.items(), key=str)}


def learn(
    reports: Sequence[Report],
    teams: Sequence[Team],
    hazards: Sequence[Hazard],
    prod: Productivity,
    rules: Rules,
) -> Learned:
    """Everything the reports teach: rates per team and kind, item densities (reports in metres)."""
    days = team_days(reports, teams, hazards, prod, rules)
    pace = estimate(days, prod.learning.half_life_days)
    out = learn_rates(days, prod, prod.learning, pace.variance)
    out.day_pace = pace
    out.density = learn_density(reports, hazards, prod)
    out.productivity = dataclasses.replace(prod, density={k: a / b for k, (a, b) in out.density.items()})
    out.newest = max((d.on for d in days), default=None)
    return out


def apply_learned(problem: Problem, learned: Learned) -> Problem:
    """The problem with every option that has a learned rate timed by it, all in.

    The one place a learned rate replaces the cited one: the option's days are the area
    over the all-in rate, the whole working day counts (no travel taken off, it is in the
    rate) and no item handling is added (the reported days dealt with their items).
    """
    options = []
    for sector, opts in zip(problem.sectors, problem.options, strict=True):
        new = []
        for opt in opts:
            team = problem.teams[opt.team]
            rate = learned.rate_for(team, opt.method, sector.land_use)
            if rate is None or opt.method in sector.effort_days:  # survey and EOD tasks state their own effort
                new.append(opt)
                continue
            day_h = team.day.hours
            area = sector.area_m2 if sector.search_m2 is None else sector.search_m2
            days = area / unit_scale(rate.unit, team.personnel, day_h) * rate.days_per_unit
            new.append(Option(opt.team, opt.method, days * day_h, 0.0, day_h, opt.distance_m))
        options.append(sorted(new, key=lambda o: (o.days, o.distance_m, o.team)))
    return dataclasses.replace(problem, options=options)
