"""Corrections of rejected field submissions: a supervisor fixes the answers and sends it back to review.

A submission the register refused (a hazard id mistyped on the device, a date in the wrong
field) is kept for correction, not sent again from the field. The XML as it came stays as it
was, for the record; each correction is kept beside it with who made it, when, the reason of
the refusal it answers, the fields it changed (before and after) and the instance as corrected,
which is what the next approval reads. Correcting puts the submission back to pending.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element, tostring

from defusedxml import ElementTree

from sapper.i18n import N_
from sapper.model.errors import InvalidRecord, Problem, SapperError
from sapper.store.sql import SqlBackend, q
from sapper.store.submissions import PENDING, REJECTED, SUBMISSIONS, Submission

CORRECTIONS = "sapper_field_corrections"
COLUMNS = ("id", "submission_id", "at", "by_user", "reason", "changes", "xml")


@dataclass(frozen=True)
class Correction:
    id: int
    submission_id: int
    at: datetime
    by: str
    reason: str | None  # why the submission had been rejected
    changes: dict[str, list[str | None]]  # field -> [before, after]
    xml: bytes

    def described(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "by": self.by,
            "reason": self.reason,
            "changes": self.changes,
            "xml": self.xml.decode("utf-8"),
        }


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def answers_of(root: Element) -> dict[str, Element]:
    """Every answer of an instance by its path: ``model`` at the top level, ``group/field`` inside a
    group, ``informant[2]/name`` in the second row of a repeat (XPath's 1-based position). The
    ``meta`` block (the instance ID) is not an answer."""
    found: dict[str, Element] = {}

    def walk(node: Element, prefix: str) -> None:
        tags = [_local(child.tag) for child in node]
        seen: dict[str, int] = {}
        for child, tag in zip(node, tags, strict=True):
            if not prefix and tag == "meta":
                continue
            seen[tag] = seen.get(tag, 0) + 1
            name = prefix + (f"{tag}[{seen[tag]}]" if tags.count(tag) > 1 else tag)
            if len(child) == 0:
                found[name] = child
            else:
                walk(child, name + "/")

    walk(root, "")
    return found


def corrected(xml: bytes, values: dict[str, str], where: str) -> tuple[bytes, dict[str, list[str | None]]]:
    """The instance with these answers replaced, and what changed; InvalidRecord naming an unknown answer.

    Answers are named by their path (``answers_of``), so a repeat group's rows are corrected too.
    """
    try:
        root: Element = ElementTree.fromstring(xml)
    except Exception as exc:  # defusedxml's refusals and ParseError
        raise SapperError(f"{where}: the kept XML cannot be read ({exc})") from None
    answers = answers_of(root)
    changes: dict[str, list[str | None]] = {}
    for name, value in values.items():
        node = answers.get(name)
        if node is None:
            known = ", ".join(sorted(answers))
            problem = Problem(N_("it has no answer {name!r} to correct (answers: {known})"), name=name, known=known)
            raise InvalidRecord(where, problem)
        if (node.text or "") != value:
            changes[name] = [node.text, value]
            node.text = value
    if not changes:
        raise InvalidRecord(where, N_("the correction changes no answer"))
    body = tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body, changes


class Corrections:
    """The corrections of one register's field submissions."""

    def __init__(self, backend: SqlBackend) -> None:
        self.backend = backend
        self.ph = backend.ph

    def ensure(self) -> Corrections:
        """Create the table if this register has none yet (another process may be doing the same)."""
        if self.backend.existing_columns(CORRECTIONS):
            return self
        try:
            with self.backend.transaction():
                self.backend.execute(
                    f"CREATE TABLE IF NOT EXISTS {q(CORRECTIONS)} ({self.backend.serial_key}, "
                    "submission_id INTEGER NOT NULL, at TEXT NOT NULL, by_user TEXT NOT NULL, reason TEXT, "
                    "changes TEXT NOT NULL, xml TEXT NOT NULL)"
                )
                self.backend.execute(
                    f'CREATE INDEX IF NOT EXISTS "{CORRECTIONS}_submission" ON {q(CORRECTIONS)} (submission_id)'
                )
        except Exception:  # another server process created it at the same moment
            if not self.backend.existing_columns(CORRECTIONS):
                raise
        return self

    def correct(self, sub: Submission, values: dict[str, str], by: str) -> Correction | None:
        """Correct a rejected submission and put it back to pending; None if it was no longer rejected."""
        where = f"{sub.form_id} submission {sub.id}"
        if sub.status != REJECTED:
            problem = N_("it is {status}; only a rejected submission is corrected")
            raise InvalidRecord(where, Problem(problem, status=sub.status))
        xml, changes = corrected(self.current_xml(sub), values, where)
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        ph = self.ph
        with self.backend.transaction():
            reopened = self.backend.execute(
                f"UPDATE {q(SUBMISSIONS)} SET status = {ph}, reason = NULL, decided_by = NULL, decided_at = NULL, "
                f"records = NULL WHERE id = {ph} AND status = {ph}",
                [PENDING, sub.id, REJECTED],
            )
            if int(reopened.rowcount) != 1:
                return None
            values_in = [sub.id, now, by, sub.reason, json.dumps(changes), xml.decode("utf-8")]
            sql = (
                f"INSERT INTO {q(CORRECTIONS)} ({', '.join(COLUMNS[1:])}) "
                f"VALUES ({', '.join([ph] * len(values_in))}) RETURNING id"
            )
            new_id = int(self.backend.execute(sql, values_in).fetchone()[0])
        return Correction(new_id, sub.id, datetime.fromisoformat(now), by, sub.reason, changes, xml)

    def of(self, sub_id: int) -> list[Correction]:
        """The corrections of a submission, oldest first."""
        if not self.backend.existing_columns(CORRECTIONS):
            return []
        sql = f"SELECT {', '.join(COLUMNS)} FROM {q(CORRECTIONS)} WHERE submission_id = {self.ph} ORDER BY id"
        return [
            Correction(int(i), int(s), datetime.fromisoformat(at), by, reason, json.loads(changes), xml.encode("utf-8"))
            for i, s, at, by, reason, changes, xml in self.backend.execute(sql, [sub_id]).fetchall()
        ]

    def current_xml(self, sub: Submission) -> bytes:
        """The instance as last corrected, or as it came when it never was."""
        done = self.of(sub.id)
        return done[-1].xml if done else sub.xml
