"""The REST API for what is not a feature collection: daily reports, land release, history, sitrep.

A team leader sends the day's report for their own team; only a supervisor approves land
release. Every write goes through the register with the user's name in the audit log.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from sapper.i18n import N_
from sapper.model.accounts import Role
from sapper.model.enums import ReleaseRoute
from sapper.model.records import Record, Release, Report
from sapper.report.sitrep import sitrep
from sapper.server.auth import need, reader, supervisor
from sapper.server.context import registers
from sapper.server.documents import Day
from sapper.server.errors import ApiError
from sapper.server.etag import etag, if_match_version
from sapper.server.features import dumps, read_geometry, record_feature
from sapper.server.idempotent import add_once
from sapper.server.models import DailyReport, ReleaseAction
from sapper.server.permissions import check_write, hidden_history, seen_by, visible
from sapper.server.plans import latest_plan
from sapper.server.web import json_response
from sapper.store.schema import layer

router = APIRouter(prefix="/api", tags=["Operations"])
PathId = Annotated[int, Path(ge=1, le=2**62)]


def _feature_response(kind: str, record: Record, status: int = 200) -> Response:
    lay = layer(kind)
    return json_response(
        dumps(record_feature(lay, record)), "application/geo+json", status, ETag=etag(lay, record.id, record.version)
    )


@router.post("/reports", status_code=201, summary="Send a daily progress report (team leader: own team only)")
def send_report(body: DailyReport, request: Request) -> Response:
    user = need(request, Role.FIELD_TEAM, "send a daily report")
    team_id = body.team_id if body.team_id is not None else user.team_id
    geometry = read_geometry(body.geometry, "new report")
    report = Report(
        activity_type=body.activity_type,
        report_date=body.report_date,
        hazard_id=body.hazard_id,
        team_id=team_id,
        activity_id=body.activity_id,
        geometry=geometry,
        items_found=body.items_found,
        reported_by=user.name,
        notes=body.notes,
        organisation=user.organisation,
        restricted=body.restricted,
        source_key=body.source_key,
    )
    reg = registers(request).get()
    check_write(reg, user, layer("report"), report)
    reg.user = user.name
    stored, new = add_once(reg, user, layer("report"), report, lambda: reg.add(report))
    return _feature_response("report", stored, 201 if new else 200)


@router.post(
    "/hazards/{hazard_id}/release",
    status_code=201,
    summary="Approve land release (supervisor); with If-Match, only if the hazard is as last read",
)
def release_land(hazard_id: PathId, body: ReleaseAction, request: Request) -> Response:
    user = supervisor(request)
    reg = registers(request).get()
    hazard = visible(reg, user, "hazard", hazard_id)
    check_write(reg, user, layer("hazard"), hazard, hazard)  # a release changes its hazard
    # ... and adds a release, of the hazard's owner, whose team and report the user sees and owns
    asked = Release(
        hazard_id=hazard_id,
        route=body.route or ReleaseRoute.CANCELLED,  # the route is checked by the release itself
        released_on=body.on or date.today(),
        team_id=body.team_id,
        report_id=body.report_id,
        organisation=hazard.organisation,
    )
    check_write(reg, user, layer("release"), asked)
    reg.user = user.name
    with reg.transaction():
        # With If-Match, the approval holds only for the hazard as the supervisor last saw it.
        current = reg.backend.current_version(layer("hazard"), hazard_id)
        if_match_version(request.headers.get("if-match"), layer("hazard"), hazard_id, current)
        piece = reg.release(
            hazard_id,
            body.route,
            geometry=read_geometry(body.geometry, f"release of hazard {hazard_id}"),
            on=body.on,
            team_id=body.team_id,
            report_id=body.report_id,
            depth_cm=body.depth_cm,
            notes=body.notes,
            force=body.force,
        )
        after = reg.get("hazard", hazard_id)
        bal = reg.balance(hazard_id)
    body_out = {
        "release": record_feature(layer("release"), piece),
        "hazard": {"id": hazard_id, "status": after.status.value, "version": after.version},
        "balance": _balance(bal),
    }
    return json_response(dumps(body_out), status=201)


def _balance(bal: Any) -> dict[str, float]:
    out = {k: round(float(v), 3) for k, v in dataclasses.asdict(bal).items()}
    out["hazardous"] = round(float(bal.hazardous), 3)
    return out


@router.get("/hazards/{hazard_id}/balance", summary="Land-release balance of a hazard (m²)")
def balance(hazard_id: PathId, request: Request) -> Response:
    reg = registers(request).get()
    visible(reg, reader(request), "hazard", hazard_id)
    return json_response(dumps(_balance(reg.balance(hazard_id))))


@router.get("/history/{kind}/{record_id}", summary="Every change to a record: who, when, before and after")
def history(kind: str, record_id: PathId, request: Request) -> Response:
    user = reader(request)
    try:
        lay = layer(kind)
    except KeyError as exc:
        raise ApiError(404, exc.args[0]) from None
    reg = registers(request).get()
    entries = reg.history(lay.kind, record_id)
    last = next((e.after or e.before for e in reversed(entries) if (e.after or e.before)), None)
    if not entries or hidden_history(reg, user, lay, record_id, last):
        raise ApiError(
            404, N_("{kind} {id} has no history (it never existed)"), params={"kind": lay.kind, "id": record_id}
        )
    out = [
        {
            "at": e.at.isoformat(),
            "user": e.user,
            "action": e.action,
            "version": e.version,
            "before": e.before,
            "after": e.after,
        }
        for e in entries
    ]
    return json_response(dumps({"kind": lay.kind, "id": record_id, "entries": out}))


@router.get("/sitrep", summary="Situation report: today and in total, by priority, forecast")
def situation(request: Request, on: Day = None) -> Response:
    user = reader(request)
    report = sitrep(registers(request).get(), on or date.today(), seen_by(user), latest_plan(request, user))
    return json_response(dumps(report))
