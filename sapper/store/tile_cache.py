"""Low-zoom vector tiles kept in the register, so a national view is read, not rebuilt, until a write.

A tile at national zoom reads every feature of a province; built once, it is stored in the register's
``sapper_tile_cache`` table (not a layer: not in ``gpkg_contents``) under its layer, tile and
**scope**: whose view of the register it is (``*`` for users who see every organisation, else the
organisation whose restricted records the reader sees, ``(anonymous)`` for visitors). Users of the
same scope get the same tile from the same register, so a tile cached for one organisation is never
served to another. Only plain tiles are kept (no field filter) and only to ``CACHED_TO``.

A stored tile carries the audit log's latest id when it was built; every write through sapper adds an
audit entry in its own transaction. A tile is served as it is while that id is still the latest; after
other writes, only if none of them changed what lies in it (``tile_changes``: by place, the records
written since that lay or lie in the tile, and the parent records, such as a hazard for its items, whose
visibility changed anywhere), else it is built again. A write far away leaves a national tile kept. On
PostgreSQL audit ids can commit out of order, so a tile is stored, or marked current, only when no
transaction holding an audit id is in flight: the id then names every change before it. A tile read
on a streaming replica is kept only when the primary has no such transaction and the replica has
replayed all the primary had written then. Storing is best effort: a busy or read-only register serves
the tile uncached. Edits made around sapper (SQL, QGIS on the file) write no audit entry: empty the table
after them.

A kept tile out of date only by records added, moved or edited there (``tile_changes.Effect.STALE``) may be
served as it is while it is built again in the background (``tile_for`` with ``later``, the server's
``tile_rebuilds.Later``, within its bounds); one that may show a record someone may no longer see is not.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from functools import partial

from sapper.store import tile_changes
from sapper.store.query import PARENTS, Filter, table
from sapper.store.replica import replayed_lsn, written_lsn
from sapper.store.schema import AUDIT_TABLE, Layer, layer
from sapper.store.sql import SqlBackend, q
from sapper.store.tile_changes import Effect, Verdict
from sapper.store.tile_rebuilds import Later
from sapper.store.tiles import BUFFER, EXTENT, TileId
from sapper.store.tiles_generalised import built_tile

CACHE = "sapper_tile_cache"
CACHED_TO = 10  # the deepest zoom kept: a tile there covers a district; deeper ones are quick to build
EVERYONE = "*"  # the scope of users who see every organisation's records
# How long a tile about to be built on a replica waits for it to replay the primary's last writes, to be kept (an
# assumption: a replica on the same network trails by milliseconds; a build takes longer). One further behind
# serves the tile uncached. A kept tile read there is not held up: it is only not marked current.
REPLAY_WAIT_S = 0.1
RECHECK = 10_000  # writes after which a kept tile is built again rather than checked against the audit log


def scope_of(organisation: str | None) -> str:
    """The cache scope of a reader whose view is ``organisation`` (None: every organisation)."""
    return EVERYONE if organisation is None else f"org:{organisation}"


def cacheable(flt: Filter, tile_id: TileId) -> bool:
    """Whether a tile asked with this filter is one the cache keeps: low zoom, no field filter."""
    plain = not flt.where and flt.ids is None and flt.date_from is None and flt.date_to is None and flt.bbox is None
    return plain and tile_id.zoom <= CACHED_TO


def register_version(backend: SqlBackend) -> int:
    """The audit log's latest id: it changes with every write to the register."""
    row = backend.execute(f"SELECT max(id) FROM {q(AUDIT_TABLE)}").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def settled_version(reader: SqlBackend, writer: SqlBackend | None = None, wait_s: float = 0.0) -> int | None:
    """The version a tile read from ``reader`` may be kept at, naming all it read; None while that is unsure.

    ``writer`` is the primary when ``reader`` may be its streaming replica, which is given up to
    ``wait_s`` to replay what the primary has written.
    """
    if _is_sqlite(reader):
        return register_version(reader)  # one writer at a time, and ids commit in order
    version = register_version(reader)  # before the writers are counted: any id drawn after is higher
    writing = _audit_writers(reader)
    if writing is not None:
        return version if writing == 0 else None
    # A replica shows none of the primary's locks: the primary is asked, and the replica must have
    # replayed all the primary had written once no write was in flight there (audit ids may commit
    # out of id order, and the replica shows them in commit order).
    if writer is None or writer is reader:
        return None
    settled = settled_version(writer)
    if settled is None or not _replayed_to(reader, written_lsn(writer), wait_s):
        return None
    return settled


