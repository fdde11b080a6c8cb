"""Chunks of a forecast's runs worked side by side on the machine's cores.

numpy lets go of Python's lock in its long loops (random draws, interpolation, partitions,
arithmetic on whole arrays), so chunks of runs, each on rows of its own, gain from threads.
A chunk's random draws come from a stream of its own, spawned from the seed by the chunk's
place (numpy's SeedSequence), never from the thread that takes it: the same seed gives the
same forecast whatever the number of threads or the order the chunks end in.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

T = TypeVar("T")
R = TypeVar("R")

# Threads a forecast uses: the cores, at most 4 (a chunk's numpy calls are short: more threads
# would wait on each other's Python steps more than they gain).
THREADS = max(1, min(4, os.cpu_count() or 1))
DRAWS, DAYS = 0, 1  # the streams' purposes: sector durations, the day pace's days


def each(work: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
    """``work(item)`` of each item, on up to THREADS threads; the results in the items' order."""
    if THREADS == 1 or len(items) < 2:
        yield from map(work, items)
        return
    with ThreadPoolExecutor(min(THREADS, len(items)), thread_name_prefix="forecast") as pool:
        yield from pool.map(work, items)


def run_each(work: Callable[[T], object], items: Sequence[T]) -> None:
    """``work(item)`` of each item for what it does in place, on up to THREADS threads; all done on return."""
    for _ in each(work, items):
        pass


def streams(seed: int, purpose: int, chunks: int) -> list[np.random.Generator]:
    """One random generator per chunk of runs, from the seed, the purpose and the chunk's place alone."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence([seed, purpose]).spawn(chunks)]
