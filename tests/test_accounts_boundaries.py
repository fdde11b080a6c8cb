"""An organisation's admin manages its own organisation's accounts only; the register_admin, made on the command
line, manages all of them and can never be made over the API. Real HTTP, both backends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from sapper.cli import app
from sapper.model.accounts import Role, User
from sapper.store import open_register
from sapper.store.accounts import Accounts
from sapper.testing.server import PASSWORD, Served, served_demo

runner = CliRunner()
ROOT_PASSWORD = "whole-register-2016"


def sapper(target: str, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["-r", target, "-u", "amira", *args], input=stdin, env={"SAPPER_PASSWORD": ""})
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def api(module_target: str) -> Iterator[Served]:
    """The demo register (organisations mac and ngo), an admin of ngo, and a register_admin made on the CLI."""
    with served_demo(module_target) as served:
        with open_register(module_target) as reg:
            accounts = Accounts(reg.backend, by="seed")
            accounts.add(User(name="ngo_admin", role=Role.ADMIN, organisation="ngo"), PASSWORD)
            served.demo.tokens["ngo_admin"] = accounts.issue_token("ngo_admin", "test")
        code, out = sapper(
            module_target, "user", "add", "root", "--role", "register_admin", "--password-stdin", stdin=ROOT_PASSWORD
        )
        assert code == 0, out
        code, token = sapper(module_target, "user", "token", "root", "--label", "test")
        assert code == 0, token
        served.demo.tokens["root"] = token.strip()
        yield served


def account(target: str, name: str) -> User | None:
    with open_register(target) as reg:
        return Accounts(reg.backend).find(name)


def history_of(target: str, name: str) -> list[tuple[str, str]]:
    with open_register(target) as reg:
        return [(e.action, e.user) for e in Accounts(reg.backend).history(name)]


def description(response: Any) -> str:
    return response.json()["description"]


def test_an_admin_of_another_organisation_cannot_touch_its_accounts(api: Served) -> None:
    before = history_of(api.target, "viewer")
    with api.client("ngo_admin") as ngo:
        listed = {u["name"]: u["organisation"] for u in ngo.get("/api/users").json()}
        assert set(listed.values()) == {"ngo"} and {"ngo", "ngo_admin"} <= set(listed)

        new = {"name": "mole", "password": "inside-job-2016", "role": "viewer", "organisation": "mac"}
        created = ngo.post("/api/users", json=new)
        assert created.status_code == 403 and "organisation 'ngo' only" in description(created)
        assert account(api.target, "mole") is None

        missing = ngo.patch("/api/users/ghost", json={"password": "took-over-2016"})
        assert missing.status_code == 404
        for change in ({"password": "took-over-2016"}, {"active": False}, {"role": "viewer"}, {"organisation": "ngo"}):
            refused = ngo.patch("/api/users/viewer", json=change)
            assert (refused.status_code, description(refused)) == (404, "user 'viewer' does not exist"), change
        assert description(missing) == "user 'ghost' does not exist"
        removed = ngo.delete("/api/users/viewer")
        assert (removed.status_code, description(removed)) == (404, "user 'viewer' does not exist")
        history = ngo.get("/api/users/viewer/history")
        never = ngo.get("/api/users/ghost/history")
        assert history.status_code == never.status_code == 404
        assert description(history) == description(never).replace("ghost", "viewer")

    still = account(api.target, "viewer")
    assert still is not None and still.organisation == "mac" and still.active and still.role == Role.VIEWER
    assert history_of(api.target, "viewer") == before
    with api.client() as anyone:
        assert anyone.post("/api/login", json={"username": "viewer", "password": PASSWORD}).status_code == 200


def test_an_admin_creates_in_its_own_organisation_and_cannot_move_an_account_out(api: Served) -> None:
    with api.client("ngo_admin") as ngo:
        made = ngo.post("/api/users", json={"name": "ngo_clerk", "password": "field-office-2016"})
        assert made.status_code == 201 and made.json()["organisation"] == "ngo"
        moved = ngo.patch("/api/users/ngo_clerk", json={"organisation": "mac"})
        assert moved.status_code == 403 and "cannot put an account in 'mac'" in description(moved)
        assert ngo.patch("/api/users/ngo_clerk", json={"role": "supervisor"}).json()["role"] == "supervisor"
    clerk = account(api.target, "ngo_clerk")
    assert clerk is not None and (clerk.organisation, clerk.role) == ("ngo", Role.SUPERVISOR)
    with api.client("admin") as mac:
        assert mac.get("/api/users/ngo_clerk/history").status_code == 404
        assert "ngo_clerk" not in {u["name"] for u in mac.get("/api/users").json()}


def test_the_api_never_grants_register_admin(api: Served) -> None:
    for who in ("admin", "root"):
        with api.client(who) as c:
            new = {"name": f"usurper_{who}", "password": "all-of-it-2016", "role": "register_admin"}
            refused = c.post("/api/users", json={**new, "organisation": "mac"})
            assert refused.status_code == 403 and "only on the command line" in description(refused), who
            raised = c.patch("/api/users/super", json={"role": "register_admin"})
            assert raised.status_code == 403 and "only on the command line" in description(raised), who
            assert account(api.target, f"usurper_{who}") is None
    assert account(api.target, "super").role == Role.SUPERVISOR


def test_the_register_admin_from_the_cli_manages_every_organisation(api: Served) -> None:
    with api.client("root") as root:
        everyone = {u["name"] for u in root.get("/api/users").json()}
        assert {"admin", "viewer", "ngo", "ngo_admin", "root"} <= everyone
        made = root.post("/api/users", json={"name": "mac_qa", "password": "quality-2016", "organisation": "mac"})
        assert made.status_code == 201 and made.json()["organisation"] == "mac"
        moved = root.patch("/api/users/mac_qa", json={"organisation": "ngo", "password": "quality-2017"})
        assert moved.status_code == 200 and moved.json()["organisation"] == "ngo"
        assert root.patch("/api/users/ngo", json={"active": False}).json()["active"] is False
        assert root.patch("/api/users/ngo", json={"active": True}).json()["active"] is True
        steps = [(e["action"], e["user"]) for e in root.get("/api/users/mac_qa/history").json()["entries"]]
        assert steps == [("insert", "root"), ("update", "root"), ("update", "root")]  # created, moved, password
        assert root.delete("/api/users/mac_qa").status_code == 204
    with api.client() as anyone:
        login = anyone.post("/api/login", json={"username": "root", "password": ROOT_PASSWORD})
        assert login.status_code == 200 and login.json()["user"]["role"] == "register_admin"


def test_an_admin_sees_an_account_only_while_it_was_in_its_organisation(api: Served) -> None:
    with api.client("root") as root:
        new = {"name": "rotated", "password": "two-offices-2016", "organisation": "mac"}
        assert root.post("/api/users", json=new).status_code == 201
        assert root.patch("/api/users/rotated", json={"organisation": "ngo"}).status_code == 200
        assert root.patch("/api/users/rotated", json={"role": "supervisor"}).status_code == 200
    with api.client("admin") as mac, api.client("ngo_admin") as ngo:
        seen_by_mac = [e["action"] for e in mac.get("/api/users/rotated/history").json()["entries"]]
        seen_by_ngo = [e["action"] for e in ngo.get("/api/users/rotated/history").json()["entries"]]
        assert mac.patch("/api/users/rotated", json={"active": False}).status_code == 404
    assert seen_by_mac == ["insert", "update"]  # created in mac, moved out
    assert seen_by_ngo == ["update", "update"]  # moved in, promoted


def test_an_admin_cannot_take_over_a_register_admin_of_its_organisation(api: Served) -> None:
    with api.client("root") as root:
        assert root.patch("/api/users/root", json={"organisation": "mac"}).json()["organisation"] == "mac"
    with api.client("admin") as mac:
        assert "root" in {u["name"] for u in mac.get("/api/users").json()}
        for change in ({"password": "took-over-2016"}, {"active": False}, {"role": "viewer"}):
            refused = mac.patch("/api/users/root", json=change)
            assert refused.status_code == 403 and "only a register_admin changes that account" in description(refused)
        assert mac.delete("/api/users/root").status_code == 403
    root_now = account(api.target, "root")
    assert root_now is not None and root_now.active and root_now.role == Role.REGISTER_ADMIN


def test_common_passwords_are_refused_over_the_api(api: Served) -> None:
    with api.client("admin") as mac:
        for password in ("password123", "PassWord123", "qwertyuiop"):
            refused = mac.post("/api/users", json={"name": "weak1", "password": password})
            assert refused.status_code == 422 and "common passwords" in description(refused), password
        named = mac.post("/api/users", json={"name": "weakling", "password": "Weakling"})
        assert named.status_code == 422 and "may not be the user name" in description(named)
        reset = mac.patch("/api/users/viewer", json={"password": "iloveyou1"})
        assert reset.status_code == 422 and "common passwords" in description(reset)
    assert account(api.target, "weak1") is None and account(api.target, "weakling") is None
    with api.client() as anyone:
        assert anyone.post("/api/login", json={"username": "viewer", "password": PASSWORD}).status_code == 200


def test_a_team_leader_account_names_a_team_of_the_admin_s_own_organisation(api: Served) -> None:
    """The team a field_team account reports for is checked like any link: hidden or missing alike, owned."""
    mac_team = api.demo.teams[0]
    leader = {"name": "spy_leader", "password": "field-work-2016", "role": "field_team", "team_id": mac_team}
    with api.client("ngo_admin") as ngo:
        created = ngo.post("/api/users", json=leader)
        assert created.status_code == 403 and "belongs to 'mac'" in description(created)
        missing = ngo.post("/api/users", json={**leader, "team_id": 999_999})
        assert missing.status_code == 422 and "team 999999 does not exist" in description(missing)
        moved = ngo.patch("/api/users/ngo", json={"team_id": mac_team})
        assert moved.status_code == 403
    assert account(api.target, "spy_leader") is None
    assert account(api.target, "ngo").team_id is None
