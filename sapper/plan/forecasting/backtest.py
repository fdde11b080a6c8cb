"""The forecast's own test: replay the register's history and score each past forecast.

For each past day D, from the first report day to the day before the last: the register as
it stood on the evening of D (reports and releases up to D, items found by D, each
hazard's polygon with the land released after D put back), the forecast the planner
makes from it, and what happened after D: the hazardous area still to work at the end
of each later day. A forecast is scored per horizon (1, 2, 3 ... working days ahead): is
the real area inside its P10-P90 band, and how far is its P50 from it.

The planner runs as ``sapper plan`` does (learned rates, sectors, methods, Monte Carlo)
but without CP-SAT and lanes: the optimiser's starting list schedule (WSPT: the most
priority-weighted hectares per day of work first, each sector to the team that finishes
it first) stands in for it, since a backtest makes one plan per past day. Pure: no database.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import shapely

from sapper.model.enums import HazardClass, HazardStatus
from sapper.model.geometry import as_multipolygon
from sapper.plan.build import Inputs, PlanResult, Settings, _metric, make_plan
from sapper.plan.progress.worked import remaining_by_hazard
from sapper.plan.sectors import same_splits

Progress = Callable[[int, int], None]  # (days done, days in all)


@dataclass
class DayForecast:
    """The forecast made on the evening of ``day`` and what happened after it (m², index = days ahead)."""

    day: date
    bands: dict[int, np.ndarray]  # 10, 50, 90 -> hazardous area still to work, 0..horizon days ahead
    actual: np.ndarray  # the register's hazardous area still to work, 0..horizon days ahead
    finish_p50: date | None = None
    day_sigma: float = 0.0  # the day effect's log sd the forecast drew its days with (day_pace.py)

    @property
    def horizon(self) -> int:
        return len(self.actual) - 1


@dataclass
class HorizonScore:
    horizon: int  # working days ahead
    pairs: int  # forecasts scored at this horizon
    inside: int  # actual inside the P10-P90 band
    p50_error: float  # mean absolute error of the P50 on the area still to work, share of the actual
    done_error: float  # mean absolute error of the P50 on the area worked since the forecast, share of the actual
    width: float = 0.0  # the band's width: mean ratio of the P90 to the P10 of the area worked since the forecast

    @property
    def coverage(self) -> float:
        return self.inside / self.pairs if self.pairs else 0.0


@dataclass
class Backtest:
    days: list[DayForecast] = field(default_factory=list)
    scores: list[HorizonScore] = field(default_factory=list)
    runs: int = 0
    seconds: float = 0.0

    @property
    def coverage(self) -> float:
        """Share of all (day, horizon) pairs whose actual fell inside the P10-P90 band."""
        pairs = sum(s.pairs for s in self.scores)
        return sum(s.inside for s in self.scores) / pairs if pairs else 0.0

    def score(self, horizon: int) -> HorizonScore | None:
        return next((s for s in self.scores if s.horizon == horizon), None)


def history_days(inputs: Inputs) -> list[date]:
    """Every day from the first report to the last (the days a forecast can be scored after)."""
    dates = [r.report_date for r in inputs.reports]
    if not dates:
        return []
    first, last = min(dates), max(dates)
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


def state_on(inputs: Inputs, day: date) -> Inputs:
    """The register as it stood on the evening of ``day``.

    A hazard's stored polygon has every release cut out of it, so the land released after
    ``day`` is put back; a hazard released since then is open again, and one reported
    after ``day`` did not exist yet. Its status before any work is its class's (suspected
    for an SHA, confirmed for a CHA): the register keeps no status history here.
    """
    later: dict[int, list] = {}
    for rel in inputs.releases:
        if rel.released_on > day and rel.geometry is not None and not rel.geometry.is_empty:
            later.setdefault(rel.hazard_id, []).append(rel.geometry)
    worked = {r.hazard_id for r in inputs.reports if r.report_date <= day}
    worked |= {r.hazard_id for r in inputs.releases if r.released_on <= day}
    hazards = []
    for h in inputs.hazards:
        if h.reported_on is not None and h.reported_on > day:
            continue
        parts = [g for g in [h.geometry, *later.get(int(h.id), [])] if g is not None and not g.is_empty]  # type: ignore[arg-type]
        if not parts:
            hazards.append(h)
            continue
        geometry = as_multipolygon(shapely.make_valid(shapely.union_all(parts))) if len(parts) > 1 else h.geometry
        status = h.status
        if h.id not in worked and status in (HazardStatus.IN_CLEARANCE, HazardStatus.RELEASED):
            status = HazardStatus.SUSPECTED if h.hazard_class == HazardClass.SHA else HazardStatus.CONFIRMED
        elif status == HazardStatus.RELEASED:
            status = HazardStatus.IN_CLEARANCE
        hazards.append(dataclasses.replace(h, geometry=geometry, status=status))
    return Inputs(
        hazards=hazards,
        items=[i for i in inputs.items if i.found_on is None or i.found_on <= day],
        sites=inputs.sites,
        teams=inputs.teams,
        reports=[r for r in inputs.reports if r.report_date <= day],
        releases=[r for r in inputs.releases if r.released_on <= day],
    )


def areas_on(inputs: Inputs, day: date, epsg: int) -> dict[int, float]:
    """Hazardous area still to work in each open hazard on the evening of ``day`` (after releases and reports), m²."""
    state = state_on(inputs, day)
    open_now = [
        h
        for h in state.hazards
        if h.status != HazardStatus.RELEASED and h.geometry is not None and not h.geometry.is_empty
    ]
    if not open_now:
        return {}
    remaining = remaining_by_hazard(_metric(open_now, epsg), _metric(state.reports, epsg), state.releases)
    return {h: r.area_m2 for h, r in remaining.items()}


def forecast_on(inputs: Inputs, day: date, settings: Settings) -> PlanResult:
    """The plan and forecast made from the register as it stood on ``day``."""
    quick = dataclasses.replace(
        settings, start=day + timedelta(days=1), lanes=False, optimise=False, work_in_hand_first=True
    )
    return make_plan(state_on(inputs, day), quick)


def day_forecast(result: PlanResult, day: date, areas: dict[date, dict[int, float]]) -> DayForecast:
    """Score one day's forecast: its bands and the real area, over the hazards open that day."""
    hazard_ids = set(result.hazards)
    later = sorted(d for d in areas if d >= day)
    actual = np.array([sum(areas[d].get(h, 0.0) for h in hazard_ids) for d in later])
    fc = result.forecast
    planned_total = float(fc.remaining[50][0]) if fc.remaining else 0.0
    unplanned = float(actual[0]) - planned_total  # land no team may work: it stays hazardous in every run
    bands = {}
    for q, series in fc.remaining.items():
        bands[q] = np.array([series[min(h, len(series) - 1)] for h in range(len(actual))]) + unplanned
    pace = result.learned.day_pace if result.learned is not None else None
    return DayForecast(day, bands, actual, result.finish_dates.get(50), pace.sigma if pace is not None else 0.0)


