"""The register: the one API every command, import and server goes through.

It checks records, enforces the state machines and the date-of-information rule,
writes the audit log in the same transaction as the change, and answers spatial
queries through the backend's spatial index. Backends only store rows.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shapely.geometry.base import BaseGeometry

from sapper.model.enums import ReleaseRoute
from sapper.model.errors import Conflict, InvalidRecord, NotFound
from sapper.model.geometry import distance_m, search_box
from sapper.model.records import Record, Release
from sapper.model.release import Balance
from sapper.store import audit, batch, landrelease, rules
from sapper.store.access import Kind, R
from sapper.store.audit_rows import AuditEntry
from sapper.store.column_reads import read_records
from sapper.store.record_maker import collector_paused
from sapper.store.rows import from_row, to_row
from sapper.store.schema import ATTACHMENTS_TABLE, Layer, layer
from sapper.store.sql import BBox, SqlBackend, q


@dataclass
class Added:
    """What ``Register.add_batch`` did: the batch as checked (derived fields set), the new ids of
    the rows that went in (in order), and the rows refused, each with its error."""

    ready: batch.Batch
    ids: list[int]
    refused: dict[int, InvalidRecord]


def default_user() -> str:
    return os.environ.get("SAPPER_USER") or getpass.getuser()


class Register:
    """A register of hazards and the work done on them, on one backend."""

    def __init__(self, backend: SqlBackend, user: str | None = None) -> None:
        self.backend = backend
        self.user = user or default_user()

    # --- lifecycle -------------------------------------------------------------------
    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside is written together or not at all."""
        with self.backend.transaction():
            yield

    # --- reads -----------------------------------------------------------------------
    def get(self, kind: Kind, record_id: int) -> Any:
        lay = layer(kind)
        rows = self.backend.select(lay, ids=[int(record_id)])
        if not rows:
            raise NotFound(f"{lay.kind} {record_id}")
        return from_row(lay, rows[0][1], rows[0][0])

    def list(
        self,
        kind: Kind,
        *,
        bbox: BBox | None = None,
        where: dict[str, Any] | None = None,
        order_by: str = "id",
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Any]:
        lay = layer(kind)
        return read_records(self.backend, lay, bbox=bbox, where=where, order_by=order_by, limit=limit, offset=offset)

    def count(self, kind: Kind, *, bbox: BBox | None = None, where: dict[str, Any] | None = None) -> int:
        return self.backend.count(layer(kind), bbox=bbox, where=where)

    def near(self, kind: Kind, geom: BaseGeometry, distance: float) -> list[tuple[Any, float]]:
        """Records within ``distance`` metres of ``geom``, nearest first, with their distance.

        The bounding box (widened by the distance) goes through the spatial index; only
        those candidates are measured exactly in the metric CRS.
        """
        found = []
        for record in self.list(kind, bbox=search_box(geom.bounds, distance)):
            if record.geometry is None or record.geometry.is_empty:
                continue
            d = distance_m(geom, record.geometry)
            if d <= distance:
                found.append((record, d))
        return sorted(found, key=lambda pair: pair[1])

    def history(self, kind: Kind, record_id: int) -> list[AuditEntry]:
        """Every change to a record, oldest first, each with whole states before and after."""
        lay = layer(kind)
        for _attempt in range(5):  # read again if a change landed between the two reads
            entries = audit.record_entries(self.backend, lay.name, int(record_id))
            if not audit.needs_current(entries):
                return entries
            rows = self.backend.select(lay, ids=[int(record_id)])
            current = audit_state(lay, from_row(lay, rows[0][1], rows[0][0])) if rows else None
            if current is None or current.get("version") == entries[-1].version:
                break
        return audit.full_states(entries, current)

    # --- writes ----------------------------------------------------------------------
    def add(self, record: R) -> R:
        return self.add_many([record])[0]

    def add_many(self, records: Sequence[R], *, restore: bool = False) -> list[R]:
        """Insert records (all of one kind) with their audit entries, in one transaction.

        ``restore`` is for records exported from a register and imported back: they keep what
        that register derived (see ``rules.prepare_new``), and what followed from them there (a
        report putting its hazard in clearance) is not done again. Returns copies of the records
        as stored, with their ids; the first bad record stops it all (InvalidRecord)."""
        if not records:
            return []
        given = batch.of_records(layer(type(records[0])), records)
        added = self.add_batch(given, restore=restore)
        return batch.as_records(added.ready, added.ids, version=0)

    def add_batch(self, new: batch.Batch, *, restore: bool = False, keep_going: bool = False) -> Added:
        """Insert a batch of new records (columns of one layer) with their audit entries, in one
        transaction: every check runs on whole columns, and the rows go in in one write.

        A bad record stops it all with an InvalidRecord naming it; with ``keep_going`` the good
        records go in and the bad ones are returned, each with its error.

        Polygons (checked for validity, measured in a metric CRS) take about as long to check as to
        store; a backend that writes while the client goes on (``bulk_piece_rows``) gets them a
        piece at a time, one piece stored while the next is checked (points are checked in a
        fraction of their writing time: they go whole). A bad piece sends the batch through its
        checks whole, so that the error raised is the one the whole batch meets first."""
        lay = new.lay
        pieced = self.backend.bulk_piece_rows if lay.geometry_type == "MULTIPOLYGON" else None
        size = pieced or max(len(new), 1)
        pieces = new.pieces(size)
        with collector_paused():
            try:
                first = self._checked(pieces[0], restore=restore, keep_going=keep_going)  # before the write lock
                with self.transaction():
                    with self.backend.bulk(lay, len(new), len(pieces)):
                        parts = [self._stored(*first, restore=restore, keep_going=keep_going)]
                        for piece in pieces[1:]:  # checked while the server stores the piece before
                            checked = self._checked(piece, restore=restore, keep_going=keep_going)
                            parts.append(self._stored(*checked, restore=restore, keep_going=keep_going))
                    ids = [i for part in parts for i in part.ids]
                    self._audit_inserts(lay, ids)
            except InvalidRecord:
                if len(pieces) > 1:  # nothing of the batch was kept
                    self._raise_first_problem(new, restore=restore)
                raise
        refused = {k * size + i: error for k, part in enumerate(parts) for i, error in part.refused.items()}
        return Added(batch.joined([part.ready for part in parts]), ids, refused)

    def _checked(self, new: batch.Batch, *, restore: bool, keep_going: bool) -> tuple[batch.Batch, batch.Problems]:
        """A batch's own checks (no register lookups): the rows ready to store, and those refused."""
        ready, refused = rules.prepare_new(self, new.lay, new, restore=restore)
        if not keep_going:
            rules.first_problem(refused)
        return ready, refused

    def _stored(self, ready: batch.Batch, refused: batch.Problems, *, restore: bool, keep_going: bool) -> Added:
        """The checks against the register, then the good rows inserted, inside the caller's
        transaction (which writes their audit entry)."""
        lay = ready.lay
        found = rules.register_problems(self, lay, ready, restore=restore, skip=refused)
        if not keep_going:
            rules.first_problem(found)
        refused.update(found)
        good = ready.take([i for i in range(len(ready)) if i not in refused]) if refused else ready
        ids = self.backend.insert_columns(lay, good.columns, good.geometries) if len(good) else []
        if not restore:
            rules.after_insert_many(self, lay, good)
        return Added(ready, ids, dict(sorted(refused.items())))

    def _raise_first_problem(self, new: batch.Batch, *, restore: bool) -> None:
        """Raise the problem a whole batch meets first (its checks only: nothing is written)."""
        ready, refused = self._checked(new, restore=restore, keep_going=False)
        rules.first_problem(rules.register_problems(self, new.lay, ready, restore=restore, skip=refused))

    def _audit_inserts(self, lay: Layer, ids: list[int]) -> None:
        """Who inserted which records, and when: the rows themselves hold what was inserted,
        and a batch's entry names its ids as runs (``audit.insert_entries``)."""
        self.backend.write_audit(audit.insert_entries(datetime.now(UTC), self.user, lay.name, ids))

    def update(self, record: R, *, by_release: bool = False) -> R:
        """Write a changed record; refused if it changed since it was read (its version).

        ``by_release`` is for land release only: it may cut a hazard's polygon.
        """
        lay = layer(type(record))
        ref = f"{lay.kind} {record.id}"
        with self.transaction():
            before = self.get(lay.kind, record.id)
            if before.version != record.version:
                raise Conflict(ref, record.version, before.version)
            ready = rules.prepare_update(self, lay, before, record, by_release=by_release)
            if not self.backend.update(lay, record.id, to_row(lay, ready), record.version):
                actual = self.backend.current_version(lay, record.id)
                raise Conflict(ref, record.version, actual if actual is not None else -1)
            after = dataclasses.replace(ready, version=record.version + 1)
            self._audit_many(lay, "update", [(before, after)])
        return after

    def change(self, kind: Kind, record_id: int, **changes: Any) -> Any:
        """Read, change some fields, write: the usual edit of one record."""
        current = self.get(kind, record_id)
        return self.update(dataclasses.replace(current, **changes))

    def delete(self, kind: Kind, record_id: int) -> None:
        lay = layer(kind)
        with self.transaction():
            before = self.get(lay.kind, record_id)
            rules.check_delete(self, lay, before)
            self.backend.delete(lay, int(record_id))
            self._audit_many(lay, "delete", [(before, None)])
            self._drop_attachments(lay, int(record_id))

    def _drop_attachments(self, lay: Layer, record_id: int) -> None:
        """A deleted record's photos and PDFs go with it, each deletion in the audit log."""
        if not self.backend.existing_columns(ATTACHMENTS_TABLE):
            return
        where, params = (
            f"WHERE record_kind = {self.backend.ph} AND record_id = {self.backend.ph}",
            [lay.kind, record_id],
        )
        found = self.backend.execute(f"SELECT id, name, sha256 FROM {q(ATTACHMENTS_TABLE)} {where}", params).fetchall()
        if not found:
            return
        self.backend.execute(f"DELETE FROM {q(ATTACHMENTS_TABLE)} {where}", params)
        now = datetime.now(UTC)
        gone = [{"record_kind": lay.kind, "record_id": record_id, "name": n, "sha256": h} for _i, n, h in found]
        self.backend.write_audit(
            [
                AuditEntry(now, self.user, "delete", ATTACHMENTS_TABLE, int(row[0]), 0, old, None)
                for row, old in zip(found, gone)
            ]
        )

    def _audit_many(self, lay: Layer, action: str, pairs: Sequence[tuple[Record, Record | None]]) -> None:
        """An update keeps the fields it changed, before and after; a delete keeps the whole record."""
        now = datetime.now(UTC)
        entries = []
        for before, after in pairs:
            current = after or before
            assert current.id is not None
            old = audit_state(lay, before)
            new = None
            if after is not None:
                old, new = audit.changed_fields(old, audit_state(lay, after))
            entries.append(AuditEntry(now, self.user, action, lay.name, current.id, current.version, old, new))
        self.backend.write_audit(entries)

    # --- land release ------------------------------------------------------------------
    def release(self, hazard_id: int, route: ReleaseRoute | str | None = None, **kwargs: Any) -> Release:
        """Release land from a hazard; see ``landrelease.release`` for the arguments."""
        return landrelease.release(self, hazard_id, route, **kwargs)

    def balance(self, hazard_id: int) -> Balance:
        return landrelease.hazard_balance(self, hazard_id)


def audit_state(lay: Layer, record: Record) -> dict[str, Any]:
    """A record as the audit log holds it (JSON-ready values, geometry as WKT)."""
    return audit.as_read_back(audit.audit_dicts(lay, [to_row(lay, record)])[0])
