"""How long work takes: search rates per method, working days, travel and item handling.

Rates are distributions from cited figures (data/productivity.toml). The plan uses
expected durations (the mean time a sector takes over the rate's range and its spread,
and the mean handling time); the forecast draws from the whole range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from sapper.model.enums import Contamination, ItemCategory, LandUse, Method, TeamKind
from sapper.plan.rules.datafiles import DataFileError, Section, Triangular, load

SEARCH_METHODS = (Method.MANUAL, Method.BAC, Method.DOG, Method.ROBOT, Method.MECHANICAL)
# Teams whose machine meets the items (a flail or tiller sets off or breaks up what it hits): its crew
# stops for each, it does not dig them out (productivity.toml [machine_stop], IMAS 09.50)
MACHINE_KINDS = (TeamKind.ROBOT, TeamKind.MECHANICAL)
UNITS = ("m2_per_person_day", "m2_per_team_day", "m2_per_hour")
# A team never has less than this share of its day left for work after travel.
MIN_WORK_SHARE = 0.25


@dataclass(frozen=True)
class SearchRate:
    unit: str
    rate: Triangular
    source: str

    def per_hour(self, value: float, personnel: int, day_hours: float) -> float:
        """A rate in this method's unit as square metres per working hour of the team."""
        if self.unit == "m2_per_person_day":
            return value * personnel / day_hours
        if self.unit == "m2_per_team_day":
            return value / day_hours
        return value


@dataclass(frozen=True)
class WorkDay:
    start_h: float  # clock hour the team leaves base
    hours: float  # hours on the job, travel included


@dataclass(frozen=True)
class LearningSettings:
    """How the daily reports update the rates (productivity.toml [learning]; see learning.py)."""

    half_life_days: float = 7.0  # a team-day this many days older than the newest weighs half
    day_sigma: float = 0.35  # prior guess of one team-day's spread (log rate) around its rate
    day_sigma_days: float = 4.0  # that guess weighs as much as this many team-days
    team_sigma: float = 0.15  # spread (log rate) between teams of one kind on one method and terrain
    transfer_sigma: float = 0.3  # spread (log) of carrying a method's learned pace to a terrain with no reports
    items_prior_ha: float = 2.0  # the prior item density weighs as much as this many hectares searched


