"""Attachments in exported files: inside a whole-register GeoPackage, or as files beside a layer's file.

In a GeoPackage they follow the Related Tables Extension (OGC 18-000): a media table
(``id``, ``data``, ``content_type``) and one mapping table per layer (``base_id`` the feature's
id, ``related_id`` the media row), declared in ``gpkgext_relations``, so GIS tools that read
the extension (GDAL 3.6+, QGIS) show a feature's photos. The media table also names each
record by its key (``identity``), which is how ``read_gpkg`` finds the record again in another
register. Beside a GeoJSON, CSV or other file they are plain files in ``NAME_attachments/``
with ``attachments.csv`` naming, for each file, the record (its id and key) it belongs to.
"""

from __future__ import annotations

import csv
import hashlib
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from datetime import datetime
from pathlib import Path

from sapper.formats.identity import keyless_by_identity, keys_of
from sapper.model.attachments import ATTACHABLE
from sapper.model.errors import SapperError
from sapper.store.attachments import TABLE, Attachment, Attachments
from sapper.store.register import Register
from sapper.store.schema import Layer, layer
from sapper.store.sql import q

RTE = "related_tables"  # the extension's name in gpkg_extensions (GDAL also reads gpkg_related_tables)
RTE_DEFINITION = "http://docs.opengeospatial.org/is/18-000/18-000.html"
MEDIA_COLUMNS = ("record_layer", "record_id", "record_key", "name", "content_type", "sha256", "added_by", "added_at")


def mapping_table(lay: Layer) -> str:
    return f"{TABLE}_{lay.name}"


def _exported(reg: Register) -> list[tuple[Layer, list[Attachment], dict[int, str]]]:
    """Per attachable layer: its attachments and the key of each record they belong to."""
    store = Attachments(reg)
    out = []
    for kind in ATTACHABLE:
        lay = layer(kind)
        found = store.of_kind(kind)
        if found:
            out.append((lay, found, keys_of(reg, lay, [a.record_id for a in found])))
    return out


def write_gpkg(reg: Register, path: Path) -> int:
    """Add the register's attachments to a GeoPackage just exported (its layers written by GDAL).

    Only attachments of records the file holds go in (an export limited to a box holds fewer).
    """
    exported = _exported(reg)
    if not exported:
        return 0
    store = Attachments(reg)
    written = 0
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            f"CREATE TABLE {q(TABLE)} (id INTEGER PRIMARY KEY AUTOINCREMENT, data BLOB NOT NULL, "
            f"content_type TEXT NOT NULL, {', '.join(f'{c} TEXT' for c in MEDIA_COLUMNS if c != 'content_type')})"
        )
        _register(conn, TABLE, "Photos and PDFs of the records (OGC 18-000 media table)")
        conn.execute("CREATE TABLE IF NOT EXISTS gpkgext_relations (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                     "base_table_name TEXT NOT NULL, base_primary_column TEXT NOT NULL DEFAULT 'id', "
                     "related_table_name TEXT NOT NULL, related_primary_column TEXT NOT NULL DEFAULT 'id', "
                     "relation_name TEXT NOT NULL, mapping_table_name TEXT NOT NULL UNIQUE)")  # fmt: skip
        _extension(conn, "gpkgext_relations")
        for lay, attachments, keys in exported:
            in_file = {int(r[0]) for r in conn.execute(f"SELECT id FROM {q(lay.name)}")}
            mapping = mapping_table(lay)
            conn.execute(f"CREATE TABLE {q(mapping)} (base_id INTEGER NOT NULL, related_id INTEGER NOT NULL)")
            _extension(conn, mapping)
            conn.execute(
                "INSERT INTO gpkgext_relations (base_table_name, base_primary_column, related_table_name, "
                "related_primary_column, relation_name, mapping_table_name) VALUES (?, 'id', ?, 'id', 'media', ?)",
                [lay.name, TABLE, mapping],
            )
            for att in attachments:
                if att.record_id not in in_file:
                    continue
                values = [lay.name, str(att.record_id), keys.get(att.record_id), att.name, att.content_type,
                          att.sha256, att.added_by, att.added_at.isoformat()]  # fmt: skip
                cols = ", ".join(MEDIA_COLUMNS)
                media_id = conn.execute(
                    f"INSERT INTO {q(TABLE)} (data, {cols}) VALUES (?, {', '.join('?' * len(MEDIA_COLUMNS))})",
                    [store.data(att.id), *values],
                ).lastrowid
                conn.execute(f"INSERT INTO {q(mapping)} VALUES (?, ?)", [att.record_id, media_id])
                written += 1
    return written


