"""Benchmark: a QField package of the team with the most sectors of the Palmyra plan, with its lanes.

The Palmyra scenario is built into a temporary GeoPackage and planned as ``sapper plan`` does
(lanes included, a short CP-SAT limit: the package's size, not the plan's quality, is what is
timed). ``sapper field pack`` of the team with the most planned sectors is timed against its
peer, GDAL's ``ogr2ogr`` copying the same team's sectors and lanes out of the register into a
GeoPackage (no project, styles, value lists or manifest): the plain copy of the bulk of the data.

    python bench/field_pack_bench.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from sapper import init_register
from sapper.field.pack import pack
from sapper.scenarios.palmyra.build import build
from sapper.store import open_register
from sapper.store.plans import latest_plan

REPEAT = 3


def best(run, repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        register = Path(folder) / "palmyra.gpkg"
        with init_register(register, user="bench") as reg:
            build(reg)
        sapper = [sys.executable, "-m", "sapper", "-u", "bench", "plan", str(register)]
        subprocess.run([*sapper, "--out", str(Path(folder) / "plan"), "--time-limit", "5", "--runs", "100"],
                       check=True, capture_output=True)  # fmt: skip
        reg = open_register(register, user="bench")
        try:
            plan = latest_plan(reg)
            assert plan is not None
            sectors = Counter(s.team_id for s in reg.list("plan_sector", where={"plan_id": plan.id}))
            team, count = sectors.most_common(1)[0]
            lanes = reg.count("plan_lane", where={"plan_id": plan.id, "team_id": team})
            packed = pack(reg, int(team), Path(folder) / "package", str(register))
            sapper_s = best(lambda: pack(reg, int(team), Path(folder) / "package", str(register)))
        finally:
            reg.close()
        where = f"plan_id = {plan.id} AND team_id = {team}"
        peer = Path(folder) / "peer.gpkg"

        def ogr2ogr() -> None:
            peer.unlink(missing_ok=True)
            for name, mode in (("plan_sectors", []), ("plan_lanes", ["-update"])):
                subprocess.run(["ogr2ogr", "-f", "GPKG", *mode, "-where", where, str(peer), str(register), name],
                               check=True, capture_output=True)  # fmt: skip

        peer_s = best(ogr2ogr)
    print(f"team {team}: {count:,} sectors and {lanes:,} lanes of plan {plan.number}; package holds "
          f"{packed.count('plan_sectors'):,} sectors, {packed.count('plan_lanes'):,} lanes, "
          f"{packed.count('hazards'):,} hazards; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print("| what | seconds (best of 3) | ratio |")
    print("|---|---:|---:|")
    print(f"| sapper field pack (GeoPackage, QGIS project, styles, value lists, manifest) | {sapper_s:.2f} | "
          f"{sapper_s / peer_s:.1f} |")  # fmt: skip
    print(f"| peer: ogr2ogr of the same sectors and lanes | {peer_s:.2f} | 1.0 |")


if __name__ == "__main__":
    main()