@dataclass(frozen=True)
class Productivity:
    search: dict[Method, SearchRate]
    terrain: dict[LandUse, dict[Method, SearchRate]]
    days: dict[TeamKind, WorkDay]
    speed_kmh: float
    setup_h: float
    sector_sigma: float
    default_items_per_ha: float
    people_per_item: float
    handling: dict[ItemCategory, Triangular]
    machine_stop: Triangular | None  # hours a machine stops for one item it meets (None: it handles them as on foot)
    mix: dict[Contamination, dict[ItemCategory, float]]
    learning: LearningSettings = LearningSettings()
    # items per hectare learned from the reports, by contamination and terrain (learning.py)
    density: dict[tuple[Contamination, LandUse], float] = field(default_factory=dict)

    def items_per_ha(self, contamination: Contamination, land_use: LandUse) -> float:
        """Items expected per hectare where nothing says more: learned if reports tell, else the default."""
        return self.density.get((contamination, land_use), self.default_items_per_ha)

    def day(self, kind: TeamKind) -> WorkDay:
        return self.days.get(kind) or self.days.get(TeamKind.MANUAL) or WorkDay(6.0, 7.0)

    def rate(self, method: Method, land_use: LandUse | None = None) -> SearchRate:
        """The method's rate on this terrain (a terrain line if there is one)."""
        return self.terrain.get(land_use, {}).get(method) or self.search[method]  # type: ignore[arg-type]

    def search_hours(
        self, method: Method, area_m2: float, personnel: int, day_hours: float, land_use: LandUse | None = None
    ) -> float:
        """Expected hours for a team to search ``area_m2``: E[1/rate] over the range and the spread."""
        rate = self.rate(method, land_use)
        spread = math.exp(self.sector_sigma**2 / 2.0)  # E[1/L] for a lognormal L of median 1
        return area_m2 * spread / rate.per_hour(1.0 / rate.rate.mean_inverse, personnel, day_hours)

    def handling_moments(self, items: dict[ItemCategory, float], kind: TeamKind) -> tuple[float, float]:
        """Sum over the expected items of count x E[h] and count x E[h^2] (h: one item's hours for a
        team of this kind): a machine stops for each item, a team on foot deals with it by its category."""
        mean = square = 0.0
        machine = self.machine_stop if kind in MACHINE_KINDS else None
        for category, expected in items.items():
            hours = machine or self.handling.get(category)
            if hours is None or expected <= 0:
                continue
            mean += expected * hours.mean
            square += expected * (hours.sd**2 + hours.mean**2)
        return mean, square

    def item_crews(self, personnel: int, kind: TeamKind) -> int:
        """How many items a team deals with at once: a machine stops for one at a time, whatever its crew."""
        if kind in MACHINE_KINDS and self.machine_stop is not None:
            return 1
        return max(1, int(personnel // self.people_per_item))

    def travel_hours(self, distance_m: float) -> float:
        """Daily overhead: to the sector and back, plus setting out."""
        return 2.0 * distance_m / 1000.0 / self.speed_kmh + self.setup_h

    def work_hours_per_day(self, kind: TeamKind, distance_m: float) -> float:
        day = self.day(kind)
        return max(day.hours - self.travel_hours(distance_m), MIN_WORK_SHARE * day.hours)


def _clock(section: Section, key: str) -> float:
    text = section.text(key)
    try:
        hours, minutes = text.split(":")
        value = int(hours) + int(minutes) / 60.0
    except ValueError:
        raise DataFileError(section.where, f"{key}: {text!r} is not a time HH:MM") from None
    if not 0 <= value < 24:
        raise DataFileError(section.where, f"{key}: {text!r} is not a time of day")
    return value


def _rate(section: Section, key: str) -> SearchRate:
    sub = section.section(key)
    unit = sub.text("unit")
    if unit not in UNITS:
        raise DataFileError(sub.where, f"unit {unit!r} is not one of {', '.join(UNITS)}")
    rate = section.triangular(key)
    if rate.low <= 0:
        raise DataFileError(sub.where, "a rate must be above zero")
    return SearchRate(unit, rate, sub.text("source", ""))


def _day(section: Section, key: str) -> WorkDay:
    sub = section.section(key)
    hours = sub.number("hours")
    if not 0 < hours <= 24:
        raise DataFileError(sub.where, f"hours {hours:g} is not within a day")
    return WorkDay(_clock(sub, "start"), hours)


def _mix(section: Section, key: str) -> dict[ItemCategory, float]:
    shares = section.section(key).entries(ItemCategory, lambda s, k: s.number(k))
    total = sum(shares.values())
    if total <= 0:
        raise DataFileError(section.where, f"{key}: shares add up to nothing")
    return {cat: share / total for cat, share in shares.items()}


def load_productivity(path: str | Path | None = None) -> Productivity:
    data = load("productivity.toml", path)
    search = data.mapping("search", Method, _rate)
    missing = [m.value for m in SEARCH_METHODS if m not in search]
    if missing:
        raise DataFileError(data.where, f"table search has no rate for {', '.join(missing)}")
    travel = data.section("travel")
    speed = travel.number("speed_kmh")
    if speed <= 0 or math.isnan(speed):
        raise DataFileError(travel.where, "speed_kmh must be above zero")
    return Productivity(
        search=search,
        terrain=data.mapping("terrain", LandUse, lambda s, k: s.section(k).entries(Method, _rate)),
        days=data.mapping("day", TeamKind, _day),
        speed_kmh=speed,
        setup_h=travel.number("setup_hours"),
        sector_sigma=data.section("variability").number("sector_sigma"),
        default_items_per_ha=data.section("items").number("default_per_ha"),
        people_per_item=max(1.0, data.section("items").number("people_per_item", 2.0)),
        handling=data.mapping("handling", ItemCategory, lambda s, k: s.triangular(k)),
        machine_stop=data.triangular("machine_stop") if data.has("machine_stop") else None,
        mix=data.mapping("mix", Contamination, _mix),
        learning=_learning(data.section("learning")),
    )


def _learning(section: Section) -> LearningSettings:
    """The [learning] table; a file without one learns with the packaged defaults."""
    default = LearningSettings()
    half_life = section.number("half_life_days", default.half_life_days)
    if half_life <= 0:
        raise DataFileError(section.where, "half_life_days must be above zero")
    return LearningSettings(
        half_life_days=half_life,
        day_sigma=section.number("day_sigma", default.day_sigma),
        day_sigma_days=section.number("day_sigma_days", default.day_sigma_days),
        team_sigma=section.number("team_sigma", default.team_sigma),
        transfer_sigma=section.number("transfer_sigma", default.transfer_sigma),
        items_prior_ha=section.number("items_prior_ha", default.items_prior_ha),
    )
