"""Credibility on the Palmyra scenario: every team has its real work, none works alone for long
while the others wait, the tail is told in an officer's words, and the plan is the same twice."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sapper.cli.plan import read_inputs
from sapper.model.enums import Method, TeamKind
from sapper.plan.build import PlanResult, Settings, make_plan
from sapper.plan.tail import longest_alone, tail_words
from sapper.scenarios.palmyra.build import build
from sapper.store import init_register

# a short CP-SAT budget keeps the two plans within a minute; it is deterministic all the same
SETTINGS = Settings(start=date(2016, 4, 11), time_limit_s=2.0, runs=300, lanes=False)


def fingerprint(result: PlanResult):
    slots = sorted((s, x.team, x.method.value, x.start, x.end) for s, x in result.schedule.slots.items())
    fc = result.forecast
    return slots, result.schedule.objective, fc.finish, {q: v.tolist() for q, v in fc.remaining.items()}


@pytest.fixture(scope="module")
def palmyra_plans(tmp_path_factory: pytest.TempPathFactory) -> tuple[PlanResult, PlanResult]:
    path = Path(tmp_path_factory.mktemp("palmyra")) / "palmyra.gpkg"
    reg = init_register(path)
    build(reg)
    inputs = read_inputs(reg)
    return make_plan(inputs, SETTINGS), make_plan(read_inputs(reg), SETTINGS)


def test_the_palmyra_scenario_gives_the_same_plan_twice(palmyra_plans):
    first, again = palmyra_plans
    assert fingerprint(first) == fingerprint(again)


def test_every_team_has_its_real_work(palmyra_plans):
    result = palmyra_plans[0]
    problem, slots = result.problem, result.schedule.slots
    by_kind: dict[TeamKind, set[str]] = {}
    for s, slot in slots.items():
        by_kind.setdefault(problem.teams[slot.team].kind, set()).add(problem.sectors[s].task)
    assert "survey" in by_kind[TeamKind.SURVEY]  # suspected land is surveyed, not left to clearance alone
    assert by_kind[TeamKind.EOD] == {"eod"}  # EOD teams dispose of items and empty the depot
    depot = [s for s in problem.sectors if s.label.endswith("-depot")]
    assert depot and all(problem.teams[slots[s.index].team].kind == TeamKind.EOD for s in depot)
    assert not result.idle_teams  # no team left out of the plan
    found = {(m.method, m.team_kind) for m in result.mismatches}  # the reports contradict the rules
    assert (Method.ROBOT, TeamKind.ROBOT) in found and (Method.DOG, TeamKind.DOG) in found


def test_no_team_works_alone_for_long_and_the_tail_is_told(palmyra_plans):
    result = palmyra_plans[0]
    span = result.schedule.makespan_days
    team, days = longest_alone(result.problem, result.schedule)
    assert days <= 0.1 * span, f"{result.problem.teams[team].name} works alone {days} of {span:.0f} days"
    names = {h: hz.name for h, hz in result.hazards.items()}
    lines = tail_words(result.problem, result.schedule, result.calendar, names)
    if lines:  # a tail, if any, names the teams still at work and what they do
        assert lines[0].startswith("the last ")
        assert any(t.name in "\n".join(lines) for t in result.problem.teams)
