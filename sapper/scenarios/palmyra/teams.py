"""Teams and assets: about 100 people (published), grouped as ``data/palmyra.toml`` [teams] says."""

from __future__ import annotations

from typing import Any

from shapely.geometry import Point

from sapper.model import Method, Team, TeamKind


def teams(fig: dict[str, Any]) -> list[Team]:
    t = fig["teams"]
    org = fig["scenario"]["organisation"]
    out = []
    for group in t["groups"]:
        kind = TeamKind.parse(group["kind"])
        base = t["eod_base"] if kind == TeamKind.EOD else t["base"]
        for n in range(1, group["count"] + 1):
            name = f"{group['name']} {n}" if group["count"] > 1 else group["name"]
            out.append(
                Team(
                    name=name,
                    kind=kind,
                    geometry=Point(*base),
                    personnel=group["personnel"],
                    lane_width_m=float(group["lane_width_m"]),
                    capabilities=tuple(Method.parse(m) for m in group["capabilities"]),
                    notes=group["notes"],
                    organisation=org,
                    source_key=f"palmyra:team:{name}",
                )
            )
    return out
