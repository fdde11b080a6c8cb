"""A started server sets its own long-lived objects (modules, routes, schemas) aside from Python's
cycle collector: a full collection walked all of them with every request waiting, the slowest
answers of the items page under load. It goes on serving as before. Checked in a process of its
own, as a server runs: it is done once per process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sapper import init_register

SERVER = """
import gc, json, sys
import httpx
from sapper.server import create_app
from sapper.testing.server import serving

app = create_app(sys.argv[1], public=True, worker=False)
before = gc.get_freeze_count()
with serving(app) as server:
    during = gc.get_freeze_count()
    answer = httpx.get(server.url + "/ogc/collections/items/items", params={"limit": 5}, timeout=30)
    collected = gc.collect()
print(json.dumps({"before": before, "during": during, "status": answer.status_code,
                  "matched": answer.json()["numberMatched"], "enabled": gc.isenabled(), "collected": collected}))
"""


def test_a_started_server_sets_its_objects_aside_from_the_cycle_collector(tmp_path: Path) -> None:
    target = str(tmp_path / "register.gpkg")
    init_register(target).close()
    done = subprocess.run([sys.executable, "-c", SERVER, target], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["before"] == 0
    assert seen["during"] > 10_000  # the app's and its modules' objects
    assert seen["status"] == 200 and seen["matched"] == 0
    assert seen["enabled"] and seen["collected"] >= 0  # the collector still runs, on what is new
