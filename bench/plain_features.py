"""The plain peer of the servers benchmark: an items page straight from PostGIS, nothing else.

A bare ASGI app answering ``/collections/items/items?bbox=...&limit=...`` with one SQL query
(``ST_Intersects`` on the GiST index, ``ST_AsGeoJSON`` of each row) through a psycopg connection
pool: no accounts, no checks, no links. It shows what the database and the wire cost alone.

    PLAIN_FEATURES_URL=postgresql://... python -m uvicorn plain_features:app --app-dir bench --port 8001
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qs

from psycopg_pool import AsyncConnectionPool

URL_ENV = "PLAIN_FEATURES_URL"
POOL_SIZE = 16  # as many connections as sapper's worker threads
QUERY = (
    "SELECT coalesce(json_agg(ST_AsGeoJSON(page.*)::json), '[]')::text FROM "
    "(SELECT * FROM items WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326)) ORDER BY id LIMIT %s) page"
)

_pool = AsyncConnectionPool(os.environ.get(URL_ENV, ""), min_size=POOL_SIZE, max_size=POOL_SIZE, open=False)


async def _features(bbox: list[float], limit: int) -> bytes:
    async with _pool.connection() as conn:
        cur = await conn.execute(QUERY, [*bbox, limit])
        row = await cur.fetchone()
    return b'{"type":"FeatureCollection","features":' + row[0].encode() + b"}"


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await _pool.open(wait=True)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await _pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    query = parse_qs(scope["query_string"].decode())
    try:
        bbox = [float(v) for v in query["bbox"][0].split(",")]
        body, status = await _features(bbox, int(query.get("limit", ["10"])[0])), 200
    except (KeyError, ValueError):
        body, status = b'{"description": "give bbox=minx,miny,maxx,maxy"}', 400
    headers = [(b"content-type", b"application/geo+json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
