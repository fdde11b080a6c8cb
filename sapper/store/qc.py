"""Quality control of cleared land (IMAS 09.20) in the register: plans, results, reopening.

A plan samples one lot: the cleared releases of a hazard (or of one team on it). One failed
sample fails the lot, as a zero-acceptance plan does, and the lot's land goes back into the
hazard: its cleared releases are withdrawn (the audit log keeps each), their polygons are put
back into the hazard's, and the hazard is in clearance again. The land-release balance still
adds up, because the hazardous area is the original less what stays released.
"""

from __future__ import annotations

import dataclasses
import secrets
from datetime import date

import shapely

from sapper.i18n import N_
from sapper.model.enums import HazardStatus, ReleaseRoute
from sapper.model.errors import InvalidRecord, Problem
from sapper.model.geometry import area_m2, as_multipolygon
from sapper.model.qc import QcPlan, QcResult, QcSample
from sapper.model.qc_sampling import DEFAULT_CELL_M, DEFAULT_CONFIDENCE, DEFAULT_DEFECT_RATE, draw_samples
from sapper.model.records import Hazard, Release
from sapper.store.access import RegisterAccess
from sapper.store.schema import layer


def lot_releases(reg: RegisterAccess, hazard_id: int, team_id: int | None = None) -> list[Release]:
    """The cleared releases of a hazard (of one team, if given) that no earlier plan samples."""
    where: dict[str, object] = {"hazard_id": hazard_id, "route": ReleaseRoute.CLEARED}
    if team_id is not None:
        where["team_id"] = team_id
    sampled = {i for plan in reg.list("qc_plan", where={"hazard_id": hazard_id}) for i in release_ids(plan)}
    return [r for r in reg.list("release", where=where) if r.id not in sampled and r.geometry is not None]


def release_ids(plan: QcPlan) -> list[int]:
    return [int(i) for i in plan.release_ids.split(",") if i.strip()]


def make_plan(
    reg: RegisterAccess,
    hazard_id: int,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    defect_rate: float = DEFAULT_DEFECT_RATE,
    cell_m: float = DEFAULT_CELL_M,
    seed: int | None = None,
    team_id: int | None = None,
    on: date | None = None,
    notes: str = "",
) -> tuple[QcPlan, list[QcSample]]:
    """Draw the sample of the hazard's cleared land not yet sampled, and store plan and samples."""
    where = f"QC plan of hazard {hazard_id}"
    with reg.transaction():
        hazard: Hazard = reg.get("hazard", hazard_id)
        lot = lot_releases(reg, hazard_id, team_id)
        if not lot:
            if team_id is not None:
                problem = Problem(N_("there is no cleared land by team {team} that no plan samples yet"), team=team_id)
            else:
                problem = N_("there is no cleared land that no plan samples yet")
            raise InvalidRecord(where, problem)
        seed = secrets.randbelow(2**31) if seed is None else int(seed)
        land = shapely.union_all([r.geometry for r in lot])
        try:
            draw = draw_samples(land, cell_m, confidence, defect_rate, seed)
        except ValueError as exc:
            raise InvalidRecord(where, str(exc)) from None
        owner = {"organisation": hazard.organisation, "restricted": hazard.restricted}
        plan = reg.add(
            QcPlan(
                hazard_id=hazard_id,
                team_id=team_id,
                made_on=on or date.today(),
                made_by=reg.user,
                confidence=confidence,
                defect_rate=defect_rate,
                cell_m=cell_m,
                lot_cells=draw.lot_cells,
                lot_m2=sum(r.area_m2 for r in lot),
                sample_size=len(draw.samples),
                seed=seed,
                release_ids=",".join(str(r.id) for r in lot),
                notes=notes,
                **owner,
            )
        )
        width = len(str(len(draw.samples)))
        samples = reg.add_many(
            [
                QcSample(
                    plan_id=int(plan.id or 0),
                    hazard_id=hazard_id,
                    label=f"P{plan.id}-S{i:0{width}d}",
                    geometry=geom,
                    area_m2=area_m2(geom),
                    **owner,
                )
                for i, geom in enumerate(draw.samples, start=1)
            ]
        )
    return plan, samples


def record_result(
    reg: RegisterAccess,
    sample_id: int,
    result: QcResult | str,
    *,
    on: date | None = None,
    inspector: str = "",
    items_found: int = 0,
    notes: str = "",
) -> tuple[QcSample, QcPlan]:
    """Record one sample's inspection; a failed one fails its plan and reopens the lot's land."""
    result = QcResult.parse(result)
    if result == QcResult.PENDING:
        raise InvalidRecord(f"qc_sample {sample_id}", N_("record an inspection as passed or failed"))
    with reg.transaction():
        sample: QcSample = reg.get("qc_sample", sample_id)
        sample = reg.update(
            dataclasses.replace(
                sample,
                result=result,
                inspected_on=on or date.today(),
                inspector=inspector or reg.user,
                items_found=items_found,
                notes=notes,
            )
        )
        plan: QcPlan = reg.get("qc_plan", sample.plan_id)
    return sample, plan


def settle_result(reg: RegisterAccess, before: QcSample, after: QcSample) -> None:
    """What a sample's new result does to its plan, however it is recorded (command line or API):
    one failure fails the plan and reopens the lot; the last pass passes it. Called by the register
    before the sample is written, in the same transaction."""
    if before.result == after.result:
        return
    where = f"qc_sample {after.id}"
    if before.result != QcResult.PENDING:
        problem = N_("was already inspected ({result} on {day})")
        raise InvalidRecord(where, Problem(problem, result=before.result.value, day=before.inspected_on))
    if after.items_found < 0:
        raise InvalidRecord(where, N_("items found cannot be negative"))
    plan: QcPlan = reg.get("qc_plan", after.plan_id)
    if plan.status == QcResult.FAILED:
        problem = Problem(N_("its plan {id} failed already and its land was reopened"), id=plan.id)
        raise InvalidRecord(where, problem)
    if after.result == QcResult.FAILED:
        if not after.notes.strip():
            raise InvalidRecord(
                where, N_("say why it failed (what was found or missed, in notes): it reopens the land")
            )
        reopen(reg, plan, f"sample {after.label} failed: {after.notes.strip()}")
    elif after.result == QcResult.PASSED:
        others = reg.list("qc_sample", where={"plan_id": plan.id, "result": QcResult.PENDING})
        if all(s.id == after.id for s in others):
            reg.update(dataclasses.replace(plan, status=QcResult.PASSED))


def reopen(reg: RegisterAccess, plan: QcPlan, reason: str) -> QcPlan:
    """Put the lot's cleared land back into its hazard, in clearance again, and fail the plan."""
    with reg.transaction():
        hazard: Hazard = reg.get("hazard", plan.hazard_id)
        kept = set(reg.backend.existing_ids(layer("release"), release_ids(plan)))
        pieces = [reg.get("release", i) for i in release_ids(plan) if i in kept]
        for piece in pieces:
            reg.delete("release", piece.id)
        parts = [g for g in [hazard.geometry, *(p.geometry for p in pieces)] if g is not None and not g.is_empty]
        note = f"Reopened by QC plan {plan.id}: {reason}"
        reg.update(
            dataclasses.replace(
                hazard,
                geometry=as_multipolygon(shapely.union_all(parts)),
                status=HazardStatus.IN_CLEARANCE,
                notes=" ".join(filter(None, [hazard.notes, note])),
            ),
            by_release=True,
        )
        reopened = sum(p.area_m2 for p in pieces)
        return reg.update(dataclasses.replace(plan, status=QcResult.FAILED, reopened_m2=reopened, reason=reason))
