"""The scenario's figures (``data/palmyra.toml``) and the heritage data it is drawn on."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

DATA = Path(__file__).parent / "data"
FIGURES = DATA / "palmyra.toml"
HERITAGE = DATA / "palmyra_heritage.geojson"


@dataclass(frozen=True)
class Feature:
    """One feature of the heritage data: the ancient city outline or a monument."""

    name: str
    kind: str
    geometry: BaseGeometry
    condition: str
    source: str
    note: str


@cache
def figures() -> dict[str, Any]:
    with FIGURES.open("rb") as f:
        fig = tomllib.load(f)
    check(fig)
    return fig


def check(fig: dict[str, Any]) -> None:
    """The assumed item mixes must keep the published totals; say which one an edit broke."""
    pub, items = fig["published"], fig["items"]
    totals = {
        "[items.historic]": (sum(items["historic"].values()), pub["historic_items"]),
        "IEDs in [items.historic]": (
            sum(n for c, n in items["historic"].items() if c.startswith("ied_")),
            pub["historic_ieds"],
        ),
        "[items.early]": (sum(items["early"].values()), pub["early_items"]),
    }
    for where, (have, published) in totals.items():
        if have != published:
            raise ValueError(f"{FIGURES.name}: {where} adds up to {have}, the published figure is {published}")


@cache
def heritage() -> tuple[Feature, ...]:
    collection = json.loads(HERITAGE.read_text(encoding="utf-8"))
    out = []
    for raw in collection["features"]:
        p = raw["properties"]
        out.append(
            Feature(
                name=p["name"],
                kind=p["kind"],
                geometry=shape(raw["geometry"]),
                condition=p.get("condition_2017", ""),
                source=p.get("source", ""),
                note=p.get("note", ""),
            )
        )
    return tuple(out)


def feature(name: str) -> Feature:
    for f in heritage():
        if f.name == name:
            return f
    raise KeyError(f"no heritage feature named {name!r}")


def outline() -> Feature:
    """The ancient city outline (the one heritage_site polygon)."""
    return next(f for f in heritage() if f.kind == "heritage_site")
