"""The PostGIS queue: procrastinate, in the register's own database.

A job is a row of ``sapper_jobs`` (what users see) and a procrastinate job that carries its id to
whichever worker takes it first: a thread of any ``sapper serve``, or a ``sapper worker`` on any
machine. Every worker beats its heartbeat in ``procrastinate_workers``; every worker also looks, every
few seconds, for jobs left in 'doing' by a worker that went silent (procrastinate's
``get_stalled_jobs``) or whose process is gone from this host, and puts them back in the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

import procrastinate
import psycopg
from procrastinate.jobs import Status
from procrastinate.schema import SchemaManager

from sapper.jobs.runner import Stopped, execute
from sapper.jobs.table import HEARTBEAT_S, MAX_ATTEMPTS, STALE_S, JobTable, alive, this_worker
from sapper.store import open_register

QUEUE = "sapper"
TASK = "sapper.job"
SCHEMA_LOCK = 7_305_118_101  # pg_advisory_xact_lock key: one process at a time applies the schema
CHECK_S = 3.0  # how often a worker looks for the jobs of dead workers
log = logging.getLogger(__name__)


def ensure_schema(url: str) -> None:
    """Create procrastinate's tables in the register's database unless they are there (idempotent)."""
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEMA_LOCK])
        if conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()[0] is None:  # type: ignore[index]
            conn.execute(SchemaManager.get_schema())


class Deferrer:
    """Hands job ids to the queue from a server's request threads (a small pool of its own)."""

    def __init__(self, url: str) -> None:
        connector = procrastinate.SyncPsycopgConnector(conninfo=url, min_size=1, max_size=4)
        self.app = procrastinate.App(connector=connector)
        self.opened = False
        self.lock = threading.Lock()

    def defer(self, job_id: int) -> None:
        with self.lock:
            if not self.opened:
                self.app.open()
                self.opened = True
        self.app.configure_task(TASK, queue=QUEUE).defer(job_id=job_id)

    def close(self) -> None:
        with self.lock:
            if self.opened:
                self.app.close()
                self.opened = False


class QueueWorker:
    """A procrastinate worker on the register's database, making one job at a time until stopped."""

    def __init__(self, url: str, stale_s: float = STALE_S) -> None:
        self.url = url
        self.stale_s = stale_s
        self.name = this_worker()
        self.stopping = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.main: asyncio.Task[None] | None = None

    def run(self) -> None:
        """Work until ``stop`` (which a signal handler may call)."""
        ensure_schema(self.url)
        asyncio.run(self._main())

    def stop(self) -> None:
        """Stop taking jobs; the job being made stops at its next step and goes back to the queue."""
        self.stopping.set()
        if self.loop is not None and self.main is not None:
            with contextlib.suppress(RuntimeError):  # the loop ended already
                self.loop.call_soon_threadsafe(self.main.cancel)

    def _app(self) -> procrastinate.App:
        connector = procrastinate.PsycopgConnector(conninfo=self.url, min_size=1, max_size=3)
        app = procrastinate.App(connector=connector)
        # JobTable.requeue ends a job after MAX_ATTEMPTS: the queue must not give up on it sooner
        retry = procrastinate.RetryStrategy(max_attempts=MAX_ATTEMPTS + 1, retry_exceptions={Stopped})
        app.task(name=TASK, queue=QUEUE, retry=retry)(self._make)
        return app

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.main = asyncio.current_task()
        if self.stopping.is_set():
            return
        app = self._app()
        async with app.open_async():
            checker = asyncio.create_task(self._check(app))
            try:
                await app.run_worker_async(
                    queues=[QUEUE],
                    concurrency=1,  # a plan keeps a core busy
                    wait=True,
                    install_signal_handlers=False,  # stop() sets the event the job's steps look at
                    update_heartbeat_interval=HEARTBEAT_S,
                    stalled_worker_timeout=self.stale_s,
                    shutdown_graceful_timeout=30,
                    delete_jobs="successful",  # sapper_jobs keeps what users see
                    fetch_job_polling_interval=2,
                )
            except asyncio.CancelledError:
                if not self.stopping.is_set():
                    raise
            finally:
                self.stopping.set()
                checker.cancel()

    def _make(self, job_id: int) -> None:
        """The procrastinate task: make sapper job ``job_id`` (run in a thread of its own)."""
        reg = open_register(self.url, user="worker")
        try:
            table = JobTable(reg.backend).ensure()
            if not table.start(job_id, self.name):
                return  # it ended already (cancelled, or made by a worker given up for dead)
            job = table.get(job_id)
            assert job is not None
            execute(reg, job, self.stopping)
        finally:
            reg.close()

    async def _check(self, app: procrastinate.App) -> None:
        while True:
            await asyncio.sleep(CHECK_S)
            try:
                await self.retry_dead(app)
            except Exception as exc:  # a lost database: the next round tries again
                log.warning("could not look for stalled jobs: %s", exc)

    async def retry_dead(self, app: procrastinate.App) -> None:
        """Put the jobs of dead workers back in the queue (or end them, after MAX_ATTEMPTS)."""
        manager = app.job_manager
        stalled = {j.id for j in await manager.get_stalled_jobs(task_name=TASK, seconds_since_heartbeat=self.stale_s)}
        for queued in await manager.list_jobs_async(task=TASK, status="doing"):
            action = await asyncio.to_thread(self._settle, int(queued.task_kwargs["job_id"]), queued.id in stalled)
            with contextlib.suppress(procrastinate.exceptions.ProcrastinateException):  # another worker was first
                if action == "retry":
                    await manager.retry_job(queued)
                elif action is not None:
                    await manager.finish_job(queued, status=action, delete_job=False)

    def _settle(self, job_id: int, stalled: bool) -> Status | str | None:
        """What becomes of a 'doing' job, from its sapper row: 'retry', an end, or None (it lives)."""
        reg = open_register(self.url, user="worker")
        try:
            table = JobTable(reg.backend)
            job = table.get(job_id)
            if job is None or job.status in ("done", "failed", "cancelled"):
                return Status.SUCCEEDED if stalled else None  # its end is recorded already
            if job.status == "queued":
                return "retry" if stalled else None  # taken by a worker that died before starting it
            if stalled or not alive(job.worker):
                why = "the process making it stopped before it was done"
                return {"queued": "retry", "failed": Status.FAILED}.get(table.requeue(job.id, job.worker, why) or "")
            return None
        finally:
            reg.close()
