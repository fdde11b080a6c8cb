"""Create a register and see it at a glance."""

from __future__ import annotations

import typer
from rich.table import Table

from sapper.cli.app import app, console, friendly, open_target, register_target, state
from sapper.model.errors import SapperError
from sapper.store import init_register
from sapper.store.summary import Summary, summarise

HA = 10_000.0


@app.command()
@friendly
def init(register: str = typer.Argument(..., help="A .gpkg file to create, or a postgresql:// URL.")) -> None:
    """Create an empty register (or bring an existing one up to date)."""
    try:
        init_register(register, user=state.user).close()
    except (ValueError, ConnectionError) as exc:
        raise SapperError(str(exc)) from None
    console.print(f"register ready: {register}")


@app.command()
@friendly
def summary(register: str = typer.Argument(None, help="Register (default: -r / SAPPER_REGISTER).")) -> None:
    """Hazards by status, land by release route, items by category and state."""
    with open_target(register_target(register)) as reg:
        result = summarise(reg)
    for table in summary_tables(result):
        console.print(table)


def summary_tables(s: Summary) -> list[Table]:
    hazards = Table(title="Hazard areas by status", title_justify="left")
    for name in ("status", "hazards", "original ha", "still hazardous ha"):
        hazards.add_column(name, justify="left" if name == "status" else "right")
    for status, line in s.hazards.items():
        if line.count:
            hazards.add_row(
                status.value, f"{line.count:,}", f"{line.original_m2 / HA:,.2f}", f"{line.hazardous_m2 / HA:,.2f}"
            )
    hazards.add_row(
        "total",
        f"{sum(x.count for x in s.hazards.values()):,}",
        f"{s.land.original / HA:,.2f}",
        f"{s.land.hazardous / HA:,.2f}",
        style="bold",
    )

    land = Table(title="Land release (IMAS 07.11)", title_justify="left")
    land.add_column("route")
    land.add_column("ha", justify="right")
    land.add_column("share", justify="right")
    for route, m2 in (
        ("still hazardous", s.land.hazardous),
        ("cancelled", s.land.cancelled),
        ("reduced", s.land.reduced),
        ("cleared", s.land.cleared),
    ):
        share = m2 / s.land.original if s.land.original else 0.0
        land.add_row(route, f"{m2 / HA:,.2f}", f"{share:.1%}")
    land.add_row("original", f"{s.land.original / HA:,.2f}", "100.0%", style="bold")

    items = Table(title=f"Explosive items: {s.item_total:,}", title_justify="left")
    states = sorted({st for _, st in s.items}, key=lambda st: st.value)
    items.add_column("category")
    for st in states:
        items.add_column(st.value, justify="right")
    items.add_column("total", justify="right")
    for cat in sorted({c for c, _ in s.items}, key=lambda c: c.value):
        counts = [s.items.get((cat, st), 0) for st in states]
        items.add_row(cat.value, *(f"{n:,}" for n in counts), f"{sum(counts):,}")

    teams = Table(title=f"Teams and assets (protected sites: {s.protected_sites})", title_justify="left")
    teams.add_column("kind")
    teams.add_column("teams", justify="right")
    teams.add_column("personnel", justify="right")
    for kind, (n, people) in sorted(s.teams.items()):
        teams.add_row(kind, f"{n:,}", f"{people:,}")
    return [hazards, land, items, teams]
