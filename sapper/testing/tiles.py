"""Vector tiles as a test or bench reads them: the tile holding a point, a tile fetched and decoded."""

from __future__ import annotations

from typing import Any

import mapbox_vector_tile
import numpy as np
import shapely

from sapper.store.tiles import EXTENT, TileId

TILES = "/ogc/collections/{name}/tiles/WebMercatorQuad"


def tile_of(lon: float, lat: float, zoom: int) -> TileId:
    """The WebMercatorQuad tile holding a point."""
    return TileId.at(lon, lat, zoom)


def tile_url(name: str, tile: TileId) -> str:
    return f"{TILES.format(name=name)}/{tile.zoom}/{tile.row}/{tile.col}"


def features(client: Any, name: str, tile: TileId) -> list[dict[str, Any]]:
    """The tile's features (geometry in tile coordinates, y down); [] for a 204."""
    answer = client.get(tile_url(name, tile))
    assert answer.status_code in (200, 204), answer.text
    if answer.status_code == 204:
        return []
    layers = mapbox_vector_tile.decode(answer.content, default_options={"y_coord_down": True})
    return list(layers[name]["features"]) if name in layers else []


def counted(client: Any, name: str, tile: TileId) -> int:
    """The records a generalised tile counts (every feature of it a count, at national zoom)."""
    return sum(int(f["properties"]["count"]) for f in features(client, name, tile))


def visible(client: Any, name: str, tile: TileId) -> dict[int, dict[str, Any]]:
    """What the client may see in the tile proper (no buffer), read as GeoJSON pages."""
    box = ",".join(map(str, tile.lonlat_box()))
    page = client.get(f"/ogc/collections/{name}/items", params={"bbox": box, "limit": 10_000}).json()
    return {f["id"]: f for f in page["features"]}


def to_lonlat(geom: Any, tile: TileId) -> Any:
    """A geometry in tile coordinates (y down) back in longitude and latitude."""
    side = (1 << tile.zoom) * EXTENT

    def back(coords: np.ndarray) -> np.ndarray:
        x = (coords[:, 0] + tile.col * EXTENT) / side
        y = (coords[:, 1] + tile.row * EXTENT) / side
        return np.column_stack([x * 360 - 180, np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * y))))])

    return shapely.transform(geom, back)
