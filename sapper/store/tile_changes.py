"""Whether the writes since a tile was built changed what the tile shows: by place, from the audit log.

Every write through sapper leaves an audit entry naming the record (``sapper.store.audit``): an insert
its id (a batch, a run of ids), an update the fields it changed with their values before and after
(the geometry among them when it moved), a delete the whole record. A record changed since the tile
was built matters to the tile only if it lay there before or lies there now, so the places checked are
the record's box as it is now and every geometry its entries hold (where it was before a move or a
delete): a record that moved in or out, was added, edited, made restricted or deleted over the tile
makes it stale; a write elsewhere in the country leaves it as it was.

The records read now are looked up before their entries are read again, so a move that lands in
between is seen in one of the two (a record's entries and its row are written in one transaction).

Records of another layer can hide the tile's rows (a restricted hazard hides its items from other
organisations, ``query.PARENTS``), wherever those rows lie: a change to one's ``restricted`` or
``organisation`` makes every tile of the layer stale; any other change to it leaves them. So does a
run of writes too long to check one by one (an import): ``PLACE_LIMIT`` records.

``effect`` also tells how: a change that may have taken a record out of some reader's view (a delete,
a change of its ``restricted``, ``organisation`` or parent link, a parent's change that hides children)
makes the tile ``HIDING``, never to be served again; any other (an add, a move, an edit of colour or
count) makes it ``STALE``: still safe to show while it is built again, for a bounded time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

import shapely

from sapper.store.audit import BULK_INSERT
from sapper.store.query import PARENTS
from sapper.store.schema import AUDIT_TABLE, Layer
from sapper.store.sql import GEOM, SqlBackend, q

Box = tuple[float, float, float, float]  # west, south, east, north in degrees
PLACE_LIMIT = 2_000  # records changed since a tile was built beyond which the tile is built again, unchecked
HIDING_FIELDS = ("restricted", "organisation")  # the fields of a parent record that decide who sees its children


class Effect(Enum):
    """What the writes since a tile was built did to it."""

    UNCHANGED = "unchanged"  # nothing it shows changed: it is right as it is
    STALE = "stale"  # records added, moved or edited there: out of date, but shows no one what they may not see
    HIDING = "hiding"  # a record there may have left some view (restricted, handed over, deleted): never serve it


@dataclass
class Changed:
    """What the audit entries of a span name: records of the tile's own table, or a change everywhere."""

    ids: set[int] = field(default_factory=set)
    hiding: set[int] = field(default_factory=set)  # those of ``ids`` that may have left a reader's view
    everywhere: bool = False
    entries: int = 0  # audit entries read (to PLACE_LIMIT + 1)


@dataclass
class Verdict:
    """The effect on a tile of the writes since it was built, how many they were and when the first was."""

    effect: Effect
    entries: int = 0
    first_at: datetime | None = None


def touched(backend: SqlBackend, own: Layer, parents: Sequence[str], after: int, upto: int, box: Box) -> bool:
    """Whether a write with an audit id in (``after``, ``upto``] may have changed what lies in ``box``."""
    return effect(backend, own, parents, after, upto, box).effect is not Effect.UNCHANGED


def effect(backend: SqlBackend, own: Layer, parents: Sequence[str], after: int, upto: int, box: Box) -> Verdict:
    """What a write with an audit id in (``after``, ``upto``] did to what lies in ``box``.

    ``own`` is the table the tile's rows come from, ``parents`` the tables whose records can hide them.
    """
    changed = changed_records(backend, own.name, parents, after, upto)
    if changed.everywhere:
        return Verdict(Effect.HIDING, changed.entries)
    if not changed.ids:
        return Verdict(Effect.UNCHANGED, changed.entries)
    found = Effect.HIDING if changed.hiding else Effect.STALE
    if own.geometry_type:  # else no place to tell by: every change counts
        if changed.hiding and _lies_in(backend, own, changed.hiding, after, box):
            found = Effect.HIDING
        elif _lies_in(backend, own, changed.ids - changed.hiding, after, box):
            found = Effect.STALE
        else:
            found = Effect.UNCHANGED
    if found is Effect.STALE:
        return Verdict(found, changed.entries, first_write(backend, [own.name, *parents], after, upto))
    return Verdict(found, changed.entries)


def _lies_in(backend: SqlBackend, own: Layer, ids: set[int], after: int, box: Box) -> bool:
    """Whether any of these records lies in ``box`` now or lay there in an entry after ``after``."""
    if not ids:
        return False
    if any_now_in(backend, own, sorted(ids), box):
        return True
    return any(_meets(place, box) for place in earlier_places(backend, own.name, ids, after))


def first_write(backend: SqlBackend, names: Sequence[str], after: int, upto: int) -> datetime | None:
    """When the first entry in (``after``, ``upto``] on these tables was written: how long a tile is behind."""
    ph = backend.ph
    sql = (
        f"SELECT min(at) FROM {q(AUDIT_TABLE)} WHERE id > {ph} AND id <= {ph} "
        f"AND layer IN ({', '.join([ph] * len(names))})"
    )
    row = backend.execute(sql, [after, upto, *names]).fetchone()
    if not row or row[0] is None:
        return None
    return row[0] if isinstance(row[0], datetime) else datetime.fromisoformat(row[0].replace("Z", "+00:00"))


