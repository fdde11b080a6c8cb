"""The GeoPackage R-tree spatial index extension (GeoPackage 1.2, Annex F.3) of a layer.

The index is a SQLite R-tree kept current by the spec's triggers, as GDAL writes them, so
GDAL and QGIS go on maintaining it when they edit a register. A bulk insert runs without
the insert trigger and its entries are added together before the transaction commits
(``DeferredIndex``): an empty index is then built packed in one pass (as GDAL builds it),
writing the R-tree's own tables.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sapper.store.sql import GEOM

RTREE_EXTENSION = "http://www.geopackage.org/spec120/#extension_rtree"
# Inserts of at least this many rows fill the index in bulk.
BULK_ROWS = 5000
# Page cache while they run (SQLite's default is 2 MiB): R-tree inserts into a large index touch
# many nodes. Measured, not a published figure: 200,000 inserts into an R-tree of 200,000 took
# 37 % less CPU with 64 MiB than with the default.
BULK_CACHE_KIB = 65536

TRIGGERS = """
CREATE TRIGGER "{r}_insert" AFTER INSERT ON "{t}" WHEN (new."{g}" NOT NULL AND NOT ST_IsEmpty(NEW."{g}"))
BEGIN INSERT OR REPLACE INTO "{r}" VALUES (NEW."{i}", ST_MinX(NEW."{g}"), ST_MaxX(NEW."{g}"),
ST_MinY(NEW."{g}"), ST_MaxY(NEW."{g}")); END;
CREATE TRIGGER "{r}_update1" AFTER UPDATE OF "{g}" ON "{t}" WHEN OLD."{i}" = NEW."{i}" AND
(NEW."{g}" NOTNULL AND NOT ST_IsEmpty(NEW."{g}")) BEGIN INSERT OR REPLACE INTO "{r}" VALUES (NEW."{i}",
ST_MinX(NEW."{g}"), ST_MaxX(NEW."{g}"), ST_MinY(NEW."{g}"), ST_MaxY(NEW."{g}")); END;
CREATE TRIGGER "{r}_update2" AFTER UPDATE OF "{g}" ON "{t}" WHEN OLD."{i}" = NEW."{i}" AND
(NEW."{g}" ISNULL OR ST_IsEmpty(NEW."{g}")) BEGIN DELETE FROM "{r}" WHERE id = OLD."{i}"; END;
CREATE TRIGGER "{r}_update3" AFTER UPDATE ON "{t}" WHEN OLD."{i}" != NEW."{i}" AND
(NEW."{g}" NOTNULL AND NOT ST_IsEmpty(NEW."{g}")) BEGIN DELETE FROM "{r}" WHERE id = OLD."{i}";
INSERT OR REPLACE INTO "{r}" VALUES (NEW."{i}", ST_MinX(NEW."{g}"), ST_MaxX(NEW."{g}"),
ST_MinY(NEW."{g}"), ST_MaxY(NEW."{g}")); END;
CREATE TRIGGER "{r}_update4" AFTER UPDATE ON "{t}" WHEN OLD."{i}" != NEW."{i}" AND
(NEW."{g}" ISNULL OR ST_IsEmpty(NEW."{g}")) BEGIN DELETE FROM "{r}" WHERE id IN (OLD."{i}", NEW."{i}"); END;
CREATE TRIGGER "{r}_delete" AFTER DELETE ON "{t}" WHEN old."{g}" NOT NULL
BEGIN DELETE FROM "{r}" WHERE id = OLD."{i}"; END;
"""

Execute = Callable[..., Any]


def index_name(table: str) -> str:
    return f"rtree_{table}_{GEOM}"


def create(execute: Execute, table: str) -> None:
    """The index table, its triggers and its line in gpkg_extensions."""
    rtree = index_name(table)
    execute(f'CREATE VIRTUAL TABLE "{rtree}" USING rtree(id, minx, maxx, miny, maxy)')
    for trigger in TRIGGERS.format(r=rtree, t=table, g=GEOM, i="id").split("END;")[:-1]:
        execute(trigger + "END")  # one by one: executescript would commit
    execute(
        "INSERT INTO gpkg_extensions VALUES (?, ?, 'gpkg_rtree_index', ?, 'write-only')",
        [table, GEOM, RTREE_EXTENSION],
    )


def without_insert_trigger(
    execute: Execute, in_transaction: Callable[[], bool], table: str, write: Callable[[], None]
) -> None:
    """Run ``write`` (a bulk insert) with the index's insert trigger off: the caller adds the
    entries itself (``DeferredIndex``), all at once."""
    rtree = index_name(table)
    trigger = execute("SELECT sql FROM sqlite_master WHERE name = ?", [f"{rtree}_insert"]).fetchone()[0]
    execute(f'DROP TRIGGER "{rtree}_insert"')
    try:
        write()
    finally:
        if in_transaction():  # else SQLite rolled back by itself (disk full): the trigger is back
            execute(trigger)


@dataclass
class _Entries:
    table: str
    ids: np.ndarray
    boxes: np.ndarray  # minx, maxx, miny, maxy


class DeferredIndex:
    """The index entries of a transaction's bulk inserts, added when the transaction commits or
    when the layer is about to be read by box or changed, whichever comes first.

    A million items inserted 50,000 at a time then go in at once, and into an empty index as
    one packed tree (as GDAL builds it), instead of one R-tree insert each. A savepoint rolled
    back takes back the entries of the rows it undid, and puts back those it had written."""

    def __init__(self) -> None:
        self.entries: list[_Entries | None] = []
        self.written: set[int] = set()
        self.events: list[tuple[bool, int]] = []  # (an entry added, else written), its index
        self.marks: dict[int, int] = {}

    def add(self, table: str, ids: Sequence[int], bounds: np.ndarray) -> None:
        """Entries for rows with these ids and geometries of these bounds (minx, miny, maxx,
        maxy; NaN for an empty or missing geometry, which the index leaves out)."""
        indexed = ~np.isnan(bounds).any(axis=1)
        if not indexed.any():
            return
        keys = np.asarray(ids, dtype=np.int64)[indexed]
        boxes = np.ascontiguousarray(bounds[indexed][:, [0, 2, 1, 3]], dtype=np.float64)
        self.events.append((True, len(self.entries)))
        self.entries.append(_Entries(table, keys, boxes))

    def pending(self, table: str) -> list[int]:
        return [k for k, e in enumerate(self.entries) if e is not None and e.table == table and k not in self.written]

    def write(self, execute: Execute, executemany: Execute, table: str) -> None:
        """Add the layer's pending entries to its index: packed if the index is empty."""
        waiting = self.pending(table)
        if not waiting:
            return
        parts = [self.entries[k] for k in waiting]
        keys = np.concatenate([p.ids for p in parts if p is not None])
        boxes = np.concatenate([p.boxes for p in parts if p is not None])
        cache = execute("PRAGMA cache_size").fetchone()[0]
        if -BULK_CACHE_KIB < cache < 0:  # a size in KiB below ours (a positive size counts pages: left alone)
            execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
        try:
            if not pack_into_empty(execute, executemany, table, keys, boxes):
                executemany(
                    f'INSERT OR REPLACE INTO "{index_name(table)}" VALUES (?, ?, ?, ?, ?)',
                    zip(keys.tolist(), *boxes.T.tolist()),
                )
        finally:
            execute(f"PRAGMA cache_size = {cache}")
        for k in waiting:
            self.written.add(k)
            self.events.append((False, k))

    def waiting_tables(self) -> set[str]:
        return {e.table for k, e in enumerate(self.entries) if e is not None and k not in self.written}

    def savepoint(self, depth: int) -> None:
        self.marks[depth] = len(self.events)

    def rolled_back_to(self, depth: int) -> None:
        """Undo what happened since savepoint ``depth``: entries added are dropped (their rows are
        gone), entries written are pending again (the database took their index rows back)."""
        mark = self.marks.pop(depth, len(self.events))
        for added, k in reversed(self.events[mark:]):
            if added:
                self.entries[k] = None
            else:
                self.written.discard(k)
        del self.events[mark:]

    def clear(self) -> None:
        self.entries.clear()
        self.written.clear()
        self.events.clear()
        self.marks.clear()


