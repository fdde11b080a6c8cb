"""Turn a file's columns into what the register needs, row by row, before anything is written.

Every check that does not need the register runs here, on whole columns: geometry
(reprojected to WGS 84), field values, ids. Each bad row gets its problems, worded
with the field or the record they are about.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sapper.formats.geoms import normalise, row_geometry_problems, to_wgs84
from sapper.formats.identity import LINK_KEYS
from sapper.formats.keys import content_keys, duplicate_problems, id_keys, key_text, key_texts
from sapper.formats.mapping import Mapping
from sapper.formats.resolve import FieldPlan
from sapper.formats.table import Source
from sapper.formats.values import MISSING, convert_column, plain, required_fields
from sapper.model.enums import HazardStatus
from sapper.model.errors import SapperError
from sapper.store.batch import Batch, fill_missing, of_values
from sapper.store.batch import defaults as batch_defaults
from sapper.store.rules import GEOMETRY_REQUIRED, LINKS
from sapper.store.schema import Layer


@dataclass
class Prepared:
    """A file read and checked: typed values per sapper field, geometries, keys, row problems."""

    source: Source
    plan: FieldPlan
    lay: Layer
    values: dict[str, list[Any]]
    geometries: np.ndarray | None  # None when the file has no geometry: records keep theirs
    keys: list[str | None]
    link_keys: dict[str, list[str | None]] = field(default_factory=dict)  # link field -> key of the linked record
    problems: dict[int, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.keys)

    def add_problems(self, found: dict[int, str], about: Callable[[int], str] | None = None) -> None:
        for i, problem in found.items():
            self.problems.setdefault(i, []).append(f"{about(i)}: {problem}" if about else problem)

    def problem(self, i: int) -> str:
        return "; ".join(self.problems[i])

    def ref(self, i: int) -> str:
        """The record a row describes, as messages name it: hazard 'North field'."""
        name = self.values["name"][i] if "name" in self.values else None
        if name in (None, "", MISSING) and self.plan.id_field:
            name = self.keys[i]
        return f"{self.lay.kind} {name!r}" if name not in (None, "", MISSING) else self.lay.kind

    def row_values(self, i: int) -> dict[str, Any]:
        """The fields row ``i`` sets (not those it leaves empty where a default applies)."""
        out = {name: column[i] for name, column in self.values.items() if column[i] is not MISSING}
        out.update(self.plan.constants)
        if self.geometries is not None:
            out["geometry"] = self.geometries[i]
        return out

    def batch(self, rows: list[int]) -> Batch:
        """The rows as new records, in columns: ``row_values`` and the source key of each, a field the
        file leaves empty taking its default. Columns are sliced once, never walked per record."""
        whole = len(rows) == len(self) and (not rows or rows[-1] == len(rows) - 1)
        defaults = batch_defaults(self.lay)
        values = {
            name: fill_missing(column if whole else [column[i] for i in rows], MISSING, defaults[name])
            for name, column in self.values.items()
        }
        values.update({name: [value] * len(rows) for name, value in self.plan.constants.items()})
        values["source_key"] = self.keys if whole else [self.keys[i] for i in rows]
        geoms = None if self.geometries is None else self.geometries[rows]
        made = of_values(self.lay, values, len(rows), geoms)
        made.geometries_checked = True  # rows with a geometry problem (``prepare``) are never asked for
        return made


def prepare(source: Source, plan: FieldPlan, mapping: Mapping, lay: Layer, crs: str | None) -> Prepared:
    n = len(source)
    geometries = _geometries(source, lay, mapping, crs)
    values: dict[str, list[Any]] = {}
    problems: dict[int, str] = {}
    required = required_fields(lay)
    for target, src in plan.fields.items():
        column, found = convert_column(
            lay.column(target), source.columns[src], mapping.value_map(target), mapping.date_format, target in required
        )
        values[target] = column
        for i, problem in found.items():
            problems.setdefault(i, problem)
    prep = Prepared(source=source, plan=plan, lay=lay, values=values, geometries=geometries, keys=[None] * n)
    prep.add_problems(source.problems)
    if geometries is not None:
        needed = lay.name in GEOMETRY_REQUIRED
        unread = source.problems  # a geometry that could not be read is already reported
        closed = _released_without_polygon(prep) if plan.restore else set()
        found = {
            i: p
            for i, p in row_geometry_problems(geometries, lay, needed).items()
            if i not in unread and i not in closed
        }
        prep.add_problems(found, about=prep.ref)
    prep.add_problems(problems)
    for target, src in plan.links.items():
        prep.link_keys[target] = [
            None if (text := key_text(v)) is None else mapping.id_prefix + text for v in plain(source.columns[src])
        ]
    prep.keys = _keys(prep, mapping)
    _check_old_ids(prep)
    if plan.restore:
        _refuse_ids_without_keys(prep)
    return prep


def _refuse_ids_without_keys(prep: Prepared) -> None:
    """An export without key columns (older sapper) holds the ids of the register it came from: which
    records they name is not known here, so refuse rather than link to whatever has those ids here."""
    for target, kind in LINKS.get(prep.lay.name, {}).items():
        if target in prep.plan.fields and any(v not in (None, MISSING) for v in prep.values[target]):
            raise SapperError(
                f"{prep.source.path.name}: {target} holds the ids of the register it was exported from, and no "
                f"{LINK_KEYS[target]} column says which {kind} each is; export it again with this version of sapper "
                f"(it writes {LINK_KEYS[target]}), or map {target} to the other system's ids with a mapping's links"
            )


def _released_without_polygon(prep: Prepared) -> set[int]:
    """Hazards released entirely: a register keeps no polygon for them (their land is in releases)."""
    statuses = prep.values.get("status", [])
    return {i for i, status in enumerate(statuses) if status == HazardStatus.RELEASED and prep.geometries[i] is None}


def _check_old_ids(prep: Prepared) -> None:
    """A link id with no key beside it cannot be followed to another register: refuse it, never guess."""
    for target, src in prep.plan.old_ids.items():
        keys = prep.link_keys[target]
        key_column = prep.plan.links[target]
        kind = LINKS[prep.lay.name][target]
        missing = {
            i: f"{target} {old} names a {kind} but {key_column} is empty, so which {kind} is not known here"
            for i, (old, key) in enumerate(zip(plain(prep.source.columns[src]), keys))
            if key is None and key_text(old) is not None
        }
        prep.add_problems(missing, about=prep.ref)


def _geometries(source: Source, lay: Layer, mapping: Mapping, crs: str | None) -> np.ndarray | None:
    if not lay.geometry_type:
        return None
    if not source.has_geometry:
        if lay.name in GEOMETRY_REQUIRED:
            raise SapperError(
                f"{source.path.name} has no geometry, which every {lay.kind} needs"
                + (" (a CSV needs a wkt column, or lon and lat columns)" if source.row_word == "row" else "")
            )
        return None
    declared = crs or source.crs or mapping.crs
    return normalise(to_wgs84(source.geometries, declared), lay)


def _keys(prep: Prepared, mapping: Mapping) -> list[str | None]:
    source, plan = prep.source, prep.plan
    if plan.id_field is not None:
        explicit = mapping.id_field is not None or "source_key" in mapping.fields.values()
        if explicit:
            keys, empty = id_keys(source.columns[plan.id_field], mapping.id_prefix, plan.id_field)
            prep.add_problems(empty)
        else:  # a source_key column, as sapper exports: rows without one get a content key
            keys = key_texts(source.columns[plan.id_field])
            if any(k is None for k in keys):
                hashed = _content_keys(prep)
                keys = [k if k is not None else h for k, h in zip(keys, hashed)]
        prep.add_problems(duplicate_problems(keys, source.label))
        return keys
    return list(_content_keys(prep))


def _content_keys(prep: Prepared) -> list[str]:
    columns: dict[str, Any] = dict(prep.values)
    for target, keys in prep.link_keys.items():
        columns[target] = keys
    geoms = prep.geometries if prep.geometries is not None else np.full(len(prep.source), None, dtype=object)
    return content_keys(columns, geoms)
