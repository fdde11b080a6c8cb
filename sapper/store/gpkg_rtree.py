"""The GeoPackage R-tree spatial index extension (GeoPackage 1.2, Annex F.3) of a layer.

The index is a SQLite R-tree kept current by the spec's triggers, as GDAL writes them, so
GDAL and QGIS go on maintaining it when they edit a register. A bulk insert fills it in
one statement instead of a trigger call per row, and an empty index is built packed in one
pass (as GDAL builds it), writing the R-tree's own tables.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sapper.store import gpkg_binary
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


def write_and_fill(
    execute: Execute,
    executemany: Execute,
    in_transaction: Callable[[], bool],
    table: str,
    write: Callable[[], None],
    values: Sequence[Sequence[Any]],
) -> None:
    """Run ``write`` (an insert of ``values``: id first, geometry blob last) with the insert
    trigger off, then add the same index entries the trigger would have added."""
    rtree = index_name(table)
    cache = execute("PRAGMA cache_size").fetchone()[0]
    if -BULK_CACHE_KIB < cache < 0:  # a size in KiB below ours (a positive size counts pages: left alone)
        execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
    try:
        trigger = execute("SELECT sql FROM sqlite_master WHERE name = ?", [f"{rtree}_insert"]).fetchone()[0]
        execute(f'DROP TRIGGER "{rtree}_insert"')
        try:
            write()
        finally:
            if in_transaction():  # else SQLite rolled back by itself (disk full): the trigger is back
                execute(trigger)
        envelope = gpkg_binary.envelope
        entries = [(value[0], env) for value in values if (env := envelope(value[-1])) is not None]
        if not entries:
            return
        ids, boxes = zip(*entries)
        if not pack_into_empty(execute, executemany, table, ids, np.asarray(boxes, dtype=np.float64)):
            executemany(f'INSERT OR REPLACE INTO "{rtree}" VALUES (?, ?, ?, ?, ?)', [(i, *b) for i, b in entries])
    finally:
        execute(f"PRAGMA cache_size = {cache}")


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
    parents: list[tuple[int, int]] = []
    leaf_of: list[tuple[int, int]] = []
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
            if depth == 0:
                leaf_of += [(int(i), number) for i in level_ids[group]]
            else:
                parents += [(int(child), number) for child in level_ids[group]]
        if len(groups) == 1:
            break
        for k, group in enumerate(groups):
            part = level_boxes[group]
            up_boxes[k] = (part[:, 0].min(), part[:, 1].max(), part[:, 2].min(), part[:, 3].max())
        level_ids, level_boxes, depth = np.asarray(numbers, dtype=np.int64), up_boxes, depth + 1
    executemany(f'INSERT OR REPLACE INTO "{rtree}_node" VALUES (?, ?)', nodes)
    executemany(f'INSERT INTO "{rtree}_parent" VALUES (?, ?)', parents)
    executemany(f'INSERT INTO "{rtree}_rowid" VALUES (?, ?)', leaf_of)
    return True
