"""Latency of the OGC items page with several servers behind one PostGIS, with and without a read replica.

A national register runs several ``sapper serve`` processes on one PostgreSQL primary, and may
send reads to a streaming replica (``--read-replica``). This script starts a throwaway primary
and a replica of it (``pg_basebackup -R``) on 127.0.0.1, fills a register with items, and starts:

- one ``sapper serve`` process on the primary;
- a second one (two servers behind one PostGIS);
- two more with ``--read-replica`` (two servers + replica);
- two processes of a plain peer (``plain_features.py``: psycopg and ``ST_AsGeoJSON``, nothing else).

Each configuration takes the same load: N clients (50 by default), each on one keep-alive
connection, asking one after another for ``/ogc/collections/items/items?limit=100&bbox=...``
over the same seeded windows; the clients are dealt to a configuration's servers in turn (a
round robin in the client, no load balancer). The runs are split into rounds that alternate the
configurations, so the machine's other load weighs on all alike. Every process runs on this
machine's cores, the load generator included. The data is synthetic (an assumption, not a survey).

    python bench/national_servers_bench.py                   # 20,000 items, 50 clients, 10 s per configuration
    python bench/national_servers_bench.py --duration 3 --items 5000
    python bench/national_servers_bench.py --readme          # ... and write the figures into bench/README.md
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from readme_section import write_section
from server_bench import Run, build_register, free_port, load, returned, wait_for, windows

from sapper.testing.replication import ReplicatedCluster

HERE = Path(__file__).resolve().parent
MARKERS = ("<!-- national-bench:start -->", "<!-- national-bench:end -->")


def start_sapper(primary: str, port: int, replica: str | None = None) -> subprocess.Popen[bytes]:
    """``sapper serve`` as an operator starts it (access log and all), one worker process."""
    cmd = [sys.executable, "-m", "sapper", "serve", primary, "--port", str(port)]
    cmd += ["--read-replica", replica] if replica else []
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_plain(primary: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PLAIN_FEATURES_URL": primary}
    cmd = [sys.executable, "-m", "uvicorn", "plain_features:app", "--app-dir", str(HERE), "--port", str(port)]
    cmd += ["--host", "127.0.0.1", "--log-level", "warning"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def merge(total: Run, part: Run) -> None:
    total.requests += part.requests
    total.errors += part.errors
    total.seconds += part.seconds
    total.latencies += part.latencies


def table(runs: list[Run]) -> str:
    lines = [
        "| configuration | clients | requests/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        figures = f"{run.rps:,.0f} | {run.pct(0.50):.1f} | {run.pct(0.95):.1f} | {run.pct(0.99):.1f} | {run.errors}"
        lines.append(f"| {run.server} | {run.clients} | {figures} |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--items", type=int, default=20_000)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--duration", type=float, default=10.0, help="seconds per configuration")
    p.add_argument("--rounds", type=int, default=5, help="alternating slices each run is split into")
    p.add_argument("--windows", type=int, default=500)
    p.add_argument("--seed", type=int, default=2016)
    p.add_argument("--readme", action="store_true", help="write the figures into bench/README.md")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = os.getloadavg()[0]
    procs: list[subprocess.Popen[bytes]] = []
    with ReplicatedCluster() as cluster:
        primary, replica = cluster.new_database()
        t0 = time.perf_counter()
        token = build_register(primary, args.items, args.seed)
        cluster.wait_for_replay()
        print(
            f"register: {args.items:,} items on the primary, replayed by the replica ({time.perf_counter() - t0:.1f} s)"
        )
        boxes = windows(args.windows, args.seed)
        sapper_paths = [f"/ogc/collections/items/items?limit=100&bbox={b}" for b in boxes]
        plain_paths = [f"/collections/items/items?limit=100&bbox={b}" for b in boxes]
        auth = f"Authorization: Bearer {token}\r\nAccept: application/geo+json\r\n"
        plain = "Accept: application/geo+json\r\n"
        try:
            ports = [free_port() for _ in range(6)]
            procs += [start_sapper(primary, ports[0]), start_sapper(primary, ports[1])]
            procs += [start_sapper(primary, ports[2], replica), start_sapper(primary, ports[3], replica)]
            procs += [start_plain(primary, ports[4]), start_plain(primary, ports[5])]
            for port, proc in zip(ports, procs):
                wait_for(port, proc, f"server on port {port}")
            configs = {
                "sapper, 1 server": (ports[:1], sapper_paths, auth),
                "sapper, 2 servers": (ports[:2], sapper_paths, auth),
                "sapper, 2 servers + replica": (ports[2:4], sapper_paths, auth),
                "plain psycopg, 2 servers": (ports[4:6], plain_paths, plain),
            }
            for name, (config_ports, paths, headers) in configs.items():
                load(config_ports, paths, headers, 8, 1.0, name)  # warm up: connections, caches, lazy imports
                features, size = returned(config_ports[0], paths, headers)
                print(f"{name}: median {features:.0f} features and {size / 1024:.0f} KiB per page")
            merged = {name: Run(name, args.clients, 0, 0, 0.0, []) for name in configs}
            for _ in range(args.rounds):
                for name, (config_ports, paths, headers) in configs.items():
                    merge(
                        merged[name],
                        load(config_ports, paths, headers, args.clients, args.duration / args.rounds, name),
                    )
            for run in merged.values():
                figures = f"p50 {run.pct(0.5):7.1f} ms  p95 {run.pct(0.95):7.1f} ms  p99 {run.pct(0.99):7.1f} ms"
                print(f"{run.server:<30} {run.rps:8,.0f} req/s  {figures}  errors {run.errors}")
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=20)
    load_after = os.getloadavg()[0]
    result = table(list(merged.values()))
    print()
    print(result)
    if args.readme:
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        note = (
            f"Measured {when} with `python bench/national_servers_bench.py --readme`: {args.items:,} items, windows of "
            f"500 m, `limit=100`, {args.clients} clients, {args.duration:g} s per configuration in {args.rounds} "
            f"alternating rounds; {os.cpu_count()} cores shared by PostgreSQL (primary and replica), every server "
            f"and the load generator; load average (1 min) {load_before:.1f} before, {load_after:.1f} after: "
            "other work on the machine shows here."
        )
        write_section("national-bench", note + "\n\n" + result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
