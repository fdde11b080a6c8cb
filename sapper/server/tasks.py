"""Activities (tasks given to teams) over the REST API: they have no geometry, so no OGC collection.

A supervisor creates, changes and deletes tasks; a team leader reads them and moves their own
team's tasks along (``status`` and ``notes`` only: planned -> ongoing -> completed). Bodies are
JSON objects of the activity's fields; edits say which version they are based on (If-Match
or ``version``), as everywhere else.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from sapper.i18n import N_
from sapper.model.accounts import Role
from sapper.model.errors import Conflict
from sapper.model.records import Record
from sapper.server.auth import need, reader, supervisor
from sapper.server.collections import column_schema
from sapper.server.context import registers
from sapper.server.errors import ApiError, bad_request
from sapper.server.etag import etag, if_match_version, require_version
from sapper.server.features import dumps, field_values, properties
from sapper.server.ogc_edit import read_json
from sapper.server.permissions import check_owner, check_write, new_record_defaults, seen_by, visible
from sapper.server.web import json_response
from sapper.store import query
from sapper.store.rows import to_row
from sapper.store.schema import GEOMETRY, layer

router = APIRouter(prefix="/api/activities", tags=["Activities (tasks)"])
LAY = layer("activity")
LEADER_FIELDS = {"status", "notes", "version"}
TaskId = Annotated[int, Path(ge=1, le=2**62)]


def _body_doc() -> dict[str, Any]:
    props = {c.name: column_schema(c) for c in LAY.columns if c.kind != GEOMETRY and not c.is_list}
    schema = {"type": "object", "properties": props}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _out(record: Record, status: int = 200, **headers: str) -> Response:
    body = {"id": record.id, **properties(to_row(LAY, record))}
    return json_response(dumps(body), status=status, ETag=etag(LAY, record.id, record.version), **headers)


@router.get("", summary="Tasks, filtered by team, hazard or status")
def list_tasks(
    request: Request,
    team_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    hazard_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    status: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> Response:
    user = reader(request)
    where: dict[str, Any] = {k: v for k, v in (("team_id", team_id), ("hazard_id", hazard_id)) if v is not None}
    if status is not None:
        where["status"] = field_values(LAY, {"status": status}, "filter")[0]["status"]
    rows = query.select(
        registers(request).get().backend,
        LAY,
        query.Filter(where=where, organisation=seen_by(user)),
        limit=limit,
        offset=offset,
    )
    return json_response(dumps([{"id": rid, **values} for rid, values, _ in rows]))


@router.get("/{task_id}", summary="One task, with its ETag")
def get_task(task_id: TaskId, request: Request) -> Response:
    return _out(visible(registers(request).get(), reader(request), LAY.kind, task_id))


@router.post("", status_code=201, summary="Give a team a task (supervisor)", openapi_extra=_body_doc())
async def create_task(request: Request) -> Response:
    body = await read_json(request)
    return await run_in_threadpool(_create, request, body)


def _create(request: Request, body: Any) -> Response:
    user = supervisor(request)
    if not isinstance(body, dict):
        raise bad_request(N_("new activity: send a JSON object of its fields"))
    values, _version = field_values(LAY, body, "new activity")
    try:
        record = LAY.record(**values)
    except TypeError as exc:
        missing = str(exc).split("argument", 1)[-1].strip(": ")
        raise bad_request(N_("new activity: missing {missing}"), missing=missing) from None
    record = new_record_defaults(user, record, set(body))
    reg = registers(request).get()
    check_write(reg, user, LAY, record)
    reg.user = user.name
    stored = reg.add(record)
    return _out(stored, 201, Location=f"/api/activities/{stored.id}")


@router.patch(
    "/{task_id}", summary="Change a task; a team leader moves their own team's along", openapi_extra=_body_doc()
)
async def change_task(task_id: TaskId, request: Request) -> Response:
    body = await read_json(request)
    return await run_in_threadpool(_change, request, task_id, body)


def _change(request: Request, task_id: int, body: Any) -> Response:
    user = need(request, Role.FIELD_TEAM, "change a task")
    reg = registers(request).get()
    before = visible(reg, user, LAY.kind, task_id)
    if not isinstance(body, dict):
        raise bad_request(N_("activity {id}: send a JSON object of the fields to change"), id=task_id)
    values, from_body = field_values(LAY, body, f"activity {task_id}")
    from_header = if_match_version(request.headers.get("if-match"), LAY, task_id, before.version)
    expected = from_header if from_header is not None else from_body
    if expected is None:
        raise require_version(LAY, task_id)
    if from_body is not None and from_body != before.version:
        raise Conflict(f"activity {task_id}", from_body, before.version)
    after = dataclasses.replace(before, **values)
    if user.role == Role.FIELD_TEAM:
        check_owner(user, LAY.kind, before)
        if before.team_id != user.team_id or set(body) - LEADER_FIELDS:
            message = N_("a team leader changes only status and notes of team {team}'s tasks")
            raise ApiError(403, message, params={"team": user.team_id})
    else:
        check_write(reg, user, LAY, after, before)
    reg.user = user.name
    try:
        stored = reg.update(dataclasses.replace(after, version=expected))
    except Conflict as exc:
        if from_header is not None:
            params = {"ref": exc.ref, "expected": exc.expected, "actual": exc.actual}
            raise ApiError(412, Conflict.TEMPLATE, {"ETag": etag(LAY, task_id, exc.actual)}, params) from None
        raise
    return _out(stored)


@router.delete("/{task_id}", status_code=204, summary="Delete a task (supervisor)")
def delete_task(task_id: TaskId, request: Request) -> Response:
    user = supervisor(request)
    reg = registers(request).get()
    before = visible(reg, user, LAY.kind, task_id)
    if_match_version(request.headers.get("if-match"), LAY, task_id, before.version)
    check_write(reg, user, LAY, before, before)
    reg.user = user.name
    reg.delete(LAY.kind, task_id)
    return Response(status_code=204)
