"""Survey before clearance: suspected land goes through NTS and TS before any clearance (IMAS 07.11).

An open suspected hazard (status suspected) gets a non-technical survey (NTS, by survey
teams) over the whole of it, then technical survey (TS, by survey teams, dog teams or
the search methods its rules allow: NPA, "Land Release") block by block, and only the
land left after survey is cleared. How much of surveyed land is cancelled, reduced or
left for clearance is learned from the register's own releases of suspected land, with
a cited prior (rules/data/survey.toml): a Dirichlet posterior, each surveyed hazard counting
as one observation of its shares (in proportion to how much of it is released). The plan
uses the expected shares; the forecast draws them per run (``draw``, ``day_factors``).

Confirmed land that technical survey may reduce (confirmed.py) gets TS by block too,
with no NTS and nothing cancelled; its reduced share is learned from the register's own
reductions of confirmed land and drawn per run the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely

from sapper.model.enums import ActivityType, HazardClass, HazardStatus, Method, ReleaseRoute
from sapper.model.records import Hazard, Release
from sapper.plan.problem import Problem, WorkSector
from sapper.plan.rules.datafiles import DataFileError, Triangular, load
from sapper.plan.rules.methods import Decision
from sapper.plan.survey.confirmed import Reduction, learn_reduction
from sapper.plan.survey.outlook import Outlook

if TYPE_CHECKING:
    from sapper.plan.forecasting.learning import LearnedRate

ROUTES = (ReleaseRoute.CANCELLED, ReleaseRoute.REDUCED, ReleaseRoute.CLEARED)
TS_SAMPLE = 0.15  # share of the land a search team covers in technical survey: DESIGN, "TS samples 3-30 %"


@dataclass(frozen=True)
class SurveyData:
    prior: np.ndarray  # shares cancelled, reduced, cleared
    weight: float  # the prior's worth in surveyed hazards
    source: str
    nts: Triangular  # hectares per team-day
    ts: dict[Method, Triangular]  # survey and dog teams, hectares per team-day
    block_m2: float
    bulk_items_per_day: float  # an EOD team emptying a depot
    disposal_share: float  # of an item's handling time, the disposal that EOD teams do
    nts_learned: LearnedRate | None = None  # the survey teams' NTS rate learned from their reports (rates.py)
    ts_learned: LearnedRate | None = None  # their TS rate, likewise
    confirmed_prior: np.ndarray | None = None  # shares of surveyed confirmed land reduced, cleared
    confirmed_weight: float = 2.0  # that prior's worth in surveyed confirmed hazards

    def nts_days(self, area_m2: float) -> float:
        """Team-days of non-technical survey over ``area_m2``: at the learned rate if reports tell."""
        if self.nts_learned is not None:
            return area_m2 * self.nts_learned.days_per_unit
        return area_m2 / 10_000.0 / self.nts.mode

    def ts_days(self, method: Method, area_m2: float) -> float:
        """Team-days of technical survey through ``area_m2`` by ``method`` (survey teams: learned if reports tell)."""
        if method == Method.SURVEY and self.ts_learned is not None:
            return area_m2 * self.ts_learned.days_per_unit
        return area_m2 / 10_000.0 / self.ts[method].mode


def load_survey(path: str | Path | None = None) -> SurveyData:
    data = load("survey.toml", path)
    prior = data.section("prior")
    shares = np.array([prior.number(r.value) for r in ROUTES], dtype=float)
    if shares.sum() <= 0:
        raise DataFileError(prior.where, "the shares add up to nothing")
    rate = data.section("rate")
    confirmed = data.section("confirmed")
    reduction = np.array([confirmed.number("reduced", 0.5), confirmed.number("cleared", 0.5)], dtype=float)
    if reduction.sum() <= 0:
        raise DataFileError(confirmed.where, "the shares add up to nothing")
    return SurveyData(
        prior=shares / shares.sum(),
        weight=prior.number("weight"),
        source=prior.text("source", ""),
        nts=rate.triangular("nts"),
        ts={Method.SURVEY: rate.triangular("ts_survey"), Method.DOG: rate.triangular("ts_dog")},
        block_m2=max(1.0, data.section("blocks").number("area_m2")),
        bulk_items_per_day=max(1e-6, data.section("eod").number("bulk_items_per_team_day")),
        disposal_share=min(1.0, data.section("eod").number("disposal_share", 0.3)),
        confirmed_prior=reduction / reduction.sum(),
        confirmed_weight=max(1e-6, confirmed.number("weight", 2.0)),
    )


def needs_survey(hazard: Hazard) -> bool:
    """Suspected land nobody has worked yet (an open SHA): survey comes first."""
    return hazard.status == HazardStatus.SUSPECTED


def learn_outcomes(
    hazards: Sequence[Hazard], releases: Sequence[Release], data: SurveyData, surveyed: Collection[int] = ()
) -> Outlook:
    """The Dirichlet posterior of the shares from the releases of suspected (SHA) hazards.

    A suspected hazard whose non-technical survey is reported (``surveyed``) and released
    nothing found evidence: one observation of nothing cancelled, the rest split between
    reduction and clearance as the prior splits it.
    """
    suspected = {int(h.id): h for h in hazards if h.hazard_class == HazardClass.SHA and h.id is not None}  # type: ignore[arg-type]
    by_hazard: dict[int, np.ndarray] = defaultdict(lambda: np.zeros(3))
    for r in releases:
        if r.hazard_id in suspected and r.route in ROUTES:
            by_hazard[r.hazard_id][ROUTES.index(r.route)] += r.area_m2
    seen = np.zeros(3)  # the observations added up: what the register says, before the prior
    count = 0.0
    for hid, area in by_hazard.items():
        released = area.sum()
        if released <= 0:
            continue
        original = suspected[hid].original_area_m2 or released
        worth = min(1.0, released / original)  # a hazard half released is half an observation
        seen, count = seen + worth * area / released, count + worth
    kept = np.array([0.0, data.prior[1], data.prior[2]]) / max(data.prior[1] + data.prior[2], 1e-9)
    for hid in sorted(set(surveyed) & set(suspected)):
        if by_hazard.get(hid, np.zeros(3)).sum() <= 0:  # surveyed, nothing released: evidence found
            seen, count = seen + kept, count + 1.0
    observed = seen / count if count > 0 else None
    confirmed = None
    if data.confirmed_prior is not None:
        confirmed = learn_reduction(hazards, releases, data.confirmed_prior, data.confirmed_weight)
    return Outlook(data.weight * data.prior + seen, data.prior, observed, count, confirmed=confirmed)


def survey_tasks(
    hazard: Hazard, sectors: list[WorkSector], outlook: Outlook, data: SurveyData, nts_done: bool = False
) -> tuple[list[WorkSector], list[tuple[WorkSector, WorkSector]]]:
    """NTS and TS tasks for one suspected hazard's sectors, whose area becomes the land left to clear.

    Returns the tasks (NTS first, then TS by block) and the (before, after) pairs they add;
    the sectors are changed in place: their area is the expected share left for clearance.
    A hazard whose NTS is reported (``nts_done``) and still suspected found evidence: it goes
    on to TS, with nothing more cancelled.
    """
    if not sectors:
        return [], []
    cancel, reduce, clear = outlook.expected.tolist()
    if nts_done:  # the NTS found evidence: the shares of what is not cancelled
        cancel, reduce, clear = 0.0, reduce / (reduce + clear), clear / (reduce + clear)
    whole = sum(s.area_m2 for s in sectors)
    geometry = shapely.union_all([s.geometry for s in sectors])
    base = sectors[0]
    nts = WorkSector(
        index=-1,
        hazard_id=base.hazard_id,
        label=f"H{base.hazard_id}-NTS",
        geometry=geometry,
        area_m2=whole * cancel,
        score=base.score,
        decision=Decision((Method.SURVEY,), activity=ActivityType.NTS, reasons=("non-technical survey first",)),
        safety_m=0.0,
        land_use=base.land_use,
        task="survey",
        effort_days={Method.SURVEY: data.nts_days(whole)},
        release="nts",
        value_m2=whole,  # all of the hazard's land waits for it: a quick NTS that unlocks teams goes early
    )
    tasks, pairs = ([], []) if nts_done else ([nts], [])
    shares = (cancel, reduce, clear)
    before = None if nts_done else nts
    tasks += ts_tasks(
        sectors, data, shares, ("ts_found", "clear_found") if nts_done else ("ts", "clear"), before, pairs
    )
    return tasks, pairs


def confirmed_survey_tasks(
    sectors: list[WorkSector], reduction: Reduction, data: SurveyData
) -> tuple[list[WorkSector], list[tuple[WorkSector, WorkSector]]]:
    """TS tasks by block for one confirmed hazard's sectors (no NTS, nothing cancelled: IMAS 07.11);
    the sectors' area becomes the expected share left for clearance."""
    if not sectors:
        return [], []
    reduce, clear = reduction.expected.tolist()
    pairs: list[tuple[WorkSector, WorkSector]] = []
    return ts_tasks(sectors, data, (0.0, reduce, clear), ("ts_confirmed", "clear_confirmed"), None, pairs), pairs


