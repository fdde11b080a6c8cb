"""Work in hand: each team goes on with the hazards it has started, as teams do.

A section half way through a hazard is not pulled off it for land the priorities rank
higher: it finishes what it started. A backtest replays what the officer would have done,
so its forecasts plan the work in hand first: a hazard a team reported on the last report
day comes first, then those it started earlier and has not finished. Their sectors go to
the teams that worked them (those of them its rules still let work it; all teams able to,
if none may). A hazard in hand is evidently reached already: it waits for no access road.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sapper.model.records import Report
from sapper.plan.problem import Problem

STEP = 100.0  # priority points per level of work in hand: 2^10 times the weight of a hectare a level lower


@dataclass
class Hand:
    level: int = 0  # 2: reported on the last report day; 1: started earlier and still open
    teams: set[int] = field(default_factory=set)


def in_hand(reports: Sequence[Report]) -> dict[int, Hand]:
    """Hazard -> how recently it was worked and by which teams."""
    if not reports:
        return {}
    last = max(r.report_date for r in reports)
    out: dict[int, Hand] = defaultdict(Hand)
    for r in reports:
        if r.hazard_id is None or r.team_id is None:
            continue
        hand = out[int(r.hazard_id)]
        hand.level = max(hand.level, 2 if r.report_date == last else 1)
        hand.teams.add(int(r.team_id))
    return dict(out)


def keep_in_hand(problem: Problem, hands: dict[int, Hand]) -> Problem:
    """The problem with the work in hand first and kept to the teams working it."""
    if not hands:
        return problem
    sectors, options = [], []
    for sector, opts in zip(problem.sectors, problem.options, strict=True):
        hand = hands.get(sector.hazard_id)
        if hand is None:
            sectors.append(sector)
            options.append(opts)
            continue
        theirs = [o for o in opts if problem.teams[o.team].team_id in hand.teams]
        sectors.append(dataclasses.replace(sector, score=sector.score + STEP * hand.level))
        options.append(theirs or opts)
    precedence = [(road, quarter) for road, quarter in problem.precedence if quarter not in hands]
    return dataclasses.replace(problem, sectors=sectors, options=options, precedence=precedence)
