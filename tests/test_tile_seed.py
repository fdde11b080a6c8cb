"""``sapper tiles`` builds the low-zoom tiles ahead of the readers, once for each view of the register.

Both backends: the real command on a demo register with two organisations (one owns a restricted
hazard and its item), then a real server on 127.0.0.1 serves those very tiles, each view its own.
"""

from __future__ import annotations

import os
import subprocess
import sys

import mapbox_vector_tile
import pytest
from shapely.geometry import Point

from sapper.model.records import Item
from sapper.store import open_register
from sapper.store.tile_cache import CACHE
from sapper.store.tile_seed import covering
from sapper.testing.server import LAT, LON, served_demo
from sapper.testing.tiles import tile_of, tile_url

SECRET = (LON + 0.0205, LAT + 0.0205)  # beside the demo's restricted hazard of "ngo"


def kept(target: str) -> dict[tuple[str, str, int, int, int], bytes]:
    reg = open_register(target, user="test")
    try:
        if not reg.backend.existing_columns(CACHE):
            return {}
        rows = reg.backend.execute(f"SELECT layer, scope, zoom, tile_row, tile_col, data FROM {CACHE}").fetchall()
        return {(r[0], r[1], int(r[2]), int(r[3]), int(r[4])): bytes(r[5]) for r in rows}
    finally:
        reg.close()


def count(data: bytes) -> int:
    return sum(int(f["properties"]["count"]) for f in mapbox_vector_tile.decode(data)["items"]["features"])


def test_sapper_tiles_builds_every_views_tiles_and_the_server_serves_them(target: str) -> None:
    with served_demo(target, public=True) as site:
        with open_register(target, user="seed") as reg:
            reg.add(
                Item(category="uxo", geometry=Point(*SECRET), hazard_id=site.demo.secret_hazard, organisation="ngo")
            )
        done = subprocess.run(
            [sys.executable, "-m", "sapper", "tiles", target, "--to-zoom", "9"], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        assert "tiles built to zoom 9 for 4 views" in done.stdout

        tiles = kept(target)
        scopes = {key[1] for key in tiles}
        assert scopes == {"*", "org:mac", "org:ngo", "org:(anonymous)"}
        assert {key[0] for key in tiles} == {"hazards", "items"}  # the demo has released no land
        assert {key[2] for key in tiles} == set(range(10))
        # every tile over the items a view sees is kept, from zoom 0 to 9
        z9 = {(k[3], k[4]) for k in tiles if k[0] == "items" and k[1] == "*" and k[2] == 9}
        corners = (LON, LAT, *SECRET)
        assert {(t.row, t.col) for t in covering((min(corners[::2]), min(corners[1::2]), *SECRET), 9)} <= z9

        # the restricted item is counted for its own organisation and those who see all, not for the others
        tile = tile_of(*SECRET, 9)
        key = ("items", "{}", 9, tile.row, tile.col)
        by_scope = {s: count(tiles[(key[0], s, *key[2:])]) for s in scopes}
        assert by_scope["org:ngo"] == by_scope["*"] == by_scope["org:mac"] + 1 == by_scope["org:(anonymous)"] + 1

        # the server hands each reader the tile kept for their view, byte for byte
        for user, scope in (("ngo", "org:ngo"), ("super", "org:mac"), (None, "org:(anonymous)")):
            with site.client(user) as client:
                answer = client.get(tile_url("items", tile))
                assert answer.status_code == 200, answer.text
                assert answer.content == tiles[("items", scope, 9, tile.row, tile.col)], scope
        assert len(kept(target)) == len(tiles), "the server found every tile it served already built"


def test_sapper_tiles_refuses_a_zoom_the_cache_does_not_keep(target: str) -> None:
    command = [sys.executable, "-m", "sapper", "tiles", target, "--to-zoom", "12"]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 2 and "--to-zoom" in done.stderr and "less than or equal to 10" in done.stderr


def test_sapper_tiles_says_which_tiles_a_write_in_flight_kept_it_from_keeping(target: str) -> None:
    if not target.startswith("postgresql://"):
        pytest.skip("a GeoPackage's writer holds the whole file: seeding waits for it")
    command = [sys.executable, "-m", "sapper", "tiles", target, "--to-zoom", "3", "--layer", "items"]
    with served_demo(target, public=True), open_register(target, user="field") as field, field.transaction():
        field.add(Item(category="uxo", geometry=Point(LON + 0.01, LAT), organisation="mac"))  # not yet committed
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "COLUMNS": "300"})
        assert done.returncode == 0, done.stderr
        assert "not kept, as writes to the register were under way: items 16" in done.stdout  # 4 zooms x 4 views
        assert kept(target) == {}
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "COLUMNS": "300"})
    assert "not kept" not in done.stdout and len(kept(target)) == 16
