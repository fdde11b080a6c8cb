"""Who may write which record.

- A viewer writes nothing (checked by role before we get here).
- A team leader (field_team) writes only items and daily reports, only for their own team.
- Everyone but an admin writes only records of their own organisation; new records belong
  to the writer's organisation unless an admin says otherwise.
- Records a user cannot see (another organisation's restricted ones) do not exist for them.
"""

from __future__ import annotations

import dataclasses

from sapper.model.accounts import Role, User
from sapper.model.records import Record
from sapper.server.errors import ApiError
from sapper.store.schema import Layer

FIELD_KINDS = ("item", "report")


def new_record_defaults(user: User, record: Record, given: set[str]) -> Record:
    """Fill in what the writer implies: their organisation, and a team leader's team."""
    changes: dict[str, object] = {}
    if "organisation" not in given:
        changes["organisation"] = user.organisation
    if user.role == Role.FIELD_TEAM and "team_id" not in given and hasattr(record, "team_id"):
        changes["team_id"] = user.team_id
    return dataclasses.replace(record, **changes) if changes else record


def check_write(user: User, lay: Layer, record: Record, before: Record | None = None) -> None:
    """Refuse (403) a write this user may not make; ``before`` is the record as stored."""
    if user.role != Role.ADMIN:
        for rec in (before, record):
            if rec is not None and rec.organisation != user.organisation:
                raise ApiError(
                    403,
                    f"{user.name} writes for organisation {user.organisation!r}; "
                    f"this {lay.kind} belongs to {rec.organisation!r}",
                )
    if user.role == Role.FIELD_TEAM:
        if lay.kind not in FIELD_KINDS:
            raise ApiError(
                403, f"a team leader sends items and daily reports; changing a {lay.kind} takes a supervisor"
            )
        for rec in (before, record):
            if rec is not None and getattr(rec, "team_id", None) != user.team_id:
                raise ApiError(
                    403,
                    f"{user.name} reports for team {user.team_id} only; this {lay.kind} is "
                    f"for team {getattr(rec, 'team_id', None)}",
                )
