"""`sapper import` and `sapper export`: files in and out of the register."""

from __future__ import annotations

import warnings
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sapper.cli.app import app, console, err, friendly, open_target
from sapper.cli.values import parse_assignments
from sapper.formats import export_all, export_layer, import_file, load_mapping
from sapper.formats.attachment_files import write_files
from sapper.formats.importer import ImportResult
from sapper.formats.whole import import_all
from sapper.i18n import _
from sapper.model.errors import SapperError
from sapper.store.schema import LAYERS, layer

KINDS = ", ".join(lay.name for lay in LAYERS)
IMPORTABLE = ", ".join(lay.name for lay in LAYERS if lay.name != "releases" and not lay.name.startswith("plan"))
BIG_FILE_BYTES = 1_000_000  # show a progress bar above this size
SHOWN_PROBLEMS = 5


@app.command(name="import")
@friendly
def import_command(
    register: str = typer.Argument(..., help="Register: a .gpkg file or postgresql:// URL."),
    file: Path = typer.Argument(..., help="GeoJSON, GeoPackage, Shapefile, KML or CSV (WKT or lon/lat columns)."),
    layer_name: str = typer.Option(None, "--layer", "-l", help=f"Layer to fill: {IMPORTABLE}."),
    mapping: Path = typer.Option(
        None, "--mapping", "-m", help="Field mapping (TOML or JSON) for another system's file."
    ),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Import the good rows; list the bad ones in a file."
    ),
    rejects: Path = typer.Option(None, help="Where --skip-invalid lists bad rows (default FILE.rejects.csv)."),
    crs: str = typer.Option(None, help="CRS of the coordinates (for files that declare none, e.g. CSV): EPSG:32637."),
    source_layer: str = typer.Option(None, help="Layer of the file to read, if it has several."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check everything and count, but write nothing."),
    encoding: str = typer.Option(
        None, help="Text encoding of a CSV that is not UTF-8 (nor UTF-16 with a byte-order mark): cp1256, cp1251..."
    ),
    whole: bool = typer.Option(
        False, "--all", help="Every layer of a register exported whole (sapper export REG FILE.gpkg), links kept."
    ),
) -> None:
    """Import a file into one layer: all rows or none. Importing it again adds no duplicates."""
    if whole:
        if layer_name or mapping or skip_invalid or rejects or crs or source_layer or encoding:
            raise SapperError(_("--all imports a whole register as sapper exported it: it takes only --dry-run"))
        with open_target(register) as reg, _progress(file) as tell:
            results = import_all(reg, file, dry_run=dry_run, progress=tell)
        for result in results:
            _report(result)
        return
    the_mapping = load_mapping(mapping) if mapping else None
    target_layer = layer_name or (the_mapping.layer if the_mapping else None)
    if not target_layer:
        raise SapperError(_("which layer? give --layer ({layers}), or --all for a whole register", layers=IMPORTABLE))
    with open_target(register) as reg, _progress(file) as tell:
        result = import_file(
            reg,
            file,
            target_layer,
            the_mapping,
            skip_invalid=skip_invalid,
            rejects=rejects,
            crs=crs,
            source_layer=source_layer,
            dry_run=dry_run,
            progress=tell,
            encoding=encoding,
        )
    _report(result)


def _report(result: ImportResult) -> None:
    """Counts, ignored fields and the first bad rows; file data is shown as text, never as markup."""
    verb = _("would import (dry run, nothing written)") if result.dry_run else _("imported")
    say = console.print
    counts = _(
        "{verb} {layer} from {file}: {counts} (of {rows} rows)",
        verb=verb,
        layer=result.layer,
        file=result.path.name,
        counts=result.counts(),
        rows=format(result.rows, ","),
    )
    say(escape(counts))
    if result.ignored_fields:
        say(
            escape(
                _(
                    "ignored fields (no sapper field of that name, not in the mapping): {fields}",
                    fields=", ".join(result.ignored_fields),
                )
            )
        )
    for label, problem in result.problems[:SHOWN_PROBLEMS]:
        say(f"  [yellow]{escape(label)}[/]: {escape(problem)}", highlight=False)
    if len(result.problems) > SHOWN_PROBLEMS:
        say("  " + _("... and {n} more", n=format(len(result.problems) - SHOWN_PROBLEMS, ",")))
    if result.rejects_path is not None and result.rejected:
        say(escape(_("rejected rows and reasons written to {path}", path=result.rejects_path)))


class _progress:
    """A Rich progress bar on stderr for big files; a no-op callback for small ones."""

    def __init__(self, file: Path) -> None:
        self.big = file.exists() and file.stat().st_size > BIG_FILE_BYTES
        self.bar: Progress | None = None
        self.task = None

    def __enter__(self):
        if not self.big:
            return None
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        self.bar.start()
        self.task = self.bar.add_task("reading", total=None)
        return self.tell

    def tell(self, what: str, done: int, total: int) -> None:
        assert self.bar is not None and self.task is not None
        self.bar.update(self.task, description=what, completed=done, total=total or None)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


@app.command()
@friendly
def export(
    register: str = typer.Argument(..., help="Register: a .gpkg file or postgresql:// URL."),
    file: Path = typer.Argument(..., help="File to write: .geojson, .gpkg, .shp, .kml or .csv."),
    where: list[str] = typer.Argument(None, help="field=value filters, e.g. status=confirmed."),
    layer_name: str = typer.Option(None, "--layer", "-l", help=f"Layer to write ({KINDS}); all of them into a .gpkg."),
    bbox: str = typer.Option(None, help="minlon,minlat,maxlon,maxlat: only records in this box."),
    lonlat: bool = typer.Option(False, "--lonlat", help="CSV of points: lon and lat columns instead of WKT."),
    crs: str = typer.Option(None, help="Write coordinates in this CRS (default EPSG:4326), e.g. EPSG:32637."),
    fmt: str = typer.Option(None, "--format", help="geojson, gpkg, shapefile, kml or csv (default: from FILE)."),
) -> None:
    """Write a layer (or every layer, into one GeoPackage) to a file for GIS tools and partners."""
    box = _bbox(bbox)
    with open_target(register, read_only=True) as reg, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if layer_name is None:
            if where or lonlat or crs:
                raise SapperError(_("filters, --lonlat and --crs apply to one layer: give --layer"))
            counts = export_all(reg, file, bbox=box)
            summary = ", ".join(f"{n:,} {name}" for name, n in counts.items())
            console.print(escape(_("exported every layer to {file}: {summary}", file=file, summary=summary)))
        else:
            lay = layer(layer_name)
            filters = parse_assignments(lay, where or [])
            n = export_layer(reg, lay.name, file, fmt=fmt, bbox=box, where=filters, lonlat=lonlat, crs=crs)
            console.print(escape(_("exported {n} {layer} to {file}", n=format(n, ","), layer=lay.name, file=file)))
            ids = [rid for rid, _row in reg.backend.select(lay, bbox=box, where=filters)]
            if folder := write_files(reg, lay, file, ids):
                console.print(
                    escape(_("their photos and PDFs are in {folder}, listed in attachments.csv", folder=folder))
                )
    for warning in caught:
        label = _("warning:")
        err.print(f"[yellow]{escape(label)}[/] {escape(str(warning.message))}", highlight=False)


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        box = tuple(float(v) for v in text.split(","))
    except ValueError:
        box = ()
    if len(box) != 4:
        raise SapperError(_("--bbox takes four numbers: minlon,minlat,maxlon,maxlat"))
    return box  # type: ignore[return-value]
