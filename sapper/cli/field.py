"""``sapper field pack`` and ``sapper field sync``: a team's package for QField or QGIS, and back."""

from __future__ import annotations

from pathlib import Path

import typer

from sapper.cli.app import app, console, friendly, open_target, register_target, shown_target

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
    console.print(f"wrote {directory / GPKG} ({counts}) and {directory / PROJECT}")


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
    added = ", ".join(f"{n} {name}" for name, n in result.added.items()) or "nothing"
    updated = ", ".join(f"{n} {name}" for name, n in result.updated.items()) or "nothing"
    console.print(f"added {added}; updated {updated}; {result.unchanged} unchanged, {result.already} synced before")
    if result.conflicts:
        console.print(
            f"[bold yellow]{len(result.conflicts)} conflict(s)[/]: changed in the register since packing; "
            f"the register's version kept, the tablet's in {result.conflicts_path}"
        )
        for c in result.conflicts:
            console.print(
                f"  {c['layer']} {c['id']} (feature {c['feature']}): packed at version {c['packed_version']}, "
                f"now {c['register_version']}"
            )
