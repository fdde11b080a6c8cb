"""``sapper qc``: quality control of cleared land (IMAS 09.20) and quality assurance visits."""

from __future__ import annotations

import typer
from rich.table import Table

from sapper.cli.app import app, console, friendly, open_target
from sapper.i18n import _, vocabulary
from sapper.model.qc_sampling import DEFAULT_CELL_M, DEFAULT_CONFIDENCE, DEFAULT_DEFECT_RATE
from sapper.store.rows import parse_date

qc_app = typer.Typer(
    help="Quality control (IMAS 09.20): sample cleared land for inspection, record results, QA visits.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(qc_app, name="qc")

REGISTER_HELP = "Register (a .gpkg file or postgresql:// URL)."
OPTIONAL_REGISTER_HELP = "Register (default: -r / SAPPER_REGISTER)."


@qc_app.command("plan")
@friendly
def plan(
    register: str = typer.Argument(..., help=REGISTER_HELP),
    hazard_id: int = typer.Argument(..., help="The hazard whose cleared land is inspected."),
    confidence: float = typer.Option(DEFAULT_CONFIDENCE, help="Chance of catching a lot at the defect limit."),
    defect_rate: float = typer.Option(
        DEFAULT_DEFECT_RATE, help="Defect limit: the fraction of defective cells a lot must not reach (assumed 0.05)."
    ),
    cell: float = typer.Option(DEFAULT_CELL_M, help="Side of the square sample units, in metres (assumed 10)."),
    seed: int = typer.Option(None, help="Seed of the random draw (default: a new one, kept with the plan)."),
    team: int = typer.Option(None, help="Sample only this team's cleared land (one lot per team)."),
    on: str = typer.Option(None, help="Date of the plan, YYYY-MM-DD (default: today)."),
    notes: str = typer.Option("", help="Free text."),
) -> None:
    """Draw a random sample of the hazard's cleared land not yet sampled, sized for the lot."""
    from sapper.store.qc import make_plan

    with open_target(register) as reg:
        made, samples = make_plan(
            reg,
            hazard_id,
            confidence=confidence,
            defect_rate=defect_rate,
            cell_m=cell,
            seed=seed,
            team_id=team,
            on=parse_date(on) if on else None,
            notes=notes,
        )
    console.print(
        _(
            "qc_plan {id}: inspect {n} of {cells} cells of {cell} m ({m2} m² cleared, releases {releases}) "
            "for {confidence} confidence at a {limit} defect limit; seed {seed}; samples {first}-{last}",
            id=made.id,
            n=made.sample_size,
            cells=made.lot_cells,
            cell=format(cell, "g"),
            m2=format(made.lot_m2, ",.1f"),
            releases=made.release_ids,
            confidence=format(confidence, ".0%"),
            limit=format(defect_rate, ".1%"),
            seed=made.seed,
            first=samples[0].id,
            last=samples[-1].id,
        )
    )


@qc_app.command("result")
@friendly
def result(
    register: str = typer.Argument(..., help=REGISTER_HELP),
    sample_id: int = typer.Argument(..., help="The sample inspected (qc_sample id)."),
    outcome: str = typer.Argument(..., help="passed or failed."),
    on: str = typer.Option(None, help="Date of inspection, YYYY-MM-DD (default: today)."),
    inspector: str = typer.Option("", help="Who inspected (default: --user / SAPPER_USER)."),
    items: int = typer.Option(0, help="Explosive items found in the sample."),
    notes: str = typer.Option("", help="What was found; required when failed (the reason the land reopens)."),
) -> None:
    """Record a sample's inspection. A failed sample fails the lot and reopens its land."""
    from sapper.store.qc import record_result

    with open_target(register) as reg:
        sample, made = record_result(
            reg,
            sample_id,
            outcome,
            on=parse_date(on) if on else None,
            inspector=inspector,
            items_found=items,
            notes=notes,
        )
    line = _(
        "qc_sample {id} ({label}) {result}; qc_plan {plan} {status}",
        id=sample.id,
        label=sample.label,
        result=sample.result.value,
        plan=made.id,
        status=made.status.value,
    )
    if made.reopened_m2:
        reopened = _(
            "{m2} m² of hazard {hazard} reopened (in clearance again)",
            m2=format(made.reopened_m2, ",.1f"),
            hazard=made.hazard_id,
        )
        line += ": " + reopened
    console.print(line)


@qc_app.command("show")
@friendly
def show(
    register: str = typer.Argument(None, help=OPTIONAL_REGISTER_HELP),
    hazard_id: int = typer.Option(None, "--hazard", help="Only this hazard's plans."),
) -> None:
    """The QC plans with their samples' results, and the QA visits."""
    where = {"hazard_id": hazard_id} if hazard_id is not None else None
    with open_target(register, read_only=True) as reg:
        plans = reg.list("qc_plan", where=where)
        samples = reg.list("qc_sample", where=where)
        visits = reg.list("qa_visit", where=where)
    table = Table(title=_("QC plans (IMAS 09.20)"))
    names = (_("plan"), _("hazard"), _("made on"), _("lot"), "n", _("confidence"), _("defect limit"), _("seed"))
    for name in (*names, _("results"), _("status")):
        table.add_column(name)
    for p in plans:
        mine = [s for s in samples if s.plan_id == p.id]
        counts = {r: sum(1 for s in mine if s.result.value == r) for r in ("passed", "failed", "pending")}
        table.add_row(
            str(p.id),
            str(p.hazard_id),
            str(p.made_on),
            _("{cells} cells, {m2} m²", cells=p.lot_cells, m2=format(p.lot_m2, ",.0f")),
            str(p.sample_size),
            f"{p.confidence:.0%}",
            f"{p.defect_rate:.1%}",
            str(p.seed),
            ", ".join(f"{v} {vocabulary.label(k)}" for k, v in counts.items() if v),
            vocabulary.label(p.status.value) + (f": {p.reason}" if p.reason else ""),
        )
    console.print(table)
    failed = [s for s in samples if s.result.value == "failed"]
    for s in failed:
        failure = _(
            "failed sample {id} ({label}) on {day} by {inspector}: {notes}",
            id=s.id,
            label=s.label,
            day=s.inspected_on,
            inspector=s.inspector,
            notes=s.notes,
        )
        console.print(failure)
    if visits:
        qa = Table(title=_("QA visits"))
        for name in (_("visit"), _("date"), _("hazard"), _("team"), _("visitor"), _("result"), _("findings")):
            qa.add_column(name)
        for v in visits:
            qa.add_row(
                str(v.id), str(v.visited_on), str(v.hazard_id or ""), str(v.team_id or ""), v.visitor,
                v.result.value, v.findings,
            )  # fmt: skip
        console.print(qa)


@qc_app.command("visit")
@friendly
def visit(
    register: str = typer.Argument(None, help=OPTIONAL_REGISTER_HELP),
    on: str = typer.Option(..., help="Date of the visit, YYYY-MM-DD."),
    hazard: int = typer.Option(None, help="The hazard (site) visited."),
    team: int = typer.Option(None, help="The team seen at work."),
    visitor: str = typer.Option("", help="Who visited (default: --user / SAPPER_USER)."),
    outcome: str = typer.Option("satisfactory", "--result", help="satisfactory, corrective_action or stop_work."),
    findings: str = typer.Option("", help="What the visit found."),
) -> None:
    """Record a quality assurance visit to a site or a team at work."""
    from sapper.model.qc import QaVisit

    with open_target(register) as reg:
        stored = reg.add(
            QaVisit(
                visited_on=parse_date(on),
                hazard_id=hazard,
                team_id=team,
                visitor=visitor or reg.user,
                result=outcome,
                findings=findings,
            )
        )
    console.print(
        _("qa_visit {id}: {result} on {day}", id=stored.id, result=stored.result.value, day=stored.visited_on)
    )
