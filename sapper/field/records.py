"""What a submitted form becomes in the register: reports, items, hazards, QC inspection results.

ODK writes a geopoint as ``lat lon altitude accuracy`` and a geotrace or geoshape as such
points separated by ``;`` (ODK XForms specification, geo types). Every record made from a
submission carries the instance id in ``source_key``, so the register itself can tell where
it came from. Nothing here checks rights: the approval does (``sapper.server.field_review``).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from sapper.field.forms import form
from sapper.field.openrosa import Instance
from sapper.model.accounts import User
from sapper.model.enums import (
    ActivityType,
    Contamination,
    HazardClass,
    HazardStatus,
    ItemCategory,
    ItemState,
    LandUse,
    Vocabulary,
)
from sapper.model.errors import SapperError
from sapper.model.geometry import metric_epsg_for, to_metric, to_wgs84
from sapper.model.qc import QcResult, QcSample
from sapper.model.records import Hazard, Item, Record, Report
from sapper.store.qc import record_result
from sapper.store.register import Register
from sapper.store.schema import layer

Made = list[tuple[str, list[Record]]]  # (kind, records) in the order they are written


class FieldError(SapperError):
    """A submission that cannot become records, with the field and the problem named."""

    def __init__(self, instance: Instance, problem: str) -> None:
        super().__init__(f"{instance.form_id} submission {instance.instance_id}: {problem}")


def _required(instance: Instance, name: str) -> str:
    value = instance.get(name)
    if not value:
        raise FieldError(instance, f"{name} is missing")
    return value


def _int(instance: Instance, name: str, default: int | None = None) -> int | None:
    value = instance.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise FieldError(instance, f"{name} must be a whole number, not {value!r}") from None


def _float(instance: Instance, name: str) -> float | None:
    value = instance.get(name)
    try:
        return float(value) if value else None
    except ValueError:
        raise FieldError(instance, f"{name} must be a number, not {value!r}") from None


def _date(instance: Instance, name: str) -> date:
    value = _required(instance, name)
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise FieldError(instance, f"{name} must be a date (YYYY-MM-DD), not {value!r}") from None


def _term(instance: Instance, name: str, vocabulary: type[Vocabulary], default: str | None = None) -> Any:
    value = instance.get(name) or default
    if not value:
        raise FieldError(instance, f"{name} is missing")
    try:
        return vocabulary.parse(value)
    except ValueError as exc:
        raise FieldError(instance, f"{name}: {exc}") from None


def _points(instance: Instance, name: str) -> list[tuple[float, float]]:
    """(lon, lat) of an ODK geopoint, geotrace or geoshape answer."""
    out = []
    for part in _required(instance, name).split(";"):
        words = part.split()
        if not part.strip():
            continue
        try:
            lat, lon = float(words[0]), float(words[1])
        except (IndexError, ValueError):
            raise FieldError(instance, f"{name}: {part.strip()!r} is not 'latitude longitude'") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise FieldError(instance, f"{name}: {lat} {lon} is not a latitude and longitude")
        out.append((lon, lat))
    return out


def point(instance: Instance, name: str) -> Point:
    return Point(_points(instance, name)[0])


def shape(instance: Instance, name: str) -> Polygon:
    """A geoshape: ODK closes it by repeating the first point; an open ring is refused, not guessed."""
    pts = _points(instance, name)
    if len(pts) < 4 or pts[0] != pts[-1]:
        raise FieldError(instance, f"{name}: the polygon does not close (its last point must be its first)")
    polygon = Polygon(pts)
    if not polygon.is_valid:
        raise FieldError(instance, f"{name}: the polygon crosses itself; trace its boundary again")
    return polygon


def track_area(instance: Instance, name: str, width_m: float) -> BaseGeometry:
    """A walked track as the strip it covered: ``width_m`` wide (the team's lane width)."""
    pts = _points(instance, name)
    if len(pts) < 2:
        raise FieldError(instance, f"{name}: a track needs at least two points")
    line = LineString(pts)
    epsg = metric_epsg_for(line)
    return to_wgs84(to_metric(line, epsg).buffer(width_m / 2, cap_style="flat"), epsg)


def _hazard_id(instance: Instance) -> int | None:
    return _int(instance, "hazard")


def _notes(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _daily_report(reg: Register, instance: Instance, user: User, key: str) -> Made:
    team_id = user.team_id
    if instance.get("area_kind") == "track":
        width = reg.get("team", team_id).lane_width_m if team_id is not None else 1.0
        geometry = track_area(instance, "track", width)
    else:
        geometry = shape(instance, "area")
    hours = _float(instance, "hours")
    report = Report(
        activity_type=_term(instance, "activity_type", ActivityType),
        report_date=_date(instance, "report_date"),
        hazard_id=_hazard_id(instance),
        team_id=team_id,
        activity_id=_int(instance, "task"),
        geometry=geometry,
        items_found=_int(instance, "items_found", 0) or 0,
        reported_by=user.name,
        notes=_notes(f"hours worked: {hours:g}" if hours is not None else "", instance.get("notes")),
        organisation=user.organisation,
        source_key=key,
    )
    return [("report", [report])]


def _item_found(reg: Register, instance: Instance, user: User, key: str) -> Made:
    item = Item(
        category=_term(instance, "category", ItemCategory),
        geometry=point(instance, "position"),
        state=_term(instance, "state", ItemState, "found"),
        hazard_id=_hazard_id(instance),
        team_id=user.team_id,
        model=instance.get("model"),
        condition=instance.get("condition"),
        depth_cm=_float(instance, "depth_cm"),
        found_on=_date(instance, "found_on"),
        notes=_notes(instance.get("notes"), f"photo: {instance.get('photo')}" if instance.get("photo") else ""),
        organisation=user.organisation,
        source_key=key,
    )
    return [("item", [item])]


def _nts(reg: Register, instance: Instance, user: User, key: str) -> Made:
    area = shape(instance, "area")
    on = _date(instance, "survey_date")
    evidence = _required(instance, "evidence_kind")
    outcome = _required(instance, "outcome")
    informants = ", ".join(
        " - ".join(v for v in (i.get("informant_name", ""), i.get("informant_role", "")) if v)
        for i in instance.repeats.get("informant", [])
    )
    notes = _notes(
        f"NTS outcome: {outcome}",
        f"evidence: {evidence}",
        instance.get("evidence"),
        f"informants: {informants}" if informants else "",
        instance.get("notes"),
    )
    hazard_id = _hazard_id(instance)
    if hazard_id is None:
        if outcome == "cancel":
            return []  # nothing suspected, nothing to register: the submission itself is the record
        direct = evidence == "direct"  # IMAS 07.11: direct evidence makes a confirmed hazard area
        hazard = Hazard(
            name=f"NTS {on.isoformat()} {instance.instance_id.removeprefix('uuid:')[:8]}",
            geometry=area,
            hazard_class=HazardClass.CHA if direct else HazardClass.SHA,
            status=HazardStatus.CONFIRMED if direct else HazardStatus.SUSPECTED,
            contamination=_term(instance, "contamination", Contamination, "unknown"),
            land_use=_term(instance, "land_use", LandUse, "other"),
            evidence=instance.get("evidence"),
            reported_on=on,
            notes=notes,
            organisation=user.organisation,
            source_key=key,
        )
        return [("hazard", [hazard])]
    report = Report(
        activity_type=ActivityType.NTS,
        report_date=on,
        hazard_id=hazard_id,
        team_id=user.team_id,
        geometry=area,
        reported_by=user.name,
        notes=notes,
        organisation=user.organisation,
        source_key=key,
    )
    return [("report", [report])]


def _eod_task(reg: Register, instance: Instance, user: User, key: str) -> Made:
    quantity = _int(instance, "quantity", 1) or 1
    on = _date(instance, "done_on")
    where = point(instance, "position")
    danger = _int(instance, "danger_area_m")
    items: list[Record] = [
        Item(
            category=_term(instance, "category", ItemCategory),
            geometry=where,
            state=_term(instance, "disposal", ItemState),
            hazard_id=_hazard_id(instance),
            team_id=user.team_id,
            model=instance.get("model"),
            found_on=on,
            notes=_notes(f"danger area {danger} m" if danger is not None else "", instance.get("notes")),
            organisation=user.organisation,
            source_key=f"{key}#{n + 1}",
        )
        for n in range(quantity)
    ]
    report = Report(
        activity_type=ActivityType.EOD_SPOT,
        report_date=on,
        hazard_id=_hazard_id(instance),
        team_id=user.team_id,
        activity_id=_int(instance, "task"),
        items_found=quantity,
        reported_by=user.name,
        notes=_notes(f"danger area {danger} m" if danger is not None else "", instance.get("notes")),
        organisation=user.organisation,
        source_key=key,
    )
    return [("report", [report]), ("item", items)]


def _qc_inspection(reg: Register, instance: Instance, user: User, key: str) -> Made:
    """The sample with its inspection's result; ``write_inspection`` records it as the CLI does."""
    sample_id = _int(instance, "sample")
    if sample_id is None:
        raise FieldError(instance, "sample is missing")
    if not reg.backend.existing_ids(layer("qc_sample"), [sample_id]):
        raise FieldError(instance, f"QC sample {sample_id} is not in the register")
    depth = _float(instance, "depth_cm")
    photo = instance.get("photo")
    inspected = dataclasses.replace(
        reg.get("qc_sample", sample_id),
        result=_term(instance, "result", QcResult),
        inspected_on=_date(instance, "inspected_on"),
        inspector=user.name,
        items_found=_int(instance, "items_found", 0) or 0,
        notes=_notes(
            instance.get("notes"),
            f"inspected to {depth:g} cm" if depth is not None else "",
            f"photo: {photo}" if photo else "",
        ),
    )
    return [("qc_sample", [inspected])]


def write_inspection(reg: Register, inspected: QcSample) -> QcSample:
    """Record a sample's inspection through the store function the CLI uses: a failure reopens the land."""
    sample, _plan = record_result(
        reg,
        int(inspected.id or 0),
        inspected.result,
        on=inspected.inspected_on,
        inspector=inspected.inspector,
        items_found=inspected.items_found,
        notes=inspected.notes,
    )
    return sample


def _accident(reg: Register, instance: Instance, user: User, key: str) -> Made:
    for name in ("event_kind", "happened_at", "description"):
        _required(instance, name)
    point(instance, "position")
    return []  # the register has no layer for accidents yet: the approved submission is their record


BUILDERS = {
    "sapper_daily_report": _daily_report,
    "sapper_item_found": _item_found,
    "sapper_nts": _nts,
    "sapper_eod_task": _eod_task,
    "sapper_accident": _accident,
    "sapper_qc_inspection": _qc_inspection,
}


def field_records(reg: Register, instance: Instance, user: User) -> Made:
    """The records a submission makes, for the user who sent it; FieldError naming the problem."""
    build = BUILDERS.get(instance.form_id)
    if build is None:
        raise FieldError(instance, f"unknown form (known: {', '.join(BUILDERS)})")
    current = form(instance.form_id).version
    if instance.version != current:
        problem = f"sent with version {instance.version!r} of the form; the current one is {current!r}"
        raise FieldError(instance, f"{problem}: update the form on the device and send it again")
    return build(reg, instance, user, f"odk:{instance.instance_id}")
