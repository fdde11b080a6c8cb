"""Account changes land in the audit log with who made them, from the CLI and over real HTTP, on both backends.

The log keeps each account's state before and after, never a password, a token or a hash of either.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from sapper.cli import app
from sapper.model.records import Team
from sapper.store import init_register, open_register
from sapper.store.accounts import USERS, Accounts, token_digest
from sapper.testing.server import PASSWORD, Served, served_demo

runner = CliRunner()


def sapper(target: str, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["-r", target, "-u", "amira", *args], input=stdin, env={"SAPPER_PASSWORD": ""})
    return result.exit_code, result.output


def audit_text(target: str) -> str:
    """Every row of the audit log as text, to look for secrets in."""
    with open_register(target) as reg:
        rows = reg.backend.execute("SELECT * FROM audit_log").fetchall()
    return "\n".join(map(str, rows))


def password_hashes(target: str) -> list[str]:
    with open_register(target) as reg:
        return [r[0] for r in reg.backend.execute(f"SELECT password_hash FROM {USERS}").fetchall()]


def test_every_account_change_from_the_cli_is_in_the_audit_log(target: str) -> None:
    with init_register(target) as reg:
        team = reg.add(Team(name="Manual 1", kind="manual"))
    assert sapper(target, "user", "add", "omar", "--role", "supervisor", "--org", "mac", "--password-stdin",
                  stdin="first-secret\n")[0] == 0  # fmt: skip
    hashes = password_hashes(target)
    team_id = str(team.id)
    assert sapper(target, "user", "change", "omar", "--role", "field_team", "--team", team_id)[0] == 0
    assert sapper(target, "user", "password", "omar", "--password-stdin", stdin="second-secret\n")[0] == 0
    hashes += password_hashes(target)
    code, token = sapper(target, "user", "token", "omar", "--label", "qgis")
    assert code == 0
    token = token.strip()
    assert sapper(target, "user", "change", "omar", "--disabled")[0] == 0  # withdraws the token too
    assert sapper(target, "user", "remove", "omar")[0] == 0

    with open_register(target) as reg:
        entries = Accounts(reg.backend).history("omar")
    assert [(e.action, e.user) for e in entries] == [
        ("insert", "amira"),
        ("update", "amira"),  # role and team
        ("update", "amira"),  # password
        ("token", "amira"),
        ("update", "amira"),  # disabled
        ("revoke", "amira"),
        ("delete", "amira"),
    ]
    created, retasked, password, issued, disabled, revoked, removed = entries
    assert created.before is None and created.after["role"] == "supervisor" and created.after["organisation"] == "mac"
    assert (retasked.before["role"], retasked.after["role"]) == ("supervisor", "field_team")
    assert retasked.after["team_id"] == team.id and retasked.before["team_id"] is None
    assert password.after["password_set_at"] > password.before["password_set_at"]
    assert {k for k in password.after if password.after[k] != password.before[k]} <= {"password_set_at"}
    assert issued.after["label"] == "qgis" and issued.after["expires_at"] > issued.after["created_at"]
    assert (disabled.before["active"], disabled.after["active"]) == (True, False)
    assert [t["label"] for t in revoked.before["tokens"]] == ["qgis"] and revoked.after is None
    assert removed.before["role"] == "field_team" and removed.after is None
    assert entries[0].at <= entries[-1].at

    logged = audit_text(target)
    for secret in ("first-secret", "second-secret", token, token_digest(token), *hashes):
        assert secret not in logged
    assert "password_hash" not in logged and "digest" not in logged

    code, out = sapper(target, "user", "history", "omar")
    assert code == 0
    assert "role: 'supervisor' -> 'field_team'" in out and "token 'qgis' issued" in out and "new password" in out
    assert "1 token(s) withdrawn: qgis" in out and "removed" in out
    code, out = sapper(target, "user", "history", "nobody")
    assert code == 1 and "user 'nobody' has no history" in out


def test_a_name_that_comes_back_keeps_its_history_and_others_stay_apart(target: str) -> None:
    init_register(target).close()
    for step in (("add", "omar"), ("add", "omar2"), ("remove", "omar"), ("add", "omar")):
        extra = ("--password-stdin",) if step[0] == "add" else ()
        assert sapper(target, "user", *step, *extra, stdin="a-secret-pw\n")[0] == 0
    with open_register(target) as reg:
        accounts = Accounts(reg.backend)
        assert [e.action for e in accounts.history("omar")] == ["insert", "delete", "insert"]
        assert [e.action for e in accounts.history("omar2")] == ["insert"]
        assert accounts.history("ghost") == []


def test_a_register_from_before_password_times_opens_and_logs(target: str) -> None:
    """Accounts made by an earlier sapper have no password_set_at column: it is added on first use."""
    with init_register(target) as reg:
        reg.backend.execute(
            f"CREATE TABLE {USERS} (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL, "
            "organisation TEXT NOT NULL, team_id INTEGER, active INTEGER NOT NULL, created_at TEXT NOT NULL)"
        )
        reg.backend.execute(
            "CREATE TABLE sapper_tokens (digest TEXT PRIMARY KEY, username TEXT NOT NULL, label TEXT NOT NULL, "
            "created_at TEXT NOT NULL, expires_at TEXT NOT NULL)"
        )
        ph = reg.backend.ph
        reg.backend.execute(
            f"INSERT INTO {USERS} VALUES ({', '.join([ph] * 7)})",
            ["old", "not-a-real-hash", "viewer", "", None, 1, "2016-04-01T00:00:00+00:00"],
        )
    assert sapper(target, "user", "password", "old", "--password-stdin", stdin="a-new-secret\n")[0] == 0
    with open_register(target) as reg:
        accounts = Accounts(reg.backend)
        (entry,) = accounts.history("old")
        assert accounts.verify("old", "a-new-secret") is not None
    assert entry.before["password_set_at"] is None and entry.after["password_set_at"] is not None


@pytest.fixture(scope="module")
def api(module_target: str) -> Iterator[Served]:
    with served_demo(module_target) as served:
        yield served


def test_account_changes_over_the_api_are_logged_with_the_admin(api: Served) -> None:
    new = {"name": "qa1", "password": "inspect-2016", "role": "viewer", "organisation": "mac"}
    with api.client("admin") as admin, api.client() as anyone:
        assert admin.post("/api/users", json=new).status_code == 201
        assert admin.patch("/api/users/qa1", json={"role": "supervisor", "password": "inspect-2017"}).status_code == 200
        login = anyone.post("/api/login", json={"username": "qa1", "password": "inspect-2017"})
        token = login.json()["token"]
        assert anyone.post("/api/logout", headers={"Authorization": f"Bearer {token}"}).status_code == 204
        assert admin.delete("/api/users/qa1").status_code == 204
        history = admin.get("/api/users/qa1/history")
        assert admin.get("/api/users/nobody/history").status_code == 404
    with api.client("super") as sup:
        assert sup.get("/api/users/qa1/history").status_code == 403
    with api.client() as anyone:
        assert anyone.get("/api/users/qa1/history").status_code == 401

    assert history.status_code == 200
    body = history.json()
    assert body["kind"] == "user" and body["id"] == "qa1"
    steps = [(e["action"], e["user"]) for e in body["entries"]]
    assert steps == [
        ("insert", "admin"),
        ("update", "admin"),  # role
        ("update", "admin"),  # password
        ("token", "qa1"),  # logged in
        ("revoke", "qa1"),  # logged out
        ("delete", "admin"),
    ]
    role = body["entries"][1]
    assert (role["before"]["role"], role["after"]["role"]) == ("viewer", "supervisor")
    assert body["entries"][3]["after"]["label"] == "login"
    text = json.dumps(body) + audit_text(api.target)
    for secret in ("inspect-2016", "inspect-2017", token, token_digest(token), PASSWORD):
        assert secret not in text
    assert "hash" not in json.dumps(body) and "digest" not in text


def test_a_refused_account_change_leaves_no_entry(api: Served) -> None:
    with api.client("admin") as admin:
        before = admin.get("/api/users/leader/history").json()["entries"]
        bad = admin.patch("/api/users/leader", json={"team_id": 999_999})
        assert bad.status_code == 422 and "team 999999 does not exist" in bad.json()["description"]
        short = admin.patch("/api/users/leader", json={"role": "supervisor", "password": "short"})
        assert short.status_code == 422
        after = admin.get("/api/users/leader/history").json()["entries"]
        assert after == before
        assert [u["role"] for u in admin.get("/api/users").json() if u["name"] == "leader"] == ["field_team"]
