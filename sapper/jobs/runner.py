"""Make one job: find what its kind does, let it report progress, record how it ended.

The work of each kind lives with the feature it belongs to (a plan with the plans API, a report
with the documents API) and is found here by name, so a worker process loads only what it runs.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sapper.jobs.table import HEARTBEAT_S, Job, JobTable, Lost
from sapper.store.register import Register

# kind -> "module:function"; the function takes a JobContext and returns (result, output bytes or None)
KINDS = {
    "plan": "sapper.server.plans:plan_job",
    "report": "sapper.server.documents:report_job",
}


class Stopped(Exception):
    """The process making the job is stopping: the job goes back to the queue for another."""


@dataclass
class JobContext:
    """What a job's work gets: the register, the job, and a way to say how far it got."""

    reg: Register
    job: Job
    stopping: threading.Event = field(default_factory=threading.Event)
    shown: dict[str, Any] = field(default_factory=lambda: {"step": "", "at": 0.0})
    ended: bool = False  # the work ended its job itself, in the commit that stored what it made

    def end_with(self, result: dict[str, Any]) -> None:
        """Mark the job done inside the caller's transaction (``JobTable.finish_held``), for work that
        writes into the register: its result and the job's end are one commit."""
        JobTable(self.reg.backend).finish_held(self.job.id, self.job.worker, result)
        self.ended = True

    def progress(self, step: str, share: float = 0.0) -> None:
        """Record ``step`` (and the share done) for every server to show.

        Raises Stopped when this process is stopping, Lost when the job was cancelled.
        """
        if self.stopping.is_set():
            raise Stopped("the process making it stopped")
        # written when the step changes, and at most once a second within one
        if step != self.shown["step"] or time.monotonic() - self.shown["at"] > 1:
            text = f"{step} {share:.0%}" if 0 < share < 1 else step
            if not JobTable(self.reg.backend).step(self.job.id, text):
                raise Lost(f"job {self.job.id} was cancelled")
            self.shown.update(step=step, at=time.monotonic())


Work = Callable[[JobContext], tuple[dict[str, Any], bytes | None]]


def work_of(kind: str) -> Work:
    module, _, name = KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def execute(reg: Register, job: Job, stopping: threading.Event) -> None:
    """Make ``job`` (already marked running) and record its end. Raises Stopped, after giving the job
    back to the queue, when the process is stopping; any other failure ends the job as failed."""
    table = JobTable(reg.backend)
    try:
        ctx = JobContext(reg, job, stopping)
        result, output = work_of(job.kind)(ctx)
        if not ctx.ended:
            table.finish(job.id, "done", result=result, output=output)
        table.forget_outputs()
    except Stopped:
        table.requeue(job.id, job.worker, "the process making it stopped")
        raise
    except Lost:  # cancelled, or another worker has the job now: nothing of this attempt is kept
        return
    except (ValueError, KeyError) as exc:  # the work's own word on what it cannot do
        table.finish(job.id, "failed", error=str(exc.args[0] if exc.args else exc))
    except Exception as exc:  # a job that fails must not take the worker with it
        table.finish(job.id, "failed", error=f"{type(exc).__name__}: {exc}")


class Heartbeat:
    """Marks a worker's running job alive from a thread with its own connection to the register;
    it writes only while ``busy`` is set, so an idle worker leaves the file to others."""

    def __init__(self, open_reg: Callable[[], Register], worker: str, stopping: threading.Event) -> None:
        self.open_reg, self.worker, self.stopping = open_reg, worker, stopping
        self.busy = threading.Event()
        self.thread = threading.Thread(target=self._beat, name="job-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self.thread.start()
        return self

    def _beat(self) -> None:
        reg = self.open_reg()
        try:
            while not self.stopping.wait(HEARTBEAT_S):
                if not self.busy.is_set():
                    continue
                with contextlib.suppress(Exception):  # a busy or lost database: the next beat tries again
                    JobTable(reg.backend).beat(self.worker)
        finally:
            reg.close()
