"""Plans over the API: run the planner on the register as the user sees it, list the runs, compare two.

A plan takes from a second to minutes (CP-SAT's time limit, the Monte Carlo forecast), so
a run is a background job (sapper.jobs) and the request answers 202 at once with the run's id;
the client reads ``/api/plans/{id}`` until it is done. Any worker on the register makes it (a
thread of any server, or ``sapper worker``); a finished plan is stored in the register under its
next number (as ``sapper plan`` does), with its sectors and lanes as map layers. The runs are kept
in the register too, so that every server answers for every run; a run whose worker died is made
again by another.
A plan is made from the hazards and teams of its requester's organisation (of every organisation
for a register_admin), as every write links only to its writer's own records, and from all else the
requester may see; it belongs to their organisation and is restricted if any record it used is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import Field

from sapper.i18n import N_
from sapper.jobs import Busy, JobQueue
from sapper.jobs.runner import JobContext
from sapper.model.accounts import User
from sapper.model.plan import first_plan_day
from sapper.server.auth import reader, supervisor, visible_to
from sapper.server.context import Registers, registers
from sapper.server.errors import ApiError
from sapper.server.features import dumps
from sapper.server.models import Strict
from sapper.server.permissions import seen_by
from sapper.server.web import json_response
from sapper.store import query
from sapper.store.plan_inputs import owned, plan_inputs, uses_restricted
from sapper.store.plans import PLAN_JOB, PlanRun, PlanRuns, save_plan
from sapper.store.query import Filter
from sapper.store.register import Register
from sapper.store.schema import layer

router = APIRouter(prefix="/api", tags=["Plans"])
MAX_WAITING = 4


class PlanRequest(Strict):
    """What to plan with; defaults are quick enough for an operations room to wait for."""

    start: date | None = Field(None, description="First working day (default: the day after the last report)")
    sector_width_m: Annotated[float, Field(ge=5, le=500)] = 30.0  # Palmyra 2016: 30 x 80 m sectors
    sector_length_m: Annotated[float, Field(ge=5, le=500)] = 80.0
    time_limit_s: Annotated[float, Field(ge=1, le=600)] = 10.0
    runs: Annotated[int, Field(ge=50, le=5000)] = 500
    rest_weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(default_factory=list, max_length=6)
    lanes: bool = False


def run_out(run: PlanRun) -> dict[str, Any]:
    def moment(value: datetime | None) -> str | None:
        return value.isoformat(timespec="seconds") if value else None

    return {
        "id": run.job.id,
        "status": run.job.status,
        "step": run.job.step,
        "by": run.job.by,
        "requested_at": moment(run.job.requested_at),
        "started_at": moment(run.job.started_at),
        "finished_at": moment(run.job.finished_at),
        "attempts": run.job.attempts,
        "request": run.request,
        "error": run.job.error,
        "summary": run.summary,
        "plan_number": run.plan_number,
    }


@dataclass
class Planner:
    """Plans asked of this server: queued as jobs of the register, read back from it."""

    jobs: JobQueue
    max_seconds: float = 600.0  # the most solver time one plan asked of this server may take

    def runs(self, regs: Registers) -> PlanRuns:
        return PlanRuns(regs.get().backend)

    def submit(self, regs: Registers, user: User, req: PlanRequest) -> PlanRun:
        args = {"request": req.model_dump(mode="json"), "everyone": user.all_organisations}
        args["time_limit_s"] = min(req.time_limit_s, self.max_seconds)
        try:
            backend = regs.get().backend
            job = self.jobs.submit(backend, PLAN_JOB, user.name, visible_to(user), args, MAX_WAITING, "plans")
        except Busy as exc:
            raise ApiError(429, str(exc)) from None
        return PlanRun(job)

    def visible(self, regs: Registers, user: User) -> list[PlanRun]:
        return self.runs(regs).list(visible_to(user))

    def latest_done(self, regs: Registers, user: User) -> PlanRun | None:
        return self.runs(regs).latest_done(visible_to(user))


def plan_job(ctx: JobContext) -> tuple[dict[str, Any], None]:
    """The work of a plan job (run by any worker): make the plan from what its requester may use, store it."""
    from sapper.plan.build import Inputs, Settings, make_plan
    from sapper.plan.records import bundle

    job, reg = ctx.job, ctx.reg
    req = PlanRequest.model_validate(job.args["request"])
    seen = plan_inputs(reg, None if job.args.get("everyone") else job.organisation)
    secret = uses_restricted(seen)
    inputs = Inputs(**seen)
    settings = Settings(
        start=req.start or first_plan_day(inputs.worked_on),
        sector_width_m=req.sector_width_m,
        sector_length_m=req.sector_length_m,
        time_limit_s=float(job.args.get("time_limit_s", req.time_limit_s)),
        runs=req.runs,
        rest_weekdays=tuple(sorted(set(req.rest_weekdays))),
        lanes=req.lanes,
    )
    plan = make_plan(inputs, settings, ctx.progress)
    ctx.progress(N_("storing"), 1.0)
    reg.user = job.by
    with reg.transaction():  # the plan and its job's end in one commit: never stored twice
        stored = save_plan(reg, owned(bundle(plan, f"made over the API by {job.by}"), job.organisation, secret))
        summary = {"stored": {"id": stored.id, "number": stored.number}, **summarise(plan)}
        result = {"summary": summary, "plan_id": stored.id, "plan_number": stored.number}
        ctx.end_with(result)
    return result, None


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


def stored_plans(reg: Register, organisation: str | None) -> list[dict[str, Any]]:
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
    run = planner(request).latest_done(registers(request), user)
    if run is not None and run.summary is not None:
        found.append(
            (_moment(run.job.finished_at), {"id": run.job.id, "source": "run", "finish": run.summary["finish"]})
        )
    stored = stored_plans(registers(request).get(), seen_by(user))
    if stored:
        last = stored[-1]
        finish = {k.removeprefix("finish_"): v for k, v in last.items() if k.startswith("finish_p") and v}
        found.append((_moment(last.get("made_at")), {"id": last["id"], "source": "stored", "finish": finish}))
    return max(found, key=lambda pair: pair[0])[1] if found else None


def _job(request: Request, user: User, plan_id: int) -> PlanRun:
    run = planner(request).runs(registers(request)).get(plan_id)
    if run is None or run.job.organisation != visible_to(user):
        raise ApiError(404, N_("plan {id} does not exist"), params={"id": plan_id})
    return run


@router.post("/plans", status_code=202, summary="Run the planner on the register (supervisor); answers at once")
def run_plan(body: PlanRequest, request: Request) -> Response:
    user = supervisor(request)
    job = planner(request).submit(registers(request), user, body)
    return json_response(dumps(run_out(job)), status=202, Location=f"/api/plans/{job.job.id}")


@router.get("/plans", summary="Plans run by this server for your organisation, newest last")
def list_plans(request: Request) -> Response:
    user = reader(request)
    return json_response(dumps([run_out(r) for r in planner(request).visible(registers(request), user)]))


@router.get("/plans/stored", summary="Plans stored in the register (by sapper plan), oldest first")
def list_stored_plans(request: Request) -> Response:
    user = reader(request)
    return json_response(dumps(stored_plans(registers(request).get(), seen_by(user))))


@router.get("/plans/compare", summary="What changes from plan a to plan b")
def compare_plans(
    request: Request, a: Annotated[int, Query(ge=1, le=2**31)], b: Annotated[int, Query(ge=1, le=2**31)]
) -> Response:
    user = reader(request)
    first, second = _job(request, user, a), _job(request, user, b)
    for job in (first, second):
        if job.summary is None:
            message = N_("plan {id} is {status}; compare plans that are done")
            raise ApiError(409, message, params={"id": job.job.id, "status": job.job.status})
    return json_response(dumps(compare(first, second)))


@router.get("/plans/{plan_id}", summary="One plan: its status while it runs, its summary when done")
def get_plan(plan_id: Annotated[int, Path(ge=1, le=2**31)], request: Request) -> Response:
    return json_response(dumps(run_out(_job(request, reader(request), plan_id))))


def compare(first: PlanRun, second: PlanRun) -> dict[str, Any]:
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
        "a": first.job.id,
        "b": second.job.id,
        "finish_days_later": finish,
        "team_days_more": sb["team_days"] - sa["team_days"],
        "sectors_more": sb["sectors"] - sa["sectors"],
        "hazard_finish_p50_days_later": moved,
        "settings": {"a": first.request, "b": second.request},
    }
