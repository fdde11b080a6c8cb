"""The audit log's rows as the SQL backends write and read them.

Every change through sapper leaves an entry in the register's audit table, in the transaction of
the change; ``audit`` decides what an entry holds, this writes and reads the rows of both backends.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sapper.store.identifiers import q
from sapper.store.schema import AUDIT_TABLE


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    user: str
    action: str  # insert, update, delete
    layer: str
    record_id: int
    version: int
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    id: int | None = None


class AuditRows:
    """The audit table's rows, for a backend that provides ``ph``, ``execute`` and ``executemany``."""

    ph: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError

    AUDIT_COLUMNS = ("at", "username", "action", "layer", "record_id", "version", "before", "after")

    def write_audit(self, entries: Sequence[AuditEntry]) -> None:
        if not entries:
            return
        self.executemany(self.audit_insert_sql(), self.audit_values(entries))

    def audit_insert_sql(self) -> str:
        """The INSERT of one audit row, its values in the order of AUDIT_COLUMNS."""
        cols = ", ".join(map(q, self.AUDIT_COLUMNS))
        return f"INSERT INTO {q(AUDIT_TABLE)} ({cols}) VALUES ({', '.join([self.ph] * len(self.AUDIT_COLUMNS))})"

    def audit_values(self, entries: Sequence[AuditEntry]) -> list[tuple[Any, ...]]:
        """Audit entries as the values of AUDIT_COLUMNS (before/after as JSON text)."""
        stamps: dict[datetime, Any] = {}
        return [
            (
                stamps[e.at] if e.at in stamps else stamps.setdefault(e.at, self.encode_timestamp(e.at)),
                e.user,
                e.action,
                e.layer,
                e.record_id,
                e.version,
                None if e.before is None else json.dumps(e.before, default=str),
                None if e.after is None else json.dumps(e.after, default=str),
            )
            for e in entries
        ]

    def read_audit(self, layer_name: str, record_id: int) -> list[AuditEntry]:
        cols = ", ".join(map(q, ("id", *self.AUDIT_COLUMNS)))
        sql = (
            f"SELECT {cols} FROM {q(AUDIT_TABLE)} WHERE {q('layer')} = {self.ph} "
            f"AND {q('record_id')} = {self.ph} ORDER BY {q('id')}"
        )
        out = []
        for row in self.execute(sql, [layer_name, record_id]).fetchall():
            at = row[1] if isinstance(row[1], datetime) else datetime.fromisoformat(row[1].replace("Z", "+00:00"))
            out.append(
                AuditEntry(
                    id=int(row[0]),
                    at=at,
                    user=row[2],
                    action=row[3],
                    layer=row[4],
                    record_id=int(row[5]),
                    version=int(row[6]),
                    before=None if row[7] is None else json.loads(row[7]),
                    after=None if row[8] is None else json.loads(row[8]),
                )
            )
        return out

    def encode_timestamp(self, moment: datetime) -> Any:
        return moment