def ts_tasks(
    sectors: list[WorkSector],
    data: SurveyData,
    shares: tuple[float, float, float],
    releases: tuple[str, str],
    before: WorkSector | None,
    pairs: list[tuple[WorkSector, WorkSector]],
) -> list[WorkSector]:
    """One TS task per block of ``sectors`` (after ``before``, if any), each before its block's
    clearance: a TS releases the block's reduced share, its sectors keep the cleared share.
    ``releases`` names what the forecast scales the TS and the clearance by (scale_surveyed)."""
    cancel, reduce, clear = shares
    base = sectors[0]
    forbidden = base.decision.forbidden
    ts_methods = (Method.SURVEY, *(m for m in (Method.DOG, *base.decision.allowed) if m not in forbidden))
    tasks = []
    for number, block in enumerate(blocks(sectors, data.block_m2), start=1):
        area = sum(s.area_m2 for s in block)
        left = area * (1.0 - cancel)
        ts = WorkSector(
            index=-1,
            hazard_id=base.hazard_id,
            label=f"H{base.hazard_id}-TS{number}",
            geometry=shapely.union_all([s.geometry for s in block]),
            area_m2=area * reduce,
            score=base.score,
            decision=Decision(
                tuple(dict.fromkeys(ts_methods)),
                dict(forbidden),
                activity=ActivityType.TS,
                reasons=("technical survey",),
            ),
            safety_m=max(s.safety_m for s in block),
            land_use=base.land_use,
            task="survey",
            effort_days={m: data.ts_days(m, left) for m in data.ts},
            search_m2=left * TS_SAMPLE,
            release=releases[0],
            value_m2=area,  # the block's land waits for it
        )
        tasks.append(ts)
        if before is not None:
            pairs.append((before, ts))
        for s in block:
            s.area_m2 *= clear
            s.release = releases[1]
            pairs.append((ts, s))
    return tasks


