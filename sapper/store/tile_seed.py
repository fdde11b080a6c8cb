"""Warm the tile cache before anyone looks: a national register's low-zoom tiles, for every view of it.

A cold tile at national zoom reads every feature of a province (seconds at a national register's
size); the cache (``tile_cache``) keeps it once built. Seeding builds every tile that covers a layer's
records, zoom 0 up to ``to_zoom``, once for each view the readers have: users who see every
organisation, each organisation with accounts, and anonymous visitors. Run it after a bulk import, or
at night: the first visitor in the morning then reads, not builds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from sapper.store import query
from sapper.store.query import Filter
from sapper.store.schema import Layer
from sapper.store.sql import SqlBackend
from sapper.store.tile_cache import CACHED_TO, scope_of, tile_for
from sapper.store.tiles import TileId

ANONYMOUS = "(anonymous)"  # the view of visitors who are not logged in (as the server names it)
SEEDED_LAYERS = ("hazards", "releases", "items")  # what the web map draws from tiles


@dataclass
class Seeded:
    tiles: dict[str, int] = field(default_factory=dict)  # by layer: tiles built, all views together
    unkept: dict[str, int] = field(default_factory=dict)  # by layer: built but not kept (writes in flight)
    seconds: float = 0.0


def covering(bounds: tuple[float, float, float, float], zoom: int) -> Iterator[TileId]:
    """The tiles of ``zoom`` that hold some of ``bounds`` (west, south, east, north in degrees)."""
    west, south, east, north = bounds
    top, bottom = TileId.at(west, north, zoom), TileId.at(east, south, zoom)
    for row in range(top.row, bottom.row + 1):
        for col in range(top.col, bottom.col + 1):
            yield TileId(zoom, row, col)


def seed_tiles(
    backend: SqlBackend,
    layers: Sequence[Layer],
    views: Sequence[str | None],
    to_zoom: int = 8,
    progress: Callable[[str], None] | None = None,
) -> Seeded:
    """Build and keep every cached tile of ``layers`` to ``to_zoom`` for each view (None: every organisation).

    A tile built while a write through sapper is in flight (PostGIS) is not kept; those are built once more
    at the end, and the ones still not kept are counted in ``unkept``.
    """
    if not 0 <= to_zoom <= CACHED_TO:
        raise ValueError(f"tiles are kept to zoom {CACHED_TO}: seed to a zoom from 0 to {CACHED_TO}, not {to_zoom}")
    done = Seeded()
    began = time.perf_counter()
    again: list[tuple[Layer, Filter, TileId, str]] = []
    for lay in layers:
        done.tiles[lay.name] = 0
        for view in views:
            flt = Filter(organisation=view)
            bounds = query.extent(backend, lay, flt)
            if bounds is None or any(v is None for v in bounds):
                continue  # nothing this view sees
            for zoom in range(to_zoom + 1):
                for tile_id in covering(bounds, zoom):
                    if not tile_for(backend, backend, lay, flt, tile_id, scope_of(view)).kept:
                        again.append((lay, flt, tile_id, scope_of(view)))
                    done.tiles[lay.name] += 1
            if progress:
                progress(f"{lay.name} {view or '*'}")
    for lay, flt, tile_id, scope in again:
        if not tile_for(backend, backend, lay, flt, tile_id, scope).kept:
            done.unkept[lay.name] = done.unkept.get(lay.name, 0) + 1
    done.seconds = time.perf_counter() - began
    return done
