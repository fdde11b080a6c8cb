"""Who may see and write which record: every route asks here, REST, OGC and web UI alike.

- A viewer writes nothing (checked by role before we get here).
- A team leader (field_team) writes only items and daily reports, only for their own team.
- Everyone writes only records of their own organisation, and links what they write only to
  records of their own organisation (a report moves its hazard into clearance, a release closes
  it), an organisation's admin included; only a user who acts for all organisations
  (``register_admin``) writes across them. New records belong to the writer's organisation.
- Records a user cannot see do not exist for them: another organisation's restricted records,
  and what hangs off those (``sapper.store.query`` holds that rule). A hidden record answers
  exactly as a missing one, when read and when named by a link.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sapper.i18n import N_
from sapper.model.accounts import Role, User
from sapper.model.errors import InvalidRecord, NotFound, Problem
from sapper.model.records import Record
from sapper.server.auth import visible_to
from sapper.server.errors import ApiError
from sapper.store import query
from sapper.store.query import PARENTS, Filter, table
from sapper.store.register import Register
from sapper.store.rules import ref
from sapper.store.schema import Layer, layer

FIELD_KINDS = ("item", "report")


def seen_by(user: User) -> str | None:
    """The organisation whose view of the register the user has; None: all of it."""
    return None if user.all_organisations else visible_to(user)


def is_visible(reg: Register, user: User, lay: Layer, record_id: int) -> bool:
    """Whether the record exists and the user may see it (one query, by primary key)."""
    flt = Filter(ids=[record_id], organisation=seen_by(user))
    return query.count(reg.backend, table(lay), flt) > 0


def visible(reg: Register, user: User, kind: str, record_id: int) -> Record:
    """The record, if it exists and this user may see it; NotFound (404) otherwise, the same either way."""
    lay = layer(kind)
    if not is_visible(reg, user, lay, record_id):
        raise NotFound(f"{lay.kind} {record_id}")
    return reg.get(lay.kind, record_id)


def hidden_history(reg: Register, user: User, lay: Layer, record_id: int, last: dict[str, Any] | None) -> bool:
    """Whether a record's history is hidden: as the record is now, or, once deleted, as it was last."""
    if reg.backend.existing_ids(lay, [record_id]):
        return not is_visible(reg, user, lay, record_id)
    if last is None:
        return True
    org = seen_by(user)
    if org is None:
        return False
    if last.get("restricted") and last.get("organisation") != org:
        return True
    links = PARENTS.get(lay.name, {})
    return any(
        last.get(field) is not None
        and reg.backend.existing_ids(layer(kind), [int(last[field])])
        and not is_visible(reg, user, layer(kind), int(last[field]))
        for field, kind in links.items()
    )


def new_record_defaults(user: User, record: Record, given: set[str]) -> Record:
    """Fill in what the writer implies: their organisation, and a team leader's team."""
    changes: dict[str, object] = {}
    if "organisation" not in given:
        changes["organisation"] = user.organisation
    if user.role == Role.FIELD_TEAM and "team_id" not in given and hasattr(record, "team_id"):
        changes["team_id"] = user.team_id
    return dataclasses.replace(record, **changes) if changes else record


def check_owner(user: User, kind: str, *records: Record | None) -> None:
    """Refuse (403) a write on records of another organisation, unless the user acts for all."""
    if user.all_organisations:
        return
    for rec in records:
        if rec is not None and rec.organisation != user.organisation:
            name = f"{kind} {rec.id}" if rec.id is not None else Problem(N_("this {kind}"), kind=kind)
            mine = N_("{user} writes for organisation {organisation!r}; {name} belongs to {owner!r}")
            params = {"user": user.name, "organisation": user.organisation, "name": name, "owner": rec.organisation}
            raise ApiError(403, mine, params=params)


def check_link(reg: Register, user: User, where: str, field: str, kind: str, target: int) -> Record:
    """The record a write links to: 422 if it is missing or hidden (the same words), 403 if not the user's."""
    lay = layer(kind)
    if not is_visible(reg, user, lay, target):
        raise InvalidRecord(
            where, Problem(N_("{field}: {kind} {id} does not exist"), field=field, kind=lay.kind, id=target)
        )
    linked = reg.get(lay.kind, target)
    check_owner(user, lay.kind, linked)
    return linked


def check_links(reg: Register, user: User, lay: Layer, record: Record, before: Record | None = None) -> None:
    """Every link the record gains (new or changed) must name a record the user sees and owns."""
    for field, kind in PARENTS.get(table(lay).name, {}).items():
        target = getattr(record, field, None)
        if target is not None and (before is None or getattr(before, field, None) != target):
            check_link(reg, user, ref(lay, record), field, kind, int(target))


def check_write(reg: Register, user: User, lay: Layer, record: Record, before: Record | None = None) -> None:
    """Refuse a write this user may not make; ``before`` is the record as stored (None: a new one).

    The one check every write route makes: ownership of the record (before and after), of what
    it links to, and a team leader's limits.
    """
    check_owner(user, lay.kind, before, record)
    if user.role == Role.FIELD_TEAM:
        if lay.kind not in FIELD_KINDS:
            raise ApiError(
                403,
                N_("a team leader sends items and daily reports; changing a {kind} takes a supervisor"),
                params={"kind": lay.kind},
            )
        for rec in (before, record):
            if rec is not None and getattr(rec, "team_id", None) != user.team_id:
                raise ApiError(
                    403,
                    N_("{user} reports for team {team} only; this {kind} is for team {other}"),
                    params={
                        "user": user.name,
                        "team": user.team_id,
                        "kind": lay.kind,
                        "other": getattr(rec, "team_id", None),
                    },
                )
    check_links(reg, user, lay, record, before)