def blocks(sectors: list[WorkSector], block_m2: float) -> list[list[WorkSector]]:
    """Consecutive sectors (the grid's order: neighbours) in blocks of about ``block_m2``."""
    out: list[list[WorkSector]] = [[]]
    area = 0.0
    for s in sectors:
        if out[-1] and area + s.area_m2 > block_m2:
            out.append([])
            area = 0.0
        out[-1].append(s)
        area += s.area_m2
    return out


def scale_surveyed(days: np.ndarray, problem: Problem, order: list[int], rng: np.random.Generator) -> np.ndarray:
    """Scale, in place, the working days (rows: sectors in ``order``; columns: runs) of the work on
    surveyed land by this run's outcome of survey.

    Clearance scales with the share left for clearance, TS with the share not cancelled,
    both drawn once per run from the posterior (the uncertainty is the programme's, not
    one sector's): a run where survey cancels more clears less.
    """
    outlook = problem.survey
    release = np.array([problem.sectors[s].release for s in order], dtype=object)
    clear_rows, ts_rows = np.nonzero(release == "clear")[0], np.nonzero(release == "ts")[0]
    found_rows = np.nonzero(release == "clear_found")[0]  # after an NTS that found evidence: nothing cancelled
    confirmed_rows = np.nonzero(release == "clear_confirmed")[0]  # confirmed land after its TS
    if outlook is None or not (len(clear_rows) or len(ts_rows) or len(found_rows) or len(confirmed_rows)):
        return days
    if len(confirmed_rows) and outlook.confirmed is not None:
        reduction = outlook.confirmed
        kept = reduction.draw(days.shape[1], rng)[:, 1]
        days[confirmed_rows] *= (kept / max(reduction.expected[1], 1e-9))[None, :]
    shares = outlook.draw(days.shape[1], rng)
    expected = outlook.expected
    days[clear_rows] *= (shares[:, 2] / max(expected[2], 1e-9))[None, :]
    days[ts_rows] *= ((1.0 - shares[:, 0]) / max(1.0 - expected[0], 1e-9))[None, :]
    left = shares[:, 2] / np.maximum(shares[:, 1] + shares[:, 2], 1e-9)
    days[found_rows] *= (left / max(expected[2] / max(expected[1] + expected[2], 1e-9), 1e-9))[None, :]
    return days