# SQLite's R-tree stores float32 boxes rounded outwards by these factors (rtreeValueDown/Up, rtree.c).
_TOWARDS, _AWAY = 1.0 - 1.0 / 8388608.0, 1.0 + 1.0 / 8388608.0
_CELL = np.dtype([("id", ">i8"), ("box", ">f4", 4)])  # rowid or child node, minx maxx miny maxy


def _outwards(boxes: np.ndarray) -> np.ndarray:
    """(n, 4) minx, maxx, miny, maxy as the float32 values SQLite would store for them."""
    rounded = boxes.astype(np.float32)
    lows, highs = boxes[:, 0::2], boxes[:, 1::2]
    down = np.where(lows < 0, lows * _AWAY, lows * _TOWARDS).astype(np.float32)
    up = np.where(highs < 0, highs * _TOWARDS, highs * _AWAY).astype(np.float32)
    rounded[:, 0::2] = np.where(rounded[:, 0::2] > lows, down, rounded[:, 0::2])
    rounded[:, 1::2] = np.where(rounded[:, 1::2] < highs, up, rounded[:, 1::2])
    return rounded


def _str_groups(boxes: np.ndarray, capacity: int) -> list[np.ndarray]:
    """Sort-Tile-Recursive packing: indices of ``boxes`` in groups of at most ``capacity``
    near one another (vertical slices by x centre, then runs by y centre)."""
    n = len(boxes)
    per_slice = capacity * math.ceil(math.sqrt(math.ceil(n / capacity)))
    by_x = np.argsort(boxes[:, 0] + boxes[:, 1], kind="stable")
    groups = []
    for start in range(0, n, per_slice):
        part = by_x[start : start + per_slice]
        part = part[np.argsort(boxes[part, 2] + boxes[part, 3], kind="stable")]
        groups += [part[i : i + capacity] for i in range(0, len(part), capacity)]
    return groups


