"""``sapper report``: the documents a mine action centre signs, as PDF files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from sapper.cli.app import app, console, friendly, open_target, state
from sapper.store.rows import parse_date

report_app = typer.Typer(
    help="Write the documents of the register as PDF: the daily situation report, the completion report of a hazard.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(report_app, name="report")

ORGANISATION_HELP = "The organisation named in the header (default: 'Mine action centre')."
LOGO_HELP = "A logo (PNG, JPEG, GIF or SVG) for the header; without one the header is the name alone."
AUTHOR_HELP = "Who issues the document (default: --user / SAPPER_USER, else your login name)."


def _author(given: str | None) -> str:
    from sapper.store.register import default_user

    return given or state.user or default_user()


@report_app.command()
@friendly
def sitrep(
    register: str = typer.Argument(None, help="Register (default: -r / SAPPER_REGISTER)."),
    on: str = typer.Option(None, help="The day reported, YYYY-MM-DD (default: today)."),
    out: Path = typer.Option(None, help="The PDF to write (default: sitrep-DAY.pdf)."),
    organisation: str = typer.Option(None, "--organisation", help=ORGANISATION_HELP),
    logo: Path = typer.Option(None, help=LOGO_HELP),
    author: str = typer.Option(None, help=AUTHOR_HELP),
) -> None:
    """The daily situation report: today and totals, by route and by team, items, the forecast."""
    from sapper.report.documents import latest_stored_plan, sitrep_document
    from sapper.report.pdf import letterhead, render_pdf

    day: date = parse_date(on) if on else date.today()
    head = letterhead(organisation, logo, _author(author))
    with open_target(register, read_only=True) as reg:
        context = sitrep_document(reg, day, None, latest_stored_plan(reg))
    path = out or Path(f"sitrep-{day.isoformat()}.pdf")
    path.write_bytes(render_pdf("sitrep.html", context, head))
    console.print(f"situation report of {day.isoformat()} written to {path}")


@report_app.command()
@friendly
def completion(
    register: str = typer.Argument(..., help="Register (a .gpkg file or postgresql:// URL)."),
    hazard_id: int = typer.Argument(..., help="The hazard whose land is handed over."),
    out: Path = typer.Option(None, help="The PDF to write (default: completion-HAZARD.pdf)."),
    organisation: str = typer.Option(None, "--organisation", help=ORGANISATION_HELP),
    logo: Path = typer.Option(None, help=LOGO_HELP),
    author: str = typer.Option(None, help=AUTHOR_HELP),
) -> None:
    """The completion report of a hazard (IMAS 08.30): boundary, area by route, items, hand-over."""
    from sapper.report.completion import completion_document
    from sapper.report.pdf import letterhead, render_pdf

    head = letterhead(organisation, logo, _author(author))
    with open_target(register, read_only=True) as reg:
        context = completion_document(reg, hazard_id)
    path = out or Path(f"completion-{hazard_id}.pdf")
    path.write_bytes(render_pdf("completion.html", context, head))
    status = "final" if context["complete"] else "draft (land still hazardous, items not disposed of or QC not passed)"
    console.print(f"completion report of hazard {hazard_id} ({context['hazard'].name}), {status}, written to {path}")
