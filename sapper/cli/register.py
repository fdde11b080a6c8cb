"""Create a register and see it at a glance."""

from __future__ import annotations

import typer

from sapper.cli.app import app, console, friendly, open_target, register_target, state
from sapper.cli.render import summary_tables
from sapper.i18n import _
from sapper.model.errors import SapperError
from sapper.store import init_register
from sapper.store.gpkg import GeoPackageBackend
from sapper.store.summary import summarise


@app.command()
@friendly
def init(
    register: str = typer.Argument(..., help="A .gpkg file to create, or a postgresql:// URL."),
    wal: bool = typer.Option(
        None,
        "--wal/--no-wal",
        help="GeoPackage: keep a write-ahead log, so reads go on while an import writes (for a served register).",
    ),
) -> None:
    """Create an empty register (or bring an existing one up to date)."""
    try:
        reg = init_register(register, user=state.user)
    except (ValueError, ConnectionError) as exc:
        raise SapperError(str(exc)) from None
    with reg:
        journal = ""
        if wal is not None:
            if not isinstance(reg.backend, GeoPackageBackend):
                raise SapperError(_("--wal is for a GeoPackage register; PostGIS readers never wait for writers"))
            journal = " " + _("(journal mode {mode})", mode=reg.backend.set_wal(wal))
    console.print(_("register ready: {register}", register=register) + journal)


@app.command()
@friendly
def summary(register: str = typer.Argument(None, help="Register (default: -r / SAPPER_REGISTER).")) -> None:
    """Hazards by status, land by release route, items by category and state."""
    with open_target(register_target(register), read_only=True) as reg:
        result = summarise(reg)
    for table in summary_tables(result):
        console.print(table)
