"""Background jobs of a register (plans, PDF reports), kept in the register's own database.

Nothing a job needs lives in one process's memory, so several servers and workers may share a
register: ``JobQueue.submit`` records a job and hands it to the queue; any worker makes it, writing
its progress and result into the register, where every server reads them (``JobQueue.status``).
On PostGIS the queue is procrastinate (``sapper.jobs.postgres``); on a GeoPackage, workers poll
the job table (``sapper.jobs.local``). A job whose worker dies is made again by another.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from sapper.jobs.table import STALE_S, Busy, Job, JobTable
from sapper.store import is_postgres
from sapper.store.sql import SqlBackend

__all__ = ["Busy", "Job", "JobQueue", "JobTable", "Worker", "WorkerThread", "make_worker"]


class Worker(Protocol):
    def run(self) -> None: ...
    def stop(self) -> None: ...


class JobQueue:
    """Submit jobs on one register and read them back, from any server."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.deferrer: Any = None
        if is_postgres(target):
            from sapper.jobs.postgres import Deferrer, ensure_schema

            ensure_schema(target)
            self.deferrer = Deferrer(target)

    def submit(
        self,
        backend: SqlBackend,
        kind: str,
        by: str,
        organisation: str,
        args: dict[str, Any],
        limit: int | None = None,
        what: str = "",
    ) -> Job:
        """Record a job and queue it (Busy when ``limit`` of its kind wait already); returns it, queued."""
        table = JobTable(backend)
        job = table.add(kind, by, organisation, args, limit, what)
        if self.deferrer is not None:
            try:
                self.deferrer.defer(job.id)
            except Exception as exc:  # never a job shown as queued that no worker will ever see
                table.finish(job.id, "failed", error=f"could not queue the job: {exc}")
                raise
        return job

    def status(self, backend: SqlBackend, job_id: int) -> Job | None:
        return JobTable(backend).get(job_id)

    def result(self, backend: SqlBackend, job_id: int) -> bytes | None:
        return JobTable(backend).output(job_id)

    def close(self) -> None:
        if self.deferrer is not None:
            self.deferrer.close()


def make_worker(target: str, stale_s: float = STALE_S) -> Worker:
    """A worker for the register: procrastinate's on PostGIS, the job table's on a GeoPackage."""
    if is_postgres(target):
        from sapper.jobs.postgres import QueueWorker

        return QueueWorker(target, stale_s)
    from sapper.jobs.local import LocalWorker

    return LocalWorker(target, stale_s)


class WorkerThread:
    """A worker in a thread of a server process (``sapper serve`` without ``--no-worker``)."""

    def __init__(self, target: str) -> None:
        self.worker = make_worker(target)
        self.thread = threading.Thread(target=self.worker.run, name="jobs-worker", daemon=True)

    def start(self) -> WorkerThread:
        self.thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.worker.stop()
        self.thread.join(timeout)
