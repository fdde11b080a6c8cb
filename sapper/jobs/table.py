"""The register's own record of its background jobs: what was asked, by whom, how far it got, its result.

One table (``sapper_jobs``, not a layer: GIS tools do not see it) on a GeoPackage and on PostGIS,
so every server and worker on the register answers for every job. On PostGIS the queue itself
(who takes a job, when a silent worker's job is retried) is procrastinate's; on a GeoPackage a
worker takes a queued row here (``claim``) and gives back the rows of workers that died (``sweep``).
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sapper.store.sql import SqlBackend, q

TABLE = "sapper_jobs"
WAITING = ("queued", "running")
HEARTBEAT_S = 2.0  # how often a worker marks the job it makes as still alive
STALE_S = 30.0  # a running job not marked alive this long was left by a worker that died (another host)
MAX_ATTEMPTS = 3  # a job whose worker died this many times ends as failed: it may be what kills them
KEEP_OUTPUT_DAYS = 7.0  # assumption: a queued report is downloaded within a week; the job's row stays
COLUMNS = (
    "id",
    "kind",
    "status",
    "step",
    "username",
    "organisation",
    "requested_at",
    "started_at",
    "finished_at",
    "heartbeat_at",
    "worker",
    "args",
    "error",
    "result",
    "attempts",
)


@dataclass
class Job:
    """One job asked for: queued, running, done, failed or cancelled; with its result when done."""

    id: int
    kind: str
    status: str
    step: str
    by: str
    organisation: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    worker: str  # host:pid of the process making it ('' while queued)
    args: dict[str, Any]
    error: str | None
    result: dict[str, Any] | None
    attempts: int


class Lost(Exception):
    """The job was cancelled, or given back to the queue (its worker seemed dead): what this worker made is not kept."""


class Busy(Exception):
    """Too many jobs of a kind are queued or running already."""

    def __init__(self, waiting: int, what: str = "jobs") -> None:
        super().__init__(f"{waiting} {what} are queued or running already; try again when one is done")
        self.waiting = waiting


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class JobTable:
    """The jobs of one register."""

    def __init__(self, backend: SqlBackend) -> None:
        self.backend = backend
        self.ph = backend.ph

    def ensure(self) -> JobTable:
        """Create the table if this register has none yet (two processes may both try at once)."""
        if not self.backend.existing_columns(TABLE):
            blob = "BYTEA" if self.ph == "%s" else "BLOB"
            try:
                with self.backend.transaction():
                    self.backend.execute(
                        f"CREATE TABLE IF NOT EXISTS {q(TABLE)} ({self.backend.serial_key}, kind TEXT NOT NULL, "
                        "status TEXT NOT NULL, step TEXT NOT NULL, username TEXT NOT NULL, "
                        "organisation TEXT NOT NULL, requested_at TEXT NOT NULL, started_at TEXT, finished_at TEXT, "
                        "heartbeat_at TEXT, worker TEXT NOT NULL, args TEXT NOT NULL, error TEXT, result TEXT, "
                        f"attempts INTEGER NOT NULL DEFAULT 0, output {blob})"
                    )
            except Exception:
                if not self.backend.existing_columns(TABLE):
                    raise
        return self

    def add(
        self, kind: str, by: str, organisation: str, args: dict[str, Any], limit: int | None = None, what: str = ""
    ) -> Job:
        """Queue a job; refused (Busy) when ``limit`` jobs of its kind wait already."""
        with self.backend.transaction():
            if limit is not None:
                where = f"kind = {self.ph} AND status IN ({self.ph}, {self.ph})"
                count = f"SELECT count(*) FROM {q(TABLE)} WHERE {where}"
                waiting = int(self.backend.execute(count, [kind, *WAITING]).fetchone()[0])
                if waiting >= limit:
                    raise Busy(waiting, what or f"{kind} jobs")
            sql = (
                f"INSERT INTO {q(TABLE)} (kind, status, step, username, organisation, requested_at, worker, args) "
                f"VALUES ({', '.join([self.ph] * 8)}) RETURNING id"
            )
            values = [kind, "queued", "", by, organisation, _stamp(_now()), "", json.dumps(args)]
            job_id = int(self.backend.execute(sql, values).fetchone()[0])
        found = self.get(job_id)
        assert found is not None
        return found

    def get(self, job_id: int) -> Job | None:
        rows = self._select(f"WHERE id = {self.ph}", [job_id])
        return rows[0] if rows else None

    def output(self, job_id: int) -> bytes | None:
        """What a done job made to download (a PDF), if anything."""
        row = self.backend.execute(f"SELECT output FROM {q(TABLE)} WHERE id = {self.ph}", [job_id]).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def list(self, kind: str, organisation: str) -> list[Job]:
        """The jobs of a kind of an organisation, oldest first."""
        return self._select(f"WHERE kind = {self.ph} AND organisation = {self.ph} ORDER BY id", [kind, organisation])

    def latest_done(self, kind: str, organisation: str) -> Job | None:
        clause = f"WHERE kind = {self.ph} AND organisation = {self.ph} AND status = 'done' ORDER BY id DESC LIMIT 1"
        rows = self._select(clause, [kind, organisation])
        return rows[0] if rows else None

    def claim(self, worker: str) -> Job | None:
        """Take the oldest queued job for ``worker`` to make (the GeoPackage queue); None when none waits."""
        while True:
            row = self.backend.execute(
                f"SELECT id FROM {q(TABLE)} WHERE status = 'queued' ORDER BY id LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            if self.start(int(row[0]), worker, only_queued=True):
                return self.get(int(row[0]))

    def start(self, job_id: int, worker: str, *, only_queued: bool = False) -> bool:
        """Mark a job running in ``worker``; False if it ended already (cancelled, failed, done) or, with
        ``only_queued``, another worker took it first. A queue retrying a job may start a 'running' one."""
        now = _stamp(_now())
        statuses = ("queued",) if only_queued else WAITING
        marks = ", ".join([self.ph] * len(statuses))
        sql = (
            f"UPDATE {q(TABLE)} SET status = 'running', started_at = {self.ph}, heartbeat_at = {self.ph}, "
            f"worker = {self.ph}, attempts = attempts + 1 WHERE id = {self.ph} AND status IN ({marks})"
        )
        with self.backend.transaction():
            return int(self.backend.execute(sql, [now, now, worker, job_id, *statuses]).rowcount) == 1

    def step(self, job_id: int, step: str) -> bool:
        """How far the job got, in words every server shows; False once it is no longer running (cancelled)."""
        sets = f"step = {self.ph}, heartbeat_at = {self.ph}"
        sql = f"UPDATE {q(TABLE)} SET {sets} WHERE id = {self.ph} AND status = 'running'"
        with self.backend.transaction():
            return int(self.backend.execute(sql, [step, _stamp(_now()), job_id]).rowcount) == 1

    def cancel(self, job_id: int, by: str) -> bool:
        """End a queued or running job as cancelled; False if it had ended already.

        A running job's worker sees it at its next step and stops; what it made so far is not kept.
        """
        sql = (
            f"UPDATE {q(TABLE)} SET status = 'cancelled', step = {self.ph}, finished_at = {self.ph} "
            f"WHERE id = {self.ph} AND status IN ({self.ph}, {self.ph})"
        )
        values = [f"cancelled by {by}", _stamp(_now()), job_id, *WAITING]
        with self.backend.transaction():
            return int(self.backend.execute(sql, values).rowcount) == 1

    def finish(
        self,
        job_id: int,
        status: str,
        *,
        error: str | None = None,
        result: dict[str, Any] | None = None,
        output: bytes | None = None,
    ) -> None:
        """The job's end: what happened wins over a mark of an earlier sweep or stop, not over a cancel."""
        sql = (
            f"UPDATE {q(TABLE)} SET status = {self.ph}, finished_at = {self.ph}, error = {self.ph}, "
            f"result = {self.ph}, output = {self.ph} WHERE id = {self.ph} AND status <> 'cancelled'"
        )
        encoded = None if result is None else json.dumps(result)
        with self.backend.transaction():
            self.backend.execute(sql, [status, _stamp(_now()), error, encoded, output, job_id])

    def finish_held(self, job_id: int, worker: str, result: dict[str, Any]) -> None:
        """Mark the job done within the caller's transaction, if ``worker`` still holds it; else raise Lost.

        A job's work that writes into the register ends its job in the same commit, so a worker dying
        between the two cannot leave the work stored and the job queued to be made (and stored) again;
        and a worker whose job went to another cannot store it a second time.
        """
        sql = (
            f"UPDATE {q(TABLE)} SET status = 'done', finished_at = {self.ph}, error = NULL, result = {self.ph} "
            f"WHERE id = {self.ph} AND status = 'running' AND worker = {self.ph}"
        )
        if self.backend.execute(sql, [_stamp(_now()), json.dumps(result), job_id, worker]).rowcount != 1:
            raise Lost(f"job {job_id} is no longer held by {worker}")

    def forget_outputs(self, days: float = KEEP_OUTPUT_DAYS) -> int:
        """Drop what jobs that ended over ``days`` ago made (PDFs), so the register does not grow with them."""
        cutoff = _stamp(_now() - timedelta(days=days))
        sql = f"UPDATE {q(TABLE)} SET output = NULL WHERE output IS NOT NULL AND finished_at < {self.ph}"
        with self.backend.transaction():
            return int(self.backend.execute(sql, [cutoff]).rowcount)

    def beat(self, worker: str) -> None:
        """Mark the jobs ``worker`` makes as still alive."""
        sql = f"UPDATE {q(TABLE)} SET heartbeat_at = {self.ph} WHERE worker = {self.ph} AND status = 'running'"
        with self.backend.transaction():
            self.backend.execute(sql, [_stamp(_now()), worker])

    def requeue(self, job_id: int, worker: str, why: str) -> str | None:
        """Give a running job of ``worker`` back to the queue, or fail it after MAX_ATTEMPTS; its new status
        (None if it was not running there: another process dealt with it first)."""
        found = self.get(job_id)
        if found is None or found.status != "running" or found.worker != worker:
            return None
        if found.attempts >= MAX_ATTEMPTS:
            status, step, error = "failed", found.step, f"{why} {found.attempts} times; ask for it again"
        else:
            status, step, error = "queued", f"waiting again: {why}", None
        sql = (
            f"UPDATE {q(TABLE)} SET status = {self.ph}, step = {self.ph}, error = {self.ph}, worker = '', "
            f"finished_at = {self.ph} WHERE id = {self.ph} AND status = 'running' AND worker = {self.ph}"
        )
        finished = _stamp(_now()) if status == "failed" else None
        with self.backend.transaction():
            changed = self.backend.execute(sql, [status, step, error, finished, job_id, worker]).rowcount
        return status if changed == 1 else None

    def release(self, worker: str, why: str) -> int:
        """Give back every job ``worker`` makes (its process is stopping)."""
        running = self._select(f"WHERE worker = {self.ph} AND status = 'running'", [worker])
        return sum(self.requeue(job.id, worker, why) is not None for job in running)

    def dead(self, stale_s: float = STALE_S) -> list[Job]:
        """Running jobs whose worker died: gone from this host, or silent for ``stale_s`` elsewhere."""
        now = _now()
        return [
            job
            for job in self._select("WHERE status = 'running'", [])
            if job.heartbeat_at is None or (now - job.heartbeat_at).total_seconds() > stale_s or not alive(job.worker)
        ]

    def sweep(self, stale_s: float = STALE_S) -> int:
        """Give the jobs of dead workers back to the queue (the GeoPackage queue's retry)."""
        why = "the process making it stopped before it was done"
        return sum(self.requeue(job.id, job.worker, why) is not None for job in self.dead(stale_s))

    def _select(self, clause: str, params: list[Any]) -> list[Job]:
        sql = f"SELECT {', '.join(COLUMNS)} FROM {q(TABLE)} {clause}"
        return [_job(row) for row in self.backend.execute(sql, params).fetchall()]


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def alive(worker: str) -> bool:
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


def _job(row: tuple[Any, ...]) -> Job:
    (jid, kind, status, step, by, org, requested, started, finished, beat, worker, args, error, result, tries) = row
    return Job(
        id=int(jid),
        kind=kind,
        status=status,
        step=step,
        by=by,
        organisation=org,
        requested_at=datetime.fromisoformat(requested),
        started_at=_moment(started),
        finished_at=_moment(finished),
        heartbeat_at=_moment(beat),
        worker=worker,
        args=json.loads(args),
        error=error,
        result=None if result is None else json.loads(result),
        attempts=int(tries),
    )
