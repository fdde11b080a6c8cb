"""Release land from a hazard by cancellation, reduction or clearance (IMAS 07.11)."""

from __future__ import annotations

from datetime import date

import typer

from sapper.cli.app import app, console, friendly, open_target
from sapper.cli.values import read_geometry
from sapper.i18n import _
from sapper.store.rows import parse_date


@app.command()
@friendly
def release(
    hazard_id: int = typer.Argument(..., help="The hazard to release land from."),
    route: str = typer.Option(None, help="cancelled, reduced or cleared (default: from --report's activity)."),
    geometry: str = typer.Option(None, help="WKT or @file of the released area (default: all that is left)."),
    report: int = typer.Option(None, help="Release the area of this daily report."),
    on: str = typer.Option(None, help="Date of release, YYYY-MM-DD (default: the report's date or today)."),
    team: int = typer.Option(None, help="Team that did the work."),
    depth: int = typer.Option(None, help="Clearance depth in cm (default: the hazard's)."),
    notes: str = typer.Option("", help="Free text."),
    force: bool = typer.Option(
        False, "--force", help="Release even though items recorded on the land are still `found` (noted)."
    ),
) -> None:
    """Cut released land out of a hazard; the hazard closes when nothing is left.

    Refused while items on that land are still `found`, unless --force.
    """
    released_on: date | None = parse_date(on) if on else None
    with open_target() as reg:
        piece = reg.release(
            hazard_id,
            route,
            geometry=read_geometry(geometry) if geometry else None,
            on=released_on,
            team_id=team,
            report_id=report,
            depth_cm=depth,
            notes=notes,
            force=force,
        )
        hazard = reg.get("hazard", hazard_id)
        bal = reg.balance(hazard_id)
    console.print(
        _(
            "release {id}: {m2} m² {route} from hazard {hazard}; {left} m² still hazardous; status {status}",
            id=piece.id,
            m2=format(piece.area_m2, ",.1f"),
            route=piece.route.value,
            hazard=hazard_id,
            left=format(bal.hazardous, ",.1f"),
            status=hazard.status.value,
        )
    )
