"""``sapper tiles REGISTER``: build the map's low-zoom tiles ahead of the readers (after a bulk import)."""

from __future__ import annotations

import typer

from sapper.cli.app import app, console, friendly, open_target
from sapper.i18n import _


@app.command()
@friendly
def tiles(
    register: str = typer.Argument(None, help="The register: a .gpkg file or postgresql:// URL."),
    to_zoom: int = typer.Option(8, min=0, max=10, help="Build the tiles of zooms 0 to this one (at most 10)."),
    layer: list[str] = typer.Option(
        None, help="A collection to build (repeat it); default: hazards, releases and items, as the map draws them."
    ),
    view: list[str] = typer.Option(
        None,
        help="An organisation whose view to build (repeat it); default: every organisation with accounts, "
        "users who see all of them, and anonymous visitors.",
    ),
) -> None:
    """Build the map's tiles of a whole country once, so the first readers get them at once.

    A tile at national zoom reads every record of a province; the server keeps each one it builds until
    a write touches its layer. Run this after a bulk import (or at night) to build them for every view.
    """
    from sapper.server.collections import served_layers
    from sapper.store.accounts import Accounts
    from sapper.store.tile_seed import ANONYMOUS, SEEDED_LAYERS, seed_tiles

    by_name = {lay.name: lay for lay in served_layers()}
    names = layer or list(SEEDED_LAYERS)
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise typer.BadParameter(
            _("no collection {names} (collections: {known})", names=", ".join(unknown), known=", ".join(by_name)),
            param_hint="--layer",
        )
    with open_target(register) as reg:
        if view:
            views: list[str | None] = list(view)
        else:
            organisations = sorted({u.organisation for u in Accounts(reg.backend).ensure().list() if u.organisation})
            views = [None, *organisations, ANONYMOUS]
        seeded = seed_tiles(reg.backend, [by_name[n] for n in names], views, to_zoom)
    built = ", ".join(f"{name} {count:,}" for name, count in seeded.tiles.items())
    console.print(
        _(
            "tiles built to zoom {zoom} for {views} views in {seconds:.1f} s: {built}",
            zoom=to_zoom,
            views=len(views),
            seconds=seeded.seconds,
            built=built,
        ),
        highlight=False,
    )
    if seeded.unkept:
        unkept = ", ".join(f"{name} {count:,}" for name, count in seeded.unkept.items())
        console.print(
            _(
                "not kept, as writes to the register were under way: {unkept}; they are built on their first "
                "reading, or run sapper tiles again",
                unkept=unkept,
            ),
            style="yellow",
            highlight=False,
        )
