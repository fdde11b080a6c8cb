"""``sapper report``: the documents a mine action centre signs, as PDF files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from sapper import i18n
from sapper.cli.app import app, console, friendly, open_target, state
from sapper.i18n import _
from sapper.store import Register
from sapper.store.rows import parse_date

report_app = typer.Typer(
    help="Write the documents of the register as PDF: the daily situation report, the completion report of a "
    "hazard, the EOD task report and the monthly report.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(report_app, name="report")

ORGANISATION_HELP = "The organisation named in the header (default: 'Mine action centre')."
LOGO_HELP = "A logo (PNG, JPEG, GIF or SVG) for the header; without one the header is the name alone."
AUTHOR_HELP = "Who issues the document (default: --user / SAPPER_USER, else your login name)."


LANG_HELP = "The document's language: en, ar or ru (default: the global --lang, else the user's account, else en)."


def _language(given: str | None, reg: Register) -> str:
    from sapper.i18n.choice import chosen_language

    language = chosen_language(given or state.lang, reg.backend, state.user)
    i18n.use(language)  # the charts, drawn while the document is gathered, speak it too
    return language


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
    lang: str = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """The daily situation report: today and totals, by route and by team, items, the forecast."""
    from sapper.report.documents import latest_stored_plan, sitrep_document
    from sapper.report.pdf import letterhead, render_pdf

    day: date = parse_date(on) if on else date.today()
    head = letterhead(organisation, logo, _author(author))
    with open_target(register, read_only=True) as reg:
        language = _language(lang, reg)
        context = sitrep_document(reg, day, None, latest_stored_plan(reg))
    path = out or Path(f"sitrep-{day.isoformat()}.pdf")
    path.write_bytes(render_pdf("sitrep.html", context, head, language))
    console.print(_("situation report of {day} written to {path}", day=day.isoformat(), path=path))


@report_app.command()
@friendly
def completion(
    register: str = typer.Argument(..., help="Register (a .gpkg file or postgresql:// URL)."),
    hazard_id: int = typer.Argument(..., help="The hazard whose land is handed over."),
    out: Path = typer.Option(None, help="The PDF to write (default: completion-HAZARD.pdf)."),
    organisation: str = typer.Option(None, "--organisation", help=ORGANISATION_HELP),
    logo: Path = typer.Option(None, help=LOGO_HELP),
    author: str = typer.Option(None, help=AUTHOR_HELP),
    lang: str = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """The completion report of a hazard (IMAS 08.30): boundary, area by route, items, hand-over."""
    from sapper.report.completion import completion_document
    from sapper.report.pdf import letterhead, render_pdf

    head = letterhead(organisation, logo, _author(author))
    with open_target(register, read_only=True) as reg:
        language = _language(lang, reg)
        context = completion_document(reg, hazard_id)
    path = out or Path(f"completion-{hazard_id}.pdf")
    path.write_bytes(render_pdf("completion.html", context, head, language))
    status = (
        _("final") if context["complete"] else _("draft (land still hazardous, items not disposed of or QC not passed)")
    )
    name = context["hazard"].name
    console.print(
        _(
            "completion report of hazard {id} ({name}), {status}, written to {path}",
            id=hazard_id,
            name=name,
            status=status,
            path=path,
        )
    )


@report_app.command()
@friendly
def eod(
    register: str = typer.Argument(..., help="Register (a .gpkg file or postgresql:// URL)."),
    task: int = typer.Option(None, "--task", help="The EOD spot task: an activity of type eod_spot."),
    report: int = typer.Option(None, "--report", help="Or the EOD spot task as a daily report of type eod_spot."),
    out: Path = typer.Option(None, help="The PDF to write (default: eod-TASK.pdf or eod-report-REPORT.pdf)."),
    organisation: str = typer.Option(None, "--organisation", help=ORGANISATION_HELP),
    logo: Path = typer.Option(None, help=LOGO_HELP),
    author: str = typer.Option(None, help=AUTHOR_HELP),
) -> None:
    """The EOD task report (IMAS 09.30): items found, their disposal, the danger area, team, map, signatures."""
    from sapper.model.errors import SapperError
    from sapper.report.eod_report import eod_document
    from sapper.report.pdf import letterhead, render_pdf

    if (task is None) == (report is None):
        raise SapperError(_("give the EOD task as --task ACTIVITY or --report REPORT (one of them)"))
    kind, record_id = ("activity", task) if task is not None else ("report", report)
    head = letterhead(organisation, logo, _author(author))
    with open_target(register, read_only=True) as reg:
        context = eod_document(reg, kind, record_id)
    path = out or Path(f"eod-{task}.pdf" if task is not None else f"eod-report-{report}.pdf")
    path.write_bytes(render_pdf("eod.html", context, head))
    written = _(
        "EOD task report of {kind} {id} ({n} items) written to {path}",
        kind=kind,
        id=record_id,
        n=len(context["items"]),
        path=path,
    )
    console.print(written)


@report_app.command()
@friendly
def monthly(
    register: str = typer.Argument(..., help="Register (a .gpkg file or postgresql:// URL)."),
    month: str = typer.Option(..., "--month", help="The month reported, YYYY-MM."),
    organisation: str = typer.Option(
        None, "--organisation", help="Report only this organisation's records, and name it in the header."
    ),
    out: Path = typer.Option(None, help="The PDF to write (default: monthly-MONTH[-ORGANISATION].pdf)."),
    logo: Path = typer.Option(None, help=LOGO_HELP),
    author: str = typer.Option(None, help=AUTHOR_HELP),
    lang: str = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """The monthly report: land released by route, items, team-days and QC, by organisation and team."""
    from sapper.report.monthly import file_name, monthly_document
    from sapper.report.pdf import letterhead, render_pdf

    head = letterhead(organisation, logo, _author(author))
    with open_target(register, read_only=True) as reg:
        language = _language(lang, reg)
        context = monthly_document(reg, month, organisation)
    path = out or Path(file_name(context["month"], organisation))
    path.write_bytes(render_pdf("monthly.html", context, head, language))
    console.print(_("monthly report of {month} written to {path}", month=context["month"], path=path))
