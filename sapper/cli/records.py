"""Record, list, show, update and delete any kind of record, and read its history."""

from __future__ import annotations

import typer

from sapper.cli.app import app, console, friendly, open_target
from sapper.cli.render import history_table, record_table, records_table
from sapper.cli.values import field_names, parse_assignments, read_geometry
from sapper.i18n import _, vocabulary
from sapper.model.geometry import area_m2
from sapper.store.schema import LAYERS, layer

KINDS = ", ".join(lay.kind for lay in LAYERS)
KIND_HELP = f"Kind of record: {KINDS}."
FIELDS_HELP = "field=value words; geometry as WKT in lon/lat or @file (any vector file)."


@app.command()
@friendly
def add(
    kind: str = typer.Argument(..., help=KIND_HELP),
    fields: list[str] = typer.Argument(None, help=FIELDS_HELP),
) -> None:
    """Record a new hazard, item, site, team, activity or report."""
    lay = layer(kind)
    values = parse_assignments(lay, fields or [])
    with open_target() as reg:
        try:
            record = lay.record(**values)
        except TypeError as exc:
            missing = str(exc).split("argument", 1)[-1].strip(": ")
            raise ValueError(
                _(
                    "new {kind}: missing {missing} (fields: {fields})",
                    kind=lay.kind,
                    missing=missing,
                    fields=field_names(lay),
                )
            ) from None
        stored = reg.add(record)
    console.print(_("added {kind} {id}", kind=lay.kind, id=stored.id))


@app.command(name="list")
@friendly
def list_records(
    kind: str = typer.Argument(..., help=KIND_HELP),
    where: list[str] = typer.Argument(None, help="field=value filters, e.g. status=confirmed."),
    bbox: str = typer.Option(None, help="minlon,minlat,maxlon,maxlat: only records in this box."),
    near: str = typer.Option(None, help="WKT or @file: only records near this geometry (with --within)."),
    within: float = typer.Option(200.0, help="Distance in metres for --near."),
    limit: int = typer.Option(None, help="At most this many."),
) -> None:
    """List records, optionally filtered by fields, a bounding box or a distance."""
    lay = layer(kind)
    filters = parse_assignments(lay, where or [])
    box = tuple(float(v) for v in bbox.split(",")) if bbox else None
    if box is not None and len(box) != 4:
        raise ValueError(_("--bbox takes four numbers: minlon,minlat,maxlon,maxlat"))
    with open_target(read_only=True) as reg:
        if near:
            pairs = reg.near(lay.kind, read_geometry(near), within)
            records = [r for r, _ in pairs if all(getattr(r, k) == v for k, v in filters.items())][:limit]
        else:
            records = reg.list(lay.kind, bbox=box, where=filters, limit=limit)
    console.print(records_table(lay, records))


@app.command()
@friendly
def show(kind: str = typer.Argument(..., help=KIND_HELP), record_id: int = typer.Argument(...)) -> None:
    """Show every field of one record (and the land-release balance of a hazard)."""
    lay = layer(kind)
    with open_target(read_only=True) as reg:
        record = reg.get(lay.kind, record_id)
        extra = {}
        if lay.kind == "hazard":
            bal = reg.balance(record_id)
            extra = {
                _("still hazardous"): f"{bal.hazardous:,.1f} m²",
                vocabulary.label("cancelled"): f"{bal.cancelled:,.1f} m²",
                vocabulary.label("reduced"): f"{bal.reduced:,.1f} m²",
                vocabulary.label("cleared"): f"{bal.cleared:,.1f} m²",
                _("polygon measures"): f"{area_m2(record.geometry):,.1f} m²",
            }
    console.print(record_table(lay, record, extra))


@app.command()
@friendly
def update(
    kind: str = typer.Argument(..., help=KIND_HELP),
    record_id: int = typer.Argument(...),
    fields: list[str] = typer.Argument(..., help=FIELDS_HELP),
) -> None:
    """Change fields of a record; the state machines and the audit log apply."""
    lay = layer(kind)
    with open_target() as reg:
        stored = reg.change(lay.kind, record_id, **parse_assignments(lay, fields))
    console.print(_("updated {kind} {id} (version {version})", kind=lay.kind, id=record_id, version=stored.version))


@app.command()
@friendly
def delete(kind: str = typer.Argument(..., help=KIND_HELP), record_id: int = typer.Argument(...)) -> None:
    """Delete a record; its last state stays in the audit log."""
    lay = layer(kind)
    with open_target() as reg:
        reg.delete(lay.kind, record_id)
    console.print(_("deleted {kind} {id}", kind=lay.kind, id=record_id))


@app.command()
@friendly
def history(kind: str = typer.Argument(..., help=KIND_HELP), record_id: int = typer.Argument(...)) -> None:
    """Every change to a record: who, when, and what changed."""
    lay = layer(kind)
    with open_target(read_only=True) as reg:
        entries = reg.history(lay.kind, record_id)
    if not entries:
        raise ValueError(_("{kind} {id} has no history (it never existed)", kind=lay.kind, id=record_id))
    console.print(history_table(lay, record_id, entries))
