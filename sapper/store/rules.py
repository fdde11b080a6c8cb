"""Checks and consequences of each write, per layer.

What makes a record acceptable (geometry, ranges, links that must exist), what the
register derives itself (areas, hazard class), and the IMSMA rules: a report only
updates a record if its date of information is later than the one held; the first
progress report puts a hazard in clearance as a CHA.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
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
    Method,
)
from sapper.model.errors import InvalidRecord, Problem
from sapper.model.geometry import (
    area_m2,
    areas_m2,
    as_multipolygon,
    distance_m,
    geometry_problem,
    geometry_problems,
    search_box,
)
from sapper.model.qc import QcSample
from sapper.model.records import Activity, Hazard, Item, ProtectedSite, Record, Release, Report, Team
from sapper.model.states import (
    ACTIVITY_TRANSITIONS,
    HAZARD_TRANSITIONS,
    ITEM_TRANSITIONS,
    check_transition,
)
from sapper.store.access import RegisterAccess
from sapper.store.qc import settle_result
from sapper.store.rows import typed
from sapper.store.schema import ACCEPTS, Layer
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
    if rec.id is not None:
        return f"{lay.kind} {rec.id}"
    name = getattr(rec, "name", None) or rec.source_key
    return f"{lay.kind} {name!r}" if name else f"new {lay.kind}"


def prepare_new(reg: RegisterAccess, lay: Layer, recs: Sequence[Record], *, restore: bool = False) -> list[Record]:
    """Checked copies of new records, with what the register derives (areas, class).

    Geometry checks and areas run once over the whole batch (bulk imports). ``restore``
    takes records another register derived already (exported and imported back): a
    hazard keeps its original area, and a released one comes without polygon."""
    recs = [_normalise(lay, rec) for rec in recs]
    problems: list[str | None] = [None] * len(recs)
    if lay.geometry_type:
        problems = geometry_problems([r.geometry for r in recs], ACCEPTS[lay.geometry_type])
    for rec, problem in zip(recs, problems):
        released = isinstance(rec, Hazard) and rec.status == HazardStatus.RELEASED
        needed = lay.name in GEOMETRY_REQUIRED and not (restore and released)
        if problem and (rec.geometry is not None or needed):
            raise InvalidRecord(ref(lay, rec), problem)
        for message in _range_problems(rec):
            raise InvalidRecord(ref(lay, rec), message)
        if released and not restore:
            raise InvalidRecord(
                ref(lay, rec), N_("a new hazard cannot be released already; record it and release its land")
            )
    if lay.record is Hazard:
        for rec, area in zip(recs, areas_m2([r.geometry for r in recs])):
            if not (restore and rec.original_area_m2 > 0):
                rec.original_area_m2 = float(area)
    return recs


def prepare_update(reg: RegisterAccess, lay: Layer, before: Record, rec: Record, *, by_release: bool = False) -> Record:
    rec = _normalise(lay, rec)
    where = ref(lay, rec)
    _check(reg, lay, rec)
    check_links(reg, lay, [rec])
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
            _check_destruction_allowed(reg, where, rec)
    elif isinstance(rec, Activity):
        assert isinstance(before, Activity)
        check_transition(where, before.status, rec.status, ACTIVITY_TRANSITIONS)
    elif isinstance(rec, QcSample):
        assert isinstance(before, QcSample)
        settle_result(reg, before, rec)  # a failed inspection reopens the lot (IMAS 09.20)
    return rec


def after_insert(reg: RegisterAccess, lay: Layer, rec: Record) -> None:
    """The first progress report on a hazard makes it a confirmed hazard in clearance."""
    if isinstance(rec, Report) and rec.hazard_id is not None and rec.activity_type in WORK_STARTS:
        hazard = reg.get("hazard", rec.hazard_id)
        if hazard.status in (HazardStatus.SUSPECTED, HazardStatus.CONFIRMED, HazardStatus.SUSPENDED):
            reg.update(dataclasses.replace(hazard, status=HazardStatus.IN_CLEARANCE, hazard_class=HazardClass.CHA))
    if isinstance(rec, Item) and rec.state == ItemState.DESTROYED_IN_PLACE:
        _check_destruction_allowed(reg, ref(lay, rec), rec)


def after_insert_many(reg: RegisterAccess, lay: Layer, recs: Sequence[Record]) -> None:
    """``after_insert`` for a batch; items destroyed in place are checked all together."""
    if lay.record is Item:
        check_destructions(reg, lay, recs)
        return
    for rec in recs:
        after_insert(reg, lay, rec)


def check_destructions(reg: RegisterAccess, lay: Layer, recs: Sequence[Record]) -> None:
    """Refuse items destroyed in place within the buffer of a site that forbids it.

    Same rule as ``_check_destruction_allowed``, but one query for the whole batch: a
    bulk import of a million items must not ask the database twice per item.
    """
    method = Method.DESTRUCTION_IN_PLACE
    blasts = [r for r in recs if isinstance(r, Item) and r.state == ItemState.DESTROYED_IN_PLACE and _has_shape(r)]
    if not blasts:
        return
    reach = reg.backend.maximum(reg_layer("site"), "buffer_m")
    if reach is None:  # no protected site at all
        return
    geoms = np.asarray([r.geometry for r in blasts], dtype=object)
    minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(geoms))
    window = search_box((minx, miny, maxx, maxy), reach)
    sites = [s for s in reg.list("site", bbox=window) if method in s.forbidden_methods and _has_shape(s)]
    if not sites:
        return
    # Candidate pairs in degrees (a superset: the pad covers ``reach`` in every direction),
    # then the exact distance in metres, as Register.near measures it.
    pad = math.hypot(window[2] - maxx, window[3] - maxy)
    pairs = shapely.STRtree([s.geometry for s in sites]).query(geoms, predicate="dwithin", distance=pad)
    candidates: dict[int, list[int]] = {}
    for i, j in zip(*pairs.tolist()):
        candidates.setdefault(i, []).append(j)
    for i in sorted(candidates):
        item = blasts[i]
        measured = [(distance_m(item.geometry, sites[j].geometry), sites[j]) for j in candidates[i]]
        inside = [(d, site) for d, site in measured if d <= site.buffer_m]
        if inside:
            site = min(inside, key=lambda pair: pair[0])[1]
            raise InvalidRecord(ref(lay, item), _destruction_message(site))


def _has_shape(rec: Record) -> bool:
    geom = getattr(rec, "geometry", None)
    return geom is not None and not geom.is_empty


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


def _normalise(lay: Layer, rec: Record) -> Record:
    """A copy (the caller's object is left alone) with vocabularies parsed and derived fields set."""
    original = rec
    rec = rec.__class__.__new__(rec.__class__)
    rec.__dict__.update(original.__dict__)
    fields = rec.__dict__
    for col in lay.columns:
        vocabulary = col.vocabulary
        if vocabulary is None:
            continue
        value = fields[col.name]
        try:
            if col.is_list:
                if not all(isinstance(v, vocabulary) for v in value):
                    fields[col.name] = typed(col, value)
            elif value is not None and not isinstance(value, vocabulary):
                fields[col.name] = vocabulary.parse(value)
        except ValueError as exc:
            raise InvalidRecord(
                ref(lay, rec), Problem(N_("{field}: {problem}"), field=col.name, problem=reason(exc))
            ) from None
    if lay.geometry_type == "MULTIPOLYGON" and rec.geometry is not None and rec.geometry.geom_type == "Polygon":
        rec.geometry = as_multipolygon(rec.geometry)
    if isinstance(rec, Hazard) and rec.status in (HazardStatus.CONFIRMED, HazardStatus.IN_CLEARANCE):
        rec.hazard_class = HazardClass.CHA
    if isinstance(rec, Report) and rec.geometry is not None:
        rec.area_m2 = area_m2(rec.geometry)
    return rec


def _check(reg: RegisterAccess, lay: Layer, rec: Record) -> None:
    where = ref(lay, rec)
    geom = rec.geometry if lay.geometry_type else None
    closed = isinstance(rec, Hazard) and rec.status == HazardStatus.RELEASED
    if lay.geometry_type and (geom is not None or (lay.name in GEOMETRY_REQUIRED and not closed)):
        problem = geometry_problem(geom, ACCEPTS[lay.geometry_type])
        if problem:
            raise InvalidRecord(where, problem)
    for problem in _range_problems(rec):
        raise InvalidRecord(where, problem)


def check_links(reg: RegisterAccess, lay: Layer, recs: list[Record]) -> None:
    """Every id a record names must exist: one query per link field, not per record."""
    for field, kind in LINKS.get(lay.name, {}).items():
        wanted = {getattr(rec, field) for rec in recs} - {None}
        missing = wanted - reg.backend.existing_ids(reg_layer(kind), sorted(wanted))
        for rec in recs:
            target = getattr(rec, field)
            if target in missing:
                missing = Problem(
                    N_("{field} names {kind} {target}, which does not exist"), field=field, kind=kind, target=target
                )
                raise InvalidRecord(ref(lay, rec), missing)


def _range_problems(rec: Record) -> list[str]:
    checks: list[tuple[bool, str]] = []
    if isinstance(rec, Hazard):
        checks = [
            (bool(rec.name.strip()), N_("has no name")),
            (
                1 <= rec.priority <= 5,
                Problem(N_("priority {priority} is outside 1 (highest) to 5"), priority=rec.priority),
            ),
            (rec.estimated_items >= 0, N_("estimated_items cannot be negative")),
            (rec.clearance_depth_cm is None or rec.clearance_depth_cm >= 0, N_("clearance depth cannot be negative")),
        ]
    elif isinstance(rec, Item):
        checks = [
            (rec.depth_cm is None or rec.depth_cm >= 0, N_("depth cannot be negative")),
            (rec.weight_kg is None or rec.weight_kg >= 0, N_("weight cannot be negative")),
        ]
    elif isinstance(rec, ProtectedSite):
        checks = [
            (bool(rec.name.strip()), N_("has no name")),
            (rec.buffer_m >= 0, N_("buffer cannot be negative")),
            (
                0 <= rec.heritage_value <= 5,
                Problem(N_("heritage value {value} is outside 0 to 5"), value=rec.heritage_value),
            ),
        ]
    elif isinstance(rec, Team):
        checks = [
            (bool(rec.name.strip()), N_("has no name")),
            (rec.personnel >= 1, N_("a team has at least one person")),
            (rec.lane_width_m > 0, N_("lane width must be positive")),
        ]
    elif isinstance(rec, Report):
        checks = [(rec.items_found >= 0, "items found cannot be negative")]
    elif isinstance(rec, Release):
        checks = [(rec.area_m2 >= 0, "released area cannot be negative")]
    return [message for ok, message in checks if not ok]


def _check_destruction_allowed(reg: RegisterAccess, where: str, item: Item) -> None:
    """Near a site that forbids it, an item is rendered safe and removed, not blown up."""
    for site in sites_forbidding(reg, item.geometry, Method.DESTRUCTION_IN_PLACE):
        raise InvalidRecord(where, _destruction_message(site))


def _destruction_message(site: ProtectedSite) -> str:
    return (
        f"destruction in place is forbidden within {site.buffer_m:g} m of {site.name} "
        f"(site {site.id}); render it safe and remove it"
    )


def sites_forbidding(reg: RegisterAccess, geom: Any, method: Method) -> list[ProtectedSite]:
    """Protected sites whose buffer reaches ``geom`` and that forbid ``method``."""
    if geom is None:
        return []
    reach = reg.backend.maximum(reg_layer("site"), "buffer_m") or 0.0
    return [
        site
        for site, distance in reg.near("site", geom, reach)
        if method in site.forbidden_methods and distance <= site.buffer_m
    ]


def _same_geometry(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return bool(a.equals_exact(b, 1e-12))
