"""Work shared out to fresh processes: regions of a country's plan, lanes of its sectors."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

Job = TypeVar("Job")
Out = TypeVar("Out")


def run_parallel(work: Callable[[Job], Out], jobs: Iterable[Job], processes: int) -> list[Out]:
    """``work`` of every job, in the jobs' order, in ``processes`` fresh processes (spawned: safe in a server)."""
    jobs = list(jobs)
    if processes <= 1 or len(jobs) <= 1:
        return [work(job) for job in jobs]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(processes, len(jobs)), mp_context=context) as pool:
        return list(pool.map(work, jobs))
