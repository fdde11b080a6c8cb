"""State machines: which status changes are allowed.

Hazard life cycle after IMSMA (an SHA is Open; the first progress report makes it a
CHA Worked on; the completion report Closes it) and IMAS 07.11. ``released`` is only
reached through land release, never set by hand, and is final: new evidence on
released land is recorded as a new hazard. Item states after IMAS 09.30.
"""

from __future__ import annotations

from collections.abc import Mapping

from sapper.model.enums import ActivityStatus, HazardStatus, ItemState, Vocabulary
from sapper.model.errors import ForbiddenTransition

H = HazardStatus
HAZARD_TRANSITIONS: Mapping[HazardStatus, frozenset[HazardStatus]] = {
    H.SUSPECTED: frozenset({H.CONFIRMED, H.IN_CLEARANCE, H.RELEASED}),
    H.CONFIRMED: frozenset({H.IN_CLEARANCE, H.SUSPENDED, H.RELEASED}),
    H.IN_CLEARANCE: frozenset({H.SUSPENDED, H.RELEASED}),
    H.SUSPENDED: frozenset({H.IN_CLEARANCE, H.RELEASED}),
    H.RELEASED: frozenset(),
}

S = ItemState
ITEM_TRANSITIONS: Mapping[ItemState, frozenset[ItemState]] = {
    S.FOUND: frozenset({S.RENDERED_SAFE, S.REMOVED, S.DESTROYED_IN_PLACE}),
    S.RENDERED_SAFE: frozenset({S.REMOVED, S.DESTROYED_IN_PLACE}),
    S.REMOVED: frozenset(),
    S.DESTROYED_IN_PLACE: frozenset(),
}

A = ActivityStatus
ACTIVITY_TRANSITIONS: Mapping[ActivityStatus, frozenset[ActivityStatus]] = {
    A.PLANNED: frozenset({A.ONGOING, A.CANCELLED}),
    A.ONGOING: frozenset({A.SUSPENDED, A.COMPLETED}),
    A.SUSPENDED: frozenset({A.ONGOING, A.CANCELLED}),
    A.COMPLETED: frozenset(),
    A.CANCELLED: frozenset(),
}


def check_transition(
    ref: str,
    old: Vocabulary,
    new: Vocabulary,
    allowed: Mapping[Vocabulary, frozenset[Vocabulary]],
) -> None:
    """Refuse ``old -> new`` unless the machine allows it; staying put is always allowed."""
    if old == new or new in allowed[old]:
        return
    options = ", ".join(sorted(s.value for s in allowed[old])) or "none, it is final"
    raise ForbiddenTransition(
        ref, f"cannot change from {old.value} to {new.value} (allowed from {old.value}: {options})"
    )
