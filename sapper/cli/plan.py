"""`sapper plan`: what to clear first, who goes where, how, and when it will be done."""

from __future__ import annotations

import calendar as weekdays
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sapper.cli.app import app, console, friendly, open_target, register_target
from sapper.cli.render import WIDE, compact_table, room_for, shorten
from sapper.i18n import N_, _, translate
from sapper.model.errors import SapperError
from sapper.model.plan import first_plan_day
from sapper.plan.problem import TICKS_PER_DAY
from sapper.store.rows import parse_date

if TYPE_CHECKING:  # the planner brings OR-Tools and matplotlib: imported when a plan is made
    from sapper.plan.build import Inputs, PlanResult, Settings
    from sapper.store import Register

HA = 10_000.0
# Share of the progress bar each step takes (the optimiser and the forecast take longest); the
# planner names its steps in English, the bar shows them in the reader's language.
STEPS = {
    N_("priorities"): 2,
    N_("sectors"): 8,
    N_("greedy plan"): 2,
    N_("optimised plan"): 60,
    N_("lanes"): 10,
    N_("forecast"): 18,
}
SHOWN_HAZARDS = 15
MIN_NAME = 12  # a name column never narrower than this, even in a very narrow terminal
# Why a team has no sector work, as the planner says it (sapper/plan/build.py), marked for the catalogues.


@app.command()
@friendly
def plan(
    register: str = typer.Argument(None, help="Register (default: -r / SAPPER_REGISTER)."),
    out: Path = typer.Option(None, "--out", "-o", help="Folder for the files (default: plan-N here)."),
    start: str = typer.Option(None, help="First working day, YYYY-MM-DD (default: the day after the last report)."),
    time_limit: float = typer.Option(20.0, help="Seconds CP-SAT may spend improving the plan."),
    runs: int = typer.Option(1000, help="Monte Carlo runs of the forecast."),
    seed: int = typer.Option(0, help="Random seed (the same seed gives the same forecast)."),
    sector_width: float = typer.Option(30.0, help="Sector width in metres (Palmyra 2016: 30)."),
    sector_length: float = typer.Option(80.0, help="Sector length in metres (Palmyra 2016: 80)."),
    rest_day: list[str] = typer.Option([], help="A weekday with no work (repeat for more), e.g. friday."),
    lanes: bool = typer.Option(True, help="Plan the lanes of every sector."),
    weights: Path = typer.Option(None, help="Priority weights file replacing the packaged one (TOML)."),
    rules: Path = typer.Option(None, help="Method rules file replacing the packaged one (TOML)."),
    productivity: Path = typer.Option(None, help="Productivity figures file replacing the packaged one (TOML)."),
    safety: Path = typer.Option(None, help="Safety distances file replacing the packaged one (TOML)."),
    accept_recorded_practice: bool = typer.Option(
        False, help="Where the reports show a method the rules forbid, plan that method there too."
    ),
    regions: int = typer.Option(
        1, help="Plan this many regions apart and join them; 0: as many as the work needs (a country: see README)."
    ),
    processes: int = typer.Option(1, help="Processes planning regions, and making lanes, at once."),
    organisation: str = typer.Option(
        None, help="Plan for this organisation: its hazards and teams, what it may see, stored as its plan."
    ),
) -> None:
    """Plan the clearance: priorities, methods, sectors, lanes, teams over days, and a forecast.

    The plan is stored in the register under a new number, with its sectors and lanes as
    map layers; its files (sectors and lanes for GIS, schedule.csv, priorities.csv,
    burndown.png, gantt.png) go into the --out folder. A plan made from restricted records
    is restricted too: seen by its organisation only (without --organisation, by those who
    see every organisation's records).
    """
    if runs < 1:
        raise SapperError(_("--runs must be at least 1"))
    if time_limit <= 0:
        raise SapperError(_("--time-limit must be more than 0 seconds"))
    if regions < 0 or processes < 1:
        raise SapperError(_("--regions must be 0 (as many as the work needs) or more, and --processes at least 1"))
    from sapper.plan.build import Inputs, Settings
    from sapper.plan.records import bundle
    from sapper.report.plan_files import write_plan_files
    from sapper.store.plan_inputs import owned, plan_inputs, uses_restricted
    from sapper.store.plans import save_plan

    with open_target(register_target(register)) as reg:
        seen = plan_inputs(reg, organisation)
        if organisation is not None and not seen["hazards"]:
            raise SapperError(_("organisation {name!r} has no hazards in this register", name=organisation))
        restricted = uses_restricted(seen)
        inputs = Inputs(**seen)
        settings = Settings(
            start=parse_date(start) if start else first_plan_day(inputs.worked_on),
            sector_width_m=sector_width,
            sector_length_m=sector_length,
            time_limit_s=time_limit,
            runs=runs,
            seed=seed,
            rest_weekdays=tuple(parse_weekday(d) for d in rest_day),
            lanes=lanes,
            weights=str(weights) if weights else None,
            rules=str(rules) if rules else None,
            productivity=str(productivity) if productivity else None,
            safety=str(safety) if safety else None,
            accept_recorded_practice=accept_recorded_practice,
            regions=regions,
            processes=processes,
        )
        result = run_with_progress(inputs, settings)
        with console.status(_("writing the plan into the register")):
            stored = save_plan(reg, owned(bundle(result), organisation or "", restricted))
        folder = out or Path(f"plan-{stored.number}")
        with console.status(_("writing files into {folder}", folder=folder)):
            files = write_plan_files(reg, int(stored.id), result, folder)  # type: ignore[arg-type]
    for table in summary_tables(result):
        console.print(table)
    console.print("\n" + _("plan {n} stored in the register (plan id {id})", n=stored.number, id=stored.id))
    if restricted:
        seen_by = organisation or _("those who see every organisation's records")
        console.print(_("made from restricted records, so restricted: seen by {who} only", who=seen_by))
    console.print(_("files in {folder}: {files}", folder=folder, files=", ".join(files)))


