"""``sapper field pack`` and ``sapper field sync``: a team's package for QField or QGIS, and back."""

from __future__ import annotations

from pathlib import Path

import typer

from sapper.cli.app import app, console, friendly, open_target, register_target, shown_target
from sapper.i18n import _

field = typer.Typer(help="Field packages for QField and QGIS: a team's hazards, plan and sites, and its work back.")
app.add_typer(field, name="field")


@field.command("pack")
@friendly
def pack_command(
    register: str = typer.Argument(..., help="The register (a .gpkg file or postgresql:// URL)."),
    directory: Path = typer.Argument(..., help="The folder to write (copy it to the tablet)."),
    team: int = typer.Option(..., "--team", help="The team whose package this is (its id)."),
) -> None:
    """Write a team's package: a GeoPackage, a QGIS project styled in IMSMA colours and a manifest."""
    from sapper.field.pack import GPKG, PROJECT, pack  # GDAL only when a package is written

    register_target(register)
    with open_target(register, read_only=True) as reg:
        packed = pack(reg, team, directory, shown_target({"register": register}))
    counts = ", ".join(f"{packed.count(name)} {name.replace('_', ' ')}" for name in packed.manifest["records"])
    console.print(
        _(
            "wrote {package} ({counts}) and {project}",
            package=directory / GPKG,
            counts=counts,
            project=directory / PROJECT,
        )
    )


@field.command("sync")
@friendly
def sync_command(
    register: str = typer.Argument(..., help="The register the package was made from."),
    directory: Path = typer.Argument(..., help="The package folder, as it came back from the tablet."),
) -> None:
    """Import what the team added or changed in its package: all of it, or nothing and the reason."""
    from sapper.field.sync import sync

    with open_target(register) as reg:
        result = sync(reg, directory)
    added = ", ".join(f"{n} {name}" for name, n in result.added.items()) or _("nothing")
    updated = ", ".join(f"{n} {name}" for name, n in result.updated.items()) or _("nothing")
    console.print(
        _(
            "added {added}; updated {updated}; {unchanged} unchanged, {already} synced before",
            added=added,
            updated=updated,
            unchanged=result.unchanged,
            already=result.already,
        )
    )
    if result.conflicts:
        console.print(
            "[bold yellow]"
            + _("{n} conflict(s)", n=len(result.conflicts))
            + "[/]: "
            + _(
                "changed in the register since packing; the register's version kept, the tablet's in {path}",
                path=result.conflicts_path,
            )
        )
        for c in result.conflicts:
            console.print(
                "  "
                + _(
                    "{layer} {id} (feature {feature}): packed at version {packed}, now {now}",
                    layer=c["layer"],
                    id=c["id"],
                    feature=c["feature"],
                    packed=c["packed_version"],
                    now=c["register_version"],
                )
            )
