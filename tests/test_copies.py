"""The registers tests share are copies of one build (sapper.testing.copies): a copy holds what the build
writes, a test's changes to its copy reach no other, and a register that holds something is never
overwritten by a copy. Both backends: a GeoPackage file copied, a PostGIS database made from a template."""

from __future__ import annotations

import pytest

from sapper import init_register, open_register
from sapper.model.records import Team
from sapper.store.accounts import Accounts
from sapper.store.schema import LAYERS
from sapper.testing.server import seed, seeded


def another(target: str, request: pytest.FixtureRequest, name: str) -> str:
    """A new register on the same backend as ``target``."""
    if target.startswith("postgresql://"):
        return request.getfixturevalue("pg_cluster").new_database()
    return target.replace("register.gpkg", f"{name}.gpkg")


def held(target: str) -> dict[str, list[int]]:
    with open_register(target, read_only=True) as reg:
        return {lay.kind: sorted(r.id for r in reg.list(lay.kind)) for lay in LAYERS}


def test_a_copy_holds_what_the_build_writes(target: str, request: pytest.FixtureRequest) -> None:
    built = another(target, request, "built")
    made = seed(built)
    first, second = seeded(target), seeded(another(target, request, "second"))
    assert first == second and first.hazards == made.hazards and first.items == made.items
    assert held(target) == held(built)
    with open_register(target, read_only=True) as reg:  # the copy's users log in with the copied tokens
        user = Accounts(reg.backend).user_for_token(first.tokens["leader"])
    assert user is not None and user.name == "leader"


def test_a_change_to_one_copy_reaches_no_other(target: str, request: pytest.FixtureRequest) -> None:
    demo = seeded(target)
    with open_register(target, user="tester") as reg:
        reg.delete("item", demo.items[0])
    demo.tokens.clear()
    again = another(target, request, "again")
    assert seeded(again).tokens, "the cached build's tokens are the cache's, not the caller's"
    assert demo.items[0] in held(again)["item"] and demo.items[0] not in held(target)["item"]


def test_a_register_that_holds_something_is_seeded_in_place_not_overwritten(target: str) -> None:
    with init_register(target, user="tester") as reg:
        mine = reg.add(Team(name="Mine", kind="manual"))
    seeded(target)
    with open_register(target, read_only=True) as reg:
        teams = {t.name for t in reg.list("team")}
    assert mine.name in teams and {"Manual 1", "Dogs 2", "Other 3"} <= teams