def pack_into_empty(execute: Execute, executemany: Execute, table: str, ids: Sequence[int], boxes: np.ndarray) -> bool:
    """Build the index of an empty layer in one pass, as GDAL does: a packed tree written
    straight into the R-tree's node, parent and rowid tables. False (nothing written) if
    the index holds entries already; the caller then inserts them one by one."""
    rtree = index_name(table)
    root = execute(f'SELECT data FROM "{rtree}_node" WHERE nodeno = 1').fetchone()
    if root is None or int.from_bytes(root[0][2:4], "big") or execute(f'SELECT 1 FROM "{rtree}_rowid"').fetchone():
        return False
    size = len(root[0])
    capacity = (size - 4) // _CELL.itemsize
    level_ids, level_boxes = np.asarray(ids, dtype=np.int64), _outwards(np.asarray(boxes, dtype=np.float64))
    nodes: list[tuple[int, bytes]] = []
    parents: list[tuple[np.ndarray, np.ndarray]] = []  # (children, their node) of each level above the leaves
    leaf_of: tuple[np.ndarray, np.ndarray] = (level_ids, np.ones(len(level_ids), dtype=np.int64))
    depth, next_node = 0, 2
    while True:
        groups = [np.arange(len(level_ids))] if len(level_ids) <= capacity else _str_groups(level_boxes, capacity)
        numbers = [1] if len(groups) == 1 else list(range(next_node, next_node + len(groups)))
        next_node += 0 if len(groups) == 1 else len(groups)
        up_boxes = np.empty((len(groups), 4), dtype=np.float32)
        for number, group in zip(numbers, groups):
            cells = np.zeros(len(group), dtype=_CELL)
            cells["id"], cells["box"] = level_ids[group], level_boxes[group]
            header = (depth if number == 1 else 0).to_bytes(2, "big") + len(group).to_bytes(2, "big")
            nodes.append((number, (header + cells.tobytes()).ljust(size, b"\0")))
        holder = np.repeat(np.asarray(numbers, dtype=np.int64), [len(group) for group in groups])
        members = np.concatenate(groups)
        if depth == 0:
            leaf_of = (level_ids[members], holder)
        else:
            parents.append((level_ids[members], holder))
        if len(groups) == 1:
            break
        for k, group in enumerate(groups):
            part = level_boxes[group]
            up_boxes[k] = (part[:, 0].min(), part[:, 1].max(), part[:, 2].min(), part[:, 3].max())
        level_ids, level_boxes, depth = np.asarray(numbers, dtype=np.int64), up_boxes, depth + 1
    executemany(f'INSERT OR REPLACE INTO "{rtree}_node" VALUES (?, ?)', nodes)
    for children, holders in parents:
        executemany(f'INSERT INTO "{rtree}_parent" VALUES (?, ?)', zip(children.tolist(), holders.tolist()))
    executemany(f'INSERT INTO "{rtree}_rowid" VALUES (?, ?)', zip(leaf_of[0].tolist(), leaf_of[1].tolist()))
    return True
