"""``sapper forms build DIR``: the field forms as XLSForms, with the lists they attach."""

from __future__ import annotations

from pathlib import Path

import typer

from sapper.cli.app import app, console, friendly, open_target, state
from sapper.field.forms import all_forms
from sapper.field.media import write_media
from sapper.i18n import _

forms = typer.Typer(help="Field forms for ODK Collect, KoboCollect and Enketo (XLSForm).")
app.add_typer(forms, name="forms")


@forms.command()
@friendly
def build(
    directory: Path = typer.Argument(..., help="Where to write the .xlsx forms and their CSV lists."),
    team: int = typer.Option(None, help="Lists for this team only: the hazards and tasks it works on."),
) -> None:
    """Write every field form (.xlsx) and, from the register (-r), the lists they attach (hazards, tasks, QC samples).

    Upload the folder to KoboToolbox or ODK Central, or let ODK Collect fetch the forms from
    `sapper serve` (OpenRosa), which sends each team its own lists.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for form in all_forms():
        path = form.write(directory)
        console.print(
            _("wrote {file} ({title}, version {version})", file=path.name, title=form.title, version=form.version)
        )
    if state.register is None:
        if team is not None:
            raise ValueError(_("--team takes its lists from a register: give -r REGISTER"))
        console.print(_("no register given (-r): hazards.csv, tasks.csv and qc_samples.csv not written"))
        return
    with open_target(read_only=True) as reg:
        organisation = None if team is None else reg.get("team", team).organisation
        for path in write_media(reg, directory, organisation, team):
            rows = path.read_text(encoding="utf-8").count("\n") - 1
            console.print(_("wrote {file} ({rows} rows)", file=path.name, rows=rows))
