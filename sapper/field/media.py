"""The lists a form attaches (hazards.csv, tasks.csv, qc_samples.csv), made from the register for one team.

ODK Collect reads ``select_one_from_file`` CSVs by their ``name`` and ``label`` columns; other
columns can filter a list (``tasks.csv``'s ``hazard`` narrows the tasks to the hazard chosen).
``organisation`` is the view of the register the reader has (None: all of it), as
``sapper.server.permissions.seen_by`` gives it, so a team never receives a record it may not see.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from sapper.field.forms import HAZARDS_CSV, QC_SAMPLES_CSV, TASKS_CSV
from sapper.model.enums import ActivityStatus, HazardStatus
from sapper.model.qc import QcResult
from sapper.store import query
from sapper.store.query import Filter
from sapper.store.register import Register
from sapper.store.schema import layer

OPEN_TASKS = (ActivityStatus.PLANNED.value, ActivityStatus.ONGOING.value, ActivityStatus.SUSPENDED.value)


def _rows(reg: Register, kind: str, organisation: str | None, **where: Any) -> list[tuple[int, dict[str, Any]]]:
    flt = Filter(where=where, organisation=organisation)
    return [(rid, values) for rid, values, _geom in query.select(reg.backend, layer(kind), flt)]


def team_tasks(reg: Register, organisation: str | None, team_id: int | None) -> list[tuple[int, dict[str, Any]]]:
    """Open tasks of the team (every open task the reader sees, without a team)."""
    where = {} if team_id is None else {"team_id": team_id}
    return [(rid, v) for rid, v in _rows(reg, "activity", organisation, **where) if v["status"] in OPEN_TASKS]


def team_hazards(reg: Register, organisation: str | None, team_id: int | None) -> list[tuple[int, dict[str, Any]]]:
    """Hazards a team works on: those of its open tasks; without a team, every hazard not yet released."""
    hazards = [(rid, v) for rid, v in _rows(reg, "hazard", organisation) if v["status"] != HazardStatus.RELEASED.value]
    if team_id is None:
        return hazards
    tasked = {v["hazard_id"] for _rid, v in team_tasks(reg, organisation, team_id)}
    return [(rid, v) for rid, v in hazards if rid in tasked]


def pending_samples(reg: Register, organisation: str | None) -> list[tuple[int, dict[str, Any]]]:
    """QC samples (IMAS 09.20) still to inspect, of the reader's organisation (None: of every one)."""
    return [
        (rid, v)
        for rid, v in _rows(reg, "qc_sample", organisation)
        if v["result"] == QcResult.PENDING.value and organisation in (None, v["organisation"])
    ]


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def media_files(reg: Register, organisation: str | None, team_id: int | None) -> dict[str, bytes]:
    """File name -> CSV bytes of every list the forms attach."""
    hazards = team_hazards(reg, organisation, team_id)
    tasks = team_tasks(reg, organisation, team_id)
    hazard_rows = [
        [rid, f"{v['name']} (#{rid})", v["hazard_class"], v["status"], v["contamination"]] for rid, v in hazards
    ]
    task_rows = [
        [rid, f"{v['activity_type'].upper()} #{rid} on hazard {v['hazard_id']}", v["hazard_id"] or "", v["status"]]
        for rid, v in tasks
    ]
    sample_rows = [
        [rid, f"{v['label']} on hazard {v['hazard_id']} (#{rid})", v["hazard_id"], v["plan_id"]]
        for rid, v in pending_samples(reg, organisation)
    ]
    return {
        HAZARDS_CSV: _csv(["name", "label", "hazard_class", "status", "contamination"], hazard_rows),
        TASKS_CSV: _csv(["name", "label", "hazard", "status"], task_rows),
        QC_SAMPLES_CSV: _csv(["name", "label", "hazard", "plan"], sample_rows),
    }


def write_media(reg: Register, directory: Path, organisation: str | None, team_id: int | None) -> list[Path]:
    paths = []
    for name, body in media_files(reg, organisation, team_id).items():
        path = directory / name
        path.write_bytes(body)
        paths.append(path)
    return paths