def score(days: Sequence[DayForecast]) -> list[HorizonScore]:
    out = []
    longest = max((d.horizon for d in days), default=0)
    for h in range(1, longest + 1):
        pairs = inside = 0
        errors, done_errors, widths = [], [], []
        for d in days:
            if d.horizon < h:
                continue
            actual = float(d.actual[h])
            low, mid, high = (float(d.bands[q][h]) for q in (10, 50, 90))
            pairs += 1
            inside += low - 1e-6 <= actual <= high + 1e-6
            if actual > 0:
                errors.append(abs(mid - actual) / actual)
            done = float(d.actual[0]) - actual
            if done > 0:
                done_errors.append(abs((float(d.bands[50][0]) - mid) - done) / done)
            least, most = float(d.bands[50][0]) - high, float(d.bands[50][0]) - low  # work done: P10, P90
            if least > 0:
                widths.append(most / least)
        out.append(
            HorizonScore(
                h,
                pairs,
                inside,
                float(np.mean(errors)) if errors else 0.0,
                float(np.mean(done_errors)) if done_errors else 0.0,
                float(np.mean(widths)) if widths else 0.0,
            )
        )
    return out


def backtest(inputs: Inputs, settings: Settings, progress: Progress | None = None) -> Backtest:
    """Forecast from every past day and score each against what the register shows happened."""
    began = time.perf_counter()
    history = history_days(inputs)
    out = Backtest(runs=settings.runs)
    areas: dict[date, dict[int, float]] = {}
    with same_splits():  # a hazard that did not change from one day to the next is split once
        for k, day in enumerate(history[:-1]):  # the last day has nothing after it to score against
            if progress:
                progress(k, len(history) - 1)
            result = forecast_on(inputs, day, settings)
            if not areas:  # what really happened, measured in the plans' metric CRS
                areas = {d: areas_on(inputs, d, result.epsg) for d in history}
            out.days.append(day_forecast(result, day, areas))
    if progress:
        progress(len(history) - 1, len(history) - 1)
    out.scores = score(out.days)
    out.seconds = time.perf_counter() - began
    return out