def _replayed_to(replica: SqlBackend, lsn: int, wait_s: float) -> bool:
    """Whether the replica has replayed the primary's WAL to ``lsn``, waiting up to ``wait_s`` for it."""
    deadline = time.monotonic() + wait_s
    while replayed_lsn(replica) < lsn:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def _audit_writers(backend: SqlBackend) -> int | None:
    """How many transactions hold an audit id not yet committed; None on a replica, which cannot tell.

    A transaction that has taken an audit id holds the audit log's write lock (ROW EXCLUSIVE) until it
    ends, taken before the id is drawn, and pg_locks shows it: only writes to this register count, not
    the job queue's, another database's, nor (auto)vacuum or analyze of the log itself, which take
    transaction ids too.
    """
    row = backend.execute(
        "SELECT CASE WHEN pg_is_in_recovery() THEN -1 ELSE (SELECT count(*) FROM pg_locks "
        "WHERE locktype = 'relation' AND mode = 'RowExclusiveLock' "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        f"AND relation = to_regclass({backend.ph})::oid AND pid IS DISTINCT FROM pg_backend_pid()) END",
        [q(AUDIT_TABLE)],
    ).fetchone()
    return None if row is None or int(row[0]) < 0 else int(row[0])


def _is_sqlite(backend: SqlBackend) -> bool:
    from sapper.store.gpkg import GeoPackageBackend

    return isinstance(backend, GeoPackageBackend)


@dataclass
class Kept:
    """A stored tile and what the writes since it was built did to it."""

    data: bytes
    verdict: Verdict


def _kept(reader: SqlBackend, writer: SqlBackend, lay: Layer, tile_id: TileId, scope: str) -> Kept | None:
    """The stored tile, checked against the audit log; None if there is none or too much has changed.

    A tile older than the register is checked against the audit log: when no write since changed a
    record in it, nor the visibility of a record that can hide its own (a hazard for its items), it is
    still right, and is marked current so the next reader need not check again.
    """
    if not reader.existing_columns(CACHE):
        return None
    ph = reader.ph
    sql = (
        f"SELECT version, data FROM {q(CACHE)} WHERE layer = {ph} AND zoom = {ph} AND tile_row = {ph} "
        f"AND tile_col = {ph} AND scope = {ph}"
    )
    key = [lay.name, tile_id.zoom, tile_id.row, tile_id.col, scope]
    row = reader.execute(sql, key).fetchone()
    if row is None:
        return None
    built, data = int(row[0]), bytes(row[1])
    if built == register_version(reader):
        return Kept(data, Verdict(Effect.UNCHANGED))
    now = settled_version(reader, writer)
    # With writes in flight (PostgreSQL) the tile is checked against what is committed and served if
    # untouched, but not marked current: an entry below the latest id may commit later, and the next
    # reader checks from the same id again.
    latest = register_version(reader) if now is None else now
    if latest - built > RECHECK:
        return None
    verdict = _effect(reader, lay, tile_id, built, latest)
    if verdict.effect is not Effect.UNCHANGED or now is None:
        return Kept(data, verdict)
    with contextlib.suppress(Exception):  # busy or read-only: the next reader checks again
        update = f"UPDATE {q(CACHE)} SET version = {ph} WHERE layer = {ph} AND zoom = {ph} AND tile_row = {ph} "
        writer.execute(update + f"AND tile_col = {ph} AND scope = {ph} AND version = {ph}", [now, *key, built])
    return Kept(data, verdict)


def watched(lay: Layer) -> list[str]:
    """The audit log's names for what a tile of ``lay`` shows: its own table and those that can hide its rows."""
    names, todo = [], [table(lay).name]
    while todo:
        name = todo.pop()
        if name not in names:
            names.append(name)
            todo += [layer(kind).name for kind in PARENTS.get(name, {}).values()]
    return names


def _effect(backend: SqlBackend, lay: Layer, tile_id: TileId, after: int, upto: int) -> Verdict:
    """What the writes with an audit id in (``after``, ``upto``] did to what the tile shows."""
    _own, *parents = watched(lay)  # the first is table(lay) itself
    box = tile_id.lonlat_box(pad=BUFFER / EXTENT)  # the tile and the buffer its features are read over
    return tile_changes.effect(backend, table(lay), parents, after, upto, box)