def _register(conn: sqlite3.Connection, table: str, description: str) -> None:
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
        "VALUES (?, 'attributes', ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        [table, table, description],
    )


def _extension(conn: sqlite3.Connection, table: str) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, "
        "definition TEXT NOT NULL, scope TEXT NOT NULL, UNIQUE (table_name, column_name, extension_name))"
    )
    conn.execute("INSERT INTO gpkg_extensions VALUES (?, NULL, ?, ?, 'read-write')", [table, RTE, RTE_DEFINITION])


def read_gpkg(reg: Register, path: Path) -> int:
    """Attach to the register's records the attachments a whole-register GeoPackage holds.

    Called inside the import's transaction once its records are in. Each goes to the record its
    key names; one the record already holds (same name and bytes) is not added again.
    """
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [TABLE]).fetchone() is None:
            return 0
        rows = conn.execute(f"SELECT id, record_layer, record_key, name, added_by, added_at FROM {q(TABLE)}").fetchall()
        store = Attachments(reg).ensure()
        added = 0
        by_key: dict[str, dict[str, int]] = {}
        for media_id, layer_name, key, name, by, at in rows:
            where = f"{path.name}: {TABLE} row {media_id}"
            try:
                lay = layer(layer_name)
            except KeyError:
                raise SapperError(f"{where} names layer {layer_name!r}, which has no attachments") from None
            if lay.name not in by_key:
                by_key[lay.name] = _ids_by_key(reg, lay, [row[2] for row in rows if row[1] == layer_name])
            record_id = by_key[lay.name].get(key)
            if record_id is None:
                raise SapperError(f"{where}: {lay.kind} {key!r} is neither in the file nor in the register")
            data = bytes(conn.execute(f"SELECT data FROM {q(TABLE)} WHERE id = ?", [media_id]).fetchone()[0])
            held = {(a.name, a.sha256) for a in store.of_record(lay.kind, record_id)}
            if (name, hashlib.sha256(data).hexdigest()) in held:
                continue
            store.add(lay.kind, record_id, name, data, by=by, at=datetime.fromisoformat(at))
            added += 1
    return added


def _ids_by_key(reg: Register, lay: Layer, keys: Sequence[str]) -> dict[str, int]:
    found = reg.backend.ids_by_source_key(lay, sorted({k for k in keys if k}))
    if len(found) < len({k for k in keys if k}):  # records entered by hand: known by their content
        found.update({k: int(rec.id) for k, rec in keyless_by_identity(reg, lay).items() if k not in found})
    return found


def write_files(reg: Register, lay: Layer, path: Path, record_ids: Sequence[int]) -> Path | None:
    """Write the attachments of these records as files in ``NAME_attachments/`` beside ``path``,
    with ``attachments.csv`` naming each file's record; None when they have none."""
    if lay.kind not in ATTACHABLE:
        return None
    wanted = set(record_ids)
    store = Attachments(reg)
    found = [a for a in store.of_kind(lay.kind) if a.record_id in wanted]
    if not found:
        return None
    folder = path.with_name(f"{path.stem}_attachments")
    folder.mkdir(exist_ok=True)
    keys = keys_of(reg, lay, [a.record_id for a in found])
    with open(folder / "attachments.csv", "w", newline="", encoding="utf-8") as index:
        writer = csv.writer(index)
        writer.writerow(
            ["file", f"{lay.kind}_id", "source_key", "name", "content_type", "sha256", "added_by", "added_at"]
        )
        for att in found:
            file_name = f"{lay.kind}-{att.record_id}-{att.id}-{att.name}"
            (folder / file_name).write_bytes(store.data(att.id))
            writer.writerow([file_name, att.record_id, keys.get(att.record_id), att.name, att.content_type,
                             att.sha256, att.added_by, att.added_at.isoformat()])  # fmt: skip
    return folder
