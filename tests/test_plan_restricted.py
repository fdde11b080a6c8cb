"""A plan stored by ``sapper plan`` carries totals no filter of its rows takes back: made from a restricted
record, it is seen by its organisation only; ``--organisation`` plans what one organisation may see, as its own.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sapper.store import open_register, query
from sapper.store.query import Filter
from sapper.store.schema import layer
from sapper.testing.server import seeded

PLAN = ("plan", "--time-limit", "1", "--runs", "50", "--no-lanes", "--start", "2016-04-11")


def _sapper(target: str, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "sapper", "-u", "planner", *PLAN, target, "--out", str(out), *args],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _seen(target: str, organisation: str | None) -> dict[str, set[int]]:
    """Ids of the plans, of the plans whose days it sees, and of its sectors' hazards, as ``organisation``
    sees them (None: everyone)."""
    reg = open_register(target, user="reader")
    try:
        flt = Filter(organisation=organisation)
        plans = {rid for rid, _, _ in query.select(reg.backend, layer("plan"), flt)}
        days = {int(v["plan_id"]) for _, v, _ in query.select(reg.backend, layer("plan_day"), flt)}
        hazards = {int(v["hazard_id"]) for _, v, _ in query.select(reg.backend, layer("plan_sector"), flt)}
        return {"plans": plans, "days": days, "hazards": hazards}
    finally:
        reg.close()


@pytest.fixture(scope="module")
def planned(module_target: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, object, str, str]:
    demo = seeded(module_target)
    tmp = tmp_path_factory.mktemp("plans")
    whole = _sapper(module_target, tmp / "whole").stdout
    mine = _sapper(module_target, tmp / "mac", "--organisation", "mac").stdout
    return module_target, demo, whole, mine


def test_a_plan_of_the_whole_register_with_a_restricted_hazard_is_hidden_from_each_organisation(planned) -> None:
    target, demo, whole, _ = planned
    assert "made from restricted records, so restricted" in whole
    everyone = _seen(target, None)
    assert demo.secret_hazard in everyone["hazards"] and everyone["plans"] == everyone["days"] == {1, 2}
    for organisation in ("mac", "ngo"):
        seen = _seen(target, organisation)
        assert 1 not in seen["plans"] and 1 not in seen["days"]  # the first plan: its totals count the depot
        assert demo.secret_hazard not in seen["hazards"]


def test_a_plan_for_one_organisation_is_made_from_its_own_hazards_and_stored_as_its_own(planned) -> None:
    target, demo, _, mine = planned
    assert "restricted" not in mine  # mac's hazards, teams and what it may see hold nothing restricted
    everyone = _seen(target, None)
    reg = open_register(target, user="reader")
    try:
        second = reg.get("plan", max(everyone["plans"]))
        planned_hazards = {s.hazard_id for s in reg.list("plan_sector", where={"plan_id": second.id})}
    finally:
        reg.close()
    assert (second.organisation, second.restricted) == ("mac", False)
    assert planned_hazards and planned_hazards <= set(demo.hazards)  # not the ngo's depot
    assert second.id in _seen(target, "mac")["plans"] and second.id in _seen(target, "ngo")["plans"]


def test_an_organisation_with_no_hazards_is_named(planned, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sapper", *PLAN, planned[0], "--out", str(tmp_path), "--organisation", "nobody"],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0 and "organisation 'nobody' has no hazards" in result.stderr
