"""Plans over the API: run the planner on the register as the user sees it, list the runs, compare two.

A plan takes from a second to minutes (CP-SAT's time limit, the Monte Carlo forecast), so
a run is queued to one background worker and the request answers 202 at once with the
run's id; the client reads ``/api/plans/{id}`` until it is done. A finished plan is stored
in the register under its next number (as ``sapper plan`` does), with its sectors and lanes
as map layers; the runs themselves are kept in memory by the server process that made them.
A plan is made from the records its requester may see, belongs to their organisation and is
restricted if any of those records is.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import Field

from sapper.model.accounts import User
from sapper.server.auth import reader, supervisor, visible_to
from sapper.server.context import Registers, registers
from sapper.server.errors import ApiError
from sapper.server.features import dumps
from sapper.server.models import Strict
from sapper.server.web import json_response
from sapper.store import query
from sapper.store.query import Filter
from sapper.store.register import Register
from sapper.store.schema import layer

router = APIRouter(prefix="/api", tags=["Plans"])
MAX_WAITING = 4
KINDS = {"hazards": "hazard", "items": "item", "sites": "site", "teams": "team", "reports": "report"}


def owned(plan_rows: Any, organisation: str, restricted: bool) -> Any:
    """A plan's rows belong to the organisation that asked for it, restricted if any record it
    was made from is: its sectors would otherwise show restricted hazards to everyone."""

    def own(record: Any) -> Any:
        return dataclasses.replace(record, organisation=organisation, restricted=restricted)

    return dataclasses.replace(
        plan_rows,
        plan=own(plan_rows.plan),
        sectors=[own(s) for s in plan_rows.sectors],
        lanes=[(i, own(lane)) for i, lane in plan_rows.lanes],
        assignments=[(i, own(a)) for i, a in plan_rows.assignments],
        priorities=[own(p) for p in plan_rows.priorities],
    )


class PlanRequest(Strict):
    """What to plan with; defaults are quick enough for an operations room to wait for."""

    start: date | None = Field(None, description="First working day (default: today)")
    sector_width_m: Annotated[float, Field(ge=5, le=500)] = 30.0  # Palmyra 2016: 30 x 80 m sectors
    sector_length_m: Annotated[float, Field(ge=5, le=500)] = 80.0
    time_limit_s: Annotated[float, Field(ge=1, le=600)] = 10.0
    runs: Annotated[int, Field(ge=50, le=5000)] = 500
    rest_weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(default_factory=list, max_length=6)
    lanes: bool = False


class Stopped(Exception):
    """The server is stopping: a plan being made is abandoned."""


@dataclass
class PlanJob:
    id: int
    by: str
    organisation: str
    requested_at: datetime
    request: dict[str, Any]
    status: str = "queued"  # queued, running, done, failed, cancelled
    step: str = ""
    error: str | None = None
    summary: dict[str, Any] | None = None
    finished_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "step": self.step,
            "by": self.by,
            "requested_at": self.requested_at.isoformat(timespec="seconds"),
            "finished_at": self.finished_at.isoformat(timespec="seconds") if self.finished_at else None,
            "request": self.request,
            "error": self.error,
            "summary": self.summary,
        }


@dataclass
class Planner:
    """The plans of one server and the single worker that makes them."""

    jobs: dict[int, PlanJob] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="planner"))
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    max_seconds: float = 600.0  # the most solver time one plan may take on this server
    stopping: threading.Event = field(default_factory=threading.Event)

    def stop(self) -> None:
        """Cancel what waits; the plan running stops at its next step."""
        self.stopping.set()
        self.pool.shutdown(wait=False, cancel_futures=True)

    def submit(self, regs: Registers, user: User, req: PlanRequest) -> PlanJob:
        with self.lock:
            waiting = sum(1 for j in self.jobs.values() if j.status in ("queued", "running"))
            if waiting >= MAX_WAITING:
                raise ApiError(429, f"{waiting} plans are queued or running already; try again when one is done")
            job = PlanJob(next(self.ids), user.name, visible_to(user), datetime.now(UTC), req.model_dump(mode="json"))
            self.jobs[job.id] = job
        self.pool.submit(self._run, regs, job, req)
        return job

    def _run(self, regs: Registers, job: PlanJob, req: PlanRequest) -> None:
        from sapper.plan.build import Inputs, Settings, make_plan
        from sapper.plan.records import bundle
        from sapper.store.plans import save_plan

        job.status = "running"
        try:
            reg = regs.get()
            seen = {
                name: [r for r in reg.list(kind) if not (r.restricted and r.organisation != job.organisation)]
                for name, kind in (*KINDS.items(), ("releases", "release"))
            }
            secret = any(r.restricted for records in seen.values() for r in records)
            settings = Settings(
                start=req.start or date.today(),
                sector_width_m=req.sector_width_m,
                sector_length_m=req.sector_length_m,
                time_limit_s=min(req.time_limit_s, self.max_seconds),
                runs=req.runs,
                rest_weekdays=tuple(sorted(set(req.rest_weekdays))),
                lanes=req.lanes,
            )

            def progress(step: str, share: float) -> None:
                if self.stopping.is_set():
                    raise Stopped("the server stopped before the plan was done")
                job.step = f"{step} {share:.0%}" if share < 1 else step

            plan = make_plan(Inputs(**seen), settings, progress)
            job.step = "storing"
            reg.user = job.by
            stored = save_plan(reg, owned(bundle(plan, f"made over the API by {job.by}"), job.organisation, secret))
            job.summary = {"stored": {"id": stored.id, "number": stored.number}, **summarise(plan)}
            job.status = "done"
        except Stopped as exc:
            job.status, job.error = "cancelled", str(exc)
        except (ValueError, KeyError) as exc:  # the planner's word on what it cannot plan
            job.status, job.error = "failed", str(exc.args[0] if exc.args else exc)
        except Exception as exc:  # a plan that fails must not take the server with it
            job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
        job.finished_at = datetime.now(UTC)

    def visible(self, user: User) -> list[PlanJob]:
        with self.lock:
            return [j for j in self.jobs.values() if j.organisation == visible_to(user)]

    def latest_done(self, user: User) -> PlanJob | None:
        done = [j for j in self.visible(user) if j.status == "done"]
        return done[-1] if done else None


def summarise(plan: Any) -> dict[str, Any]:
    """What an operations officer compares between plans: when, how much work, what is left idle."""
    cal = plan.calendar
    return {
        "finish": {f"p{q}": d.isoformat() for q, d in sorted(plan.finish_dates.items())},
        "working_days": {f"p{q}": round(v, 1) for q, v in sorted(plan.forecast.finish.items())},
        "hazard_finish_p50": {
            str(h): cal.finish_date(v.get(50, max(v.values()))).isoformat()
            for h, v in sorted(plan.forecast.hazard_finish.items())
        },
        "sectors": len(plan.problem.sectors),
        "unworkable_sectors": len(plan.problem.unworkable),
        "team_days": len({(w.team, w.on) for w in plan.work}),
        "solver": plan.schedule.solver,
        "solver_status": plan.schedule.status,
        "gap": None if plan.schedule.gap is None else round(plan.schedule.gap, 4),
        "idle_teams": {str(k): v for k, v in plan.idle_teams.items()},
    }


def planner(request: Request) -> Planner:
    return request.app.state.planner


def stored_plans(reg: Register, organisation: str) -> list[dict[str, Any]]:
    """Plans written into the register (its ``plans`` layer, once it has one), oldest first."""
    try:
        lay = layer("plans")
    except KeyError:
        return []
    rows = query.select(reg.backend, lay, Filter(organisation=organisation))
    return [{"id": rid, **values} for rid, values, _ in rows]


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif value:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    else:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def latest_plan(request: Request, user: User) -> dict[str, Any] | None:
    """The newest plan the user may see, stored in the register or run by this server: its finish dates."""
    found: list[tuple[datetime, dict[str, Any]]] = []
    run = planner(request).latest_done(user)
    if run is not None and run.summary is not None:
        found.append((_moment(run.finished_at), {"id": run.id, "source": "run", "finish": run.summary["finish"]}))
    stored = stored_plans(registers(request).get(), visible_to(user))
    if stored:
        last = stored[-1]
        finish = {k.removeprefix("finish_"): v for k, v in last.items() if k.startswith("finish_p") and v}
        found.append((_moment(last.get("made_at")), {"id": last["id"], "source": "stored", "finish": finish}))
    return max(found, key=lambda pair: pair[0])[1] if found else None


def _job(request: Request, user: User, plan_id: int) -> PlanJob:
    job = next((j for j in planner(request).visible(user) if j.id == plan_id), None)
    if job is None:
        raise ApiError(404, f"plan {plan_id} does not exist")
    return job


@router.post("/plans", status_code=202, summary="Run the planner on the register (supervisor); answers at once")
def run_plan(body: PlanRequest, request: Request) -> Response:
    user = supervisor(request)
    job = planner(request).submit(registers(request), user, body)
    return json_response(dumps(job.as_dict()), status=202, Location=f"/api/plans/{job.id}")


@router.get("/plans", summary="Plans made by this server for your organisation, newest last")
def list_plans(request: Request) -> Response:
    user = reader(request)
    return json_response(dumps([j.as_dict() for j in planner(request).visible(user)]))


@router.get("/plans/stored", summary="Plans stored in the register (by sapper plan), oldest first")
def list_stored_plans(request: Request) -> Response:
    user = reader(request)
    return json_response(dumps(stored_plans(registers(request).get(), visible_to(user))))


@router.get("/plans/compare", summary="What changes from plan a to plan b")
def compare_plans(
    request: Request, a: Annotated[int, Query(ge=1, le=2**31)], b: Annotated[int, Query(ge=1, le=2**31)]
) -> Response:
    user = reader(request)
    first, second = _job(request, user, a), _job(request, user, b)
    for job in (first, second):
        if job.summary is None:
            raise ApiError(409, f"plan {job.id} is {job.status}; compare plans that are done")
    return json_response(dumps(compare(first, second)))


@router.get("/plans/{plan_id}", summary="One plan: its status while it runs, its summary when done")
def get_plan(plan_id: Annotated[int, Path(ge=1, le=2**31)], request: Request) -> Response:
    return json_response(dumps(_job(request, reader(request), plan_id).as_dict()))


def compare(first: PlanJob, second: PlanJob) -> dict[str, Any]:
    sa, sb = first.summary or {}, second.summary or {}

    def days(x: str | None, y: str | None) -> int | None:
        return None if x is None or y is None else (date.fromisoformat(y) - date.fromisoformat(x)).days

    finish = {q: days(sa["finish"].get(q), sb["finish"].get(q)) for q in sorted(set(sa["finish"]) | set(sb["finish"]))}
    hazards = set(sa["hazard_finish_p50"]) | set(sb["hazard_finish_p50"])
    moved = {
        h: days(sa["hazard_finish_p50"].get(h), sb["hazard_finish_p50"].get(h))
        for h in sorted(hazards, key=lambda k: int(k))
    }
    return {
        "a": first.id,
        "b": second.id,
        "finish_days_later": finish,
        "team_days_more": sb["team_days"] - sa["team_days"],
        "sectors_more": sb["sectors"] - sa["sectors"],
        "hazard_finish_p50_days_later": moved,
        "settings": {"a": first.request, "b": second.request},
    }
