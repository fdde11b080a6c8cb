"""A seeded synthetic town to schedule: the benchmark's problem, also small enough for tests.

An assumption, not a survey: sectors of 30 x 80 m in hazards of 4-40 sectors on a grid,
with land uses, contamination and priority scores drawn at random, and teams of the four
search kinds at six bases. It goes through the planner's own steps (method rules,
productivity, safety distances, demolition danger areas), so the model is the one
``sapper plan`` solves.
"""

from __future__ import annotations

import numpy as np
from shapely.geometry import Point, box

from sapper.model.enums import Contamination, LandUse, TeamKind
from sapper.model.records import Hazard, Team
from sapper.plan.problem import Problem, WorkSector, WorkTeam, build_problem
from sapper.plan.rules.methods import decide, load_rules, team_methods
from sapper.plan.rules.productivity import load_productivity
from sapper.plan.rules.safety import load_safety

LAND_USES = [LandUse.RESIDENTIAL, LandUse.OPEN_GROUND, LandUse.ROAD, LandUse.HERITAGE, LandUse.AGRICULTURE]
LAND_P = [0.45, 0.2, 0.1, 0.15, 0.1]
CONTAMINATION = [Contamination.UXO, Contamination.MIXED, Contamination.AP_MINES, Contamination.IED]
CONT_P = [0.4, 0.3, 0.2, 0.1]
KINDS = [TeamKind.MANUAL, TeamKind.DOG, TeamKind.ROBOT, TeamKind.MECHANICAL]
KIND_P = [0.6, 0.15, 0.15, 0.1]


def synthetic_problem(teams: int, sectors: int, seed: int = 1, danger: bool = True) -> Problem:
    """A seeded town: hazards of 4-40 sectors each, on a grid, with teams at six bases.

    Expected items follow the contamination's mix (productivity.toml); with ``danger``
    their demolition danger radius (safety.toml) is kept clear while a sector is worked.
    """
    rng = np.random.default_rng(seed)
    rules, prod, safety = load_rules(), load_productivity(), load_safety()
    work: list[WorkSector] = []
    hazard_id = 0
    links: dict[int, list[int]] = {}
    cols = int(np.ceil(np.sqrt(sectors * 3)))
    cells = rng.permutation(cols * cols)
    while len(work) < sectors:
        hazard_id += 1
        use = LAND_USES[rng.choice(len(LAND_USES), p=LAND_P)]
        hazard = Hazard(
            id=hazard_id,
            name=f"H{hazard_id}",
            land_use=use,
            contamination=CONTAMINATION[rng.choice(len(CONTAMINATION), p=CONT_P)],
        )
        score = float(rng.uniform(5, 60))
        mix = prod.mix[hazard.contamination]
        radius = safety.danger_radius_of(c for c, share in mix.items() if share > 0) if danger else 0.0
        n = min(int(rng.integers(4, 40)), sectors - len(work))
        anchor = int(cells[hazard_id % len(cells)])
        row0, col0 = divmod(anchor, cols)
        for k in range(n):
            r, c = row0 + k // 6, col0 + k % 6
            geom = box(c * 34.0, r * 84.0, c * 34.0 + 30.0, r * 84.0 + 80.0)
            decision = decide(hazard, geom, [], rules, radius)
            found = float(rng.poisson(3))
            work.append(
                WorkSector(
                    len(work),
                    hazard_id,
                    f"H{hazard_id}-{k + 1}",
                    geom,
                    geom.area,
                    score,
                    decision,
                    {c: found * share for c, share in mix.items()},
                    safety.working_distance(hazard.contamination, decision.allowed),
                    radius,
                )
            )
        if use == LandUse.ROAD and hazard_id > 1:
            links[hazard_id] = [int(rng.integers(1, hazard_id))]
    bases = [Point(rng.uniform(0, cols * 34.0), rng.uniform(0, cols * 84.0)) for _ in range(6)]
    crew = []
    for t in range(teams):
        kind = KINDS[rng.choice(len(KINDS), p=KIND_P)]
        team = Team(id=t + 1, name=f"{kind.value}-{t + 1}", kind=kind, personnel=int(rng.integers(2, 9)))
        crew.append(
            WorkTeam(
                t, t + 1, team.name, kind, team_methods(team, rules), bases[t % 6], team.personnel, 1.0, prod.day(kind)
            )
        )
    return build_problem(work, crew, prod, links)
