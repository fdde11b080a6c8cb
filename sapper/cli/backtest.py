"""`sapper backtest`: how good were the forecasts this register would have given, day by day?"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sapper.cli.app import app, console, friendly, open_target, register_target
from sapper.cli.plan import read_inputs
from sapper.cli.render import compact_table
from sapper.i18n import _
from sapper.model.errors import SapperError

if TYPE_CHECKING:
    from sapper.plan.forecasting.backtest import Backtest

HA = 10_000.0


@app.command()
@friendly
def backtest(
    register: str = typer.Argument(None, help="Register (default: -r / SAPPER_REGISTER)."),
    out: Path = typer.Option(Path("backtest"), "--out", "-o", help="Folder for backtest.png."),
    runs: int = typer.Option(500, help="Monte Carlo runs of each day's forecast."),
    seed: int = typer.Option(0, help="Random seed (the same seed gives the same backtest)."),
    sector_width: float = typer.Option(30.0, help="Sector width in metres."),
    sector_length: float = typer.Option(80.0, help="Sector length in metres."),
    productivity: Path = typer.Option(None, help="Productivity figures file replacing the packaged one (TOML)."),
    accept_recorded_practice: bool = typer.Option(
        True,
        "--accept-recorded-practice/--rules-only",
        help="Replay the methods the reports show in use where the rules forbid them, as the teams did "
        "(--rules-only: plan by the rules alone).",
    ),
) -> None:
    """Replay the register's history: the forecast made on each past day against what happened.

    For each day from the first report to the day before the last, the register as it stood
    that evening is planned and forecast (learned rates; the optimiser's starting list schedule
    instead of CP-SAT; no lanes), and the real hazardous area still to work on each later day is compared with
    the forecast's P10-P90 band and its P50.
    """
    if runs < 1:
        raise SapperError(_("--runs must be at least 1"))
    from sapper.plan.build import Settings
    from sapper.plan.forecasting.backtest import backtest as run_backtest
    from sapper.plan.forecasting.backtest import history_days
    from sapper.report.backtest_chart import backtest_chart

    with open_target(register_target(register)) as reg:
        inputs = read_inputs(reg)
    days = history_days(inputs)
    if len(days) < 2:
        raise SapperError(_("the register needs daily reports on at least two days to backtest its forecasts"))
    settings = Settings(
        start=days[0],
        sector_width_m=sector_width,
        sector_length_m=sector_length,
        runs=runs,
        seed=seed,
        lanes=False,
        optimise=False,
        productivity=str(productivity) if productivity else None,
        accept_recorded_practice=accept_recorded_practice,
    )
    columns = (TextColumn("[bold]" + escape(_("forecasts"))), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("backtest", total=len(days) - 1)
        result = run_backtest(inputs, settings, lambda done, total: bar.update(task, completed=done, total=total))
    name = Path(str(register or "")).name or _("the register")
    picture = backtest_chart(out / "backtest.png", result, _("Backtest of {register}", register=name))
    for table in backtest_tables(result):
        console.print(table)
    console.print(
        "\n"
        + _(
            "{n} forecasts of {runs} runs in {seconds} s; chart: {picture}",
            n=len(result.days),
            runs=format(runs, ","),
            seconds=format(result.seconds, ".0f"),
            picture=picture,
        )
    )


def backtest_tables(result: Backtest) -> list[Table]:
    """Per horizon: forecasts scored, the real area inside P10-P90, the P50's error; then per day."""
    scores = compact_table(
        _(
            "Forecast against the register: {share} of (day, horizon) pairs inside P10-P90",
            share=format(result.coverage, ".0%"),
        )
    )
    names = (_("days ahead"), _("forecasts"), _("inside P10-P90"), _("P50 error"), _("P50 error on work done"))
    names += (_("work P90/P10"),)
    for name in names:
        scores.add_column(name, justify="right", no_wrap=True)
    for s in result.scores:
        scores.add_row(
            str(s.horizon),
            str(s.pairs),
            f"{s.coverage:.0%}",
            f"{s.p50_error:.1%}",
            f"{s.done_error:.0%}",
            f"{s.width:.2f}" if s.width else "-",
        )
    days = compact_table(_("Each day's forecast, one day ahead (ha still to work)"))
    for name in (_("made on"), "P10", "P50", "P90", _("real"), _("P50 finish"), _("day pace sd")):
        days.add_column(name, justify="right", no_wrap=True)
    for d in result.days:
        if d.horizon < 1:
            continue
        days.add_row(
            str(d.day),
            *(f"{d.bands[q][1] / HA:,.1f}" for q in (10, 50, 90)),
            f"{d.actual[1] / HA:,.1f}",
            str(d.finish_p50 or "-"),
            f"{d.day_sigma:.0%}",
        )
    return [scores, days]
