"""Field submissions (ODK Collect, KoboCollect) kept in the register until a supervisor decides.

IMSMA's rule: field reports are reconciled and approved before they change the register. A
submission is stored as it came (the XML and its photos), once per instance id, and keeps
its status (pending, approved, applied, rejected) and the reason of a refusal: nothing sent
from the field is dropped. Like the plan runs, these are tables, not layers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sapper.store.sql import SqlBackend, q

SUBMISSIONS = "sapper_field_submissions"
ATTACHMENTS = "sapper_field_attachments"
PENDING, APPROVED, APPLIED, REJECTED = "pending", "approved", "applied", "rejected"
STATUSES = (PENDING, APPROVED, APPLIED, REJECTED)
COLUMNS = (
    "id",
    "instance_id",
    "form_id",
    "form_version",
    "username",
    "organisation",
    "received_at",
    "status",
    "reason",
    "decided_by",
    "decided_at",
    "records",
    "xml",
)


@dataclass
class Submission:
    id: int
    instance_id: str
    form_id: str
    form_version: str
    username: str
    organisation: str
    received_at: datetime
    status: str
    reason: str | None
    decided_by: str | None
    decided_at: datetime | None
    records: dict[str, list[int]]  # kind -> ids written when it was applied
    xml: bytes


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    data: bytes


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Submissions:
    """The field submissions of one register backend."""

    def __init__(self, backend: SqlBackend) -> None:
        self.backend = backend
        self.ph = backend.ph

    def ensure(self) -> Submissions:
        """Create the tables if this register has none yet (another process may be doing the same)."""
        if self.backend.existing_columns(SUBMISSIONS) and self.backend.existing_columns(ATTACHMENTS):
            return self
        blob = "BLOB" if self.ph == "?" else "BYTEA"  # SQLite (GeoPackage) or PostgreSQL
        try:
            with self.backend.transaction():
                self.backend.execute(
                    f"CREATE TABLE IF NOT EXISTS {q(SUBMISSIONS)} ({self.backend.serial_key}, "
                    "instance_id TEXT NOT NULL UNIQUE, form_id TEXT NOT NULL, form_version TEXT NOT NULL, "
                    "username TEXT NOT NULL, organisation TEXT NOT NULL, received_at TEXT NOT NULL, "
                    "status TEXT NOT NULL, reason TEXT, decided_by TEXT, decided_at TEXT, records TEXT, "
                    "xml TEXT NOT NULL)"
                )
                self.backend.execute(
                    f'CREATE INDEX IF NOT EXISTS "{SUBMISSIONS}_status" ON {q(SUBMISSIONS)} (organisation, status)'
                )
                self.backend.execute(
                    f"CREATE TABLE IF NOT EXISTS {q(ATTACHMENTS)} (submission_id INTEGER NOT NULL, "
                    f"name TEXT NOT NULL, content_type TEXT NOT NULL, data {blob} NOT NULL, "
                    "PRIMARY KEY (submission_id, name))"
                )
        except Exception:  # another server process created them at the same moment
            if not self.backend.existing_columns(SUBMISSIONS) or not self.backend.existing_columns(ATTACHMENTS):
                raise
        return self

    def receive(
        self,
        instance_id: str,
        form_id: str,
        form_version: str,
        username: str,
        organisation: str,
        xml: bytes,
        attachments: list[Attachment],
    ) -> tuple[Submission, int]:
        """Keep a submission once; sent again, only attachments not yet held are added.

        Returns the submission and how many things were new (0: it was all received before).
        The same instance sent twice at once: one insert wins, the other finds it kept.
        """
        try:
            return self._receive(instance_id, form_id, form_version, username, organisation, xml, attachments)
        except Exception:
            if self.by_instance(instance_id) is None:
                raise
            return self._receive(instance_id, form_id, form_version, username, organisation, xml, attachments)

    def _receive(
        self,
        instance_id: str,
        form_id: str,
        form_version: str,
        username: str,
        organisation: str,
        xml: bytes,
        attachments: list[Attachment],
    ) -> tuple[Submission, int]:
        with self.backend.transaction():
            found = self.by_instance(instance_id)
            added = 0
            if found is None:
                cols = ("instance_id", "form_id", "form_version", "username", "organisation", "received_at", "status")
                sql = (
                    f"INSERT INTO {q(SUBMISSIONS)} ({', '.join(cols)}, xml) "
                    f"VALUES ({', '.join([self.ph] * (len(cols) + 1))}) RETURNING id"
                )
                values = [instance_id, form_id, form_version, username, organisation, _now(), PENDING]
                sub_id = int(self.backend.execute(sql, [*values, xml.decode("utf-8")]).fetchone()[0])
                added = 1
            else:
                sub_id = found.id
            held = set(self.attachment_names(sub_id))
            for att in attachments:
                if att.name not in held:
                    self.backend.execute(
                        f"INSERT INTO {q(ATTACHMENTS)} (submission_id, name, content_type, data) "
                        f"VALUES ({self.ph}, {self.ph}, {self.ph}, {self.ph})",
                        [sub_id, att.name, att.content_type, att.data],
                    )
                    held.add(att.name)
                    added += 1
        stored = self.get(sub_id)
        assert stored is not None
        return stored, added

    def get(self, sub_id: int) -> Submission | None:
        rows = self._select(f"WHERE id = {self.ph}", [sub_id])
        return rows[0] if rows else None

    def by_instance(self, instance_id: str) -> Submission | None:
        rows = self._select(f"WHERE instance_id = {self.ph}", [instance_id])
        return rows[0] if rows else None

    def list(self, organisation: str | None, status: str | None = None, limit: int = 100) -> list[Submission]:
        """Submissions of an organisation (None: every one), oldest first."""
        parts, params = [], []
        if organisation is not None:
            parts.append(f"organisation = {self.ph}")
            params.append(organisation)
        if status is not None:
            parts.append(f"status = {self.ph}")
            params.append(status)
        where = f"WHERE {' AND '.join(parts)} " if parts else ""
        return self._select(f"{where}ORDER BY id LIMIT {int(limit)}", params)

    def decide(self, sub_id: int, status: str, by: str, reason: str | None, records: dict[str, list[int]]) -> bool:
        """Settle a pending submission; False if it was no longer pending (someone decided first)."""
        sql = (
            f"UPDATE {q(SUBMISSIONS)} SET status = {self.ph}, reason = {self.ph}, decided_by = {self.ph}, "
            f"decided_at = {self.ph}, records = {self.ph} WHERE id = {self.ph} AND status = {self.ph}"
        )
        values = [status, reason, by, _now(), json.dumps(records), sub_id, PENDING]
        with self.backend.transaction():
            return int(self.backend.execute(sql, values).rowcount) == 1

    def attachment_names(self, sub_id: int) -> list[str]:
        sql = f"SELECT name FROM {q(ATTACHMENTS)} WHERE submission_id = {self.ph} ORDER BY name"
        return [row[0] for row in self.backend.execute(sql, [sub_id]).fetchall()]

    def attachment(self, sub_id: int, name: str) -> Attachment | None:
        sql = (
            f"SELECT name, content_type, data FROM {q(ATTACHMENTS)} "
            f"WHERE submission_id = {self.ph} AND name = {self.ph}"
        )
        row = self.backend.execute(sql, [sub_id, name]).fetchone()
        return None if row is None else Attachment(row[0], row[1], bytes(row[2]))

    def _select(self, clause: str, params: list[Any]) -> list[Submission]:
        sql = f"SELECT {', '.join(COLUMNS)} FROM {q(SUBMISSIONS)} {clause}"
        return [_submission(row) for row in self.backend.execute(sql, params).fetchall()]


def _submission(row: tuple[Any, ...]) -> Submission:
    (sid, instance, form, version, user, org, received, status, reason, by, decided, records, xml) = row
    return Submission(
        id=int(sid),
        instance_id=instance,
        form_id=form,
        form_version=version,
        username=user,
        organisation=org,
        received_at=datetime.fromisoformat(received),
        status=status,
        reason=reason,
        decided_by=by,
        decided_at=None if decided is None else datetime.fromisoformat(decided),
        records=json.loads(records) if records else {},
        xml=xml.encode("utf-8"),
    )