def read_inputs(reg: Register) -> Inputs:
    """Everything the planner takes from the whole register."""
    from sapper.plan.build import Inputs
    from sapper.store.plan_inputs import plan_inputs

    return Inputs(**plan_inputs(reg, None))


def parse_weekday(text: str) -> int:
    names = [d.lower() for d in weekdays.day_name]
    word = text.strip().lower()
    for i, name in enumerate(names):
        if word and name.startswith(word[:3]) and name.startswith(word):
            return i
    raise SapperError(_("unknown weekday {text!r} (monday ... sunday)", text=text))


def run_with_progress(inputs: Inputs, settings: Settings) -> PlanResult:
    from sapper.plan.build import make_plan

    columns = (TextColumn("[bold]{task.description:<16}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(_("planning"), total=sum(STEPS.values()))
        done = {"before": 0.0}
        order = list(STEPS)

        def progress(step: str, share: float) -> None:
            before = sum(STEPS[s] for s in order[: order.index(step)]) if step in STEPS else done["before"]
            done["before"] = before
            bar.update(
                task, description=translate(step), completed=before + STEPS.get(step, 0) * min(share, 1.0) * 0.999
            )

        return make_plan(inputs, settings, progress)


def summary_tables(result: PlanResult, width: int | None = None) -> list[Table]:
    """The plan at a glance; ``width`` (default: the terminal's) decides which columns fit."""
    from sapper.cli.plan_notes import plan_notes
    from sapper.cli.plan_rates import rates_tables

    width = width or console.width
    tables = [headline_table(result), *rates_tables(result, width), hazard_table(result, width)]
    return [*tables, team_table(result, width), *plan_notes(result, width)]


def _fill(table: Table, headers: list[str], rows: list[list[str]], width: int, flexible: int) -> Table:
    """Add the rows, the flexible column's names shortened to what the others leave of ``width``."""
    room = max(MIN_NAME, room_for(width, headers, rows, flexible))
    for row in rows:
        table.add_row(*row[:flexible], shorten(row[flexible], room), *row[flexible + 1 :])
    return table


def headline_table(result: PlanResult) -> Table:
    s, g, fc = result.schedule, result.greedy, result.forecast
    problem, cal = result.problem, result.calendar
    table = compact_table(_("Plan"), header=False)
    table.add_column("what", style="bold", no_wrap=True)
    table.add_column("value")
    area = sum(x.area_m2 for x in problem.sectors) / HA
    work = _(
        "{hazards} hazards, {sectors} sectors, {ha} ha",
        hazards=len(result.priorities),
        sectors=format(len(problem.sectors), ","),
        ha=format(area, ",.1f"),
    )
    table.add_row(_("work"), work)
    idle = _("; {n} more with no sector work", n=len(result.idle_teams)) if result.idle_teams else ""
    table.add_row(_("teams"), _("{n} at work (search, survey, EOD)", n=len(problem.teams)) + idle)
    table.add_row(_("plan"), f"{s.solver} ({s.status}), {s.seconds:.1f} s")
    gain = (g.objective - s.objective) / g.objective if g.objective else 0.0
    better = _(
        "{objective}, {gain} better than greedy ({greedy})",
        objective=format(s.objective, ",.0f"),
        gain=format(gain, ".1%"),
        greedy=format(g.objective, ",.0f"),
    )
    table.add_row(_("objective"), better)
    if s.bound is not None:
        gap = _(", gap {gap}", gap=format(s.gap, ".1%")) if s.gap is not None else ""
        table.add_row(_("lower bound"), f"{s.bound:,.0f}{gap}")
    finish = _(
        "{day}, {days} working days (greedy {greedy})",
        day=cal.finish_date(s.makespan_days),
        days=format(s.makespan_days, ",.0f"),
        greedy=cal.finish_date(g.makespan_days),
    )
    table.add_row(_("planned finish"), finish)
    for q in (50, 80, 90, 95):
        chance = _("{q} % of {runs} runs done by then", q=q, runs=format(fc.runs, ",")) if q == 50 else f"{q} %"
        days = _(
            "{day}, {days} working days ({chance})",
            day=result.finish_dates[q],
            days=format(fc.finish[q], ",.0f"),
            chance=chance,
        )
        table.add_row(_("P{q} finish", q=q), days)
    if problem.unworkable:
        why = next(iter(problem.unworkable.values()))
        unworkable = _("{n} sectors no team may work, e.g. {why}", n=format(len(problem.unworkable), ","), why=why)
        table.add_row(_("not planned"), unworkable)
    by_reason: dict[str, list[int]] = {}
    for team_id, why in sorted(result.idle_teams.items()):
        by_reason.setdefault(why, []).append(team_id)
    for why, ids in by_reason.items():
        table.add_row(
            _("idle teams") if len(ids) > 1 else _("idle team"), f"{', '.join(map(str, ids))}: {translate(why)}"
        )
    return table


def hazard_table(result: PlanResult, width: int = 80) -> Table:
    problem, cal = result.problem, result.calendar
    wide = width >= WIDE
    shown = min(SHOWN_HAZARDS, len(result.priorities))
    title = _("Priorities: the first {shown} of {n} hazards", shown=shown, n=len(result.priorities))
    table = compact_table(title + (_("; score = stake + danger + blockage + officer") if wide else ""))
    headers = ["#", _("hazard"), _("score"), *([_("parts s/d/b/o")] if wide else []), _("ha"), _("methods")]
    headers += [_("P50 done"), _("P90 done")]
    for i, name in enumerate(headers):
        table.add_column(name, justify="left" if i in (1, len(headers) - 3) else "right", no_wrap=True)
    methods: dict[int, set[str]] = {}
    area: dict[int, float] = {}
    for s in problem.sectors:
        slot = result.schedule.slots.get(s.index)
        methods.setdefault(s.hazard_id, set()).add(slot.method.value if slot else "none")
        area[s.hazard_id] = area.get(s.hazard_id, 0.0) + s.area_m2
    rows = []
    for hid, pr in sorted(result.priorities.items(), key=lambda kv: kv[1].rank)[:shown]:
        levels = result.forecast.hazard_finish.get(hid)
        parts = ["/".join(f"{pr.points(n):.0f}" for n in ("stake", "danger", "blockage", "register"))] if wide else []
        rows.append(
            [
                str(pr.rank),
                f"{hid} {result.hazards[hid].name}",
                f"{pr.score:.1f}",
                *parts,
                f"{area.get(hid, 0.0) / HA:,.1f}",
                " ".join(sorted(methods.get(hid, set()))) or "-",
                str(cal.finish_date(levels[50])) if levels else "-",
                str(cal.finish_date(levels[90])) if levels else "-",
            ]
        )
    return _fill(table, headers, rows, width, flexible=1)


def team_table(result: PlanResult, width: int = 80) -> Table:
    problem, cal = result.problem, result.calendar
    wide = width >= WIDE
    table = compact_table(_("Teams: their sectors, hectares and working days busy"))
    headers = [_("team"), *([_("kind")] if wide else []), _("methods"), _("sectors"), _("ha"), _("days")]
    headers += [_("first day"), _("last day")]
    left = 3 if wide else 2  # team, kind and methods are words
    for i, name in enumerate(headers):
        table.add_column(name, justify="left" if i < left else "right", no_wrap=True)
    rows = []
    for team, run in sorted(result.schedule.by_team().items()):
        t = problem.teams[team]
        busy = sum(s.end - s.start for s in run) / TICKS_PER_DAY
        ha = sum(problem.sectors[s.sector].area_m2 for s in run) / HA
        rows.append(
            [
                t.name,
                *([t.kind.value] if wide else []),
                " ".join(sorted({s.method.value for s in run})),
                f"{len(run):,}",
                f"{ha:,.1f}",
                f"{busy:,.0f}",
                str(cal.date_of(run[0].start // TICKS_PER_DAY)),
                str(cal.finish_date(run[-1].end / TICKS_PER_DAY)),
            ]
        )
    return _fill(table, headers, rows, width, flexible=0)