def store(backend: SqlBackend, lay: Layer, tile_id: TileId, scope: str, version: int, data: bytes) -> None:
    """Keep a tile built at ``version``, replacing an older one; tiles too old to check again go."""
    ph = backend.ph
    key = [lay.name, tile_id.zoom, tile_id.row, tile_id.col, scope]
    with backend.transaction():
        stale = [lay.name, version - RECHECK]
        backend.execute(f"DELETE FROM {q(CACHE)} WHERE layer = {ph} AND version < {ph}", stale)
        backend.execute(
            f"INSERT INTO {q(CACHE)} (layer, zoom, tile_row, tile_col, scope, version, data) "
            f"VALUES ({', '.join([ph] * 7)}) ON CONFLICT (layer, zoom, tile_row, tile_col, scope) "
            "DO UPDATE SET version = excluded.version, data = excluded.data "
            f"WHERE excluded.version >= {q(CACHE)}.version",
            [*key, version, data],
        )


def ensure(backend: SqlBackend) -> None:
    """Create the cache table if this register has none yet (another process may be doing the same)."""
    if backend.existing_columns(CACHE):
        return
    blob = "BLOB" if _is_sqlite(backend) else "bytea"
    try:
        with backend.transaction():
            backend.execute(
                f"CREATE TABLE IF NOT EXISTS {q(CACHE)} (layer TEXT NOT NULL, zoom INTEGER NOT NULL, "
                "tile_row INTEGER NOT NULL, tile_col INTEGER NOT NULL, scope TEXT NOT NULL, "
                f"version BIGINT NOT NULL, data {blob} NOT NULL, PRIMARY KEY (layer, zoom, tile_row, tile_col, scope))"
            )
    except Exception:  # another server process created it at the same moment
        if not backend.existing_columns(CACHE):
            raise


@dataclass
class TileAnswer:
    """A tile as it is answered: ``stale`` when it is the kept one while a newer one is being built;
    ``kept`` when the cache holds it as current (``sapper tiles`` counts the others)."""

    data: bytes
    stale: bool = False
    kept: bool = False


def tile_for(
    reader: SqlBackend,
    writer: SqlBackend,
    lay: Layer,
    flt: Filter,
    tile_id: TileId,
    scope: str,
    later: Later | None = None,
) -> TileAnswer:
    """The tile for a reader of ``scope`` under filter ``flt``: from the cache when it is current.

    ``reader`` is the register the request reads (perhaps a replica), ``writer`` the one that may
    be written (the primary). With ``later``, a kept tile that is only out of date (``STALE``: no
    record left any view since), within ``later.bounds``, is served as it is and built again in the
    background; anything else is built now.
    """
    if not cacheable(flt, tile_id):
        return TileAnswer(built_tile(reader, lay, flt, tile_id))
    kept = _kept(reader, writer, lay, tile_id, scope)
    if kept is not None and kept.verdict.effect is Effect.UNCHANGED:
        return TileAnswer(kept.data, kept=True)
    if kept is not None and later is not None and later.bounds.allow(kept.verdict, tile_id):
        later.ask((lay.name, tile_id.zoom, tile_id.row, tile_id.col, scope), partial(rebuild, lay, flt, tile_id, scope))
        return TileAnswer(kept.data, stale=True)
    data, stored = _built_and_kept(lay, flt, tile_id, scope, reader, writer)
    return TileAnswer(data, kept=stored)


def rebuild(lay: Layer, flt: Filter, tile_id: TileId, scope: str, reader: SqlBackend, writer: SqlBackend) -> bytes:
    """Build the tile and keep it, replacing the one stored."""
    return _built_and_kept(lay, flt, tile_id, scope, reader, writer)[0]


def _built_and_kept(
    lay: Layer, flt: Filter, tile_id: TileId, scope: str, reader: SqlBackend, writer: SqlBackend
) -> tuple[bytes, bool]:
    """The tile, built, and whether it was kept: not while a write is in flight, nor on a read-only register.

    The version is read before the tile is built, so a write that lands in between leaves the stored
    tile already stale, never wrongly current.
    """
    version = settled_version(reader, writer, REPLAY_WAIT_S)
    data = built_tile(reader, lay, flt, tile_id)
    if version is None:
        return data, False
    try:
        ensure(writer)
        store(writer, lay, tile_id, scope, version, data)
    except Exception:  # busy, read-only or gone: the tile is served all the same
        return data, False
    return data, True