def changed_records(backend: SqlBackend, own: str, parents: Sequence[str], after: int, upto: int) -> Changed:
    """The records of ``own`` that entries in (``after``, ``upto``] name, or ``everywhere``."""
    names = [own, *parents]
    ph = backend.ph
    sql = (
        f"SELECT layer, action, record_id, before, after FROM {q(AUDIT_TABLE)} WHERE id > {ph} AND id <= {ph} "
        f"AND layer IN ({', '.join([ph] * len(names))}) LIMIT {PLACE_LIMIT + 1}"
    )
    rows = backend.execute(sql, [after, upto, *names]).fetchall()
    changed = Changed(everywhere=len(rows) > PLACE_LIMIT, entries=len(rows))
    links = tuple(PARENTS.get(own, {}))  # a record's links to parents that can hide it (its hazard, its team)
    for name, action, record_id, before, later in rows:
        if changed.everywhere:
            break
        if name != own:
            changed.everywhere = _hides_children(action, _json(before), _json(later))
        elif action == BULK_INSERT:
            last = int(_json(later)["last_id"])
            changed.everywhere = last - int(record_id) >= PLACE_LIMIT
            changed.ids.update(range(int(record_id), last + 1) if not changed.everywhere else ())
        elif action in ("insert", "update", "delete"):
            changed.ids.add(int(record_id))
            if action == "delete" or (action == "update" and _may_hide(_json(before), _json(later), links)):
                changed.hiding.add(int(record_id))
        else:
            changed.everywhere = True  # an action this check does not know: assume the worst
        changed.everywhere = changed.everywhere or len(changed.ids) > PLACE_LIMIT
    return changed


def _may_hide(before: dict[str, Any] | None, after: dict[str, Any] | None, links: Sequence[str]) -> bool:
    """Whether an update may have taken a record out of some reader's view: a change to who may see it."""
    old, new = before or {}, after or {}
    return any(old.get(name) != new.get(name) for name in (*HIDING_FIELDS, *links) if name in old or name in new)


def _hides_children(action: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> bool:
    """Whether a parent record's entry can change which of its children a reader sees."""
    if action in ("insert", BULK_INSERT):
        return False  # nothing links to a record before it exists
    if action == "update":
        old, new = before or {}, after or {}
        return any(name in old or name in new for name in HIDING_FIELDS) and any(
            old.get(name) != new.get(name) for name in HIDING_FIELDS
        )
    if action == "delete":
        return bool((before or {}).get("restricted"))  # none links to it any more; if one did, it shows now
    return True


def any_now_in(backend: SqlBackend, own: Layer, ids: Sequence[int], box: Box) -> bool:
    """Whether any of these records' boxes, as the register holds them now, meets ``box``."""
    from sapper.store.gpkg import GeoPackageBackend

    ph = backend.ph
    west, south, east, north = box
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        marks = ", ".join([ph] * len(chunk))
        if isinstance(backend, GeoPackageBackend):  # the R-tree's boxes, looked up by id
            rtree = q(f"rtree_{own.name}_{GEOM}")
            sql = f"SELECT 1 FROM {rtree} WHERE id IN ({marks}) AND maxx >= ? AND maxy >= ? AND minx <= ? AND miny <= ?"
        else:  # the stored box: a superset of what a tile's query reads
            near = f"{q(GEOM)} && ST_MakeEnvelope(%s, %s, %s, %s, 4326)"
            sql = f"SELECT 1 FROM {q(own.name)} WHERE {q('id')} IN ({marks}) AND {near}"
        if backend.execute(sql + " LIMIT 1", [*chunk, west, south, east, north]).fetchone() is not None:
            return True
    return False


def earlier_places(backend: SqlBackend, own: str, ids: set[int], after: int) -> list[Box]:
    """The boxes of every geometry the entries after ``after`` hold for these records: where they
    were before a move or a delete (and after a move), read after their rows were."""
    ph = backend.ph
    wanted = sorted(ids)
    wkts = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        sql = (
            f"SELECT before, after FROM {q(AUDIT_TABLE)} WHERE id > {ph} AND layer = {ph} "
            f"AND record_id IN ({', '.join([ph] * len(chunk))}) AND action IN ('update', 'delete')"
        )
        for before, later in backend.execute(sql, [after, own, *chunk]).fetchall():
            wkts += [state.get("geometry") for state in (_json(before), _json(later)) if state]
    shapes = shapely.from_wkt([w for w in wkts if w])
    return [tuple(b) for b in shapely.bounds(shapes).tolist() if not any(v != v for v in b)]  # NaN: empty


def _meets(place: Sequence[float], box: Box) -> bool:
    return place[0] <= box[2] and place[2] >= box[0] and place[1] <= box[3] and place[3] >= box[1]


def _json(text: str | None) -> dict[str, Any] | None:
    return None if text is None else json.loads(text)
