"""Throughput and latency of an items page (100 features in a bbox): sapper's server against pygeoapi.

Both serve the very same GeoPackage (a sapper register) on 127.0.0.1, one uvicorn worker
process each, access logs off: sapper through its own OGC API, pygeoapi through its OGR
provider (GDAL's GeoPackage driver, with its R-tree). The load comes from this script: N
clients, each on one keep-alive connection, asking one after another for
``/collections/items/items?bbox=...&limit=100`` over the same seeded list of windows, for
a fixed time per run, split into rounds that alternate between the servers (the machine's
other load then weighs on both alike). It prints requests per second, p50 and p99 latency, and the ratio.
sapper is asked with a bearer token (as its users are); pygeoapi has no accounts.

    python bench/server_bench.py                     # 20,000 items; 1, 10 and 50 clients; 10 s per run
    python bench/server_bench.py --duration 3 --items 5000
    python bench/server_bench.py --readme            # ... and write the figures into bench/README.md

pygeoapi needs GDAL's Python bindings; on Debian they come with the system Python
(``python3-gdal``), so pygeoapi runs from a virtual environment that sees them:

    python3 -m venv --system-site-packages bench/data/pygeoapi-venv
    bench/data/pygeoapi-venv/bin/pip install pygeoapi starlette uvicorn

(or name another interpreter with --pygeoapi-python). Without it the sapper side runs alone.
The data is synthetic (an assumption, not a survey): items scattered around Tadmur.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from readme_section import write_section
from shapely import points

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "server"
DEFAULT_PYGEOAPI = HERE / "data" / "pygeoapi-venv" / "bin" / "python"
TOWN = (38.272, 34.556)  # Tadmur town centre
WINDOW_M = 250.0  # half the side of a query window, metres
METRES_PER_DEGREE = 111_320.0


@dataclass
class Run:
    server: str
    clients: int
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- data ---------------------------------------------------------------------------
def build_register(path: Path | str, n_items: int, seed: int) -> str:
    """A sapper register with ``n_items`` items (a new GeoPackage or a PostGIS URL); returns a viewer's token."""
    from sapper.model.accounts import Role, User
    from sapper.model.records import Item
    from sapper.store import init_register
    from sapper.store.accounts import Accounts

    rng = np.random.default_rng(seed)
    lon = np.concatenate([rng.normal(TOWN[0], 0.02, n_items // 2), rng.uniform(38.20, 38.40, n_items - n_items // 2)])
    lat = np.concatenate([rng.normal(TOWN[1], 0.01, n_items // 2), rng.uniform(34.50, 34.60, n_items - n_items // 2)])
    categories = np.asarray(["uxo", "ap_mine", "at_mine", "ied_victim_operated", "axo"])[rng.integers(0, 5, n_items)]
    geoms = points(lon, lat)
    if isinstance(path, Path):
        path.unlink(missing_ok=True)
    with init_register(path, user="bench") as reg:
        for start in range(0, n_items, 50_000):
            stop = min(start + 50_000, n_items)
            reg.add_many(
                [
                    Item(category=str(categories[i]), geometry=geoms[i], model="bench", organisation="mac")
                    for i in range(start, stop)
                ]
            )
        accounts = Accounts(reg.backend).ensure()
        accounts.add(User(name="bench", role=Role.VIEWER, organisation="mac"), "bench-password")
        return accounts.issue_token("bench", "bench")


def windows(n: int, seed: int) -> list[str]:
    """Query windows centred on the busy part of town, as ``minx,miny,maxx,maxy`` text."""
    rng = np.random.default_rng(seed + 1)
    out = []
    for _ in range(n):
        cx, cy = rng.normal(TOWN[0], 0.015), rng.normal(TOWN[1], 0.008)
        dy = WINDOW_M / METRES_PER_DEGREE
        dx = dy / np.cos(np.radians(cy))
        out.append(f"{cx - dx:.6f},{cy - dy:.6f},{cx + dx:.6f},{cy + dy:.6f}")
    return out


# --- servers ------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, proc: subprocess.Popen[bytes], name: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not start within {timeout:.0f} s")


def start_sapper(gpkg: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SAPPER_SERVE_TARGET": str(gpkg)}
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "sapper.server.app:from_environment"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--no-access-log"]
    cmd += ["--log-level", "warning"]
    return subprocess.Popen(cmd, env=env)


PYGEOAPI_CONFIG = """\
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  language: en-US
  pretty_print: false
  limits: {{default_items: 100, max_items: 10000}}
  map: {{url: "http://127.0.0.1/tiles/{{z}}/{{x}}/{{y}}.png", attribution: none}}
logging: {{level: ERROR}}
metadata:
  identification: {{title: bench, description: bench, keywords: [bench], keywords_type: theme,
                   terms_of_service: none, url: "http://127.0.0.1/"}}
  license: {{name: none, url: "http://127.0.0.1/"}}
  provider: {{name: bench, url: "http://127.0.0.1/"}}
  contact: {{name: bench, position: bench, address: bench, city: bench, stateorprovince: bench, postalcode: "0",
            country: bench, phone: "0", fax: "0", email: bench@127.0.0.1, url: "http://127.0.0.1/", hours: all,
            instructions: none, role: pointOfContact}}
resources:
  items:
    type: collection
    title: items
    description: Explosive ordnance items
    keywords: [items]
    extents:
      spatial: {{bbox: [-180, -90, 180, 90], crs: "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}}
    providers:
      - type: feature
        name: OGR
        data:
          source_type: GPKG
          source: {gpkg}
          source_srs: EPSG:4326
          target_srs: EPSG:4326
          source_capabilities: {{paging: true}}
        id_field: id
        layer: items
"""


def start_pygeoapi(python: Path, gpkg: Path, port: int, workers: int, work: Path) -> subprocess.Popen[bytes]:
    config = work / "pygeoapi.yml"
    config.write_text(PYGEOAPI_CONFIG.format(port=port, gpkg=gpkg))
    openapi = work / "pygeoapi-openapi.yml"
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    script = python.parent / "pygeoapi"
    generate = [str(script), "openapi", "generate", str(config), "--output-file", str(openapi)]
    subprocess.run(generate, env=env, check=True, capture_output=True)
    cmd = [str(python), "-m", "uvicorn", "pygeoapi.starlette_app:APP", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    return subprocess.Popen(cmd, env=env, cwd=work)


# --- load ---------------------------------------------------------------------------
async def _fetch(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
    writer.write(request)
    await writer.drain()
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length, chunked = 0, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    body = b""
    while True:
        size = int((await reader.readline()).strip(), 16)
        if size == 0:
            await reader.readline()
            return status, body
        body += await reader.readexactly(size)
        await reader.readline()


async def _client(port: int, paths: list[str], headers: str, start: int, stop_at: float, run: Run) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = start
    try:
        while time.perf_counter() < stop_at:
            path = paths[i % len(paths)]
            i += 1
            request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}\r\n".encode()
            t0 = time.perf_counter()
            status, _body = await _fetch(reader, writer, request)
            run.latencies.append(time.perf_counter() - t0)
            run.requests += 1
            if status != 200:
                run.errors += 1
    finally:
        writer.close()


async def _load(ports: list[int], paths: list[str], headers: str, clients: int, seconds: float, name: str) -> Run:
    """``clients`` clients dealt to the servers in turn, all asking until the time is up."""
    run = Run(name, clients, 0, 0, 0.0, [])
    t0 = time.perf_counter()
    stop_at = t0 + seconds
    step = max(1, len(paths) // clients)
    await asyncio.gather(
        *(_client(ports[c % len(ports)], paths, headers, c * step, stop_at, run) for c in range(clients))
    )
    run.seconds = time.perf_counter() - t0
    return run


def load(ports: int | list[int], paths: list[str], headers: str, clients: int, seconds: float, name: str) -> Run:
    """The load of ``clients`` keep-alive clients on one server, or dealt in turn to several."""
    ports = [ports] if isinstance(ports, int) else ports
    return asyncio.run(_load(ports, paths, headers, clients, seconds, name))


def returned(port: int, paths: list[str], headers: str) -> tuple[float, float]:
    """Median features per page and median bytes per page, over the first windows."""

    async def sample() -> tuple[list[int], list[int]]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        counts, sizes = [], []
        for path in paths[:40]:
            req = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}\r\n".encode()
            status, body = await _fetch(reader, writer, req)
            if status != 200:
                raise RuntimeError(f"{path}: HTTP {status}: {body[:300]!r}")
            counts.append(len(json.loads(body)["features"]))
            sizes.append(len(body))
        writer.close()
        return counts, sizes

    counts, sizes = asyncio.run(sample())
    return statistics.median(counts), statistics.median(sizes)


# --- report ---------------------------------------------------------------------------
def table(runs: list[Run], has_peer: bool) -> str:
    lines = [
        "| clients | server | requests/s | p50 ms | p99 ms | errors | sapper / pygeoapi |",
        "|---|---|---|---|---|---|---|",
    ]
    by_clients: dict[int, dict[str, Run]] = {}
    for run in runs:
        by_clients.setdefault(run.clients, {})[run.server] = run
    for clients, pair in sorted(by_clients.items()):
        for name, run in pair.items():
            ratio = ""
            if has_peer and name == "sapper" and "pygeoapi" in pair and pair["pygeoapi"].rps > 0:
                ratio = f"{run.rps / pair['pygeoapi'].rps:.1f}x throughput"
            figures = f"{run.rps:,.0f} | {run.pct(0.50):.1f} | {run.pct(0.99):.1f} | {run.errors}"
            lines.append(f"| {clients} | {name} | {figures} | {ratio} |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--items", type=int, default=20_000)
    p.add_argument("--clients", default="1,10,50", help="comma-separated concurrency levels")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per run")
    p.add_argument("--rounds", type=int, default=5, help="alternating slices each run is split into")
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes for each server")
    p.add_argument("--windows", type=int, default=500)
    p.add_argument("--seed", type=int, default=2016)
    p.add_argument("--pygeoapi-python", type=Path, default=Path(os.environ.get("PYGEOAPI_PYTHON", DEFAULT_PYGEOAPI)))
    p.add_argument("--readme", action="store_true", help="write the figures into bench/README.md")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    DATA.mkdir(parents=True, exist_ok=True)
    gpkg = DATA / f"server_{args.items}.gpkg"
    t0 = time.perf_counter()
    token = build_register(gpkg, args.items, args.seed)
    print(f"register: {args.items:,} items in {gpkg.name} ({time.perf_counter() - t0:.1f} s)")
    boxes = windows(args.windows, args.seed)
    has_peer = args.pygeoapi_python.exists()
    if not has_peer:
        print(f"pygeoapi: no interpreter at {args.pygeoapi_python} (see this script's docstring); sapper alone")
    servers: dict[str, tuple[int, list[str], str]] = {}
    procs: list[subprocess.Popen[bytes]] = []
    work = Path(tempfile.mkdtemp(prefix="sapper-bench-"))
    try:
        port = free_port()
        procs.append(start_sapper(gpkg, port, args.workers))
        wait_for(port, procs[-1], "sapper")
        auth = f"Authorization: Bearer {token}\r\nAccept: application/geo+json\r\n"
        servers["sapper"] = (port, [f"/ogc/collections/items/items?bbox={b}&limit=100" for b in boxes], auth)
        if has_peer:
            port = free_port()
            procs.append(start_pygeoapi(args.pygeoapi_python, gpkg, port, args.workers, work))
            wait_for(port, procs[-1], "pygeoapi")
            paths = [f"/collections/items/items?bbox={b}&limit=100&f=json" for b in boxes]
            servers["pygeoapi"] = (port, paths, "Accept: application/geo+json\r\n")
        for name, (port, paths, headers) in servers.items():
            load(port, paths, headers, 4, 1.0, name)  # warm up: connections, caches, lazy imports
            features, size = returned(port, paths, headers)
            print(f"{name}: median {features:.0f} features and {size / 1024:.0f} KiB per page")
        runs = []
        for clients in [int(c) for c in args.clients.split(",")]:
            # Alternate the servers in short rounds, so a change in the machine's other load
            # falls on both alike.
            merged = {name: Run(name, clients, 0, 0, 0.0, []) for name in servers}
            for _ in range(args.rounds):
                for name, (port, paths, headers) in servers.items():
                    part = load(port, paths, headers, clients, args.duration / args.rounds, name)
                    total = merged[name]
                    total.requests += part.requests
                    total.errors += part.errors
                    total.seconds += part.seconds
                    total.latencies += part.latencies
            for name, run in merged.items():
                runs.append(run)
                print(f"{clients:>3} clients  {name:<9} {run.rps:8,.0f} req/s  p50 {run.pct(0.5):7.1f} ms  "
                      f"p99 {run.pct(0.99):7.1f} ms  errors {run.errors}")  # fmt: skip
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)
    result = table(runs, has_peer)
    print()
    print(result)
    if args.readme:
        cpus = os.cpu_count()
        load1, load5, _ = os.getloadavg()
        note = textwrap.dedent(f"""\
            {args.items:,} items, windows of {2 * WINDOW_M:.0f} m, `limit=100`, {args.duration:g} s per run,
            {args.workers} worker process(es) per server, {cpus} cores shared by both servers and the load generator;
            load average at the end {load1:.1f} (1 min), {load5:.1f} (5 min): other work on the machine shows here.
            Command: `python bench/server_bench.py{' --readme' if args.readme else ''}`.
            """)  # fmt: skip
        write_section("server-bench", note + "\n" + result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
