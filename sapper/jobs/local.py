"""The GeoPackage queue: a worker polls the register's own job table.

A GeoPackage is one file on one machine, so its workers are the threads of ``sapper serve`` and any
``sapper worker`` started on that machine: each takes the oldest queued job (``JobTable.claim``)
and gives back the jobs of workers that died (``JobTable.sweep``), which are then made again.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from sapper.jobs.runner import Heartbeat, Stopped, execute
from sapper.jobs.table import STALE_S, JobTable, this_worker
from sapper.store import Register, open_register

POLL_S = 0.5  # how often an idle worker looks for a queued job
log = logging.getLogger(__name__)


class LocalWorker:
    """Makes the jobs of one register, one at a time, until stopped."""

    def __init__(self, target: str, stale_s: float = STALE_S) -> None:
        self.target = target
        self.stale_s = stale_s
        self.name = this_worker()
        self.stopping = threading.Event()

    def _open(self) -> Register:
        return open_register(self.target, user="worker")

    def run(self) -> None:
        """Work until ``stop``; the job being made when it comes goes back to the queue."""
        reg = self._open()
        table = JobTable(reg.backend).ensure()
        beat = Heartbeat(self._open, self.name, self.stopping).start()
        try:
            while not self.stopping.is_set():
                try:
                    table.sweep(self.stale_s)
                    job = table.claim(self.name)
                except Exception as exc:  # a locked file: the next round tries again
                    log.warning("could not take a job: %s", exc)
                    job = None
                if job is None:
                    self.stopping.wait(POLL_S)
                    continue
                beat.busy.set()
                try:
                    execute(reg, job, self.stopping)
                except Stopped:
                    pass
                finally:
                    beat.busy.clear()
        finally:
            self.stopping.set()
            with contextlib.suppress(Exception):  # the jobs of a worker that cannot say so are swept later
                table.release(self.name, "the process making it stopped")
            beat.thread.join(timeout=5)
            reg.close()

    def stop(self) -> None:
        self.stopping.set()
