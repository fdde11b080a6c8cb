"""Kept tiles served while out of date, built again behind the scenes (stale-while-revalidate).

A tile at national zoom holds most of the country, so any write anywhere makes its kept copy stale, and
building it again takes seconds on a full register. Web tile servers answer such a request with the
copy they have and build the new one in the background; so does sapper, within bounds
(``StaleBounds``): only when the writes since added, moved or edited records (``tile_changes.STALE``),
never when a record may have left someone's view, only to ``to_zoom``, and only while the first
unshown write is younger than ``max_age_s`` and the writes since are at most ``max_writes``; past them
the reader waits for the tile as before.

One daemon thread of the server process builds the tiles asked for, one at a time, each tile and scope
at most once in the queue however many requests found it stale. The queue is bounded (``QUEUE_LIMIT``):
a tile that finds it full is served stale and asked for again by its next reader. The thread opens its
own register for a run of rebuilds, closes it when the queue is empty and ends; being a daemon, it
never holds up the process's end, and ``close`` stops it taking more.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sapper.store.tile_changes import Effect, Verdict
from sapper.store.tiles import TileId

if TYPE_CHECKING:
    from sapper.store.register import Register
    from sapper.store.sql import SqlBackend

QUEUE_LIMIT = 256  # tiles waiting to be built again (assumption: a few views x the low-zoom tiles of a country)
THREAD_NAME = "sapper-tile-rebuilds"
log = logging.getLogger(__name__)

Job = Callable[["SqlBackend", "SqlBackend"], object]  # builds and stores a tile, given a reader and a writer


@dataclass(frozen=True)
class StaleBounds:
    """How far out of date a kept tile may be served while a new one is built."""

    max_age_s: float = 60.0  # since the first write it does not show (assumption: a map a minute behind is fine)
    max_writes: int = 500  # audit entries on its layers since it was built (assumption)
    to_zoom: int = 7  # national zooms, where a tile takes seconds to build; deeper a team sees its write at once

    def allow(self, verdict: Verdict, tile_id: TileId) -> bool:
        if verdict.effect is not Effect.STALE or tile_id.zoom > self.to_zoom or verdict.entries > self.max_writes:
            return False
        if verdict.first_at is None:
            return False
        first = verdict.first_at if verdict.first_at.tzinfo else verdict.first_at.replace(tzinfo=UTC)
        return (datetime.now(UTC) - first).total_seconds() <= self.max_age_s


class Later:
    """Tiles to be built again in the background, one at a time, each at most once in the queue."""

    def __init__(self, open_register: Callable[[], Register], bounds: StaleBounds | None = None) -> None:
        self.bounds = bounds or StaleBounds()
        self._open_register = open_register
        self._queue: queue.Queue[tuple[Hashable, Job]] = queue.Queue(maxsize=QUEUE_LIMIT)
        self._pending: set[Hashable] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def ask(self, key: Hashable, job: Job) -> bool:
        """Build ``key`` again with ``job`` unless it is waiting or being built already; False if not queued."""
        with self._lock:
            if self._closed or key in self._pending:
                return False
            try:
                self._queue.put_nowait((key, job))
            except queue.Full:
                return False
            self._pending.add(key)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
                self._thread.start()
        return True

    def close(self) -> None:
        """Take no more tiles; the one being built finishes, those waiting are dropped."""
        with self._lock:
            self._closed = True

    def _run(self) -> None:
        reg: Register | None = None
        try:
            while True:
                with self._lock:
                    if self._closed or self._queue.empty():
                        self._thread = None
                        self._pending.clear()
                        return
                    key, job = self._queue.get_nowait()
                try:
                    reg = reg or self._open_register()
                    job(reg.backend, reg.backend)
                except Exception:  # the next reader finds the tile stale and asks again
                    log.exception("building tile %s again failed", key)
                    self._closing(reg)  # its connection may be what failed: the next tile opens another
                    reg = None
                finally:
                    with self._lock:
                        self._pending.discard(key)
        finally:
            self._closing(reg)

    @staticmethod
    def _closing(reg: Register | None) -> None:
        if reg is not None:
            with contextlib.suppress(Exception):  # its connection may be gone already
                reg.close()
