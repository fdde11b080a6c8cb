"""Photos and PDFs attached to hazards, items and reports, kept in the register itself.

One table on both backends (a BLOB in a GeoPackage, bytea in PostGIS) holding the bytes, the
content type the bytes showed (``sapper.model.attachments``), the record it belongs to (kind
and id), who added it and when. Adding and deleting are written to the audit log in the same
transaction, under the table's name. Who may see an attachment is not decided here: it is
seen by whoever sees its record (``sapper.server.attachments`` asks ``permissions``).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sapper.i18n import N_
from sapper.model.attachments import ATTACHABLE, clean_name, content_type
from sapper.model.errors import InvalidRecord, NotFound, Problem
from sapper.store.audit_rows import AuditEntry
from sapper.store.register import Register
from sapper.store.schema import ATTACHMENTS_TABLE, layer
from sapper.store.sql import q

TABLE = ATTACHMENTS_TABLE
META = ("id", "record_kind", "record_id", "name", "content_type", "size", "sha256", "added_by", "added_at")


@dataclass(frozen=True)
class Attachment:
    id: int
    record_kind: str
    record_id: int
    name: str
    content_type: str
    size: int
    sha256: str
    added_by: str
    added_at: datetime

    def described(self) -> dict[str, Any]:
        out = asdict(self)
        out["added_at"] = self.added_at.isoformat()
        return out


def attachable(kind: str) -> str:
    """The kind as the register names it, if its records take attachments; InvalidRecord otherwise."""
    try:
        name = layer(kind).kind
    except KeyError:
        name = kind
    if name not in ATTACHABLE:
        problem = Problem(N_("only {kinds} records take attachments"), kinds=", ".join(ATTACHABLE))
        raise InvalidRecord(f"{kind}", problem)
    return name


class Attachments:
    """The attachments of one register."""

    def __init__(self, reg: Register) -> None:
        self.reg = reg
        self.backend = reg.backend
        self.ph = reg.backend.ph

    def ensure(self) -> Attachments:
        """Create the table if this register has none yet (another process may be doing the same)."""
        if self.backend.existing_columns(TABLE):
            return self
        blob = "BLOB" if self.ph == "?" else "BYTEA"  # SQLite (GeoPackage) or PostgreSQL
        try:
            with self.backend.transaction():
                self.backend.execute(
                    f"CREATE TABLE IF NOT EXISTS {q(TABLE)} ({self.backend.serial_key}, "
                    "record_kind TEXT NOT NULL, record_id INTEGER NOT NULL, name TEXT NOT NULL, "
                    "content_type TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, "
                    f"added_by TEXT NOT NULL, added_at TEXT NOT NULL, data {blob} NOT NULL)"
                )
                self.backend.execute(
                    f'CREATE INDEX IF NOT EXISTS "{TABLE}_record" ON {q(TABLE)} (record_kind, record_id)'
                )
        except Exception:  # another server process created it at the same moment
            if not self.backend.existing_columns(TABLE):
                raise
        return self

    def add(
        self, kind: str, record_id: int, name: str, data: bytes, *, by: str | None = None, at: datetime | None = None
    ) -> Attachment:
        """Attach a file to a record after checking its bytes; audited as the register's user.

        ``by`` and ``at`` are for attachments imported from another register: who added them there, and when.
        """
        kind = attachable(kind)
        where = f"{kind} {record_id}"
        name = clean_name(name)
        ctype = content_type(data, where, name)
        with self.backend.transaction():
            if not self.backend.existing_ids(layer(kind), [int(record_id)]):
                raise NotFound(where)
            when = (at or datetime.now(UTC)).isoformat(timespec="milliseconds")
            values = [
                kind,
                int(record_id),
                name,
                ctype,
                len(data),
                hashlib.sha256(data).hexdigest(),
                by or self.reg.user,
            ]
            cols = ", ".join(META[1:])
            sql = f"INSERT INTO {q(TABLE)} ({cols}, data) VALUES ({', '.join([self.ph] * (len(META)))}) RETURNING id"
            new_id = int(self.backend.execute(sql, [*values, when, data]).fetchone()[0])
            found = self.get(new_id)
            assert found is not None
            self._audit("insert", None, found)
        return found

    def add_photos(self, targets: list[tuple[str, int]], files: list[tuple[str, bytes]]) -> list[Attachment]:
        """Attach each file to each target record, skipping files that are not a photo or a PDF.

        For the photos of a field submission: what ODK sent is kept with the submission either
        way, so a file the register does not take (a sound recording) does not refuse the rest.
        """
        usable = []
        for name, data in files:
            try:
                content_type(data, "field submission", clean_name(name))
            except InvalidRecord:
                continue
            usable.append((name, data))
        return [self.add(kind, record_id, name, data) for kind, record_id in targets for name, data in usable]

    def delete(self, attachment_id: int) -> Attachment:
        with self.backend.transaction():
            found = self.get(attachment_id)
            if found is None:
                raise NotFound(f"attachment {attachment_id}")
            self.backend.execute(f"DELETE FROM {q(TABLE)} WHERE id = {self.ph}", [attachment_id])
            self._audit("delete", found, None)
        return found

    def get(self, attachment_id: int) -> Attachment | None:
        rows = self._select(f"WHERE id = {self.ph}", [int(attachment_id)])
        return rows[0] if rows else None

    def of_record(self, kind: str, record_id: int) -> list[Attachment]:
        return self._select(
            f"WHERE record_kind = {self.ph} AND record_id = {self.ph} ORDER BY id", [layer(kind).kind, int(record_id)]
        )

    def of_kind(self, kind: str) -> list[Attachment]:
        return self._select(f"WHERE record_kind = {self.ph} ORDER BY id", [layer(kind).kind])

    def data(self, attachment_id: int) -> bytes:
        row = self.backend.execute(f"SELECT data FROM {q(TABLE)} WHERE id = {self.ph}", [attachment_id]).fetchone()
        if row is None:
            raise NotFound(f"attachment {attachment_id}")
        return bytes(row[0])

    def _select(self, clause: str, params: list[Any]) -> list[Attachment]:
        if not self.backend.existing_columns(TABLE):
            return []
        sql = f"SELECT {', '.join(META)} FROM {q(TABLE)} {clause}"
        return [_attachment(row) for row in self.backend.execute(sql, params).fetchall()]

    def _audit(self, action: str, before: Attachment | None, after: Attachment | None) -> None:
        current = after or before
        assert current is not None
        entry = AuditEntry(
            at=datetime.now(UTC),
            user=self.reg.user,
            action=action,
            layer=TABLE,
            record_id=current.id,
            version=0,
            before=None if before is None else before.described(),
            after=None if after is None else after.described(),
        )
        self.backend.write_audit([entry])


def _attachment(row: tuple[Any, ...]) -> Attachment:
    aid, kind, record_id, name, ctype, size, digest, by, at = row
    return Attachment(
        id=int(aid),
        record_kind=kind,
        record_id=int(record_id),
        name=name,
        content_type=ctype,
        size=int(size),
        sha256=digest,
        added_by=by,
        added_at=datetime.fromisoformat(at),
    )
