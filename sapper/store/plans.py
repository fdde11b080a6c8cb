"""Plans in the register: write a plan bundle in one transaction, read plans back.

The planner hands over plain records (sapper.model.plan) in WGS 84; here they get their
plan number (the plan's version: 1, 2, 3 ... per register), who and when, and their
links by id. All of the plan or nothing is written.

Plan runs (plans asked for over the API, made in the background) are kept here too, so that
every process of a server with several workers sees the same runs.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sapper.model.plan import Plan, PlanBundle
from sapper.store.register import Register
from sapper.store.schema import layer
from sapper.store.sql import SqlBackend, q


def next_number(reg: Register) -> int:
    return int(reg.backend.maximum(layer("plan"), "number") or 0) + 1


def latest_plan(reg: Register) -> Plan | None:
    found = reg.list("plan", order_by="number")
    return found[-1] if found else None


def save_plan(reg: Register, bundle: PlanBundle) -> Plan:
    """Write the plan, its sectors, lanes, team-days, priorities and burn-down; returns the plan record."""
    with reg.transaction():
        plan = reg.add(
            dataclasses.replace(bundle.plan, number=next_number(reg), made_at=datetime.now(UTC), made_by=reg.user)
        )
        pid = plan.id
        sectors = reg.add_many([dataclasses.replace(s, plan_id=pid) for s in bundle.sectors])
        sid = [s.id for s in sectors]
        reg.add_many([dataclasses.replace(lane, plan_id=pid, sector_id=sid[i]) for i, lane in bundle.lanes])
        reg.add_many([dataclasses.replace(a, plan_id=pid, sector_id=sid[i]) for i, a in bundle.assignments])
        reg.add_many([dataclasses.replace(p, plan_id=pid) for p in bundle.priorities])
        reg.add_many([dataclasses.replace(d, plan_id=pid) for d in bundle.days])
    return plan


# --- plan runs -------------------------------------------------------------------------
# A plan asked for over the API runs in the background of one server process; its run is kept
# here, so every process of the server (``sapper serve --workers N``) answers for every run.

RUNS = "sapper_plan_runs"
WAITING = ("queued", "running")
HEARTBEAT_S = 5.0  # how often a server process marks its runs as still alive
STALE_S = 120.0  # a run not marked alive for this long was left by a process that died
RUN_COLUMNS = (
    "id",
    "status",
    "step",
    "username",
    "organisation",
    "requested_at",
    "started_at",
    "finished_at",
    "heartbeat_at",
    "worker",
    "request",
    "error",
    "summary",
    "plan_id",
    "plan_number",
)


@dataclass
class PlanRun:
    """One plan asked for: queued, running, done, failed or cancelled; with its result when done."""

    id: int
    status: str
    step: str
    by: str
    organisation: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    worker: str  # host:pid of the server process that makes it
    request: dict[str, Any]
    error: str | None
    summary: dict[str, Any] | None
    plan_id: int | None
    plan_number: int | None


class Busy(Exception):
    """Too many plans are queued or running already."""

    def __init__(self, waiting: int) -> None:
        super().__init__(f"{waiting} plans are queued or running already; try again when one is done")
        self.waiting = waiting


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class PlanRuns:
    """The plan runs of a register (a table, not a layer: GIS tools do not see it)."""

    def __init__(self, backend: SqlBackend) -> None:
        self.backend = backend
        self.ph = backend.ph

    def ensure(self) -> PlanRuns:
        """Create the table if this register has none yet (two processes may both try at once)."""
        if not self.backend.existing_columns(RUNS):
            try:
                with self.backend.transaction():
                    self.backend.execute(
                        f"CREATE TABLE IF NOT EXISTS {q(RUNS)} ({self.backend.serial_key}, status TEXT NOT NULL, "
                        "step TEXT NOT NULL, username TEXT NOT NULL, organisation TEXT NOT NULL, "
                        "requested_at TEXT NOT NULL, started_at TEXT, finished_at TEXT, heartbeat_at TEXT, "
                        "worker TEXT NOT NULL, request TEXT NOT NULL, error TEXT, summary TEXT, plan_id INTEGER, "
                        "plan_number INTEGER)"
                    )
            except Exception:
                if not self.backend.existing_columns(RUNS):
                    raise
        return self

    def add(self, by: str, organisation: str, request: dict[str, Any], worker: str, limit: int) -> PlanRun:
        """Queue a run for ``worker`` to make; refused (Busy) when ``limit`` runs wait already."""
        with self.backend.transaction():
            self.sweep()
            where = f"status IN ({self.ph}, {self.ph})"
            waiting = int(self.backend.execute(f"SELECT count(*) FROM {q(RUNS)} WHERE {where}", WAITING).fetchone()[0])
            if waiting >= limit:
                raise Busy(waiting)
            now = _stamp(_now())
            sql = (
                f"INSERT INTO {q(RUNS)} (status, step, username, organisation, requested_at, heartbeat_at, worker, "
                f"request) VALUES ({', '.join([self.ph] * 8)}) RETURNING id"
            )
            values = ["queued", "", by, organisation, now, now, worker, json.dumps(request)]
            run_id = int(self.backend.execute(sql, values).fetchone()[0])
        found = self.get(run_id)
        assert found is not None
        return found

    def get(self, run_id: int) -> PlanRun | None:
        self.sweep()
        rows = self._select(f"WHERE id = {self.ph}", [run_id])
        return rows[0] if rows else None

    def list(self, organisation: str) -> list[PlanRun]:
        """The runs of an organisation, oldest first."""
        self.sweep()
        return self._select(f"WHERE organisation = {self.ph} ORDER BY id", [organisation])

    def latest_done(self, organisation: str) -> PlanRun | None:
        rows = self._select(
            f"WHERE organisation = {self.ph} AND status = 'done' ORDER BY id DESC LIMIT 1", [organisation]
        )
        return rows[0] if rows else None

    def start(self, run_id: int) -> bool:
        """Mark a queued run running; False if it is no longer queued (cancelled, or given up for dead)."""
        now = _stamp(_now())
        sql = (
            f"UPDATE {q(RUNS)} SET status = 'running', started_at = {self.ph}, heartbeat_at = {self.ph} "
            f"WHERE id = {self.ph} AND status = 'queued'"
        )
        with self.backend.transaction():
            return int(self.backend.execute(sql, [now, now, run_id]).rowcount) == 1

    def step(self, run_id: int, step: str) -> None:
        sets = f"step = {self.ph}, heartbeat_at = {self.ph}"
        sql = f"UPDATE {q(RUNS)} SET {sets} WHERE id = {self.ph} AND status = 'running'"
        with self.backend.transaction():
            self.backend.execute(sql, [step, _stamp(_now()), run_id])

    def finish(
        self,
        run_id: int,
        status: str,
        *,
        error: str | None = None,
        summary: dict[str, Any] | None = None,
        plan: Plan | None = None,
    ) -> None:
        """The run's end: what happened wins over a mark of an earlier sweep or stop."""
        sql = (
            f"UPDATE {q(RUNS)} SET status = {self.ph}, finished_at = {self.ph}, error = {self.ph}, "
            f"summary = {self.ph}, plan_id = {self.ph}, plan_number = {self.ph} WHERE id = {self.ph}"
        )
        values = [
            status,
            _stamp(_now()),
            error,
            None if summary is None else json.dumps(summary),
            None if plan is None else plan.id,
            None if plan is None else plan.number,
            run_id,
        ]
        with self.backend.transaction():
            self.backend.execute(sql, values)

    def beat(self, worker: str) -> None:
        """Mark the runs ``worker`` makes or will make as still alive."""
        where = f"worker = {self.ph} AND status IN ({self.ph}, {self.ph})"
        sql = f"UPDATE {q(RUNS)} SET heartbeat_at = {self.ph} WHERE {where}"
        with self.backend.transaction():
            self.backend.execute(sql, [_stamp(_now()), worker, *WAITING])

    def end_worker(self, worker: str, status: str, error: str) -> int:
        """End every run ``worker`` has not finished (the server process is stopping)."""
        sql = (
            f"UPDATE {q(RUNS)} SET status = {self.ph}, error = {self.ph}, finished_at = {self.ph} "
            f"WHERE worker = {self.ph} AND status IN ({self.ph}, {self.ph})"
        )
        with self.backend.transaction():
            return int(self.backend.execute(sql, [status, error, _stamp(_now()), worker, *WAITING]).rowcount)

    def sweep(self) -> int:
        """Fail the runs whose server process died: gone from this host, or silent for STALE_S."""
        sql = f"SELECT id, worker, heartbeat_at FROM {q(RUNS)} WHERE status IN ({self.ph}, {self.ph})"
        now = _now()
        dead = []
        for run_id, worker, beat in self.backend.execute(sql, WAITING).fetchall():
            silent = beat is None or (now - datetime.fromisoformat(beat)).total_seconds() > STALE_S
            if silent or not _alive(worker):
                dead.append((run_id, beat))
        if not dead:
            return 0
        error = "the server process making this plan stopped before it was done; ask for the plan again"
        sql = (
            f"UPDATE {q(RUNS)} SET status = 'failed', error = {self.ph}, finished_at = {self.ph} "
            f"WHERE id = {self.ph} AND status IN ({self.ph}, {self.ph})"
        )
        with self.backend.transaction():
            for run_id, _beat in dead:
                self.backend.execute(sql, [error, _stamp(now), run_id, *WAITING])
        return len(dead)

    def _select(self, clause: str, params: list[Any]) -> list[PlanRun]:
        sql = f"SELECT {', '.join(RUN_COLUMNS)} FROM {q(RUNS)} {clause}"
        return [_run(row) for row in self.backend.execute(sql, params).fetchall()]


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _alive(worker: str) -> bool:
    """False when ``worker`` (host:pid) was a process of this host that is gone; True when unknown."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process its parent has not reaped yet is a zombie: gone all the same
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _run(row: tuple[Any, ...]) -> PlanRun:
    (rid, status, step, by, org, requested, started, finished, beat, worker, request, error, summary, pid, number) = row
    return PlanRun(
        id=int(rid),
        status=status,
        step=step,
        by=by,
        organisation=org,
        requested_at=datetime.fromisoformat(requested),
        started_at=_moment(started),
        finished_at=_moment(finished),
        heartbeat_at=_moment(beat),
        worker=worker,
        request=json.loads(request),
        error=error,
        summary=None if summary is None else json.loads(summary),
        plan_id=None if pid is None else int(pid),
        plan_number=None if number is None else int(number),
    )
