"""Checks and consequences of each write, per layer.

What makes a record acceptable (geometry, ranges, links that must exist), what the
register derives itself (areas, hazard class), and the IMSMA rules: a report only
updates a record if its date of information is later than the one held; the first
progress report puts a hazard in clearance as a CHA.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Any

import numpy as np
import shapely

from sapper.i18n import N_
from sapper.i18n.errors import reason
from sapper.model.enums import (
    ActivityType,
    HazardClass,
    HazardStatus,
    ItemState,
)
from sapper.model.errors import InvalidRecord, Problem
from sapper.model.geometry import area_m2, areas_m2, geometry_problems
from sapper.model.qc import QcSample
from sapper.model.records import Activity, Hazard, Item, Record, Report
from sapper.model.states import (
    ACTIVITY_TRANSITIONS,
    HAZARD_TRANSITIONS,
    ITEM_TRANSITIONS,
    check_transition,
)
from sapper.store.access import RegisterAccess
from sapper.store.batch import Batch, Problems, as_multipolygons, as_records, of_records, record_ref
from sapper.store.destructions import destruction_problems
from sapper.store.qc import settle_result
from sapper.store.ranges import range_problems
from sapper.store.rows import typed
from sapper.store.schema import ACCEPTS, Column, Layer
from sapper.store.schema import layer as reg_layer

# Which layers need a geometry (a team's home base and a report's polygon may be unknown).
GEOMETRY_REQUIRED = {"hazards", "items", "protected_sites", "releases"}
# Links each kind holds to others: field -> kind it names.
LINKS: dict[str, dict[str, str]] = {
    "items": {"hazard_id": "hazard", "team_id": "team"},
    "activities": {"hazard_id": "hazard", "team_id": "team"},
    "reports": {"hazard_id": "hazard", "team_id": "team", "activity_id": "activity"},
    "releases": {"hazard_id": "hazard", "team_id": "team", "report_id": "report"},
    "qc_plans": {"hazard_id": "hazard", "team_id": "team"},
    "qc_samples": {"plan_id": "qc_plan", "hazard_id": "hazard"},
    "qa_visits": {"hazard_id": "hazard", "team_id": "team"},
}
# Activities whose first report means work has started on the ground (IMSMA: Worked on).
WORK_STARTS = {
    ActivityType.TS,
    ActivityType.CLEARANCE,
    ActivityType.BAC,
    ActivityType.EOD_SPOT,
    ActivityType.ROUTE_CLEARANCE,
}


def ref(lay: Layer, rec: Record) -> str:
    return record_ref(lay, rec.id, getattr(rec, "name", None), rec.source_key)


def first_problem(problems: Problems) -> None:
    """Raise the first problem found (the earliest check, then the earliest row), if any."""
    for error in problems.values():
        raise error


def prepare_new(reg: RegisterAccess, lay: Layer, batch: Batch, *, restore: bool = False) -> tuple[Batch, Problems]:
    """New records checked, with what the register derives (areas, class), and the rows refused.

    Every check runs on whole columns. ``restore`` takes records another register derived
    already (exported and imported back): a hazard keeps its original area, and a released one
    comes without polygon. A row's problem is its first, in the order the checks run: words of
    the vocabularies, then geometry, ranges and status."""
    ready, problems = normalised(lay, batch)
    released = _released(ready)
    found = dict(record_problems(lay, ready, released, may_lack_polygon=restore))
    if not restore:
        for i in np.flatnonzero(released).tolist():
            found.setdefault(i, N_("a new hazard cannot be released already; record it and release its land"))
    for i in sorted(found):
        if i not in problems:
            problems[i] = InvalidRecord(ready.ref(i), found[i])
    if lay.record is Hazard:
        areas = _areas(ready.geometries, skip=problems.keys()).tolist()
        kept = ready.columns["original_area_m2"]
        if restore:
            areas = [old if old > 0 else new for old, new in zip(kept, areas)]
        ready = ready.replace(original_area_m2=areas)
    return ready, problems


def normalised(lay: Layer, batch: Batch) -> tuple[Batch, Problems]:
    """Vocabulary words parsed into their members, polygons as multipolygons, derived fields set
    (a confirmed hazard is a CHA, a report measures its area); rows with an unknown word refused."""
    changes: dict[str, list[Any]] = {}
    bad: dict[int, str] = {}
    for col in lay.columns:
        if col.vocabulary is None:
            continue
        parsed, refused = _parse_words(col, batch.columns[col.name])
        if parsed is not batch.columns[col.name]:
            changes[col.name] = parsed
        for i, message in refused.items():
            bad.setdefault(i, message)
    ready = batch.replace(**changes) if changes else batch
    if lay.geometry_type == "MULTIPOLYGON":
        multi = as_multipolygons(ready.geometries)
        if multi is not ready.geometries:
            ready = dataclasses.replace(ready, geometries=multi)
    if lay.record is Hazard:
        confirmed = (HazardStatus.CONFIRMED, HazardStatus.IN_CLEARANCE)
        classes = ready.columns["hazard_class"]
        ready = ready.replace(
            hazard_class=[HazardClass.CHA if s in confirmed else c for s, c in zip(ready.columns["status"], classes)]
        )
    if lay.record is Report:
        areas = _areas(ready.geometries).tolist()
        ready = ready.replace(
            area_m2=[
                a if g is not None else old for a, g, old in zip(areas, ready.geometries, ready.columns["area_m2"])
            ]
        )
    return ready, {i: InvalidRecord(batch.ref(i), bad[i]) for i in sorted(bad)}


def _areas(geoms: np.ndarray, skip: Collection[int] = ()) -> np.ndarray:
    """Areas in m² (``areas_m2``), 0 for the rows skipped and for geometries too broken to measure
    (their row is refused for its geometry)."""
    if skip:
        geoms = geoms.copy()
        geoms[list(skip)] = None
    try:
        return areas_m2(geoms)
    except shapely.errors.GEOSException:
        return np.array([_area_or_zero(g) for g in geoms])


def _area_or_zero(geom: Any) -> float:
    try:
        return area_m2(geom)
    except shapely.errors.GEOSException:
        return 0.0


def _parse_words(col: Column, values: list[Any]) -> tuple[list[Any], dict[int, str]]:
    """A vocabulary column as members (the same list if it holds members already), and its bad rows.

    Each distinct value is parsed once: a column of a million words holds a handful."""
    vocabulary = col.vocabulary
    assert vocabulary is not None
    if col.is_list:

        def parse(value: Any) -> Any:
            if value is not None and all(isinstance(v, vocabulary) for v in value):
                return value
            return typed(col, value)

    else:
        if set(map(type, values)) <= {vocabulary, type(None)}:
            return values, {}

        def parse(value: Any) -> Any:
            return value if value is None or isinstance(value, vocabulary) else vocabulary.parse(value)

    def outcome(value: Any) -> tuple[Any, str | None]:
        try:
            return parse(value), None
        except ValueError as exc:
            return value, Problem(N_("{field}: {problem}"), field=col.name, problem=reason(exc))

    try:
        memo = {v: outcome(v) for v in set(values)}
        results = list(map(memo.__getitem__, values))
    except TypeError:  # unhashable values (lists of words): one by one
        results = [outcome(v) for v in values]
    parsed = [value for value, _ in results]
    if list(map(id, parsed)) == list(map(id, values)):
        parsed = values
    return parsed, {i: problem for i, (_, problem) in enumerate(results) if problem is not None}


def _released(batch: Batch) -> np.ndarray:
    if batch.lay.record is not Hazard:
        return np.zeros(len(batch), dtype=bool)
    return np.fromiter((s == HazardStatus.RELEASED for s in batch.columns["status"]), dtype=bool, count=len(batch))


def record_problems(lay: Layer, batch: Batch, released: np.ndarray, *, may_lack_polygon: bool) -> list[tuple[int, str]]:
    """Each failing row's first problem of geometry, then of range (``ranges``), by row.

    A layer that needs a geometry refuses a row without one, unless the row is a released hazard
    and ``may_lack_polygon`` (its land is in its releases)."""
    found: dict[int, str] = {}
    if lay.geometry_type and not batch.geometries_checked:
        geoms = batch.geometries
        needed = lay.name in GEOMETRY_REQUIRED
        for i, problem in enumerate(geometry_problems(geoms, ACCEPTS[lay.geometry_type])):
            if problem and (geoms[i] is not None or (needed and not (may_lack_polygon and released[i]))):
                found[i] = problem
    for i, messages in range_problems(lay.record, batch.columns):
        found.setdefault(i, messages[0])
    return sorted(found.items())


def prepare_update(reg: RegisterAccess, lay: Layer, before: Record, rec: Record, *, by_release: bool = False) -> Record:
    """A changed record checked as a batch of one (the same checks as new records), then against
    the record it replaces: state machines, the date of information, what a release may change."""
    ready, problems = normalised(lay, of_records(lay, [rec]))
    first_problem(problems)
    (rec,) = as_records(ready, [rec.id])
    where = ref(lay, rec)
    first_problem(
        {i: InvalidRecord(where, p) for i, p in record_problems(lay, ready, _released(ready), may_lack_polygon=True)}
    )
    first_problem(link_problems(reg, lay, ready))
    if isinstance(rec, Hazard):
        assert isinstance(before, Hazard)
        # A lot failing its post-clearance inspection (IMAS 09.20) reopens released land.
        reopened = by_release and (before.status, rec.status) == (HazardStatus.RELEASED, HazardStatus.IN_CLEARANCE)
        if not reopened:
            check_transition(where, before.status, rec.status, HAZARD_TRANSITIONS)
        if rec.status == HazardStatus.RELEASED and before.status != HazardStatus.RELEASED and not by_release:
            raise InvalidRecord(
                where, N_("a hazard is released by releasing its land (sapper release), not by setting its status")
            )
        if before.reported_on and rec.reported_on and rec.reported_on < before.reported_on:
            raise InvalidRecord(
                where,
                Problem(
                    N_("information dated {dated} is older than the {held} already held"),
                    dated=rec.reported_on,
                    held=before.reported_on,
                ),
            )
        if by_release:
            rec = dataclasses.replace(rec, original_area_m2=before.original_area_m2)
        elif not _same_geometry(before.geometry, rec.geometry):
            if reg.count("release", where={"hazard_id": rec.id}):
                raise InvalidRecord(where, N_("land was already released from it; its polygon changes only by release"))
            rec = dataclasses.replace(rec, original_area_m2=area_m2(rec.geometry))
        else:
            rec = dataclasses.replace(rec, original_area_m2=before.original_area_m2)
    elif isinstance(rec, Item):
        assert isinstance(before, Item)
        check_transition(where, before.state, rec.state, ITEM_TRANSITIONS)
        if rec.state == ItemState.DESTROYED_IN_PLACE and before.state != rec.state:
            first_problem(destruction_problems(reg, lay, ready))
    elif isinstance(rec, Activity):
        assert isinstance(before, Activity)
        check_transition(where, before.status, rec.status, ACTIVITY_TRANSITIONS)
    elif isinstance(rec, QcSample):
        assert isinstance(before, QcSample)
        settle_result(reg, before, rec)  # a failed inspection reopens the lot (IMAS 09.20)
    return rec


def register_problems(reg: RegisterAccess, lay: Layer, batch: Batch, *, restore: bool, skip: Problems) -> Problems:
    """What the register itself refuses of new records (links to records that do not exist, items
    destroyed in place near a site that forbids it), for the rows not in ``skip``."""
    problems = link_problems(reg, lay, batch, skip)
    if lay.record is Item and not restore:
        for i, error in destruction_problems(reg, lay, batch, skip.keys() | problems.keys()).items():
            problems.setdefault(i, error)
    return problems


def after_insert_many(reg: RegisterAccess, lay: Layer, batch: Batch) -> None:
    """The first progress report on a hazard makes it a confirmed hazard in clearance."""
    if lay.record is not Report:
        return
    for hazard_id, activity in zip(batch.columns["hazard_id"], batch.columns["activity_type"]):
        if hazard_id is None or activity not in WORK_STARTS:
            continue
        hazard = reg.get("hazard", hazard_id)
        if hazard.status in (HazardStatus.SUSPECTED, HazardStatus.CONFIRMED, HazardStatus.SUSPENDED):
            reg.update(dataclasses.replace(hazard, status=HazardStatus.IN_CLEARANCE, hazard_class=HazardClass.CHA))


def check_delete(reg: RegisterAccess, lay: Layer, rec: Record) -> None:
    """Refuse to delete a record others still point at: history would lose its meaning."""
    users = []
    for table, links in LINKS.items():
        for field, kind in links.items():
            if kind == lay.kind:
                n = reg.count(table, where={field: rec.id})
                if n:
                    users.append(f"{n} {table}")
    if users:
        problem = N_("is still referred to by {users}; delete or relink those first")
        raise InvalidRecord(ref(lay, rec), Problem(problem, users=", ".join(users)))


def link_problems(reg: RegisterAccess, lay: Layer, batch: Batch, skip: Collection[int] = ()) -> Problems:
    """Every id a record names must exist: one query per link field, not per record."""
    problems: Problems = {}
    for field, kind in LINKS.get(lay.name, {}).items():
        column = batch.columns[field]
        wanted = set(column) - {None}
        missing = wanted - reg.backend.existing_ids(reg_layer(kind), sorted(wanted))
        if not missing:
            continue
        for i, target in enumerate(column):
            if target in missing and i not in skip and i not in problems:
                problem = Problem(
                    N_("{field} names {kind} {target}, which does not exist"), field=field, kind=kind, target=target
                )
                problems[i] = InvalidRecord(batch.ref(i), problem)
    return problems


def _same_geometry(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return bool(a.equals_exact(b, 1e-12))
