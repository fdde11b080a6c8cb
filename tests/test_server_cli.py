"""``sapper user ...`` manages accounts; ``sapper serve`` runs a real server process that answers on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from sapper.cli import app
from sapper.model.records import Team
from sapper.store import init_register, open_register
from sapper.store.accounts import Accounts
from sapper.store.schema import LAYERS

runner = CliRunner()


@pytest.fixture
def gpkg(tmp_path: Path) -> str:
    path = str(tmp_path / "palmyra.gpkg")
    with init_register(path) as reg:
        reg.add(Team(name="Manual 1", kind="manual"))
    return path


def sapper(gpkg: str, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["-r", gpkg, *args], input=stdin, env={"SAPPER_PASSWORD": ""})
    return result.exit_code, result.output


def test_user_commands_manage_accounts(gpkg: str) -> None:
    assert (
        sapper(
            gpkg, "user", "add", "amira", "--role", "admin", "--org", "mac", "--password-stdin", stdin="s3cret-pass\n"
        )[0]
        == 0
    )
    code, out = sapper(gpkg, "user", "add", "omar", "--role", "field_team", "--password-stdin", stdin="s3cret-pass\n")
    assert code == 1 and "needs the team" in out
    code, out = sapper(
        gpkg, "user", "add", "omar", "--role", "field_team", "--team", "1", "--password-stdin", stdin="short\n"
    )
    assert code == 1 and "at least 8 characters" in out
    assert (
        sapper(
            gpkg,
            "user",
            "add",
            "omar",
            "--role",
            "field_team",
            "--team",
            "1",
            "--password-stdin",
            stdin="s3cret-pass\n",
        )[0]
        == 0
    )
    code, out = sapper(gpkg, "user", "add", "x", "--role", "general", "--password-stdin", stdin="s3cret-pass\n")
    assert code == 1 and "allowed: viewer, field_team, supervisor, admin" in out
    code, out = sapper(gpkg, "user", "list")
    assert code == 0 and "amira" in out and "field_team" in out
    code, token = sapper(gpkg, "user", "token", "omar", "--label", "tablet")
    assert code == 0 and token.strip().startswith("sap_")
    with open_register(gpkg) as reg:
        accounts = Accounts(reg.backend)
        assert accounts.user_for_token(token.strip()).name == "omar"
        assert accounts.verify("omar", "s3cret-pass") is not None
        assert "sapper_users" not in [lay.name for lay in LAYERS]
    assert sapper(gpkg, "user", "change", "omar", "--disabled")[0] == 0
    with open_register(gpkg) as reg:
        assert Accounts(reg.backend).user_for_token(token.strip()) is None
    assert sapper(gpkg, "user", "remove", "omar")[0] == 0
    code, out = sapper(gpkg, "user", "remove", "omar")
    assert code == 1 and "does not exist" in out


def test_accounts_are_not_layers_gis_tools_see(gpkg: str) -> None:
    assert sapper(gpkg, "user", "add", "amira", "--role", "admin", "--password-stdin", stdin="s3cret-pass\n")[0] == 0
    listing = subprocess.run(["ogrinfo", "-ro", "-q", gpkg], capture_output=True, text=True)
    if listing.returncode == 0:  # GDAL is there
        assert "sapper_users" not in listing.stdout and "sapper_tokens" not in listing.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_sapper_serve_runs_a_server_process(gpkg: str) -> None:
    assert sapper(gpkg, "user", "add", "amira", "--role", "admin", "--password-stdin", stdin="s3cret-pass\n")[0] == 0
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "sapper", "serve", gpkg, "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"{base}/ogc/conformance", auth=("amira", "s3cret-pass"))
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert r.status_code == 200 and "conformsTo" in r.json()
        assert httpx.get(f"{base}/ogc/collections").status_code == 401
        token = httpx.post(f"{base}/api/login", json={"username": "amira", "password": "s3cret-pass"}).json()["token"]
        assert httpx.get(f"{base}/api/me", headers={"Authorization": f"Bearer {token}"}).json()["role"] == "admin"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    assert "serving" in out and "/ogc" in out
