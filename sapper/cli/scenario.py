"""Build a ready-made register of a documented scenario (``sapper scenario palmyra``)."""

from __future__ import annotations

import time

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sapper.cli.app import app, console, friendly, register_target, state
from sapper.cli.register import summary_tables
from sapper.i18n import _
from sapper.model.errors import SapperError
from sapper.store import init_register
from sapper.store.summary import summarise

scenario_app = typer.Typer(
    help="Build a ready-made register of a documented scenario.", no_args_is_help=True, rich_markup_mode="rich"
)
app.add_typer(scenario_app, name="scenario")


@scenario_app.command()
@friendly
def palmyra(
    register: str = typer.Argument(None, help="A new .gpkg file or an empty postgresql:// database."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no summary."),
) -> None:
    """Palmyra 2016: the ancient city, the town, the airfield, ~100 people, 4,423 items.

    Real outline and monuments; everything no public source gives is a labelled assumption
    (sapper/scenarios/palmyra/ASSUMPTIONS.md). The register must be empty: the scenario is not
    merged into existing data.
    """
    from sapper.scenarios.palmyra.build import build, refuse_non_empty, units
    from sapper.scenarios.palmyra.plan import make_plan

    target = register_target(register)
    started = time.perf_counter()
    try:
        reg = init_register(target, user=state.user or "palmyra-scenario")
    except (ValueError, ConnectionError) as exc:
        raise SapperError(str(exc)) from None
    with reg:
        refuse_non_empty(reg)
        if quiet:
            build(reg, make_plan())
        else:
            columns = (TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
            with Progress(*columns, console=console, transient=True) as bar:
                task = bar.add_task("planning", total=None)
                plan = make_plan()
                bar.update(task, total=units(plan))
                build(reg, plan, progress=lambda what, n: bar.update(task, description=what, advance=n))
        result = summarise(reg)
    seconds = time.perf_counter() - started
    if not quiet:
        for table in summary_tables(result):
            console.print(table)
    console.print(_("Palmyra scenario built in {target} ({seconds} s)", target=target, seconds=format(seconds, ".1f")))
