"""Plan runs are kept in the register, so every worker of ``sapper serve --workers 2`` answers the same.

A real server process with two uvicorn workers on 127.0.0.1, on both backends: a client that polls a
run gets it from whichever worker takes the connection; a run a dead worker left behind is made again
by the one that is left (the job queue itself is tested in test_jobs_*.py).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sapper.jobs.table import Job
from sapper.store import open_register
from sapper.store.plans import PlanRuns
from sapper.testing.server import Demo, seeded

QUICK = {"start": "2016-04-10", "time_limit_s": 1, "runs": 100}


@dataclass
class Server:
    url: str
    target: str
    demo: Demo

    def get(self, user: str, path: str, **kwargs: Any) -> httpx.Response:
        """A new connection for every request, so the requests spread over the workers."""
        headers = {"Authorization": f"Bearer {self.demo.tokens[user]}", "Connection": "close"}
        return httpx.get(self.url + path, headers=headers, timeout=30, **kwargs)

    def post(self, user: str, path: str, body: dict[str, Any]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.demo.tokens[user]}", "Connection": "close"}
        return httpx.post(self.url + path, json=body, headers=headers, timeout=30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(target: str, workers: int = 2) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "sapper", "serve", target, "--port", str(port), "--workers", str(workers)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/ogc/conformance", timeout=5).status_code in (200, 401):
                return proc, url
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("sapper serve did not start:\n" + (proc.stdout.read() if proc.stdout else ""))
        time.sleep(0.2)


@pytest.fixture(scope="module")
def server(module_target: str) -> Iterator[Server]:
    demo = seeded(module_target)
    proc, url = _serve(module_target)
    try:
        yield Server(url, module_target, demo)
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def _wait(server: Server, run_id: int, seen: list[dict[str, Any]]) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while True:
        r = server.get("super", f"/api/plans/{run_id}")
        assert r.status_code == 200, f"poll {len(seen) + 1} of run {run_id}: {r.status_code} {r.text}"
        seen.append(r.json())
        if r.json()["status"] not in ("queued", "running") or time.monotonic() > deadline:
            return r.json()
        time.sleep(0.1)


def test_every_worker_answers_for_the_same_runs(server: Server) -> None:
    first = server.post("super", "/api/plans", QUICK)
    assert first.status_code == 202, first.text
    second = server.post("super", "/api/plans", {**QUICK, "sector_width_m": 60, "sector_length_m": 100})
    assert second.status_code == 202, second.text
    a_id, b_id = first.json()["id"], second.json()["id"]
    assert a_id != b_id
    seen: list[dict[str, Any]] = []
    a = _wait(server, a_id, seen)
    b = _wait(server, b_id, seen)
    assert a["status"] == "done", a["error"]
    assert b["status"] == "done", b["error"]
    assert len(seen) >= 2
    assert {p["id"] for p in seen} <= {a_id, b_id} and all(p["by"] == "super" for p in seen)
    assert a["request"]["sector_width_m"] == 30 and b["request"]["sector_width_m"] == 60
    assert a["summary"]["stored"]["number"] != b["summary"]["stored"]["number"]

    lists = [server.get("super", "/api/plans").json() for _ in range(12)]
    assert all(listed == lists[0] for listed in lists), "the workers list different runs"
    assert [p["id"] for p in lists[0]][-2:] == [a_id, b_id]
    for _ in range(6):
        diff = server.get("super", "/api/plans/compare", params={"a": a_id, "b": b_id})
        assert diff.status_code == 200, diff.text
        assert diff.json()["sectors_more"] == b["summary"]["sectors"] - a["summary"]["sectors"]
    assert server.get("ngo", f"/api/plans/{a_id}").status_code == 404  # another organisation's run
    assert a_id not in [p["id"] for p in server.get("ngo", "/api/plans").json()]


def test_a_worker_killed_while_planning_leaves_a_run_the_other_worker_makes_again(server: Server) -> None:
    slow = {**QUICK, "time_limit_s": 2}  # some seconds: long enough to kill its process mid-plan
    posted = server.post("super", "/api/plans", slow)
    assert posted.status_code == 202, posted.text
    run_id = posted.json()["id"]
    deadline = time.monotonic() + 60
    while (run := _run_row(server.target, run_id)).status == "queued":
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.05)
    assert run.status == "running", run.error
    host, _, pid = run.worker.rpartition(":")
    assert host == socket.gethostname() and int(pid) != os.getpid()
    os.kill(int(pid), signal.SIGKILL)  # the worker process making the plan dies at once

    seen: list[dict[str, Any]] = []
    ended = _wait(server, run_id, seen)  # answered, and made again, by the worker that is left
    assert ended["status"] == "done", ended["error"]
    assert ended["attempts"] == 2 and ended["plan_number"] is not None
    assert _run_row(server.target, run_id).worker != run.worker

    again = server.post("super", "/api/plans", QUICK)  # the server still plans (uvicorn starts a new worker)
    assert again.status_code == 202, again.text
    assert _wait(server, again.json()["id"], seen)["status"] == "done"


def _run_row(target: str, run_id: int) -> Job:
    with open_register(target) as reg:
        run = PlanRuns(reg.backend).get(run_id)
    assert run is not None
    return run.job
