"""Limits on secrets: common passwords refused on the command line, token lives capped wherever they are set or
stored, and the session cookie kept to https when the server is reached over https. Both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sapper.cli import app
from sapper.model.accounts import Role, User
from sapper.model.errors import InvalidRecord
from sapper.server import create_app
from sapper.server.auth import COOKIE
from sapper.store import init_register, open_register
from sapper.store.accounts import MAX_TOKEN_DAYS, TOKENS, Accounts, token_digest
from sapper.testing.server import PASSWORD, serving

runner = CliRunner()


def sapper(target: str, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["-r", target, "-u", "amira", *args], input=stdin, env={"SAPPER_PASSWORD": ""})
    return result.exit_code, result.output


def with_user(target: str, name: str = "omar") -> str:
    with init_register(target) as reg:
        Accounts(reg.backend).ensure().add(User(name=name, role=Role.SUPERVISOR, organisation="mac"), PASSWORD)
    return target


def test_the_cli_refuses_common_passwords(target: str) -> None:
    with_user(target)
    code, out = sapper(target, "user", "add", "amira", "--role", "admin", "--password-stdin", stdin="Sunshine1\n")
    assert code == 1 and "common passwords" in out
    code, out = sapper(target, "user", "password", "omar", "--password-stdin", stdin="PASSWORD1\n")
    assert code == 1 and "common passwords" in out
    with open_register(target) as reg:
        accounts = Accounts(reg.backend)
        assert accounts.find("amira") is None
        assert accounts.verify("omar", PASSWORD) is not None
        assert [e.action for e in accounts.history("omar")] == ["insert"]


def test_token_lives_are_capped_on_the_cli_and_the_server(target: str) -> None:
    with_user(target)
    code, out = sapper(target, "user", "token", "omar", "--days", "365")
    assert code == 1 and f"at most {MAX_TOKEN_DAYS} days" in out
    code, out = sapper(target, "user", "token", "omar", "--days", str(MAX_TOKEN_DAYS))
    assert code == 0 and out.strip().startswith("sap_")
    code, out = sapper(target, "serve", target, "--token-days", "365")
    assert code == 1 and f"at most {MAX_TOKEN_DAYS} days" in out
    with pytest.raises(InvalidRecord, match=f"at most {MAX_TOKEN_DAYS} days"):
        create_app(target, token_days=365)
    with open_register(target) as reg:
        assert [e.action for e in Accounts(reg.backend).history("omar")] == ["insert", "token"]


def test_a_stored_token_is_not_honoured_beyond_the_cap(target: str) -> None:
    """A token issued by an older sapper for a year, or written into the table by hand, stops at the cap."""
    with_user(target)
    with open_register(target) as reg:
        accounts = Accounts(reg.backend)
        old, fresh = accounts.issue_token("omar", "old qgis"), accounts.issue_token("omar", "qgis")
        made = datetime.now(UTC) - timedelta(days=MAX_TOKEN_DAYS + 1)
        ph = reg.backend.ph
        reg.backend.execute(
            f"UPDATE {TOKENS} SET created_at = {ph}, expires_at = {ph} WHERE digest = {ph}",
            [made.isoformat(timespec="seconds"), (made + timedelta(days=365)).isoformat(timespec="seconds"),
             token_digest(old)],
        )  # fmt: skip
    with serving(create_app(target)) as server, TestClient(create_app(target)) as local:
        for bearer, status in ((old, 401), (fresh, 200)):
            headers = {"Authorization": f"Bearer {bearer}"}
            assert httpx.get(f"{server.url}/api/me", headers=headers).status_code == status
            assert local.get("/api/me", headers=headers).status_code == status


@pytest.mark.parametrize(
    ("scheme", "public_url", "secure"),
    [
        ("https", None, True),
        ("http", None, False),
        ("http", "https://testserver", True),  # behind a TLS proxy that speaks http to the server
    ],
)
def test_the_session_cookie_is_secure_over_https(
    target: str, scheme: str, public_url: str | None, secure: bool
) -> None:
    with_user(target)
    with TestClient(create_app(target, base_url=public_url), base_url=f"{scheme}://testserver") as c:
        login = c.post("/api/login", json={"username": "omar", "password": PASSWORD})
        assert login.status_code == 200
        cookie = login.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert ("Secure" in cookie) == secure
        if scheme == "https":
            assert c.get("/api/me").json()["name"] == "omar"  # the browser sends it back
        gone = c.post("/api/logout", headers={"Authorization": f"Bearer {login.json()['token']}"})
        assert ("Secure" in gone.headers["set-cookie"]) == secure
