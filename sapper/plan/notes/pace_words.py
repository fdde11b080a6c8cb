"""The plan's pace against the register's own, in words: hectares a day, near term and to the
finish, and what sets the pace once the quick work is done.

An officer checks a plan first against what the teams have been doing: over as many working
days as the register has reports, the plan's pace (land leaving the hazards, by any route)
should be near the reports'; if the plan then slows, the land left says why (its terrain,
contamination and the methods the rules allow there).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from sapper.i18n import _
from sapper.plan.notes.pace import Reported
from sapper.plan.problem import TICKS_PER_DAY

if TYPE_CHECKING:
    from sapper.plan.build import PlanResult


def planned_hectares(result: PlanResult, days: float) -> float:
    """Hectares the plan releases (survey, search and EOD tasks finished) within its first ``days``."""
    problem = result.problem
    end = days * TICKS_PER_DAY
    return sum(problem.sectors[s].area_m2 for s, slot in result.schedule.slots.items() if slot.end <= end) / 10_000.0


def slowest_land(result: PlanResult) -> tuple[str, float, str, list[str]]:
    """The land that holds most of the clearance team-days: its words, its share of them, its methods,
    and the methods the reports show in use there that the rules forbid."""
    problem = result.problem
    days: dict[tuple[str, str], float] = defaultdict(float)
    methods: dict[tuple[str, str], set[str]] = defaultdict(set)
    for s, slot in result.schedule.slots.items():
        sector = problem.sectors[s]
        if sector.task != "clearance":
            continue
        hazard = result.hazards[sector.hazard_id]
        key = (hazard.land_use.value, hazard.contamination.value)
        days[key] += (slot.end - slot.start) / TICKS_PER_DAY
        methods[key].update(m.value for m in sector.decision.allowed)
    if not days:
        return "", 0.0, "", []
    key = max(days, key=lambda k: (days[k], k))
    hazards = {h for h, hz in result.hazards.items() if (hz.land_use.value, hz.contamination.value) == key}
    seen = sorted({m.method.value for m in result.mismatches if m.hazard_id in hazards} - methods[key])
    land = _("{land_use} land ({contamination})", land_use=key[0], contamination=key[1])
    return land, days[key] / sum(days.values()), ", ".join(sorted(methods[key])), seen


def pace_words(result: PlanResult, reported: Reported) -> list[str]:
    """Lines for the plan's notes: the reports' pace, the plan's over as many days and to its finish."""
    span = result.schedule.makespan_days
    if span <= 0:
        return []
    total = sum(s.area_m2 for s in result.problem.sectors) / 10_000.0
    p50 = result.forecast.finish.get(50, span)
    lines = []
    if reported.days:
        first = planned_hectares(result, reported.days) / reported.days
        pace = _(
            "pace: the reports released {reported} ha a day over {days} days; "
            "the plan {planned} ha a day over its first {days} days",
            reported=format(reported.per_day, ".1f"),
            days=reported.days,
            planned=format(first, ".1f"),
        )
        lines.append(pace)
    else:
        lines.append(_("pace: no reports yet to hold the plan against"))
    land, share, methods, seen = slowest_land(result)
    tail = ""
    if land:
        tail = _(
            "; {share} of the search team-days go to {land}, where the rules allow only {methods}",
            share=format(share, ".0%"),
            land=land,
            methods=methods,
        )
    finish = _(
        "to the finish {pace} ha a day (at the P50 finish {p50})",
        pace=format(total / span, ".1f"),
        p50=format(total / max(p50, 1e-9), ".1f"),
    )
    lines.append(f"  {finish}{tail}")
    if seen:
        forbidden = _(
            "the reports show {methods} at work on that land, which the rules forbid: "
            "--accept-recorded-practice plans it there",
            methods=", ".join(seen),
        )
        lines.append(f"  {forbidden}")
    return lines
