"""Which record is which from one register to another: keys, not ids.

A register's ids are its own (another numbers the same records differently, and
deleted records leave gaps), so an id in a file means nothing to another register.
An export therefore names every record by a key, and every link by the linked
record's key in a column beside the id:

- ``source_key`` is the record's own key; a record entered by hand (it has none) goes
  out with a key made from its content (``identity_keys``), which an import into the
  same register matches back to it and an import elsewhere keeps.
- ``hazard_key`` beside ``hazard_id`` (and ``team_key``, ``activity_key``,
  ``report_key``) is the linked record's key. The import turns it into the id the
  linked record has in the register it writes to, records added earlier in the same
  import included: the old id -> key -> new id mapping is in the file, row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sapper.formats.keys import content_keys
from sapper.store.register import Register
from sapper.store.rules import LINKS
from sapper.store.schema import Layer
from sapper.store.schema import layer as find_layer

# The column that names the linked record by its key, for each link field.
LINK_KEYS = {"hazard_id": "hazard_key", "team_id": "team_key", "activity_id": "activity_key", "report_id": "report_key"}
# Fields that are not a record's content: the register's bookkeeping and the key itself.
NOT_CONTENT = frozenset({"version", "source_key", "original_area_m2"})
LOOKUP_CHUNK = 1_000


def identity_keys(lay: Layer, records: Sequence[Any]) -> list[str]:
    """A key per record from its content (fields and geometry): the same records give the same keys."""
    columns = {
        c.name: [getattr(r, c.name) for r in records] for c in lay.attribute_columns if c.name not in NOT_CONTENT
    }
    geoms = np.empty(len(records), dtype=object)
    geoms[:] = [getattr(r, "geometry", None) for r in records]
    return content_keys(columns, geoms)


def keyless_by_identity(reg: Register, lay: Layer) -> dict[str, Any]:
    """The layer's records that have no source key, by the key an export gives them."""
    keyless = reg.list(lay.kind, where={"source_key": None})
    return dict(zip(identity_keys(lay, keyless), keyless))


def keys_of(reg: Register, lay: Layer, ids: Sequence[int]) -> dict[int, str]:
    """The key each of these records goes out with: its source key, else its identity key."""
    wanted = sorted(set(ids))
    keys: dict[int, str] = {}
    keyless = False
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        for record_id, row in reg.backend.select(lay, ids=wanted[start : start + LOOKUP_CHUNK]):
            if row["source_key"]:
                keys[record_id] = row["source_key"]
            else:
                keyless = True
    if keyless:
        keys.update({rec.id: key for key, rec in keyless_by_identity(reg, lay).items() if rec.id not in keys})
    return keys


def export_columns(reg: Register, lay: Layer, rows: Sequence[tuple[int, dict[str, Any]]]) -> dict[str, list[Any]]:
    """Columns an export writes so that another register can tell the records and links apart:
    ``source_key`` with every record's key, and a key column beside each link."""
    own = keys_of(reg, lay, [record_id for record_id, row in rows if not row["source_key"]])
    columns: dict[str, list[Any]] = {"source_key": [row["source_key"] or own[record_id] for record_id, row in rows]}
    for field, kind in LINKS.get(lay.name, {}).items():
        linked = keys_of(reg, find_layer(kind), [row[field] for _, row in rows if row[field] is not None])
        columns[LINK_KEYS[field]] = [None if row[field] is None else linked[row[field]] for _, row in rows]
    return columns
