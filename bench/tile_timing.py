"""Timing vector tiles over HTTP cold (the tile cache emptied before each request), warm (cached), asked
again after a write (``after_writes``: one elsewhere in the country, or one in the tile, which a national
tile answers stale while it is built again; ``until_current``: how long until the new tile is served), and a peer: a
plain ``ST_AsMVT`` of every feature in the tile, asked of PostGIS directly (no app, no visibility rule, no
generalisation: what a bare tile server would send).

Used by ``tiles_bench.py`` and ``national.py``.
"""

from __future__ import annotations

import math
import sqlite3
import statistics
import time
from collections.abc import Callable

import httpx
import psycopg

from sapper.server.tiles import STALE_HEADER
from sapper.store.tile_cache import CACHE

TILE_URL = "/ogc/collections/{name}/tiles/WebMercatorQuad/{z}/{row}/{col}"
PEER_SQL = (
    "SELECT ST_AsMVT(t.*, %(name)s, 4096, 'mvt_geom', 'id') FROM (SELECT id, {fields}, "
    "ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4096, 64, true) AS mvt_geom "
    "FROM {name} WHERE geom && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 64.0 / 4096), 4326)) AS t "
    "WHERE mvt_geom IS NOT NULL"
)
PEER_FIELDS = {"hazards": "name, status", "items": "category, state, hazard_id, team_id"}


def percentiles(times: list[float]) -> tuple[float, float]:
    """p50 and p95 of milliseconds (nearest rank)."""
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def _timed(ask: Callable[[], int], repeat: int, before: Callable[[], None] | None = None) -> tuple[list[float], int]:
    times, size = [], 0
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        size = ask()
        times.append((time.perf_counter() - start) * 1000)
    return times, size


def clear_cache(target: str) -> None:
    """Empty the register's tile cache (not timed): the next fetch builds the tile."""
    if target.startswith("postgresql://"):
        with psycopg.connect(target, autocommit=True) as conn:
            if conn.execute("SELECT to_regclass(%s) IS NOT NULL", [CACHE]).fetchone()[0]:
                conn.execute(f"DELETE FROM {CACHE}")
        return
    with sqlite3.connect(target) as conn:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [CACHE]).fetchone():
            conn.execute(f"DELETE FROM {CACHE}")


def cold_and_warm(
    client: httpx.Client, target: str, name: str, tile: tuple[int, int, int], repeat: int
) -> dict[str, float]:
    """p50/p95 ms of a tile built (cache emptied before each request) and served from the cache; its size."""
    z, row, col = tile
    url = TILE_URL.format(name=name, z=z, row=row, col=col)

    def ask() -> int:
        answer = client.get(url)
        assert answer.status_code in (200, 204), answer.text
        return len(answer.content)

    cold, size = _timed(ask, repeat, lambda: clear_cache(target))
    ask()  # stored now
    warm, _ = _timed(ask, repeat)
    (c50, c95), (w50, w95) = percentiles(cold), percentiles(warm)
    return {"cold p50": c50, "cold p95": c95, "warm p50": w50, "warm p95": w95, "size": size}


def after_writes(
    client: httpx.Client, name: str, tile: tuple[int, int, int], repeat: int, write: Callable[[], None]
) -> dict[str, float]:
    """p50/p95 ms of a tile asked again after ``write`` (not timed) each time, from a warm cache, and how
    many of the answers were the kept tile served stale (``Sapper-Tile: stale``) while it is built again."""
    z, row, col = tile
    url = TILE_URL.format(name=name, z=z, row=row, col=col)
    stale = 0

    def ask() -> int:
        nonlocal stale
        answer = client.get(url)
        assert answer.status_code in (200, 204), answer.text
        stale += answer.headers.get(STALE_HEADER) == "stale"
        return len(answer.content)

    ask()  # kept, as a reader left it
    stale = 0
    times, _ = _timed(ask, repeat, write)
    p50, p95 = percentiles(times)
    return {"p50": p50, "p95": p95, "stale": stale}


def until_current(
    client: httpx.Client, name: str, tile: tuple[int, int, int], repeat: int, write: Callable[[], None]
) -> dict[str, float]:
    """p50/p95 ms from a write (not timed) to the first answer that is not the kept tile served stale:
    how long readers see the tile without the write, asking every 20 ms."""
    z, row, col = tile
    url = TILE_URL.format(name=name, z=z, row=row, col=col)

    def stale() -> bool:
        answer = client.get(url)
        assert answer.status_code in (200, 204), answer.text
        return answer.headers.get(STALE_HEADER) == "stale"

    def ask() -> int:
        while stale():
            time.sleep(0.02)
        return 0

    ask()  # current before the first write
    times, _ = _timed(ask, repeat, write)
    p50, p95 = percentiles(times)
    return {"p50": p50, "p95": p95}


def peer(target: str, name: str, tile: tuple[int, int, int], repeat: int) -> dict[str, float]:
    """p50/p95 ms and size of a plain ST_AsMVT of every feature in the tile, straight from PostGIS."""
    z, row, col = tile
    sql = PEER_SQL.format(name=name, fields=PEER_FIELDS[name])
    with psycopg.connect(target, autocommit=True) as conn:

        def ask() -> int:
            return len(conn.execute(sql, {"name": name, "z": z, "x": col, "y": row}).fetchone()[0] or b"")

        ask()  # the same warm-up the app gets: table pages in memory
        times, size = _timed(ask, repeat)
    p50, p95 = percentiles(times)
    return {"p50": p50, "p95": p95, "size": size}
