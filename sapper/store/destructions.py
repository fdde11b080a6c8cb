"""Items destroyed in place near a protected site that forbids it: refused, each naming the
nearest such site (render it safe and remove it instead). Checked for a whole batch at once."""

from __future__ import annotations

import math
from collections.abc import Collection

import numpy as np
import shapely

from sapper.model.enums import ItemState, Method
from sapper.model.errors import InvalidRecord
from sapper.model.geometry import distance_m, search_box
from sapper.model.records import ProtectedSite, Record
from sapper.store.access import RegisterAccess
from sapper.store.batch import Batch, Problems
from sapper.store.schema import Layer
from sapper.store.schema import layer as reg_layer


def destruction_problems(reg: RegisterAccess, lay: Layer, batch: Batch, skip: Collection[int] = ()) -> Problems:
    """Items destroyed in place within the buffer of a site that forbids it, each naming the
    nearest such site: render it safe and remove it instead.

    One query for the whole batch (a bulk import of a million items must not ask the
    database twice per item), an STRtree for candidates, then the metric distance."""
    method = Method.DESTRUCTION_IN_PLACE
    geoms = batch.geometries
    assert geoms is not None
    blasted = np.fromiter(
        (s == ItemState.DESTROYED_IN_PLACE for s in batch.columns["state"]), dtype=bool, count=len(batch)
    )
    blasted &= ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if skip:
        blasted[list(skip)] = False
    rows = np.flatnonzero(blasted)
    if not len(rows):
        return {}
    reach = reg.backend.maximum(reg_layer("site"), "buffer_m")
    if reach is None:  # no protected site at all
        return {}
    blasts = geoms[rows]
    minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(blasts))
    window = search_box((minx, miny, maxx, maxy), reach)
    sites = [s for s in reg.list("site", bbox=window) if method in s.forbidden_methods and _has_shape(s)]
    if not sites:
        return {}
    # Candidate pairs in degrees (a superset: the pad covers ``reach`` in every direction),
    # then the exact distance in metres, as Register.near measures it.
    pad = math.hypot(window[2] - maxx, window[3] - maxy)
    pairs = shapely.STRtree([s.geometry for s in sites]).query(blasts, predicate="dwithin", distance=pad)
    candidates: dict[int, list[int]] = {}
    for k, j in zip(*pairs.tolist()):
        candidates.setdefault(k, []).append(j)
    problems: Problems = {}
    for k in sorted(candidates):
        item = blasts[k]
        measured = [(distance_m(item, sites[j].geometry), sites[j]) for j in candidates[k]]
        inside = [(d, site) for d, site in measured if d <= site.buffer_m]
        if inside:
            site = min(inside, key=lambda pair: pair[0])[1]
            i = int(rows[k])
            problems[i] = InvalidRecord(batch.ref(i), _destruction_message(site))
    return problems


def _has_shape(rec: Record) -> bool:
    geom = getattr(rec, "geometry", None)
    return geom is not None and not geom.is_empty


def _destruction_message(site: ProtectedSite) -> str:
    return (
        f"destruction in place is forbidden within {site.buffer_m:g} m of {site.name} "
        f"(site {site.id}); render it safe and remove it"
    )
