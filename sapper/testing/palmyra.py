"""The Palmyra scenario as tests use it: built once per process, each test module given its own copy.

The build is what ``sapper scenario palmyra`` writes (sapper.scenarios.palmyra.build, as the user
``palmyra-scenario``); ``palmyra_site`` adds one account per role the web UI tests log in as.
"""

from __future__ import annotations

from sapper.model.accounts import Role, User
from sapper.scenarios.palmyra.build import build
from sapper.scenarios.palmyra.plan import make_plan
from sapper.store import init_register
from sapper.store.accounts import Accounts
from sapper.testing.copies import fill
from sapper.testing.server import PASSWORD


def _build(target: str) -> None:
    with init_register(target, user="palmyra-scenario") as reg:
        build(reg, make_plan())


def _build_site(target: str) -> dict[str, str]:
    reg = init_register(target, user="palmyra-scenario")
    with reg:
        build(reg, make_plan())
        org = reg.list("hazard", limit=1)[0].organisation
        accounts = Accounts(reg.backend).ensure()
        tokens = {}
        for user in (
            User(name="chief", role=Role.SUPERVISOR, organisation=org),
            User(name="leader", role=Role.FIELD_TEAM, organisation=org, team_id=1),
            User(name="viewer", role=Role.VIEWER, organisation=org),
        ):
            accounts.add(user, PASSWORD)
            tokens[user.name] = accounts.issue_token(user.name, "test")
    return tokens


def palmyra(target: str) -> str:
    """The new register ``target`` (a .gpkg path or an empty database's URL) holding the Palmyra scenario."""
    fill(target, "palmyra", _build)
    return target


def palmyra_site(target: str) -> dict[str, str]:
    """The Palmyra scenario in the new register ``target``, with a supervisor ``chief``, a team leader
    ``leader`` (of team 1) and a ``viewer`` of its organisation; their API tokens by name."""
    return fill(target, "palmyra-site", _build_site)
