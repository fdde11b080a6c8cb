"""Which source field feeds which sapper field, decided once per file, before any row.

Fields the mapping names are taken; so are fields named like a sapper field (any
case; for a Shapefile also sapper's short names), unless the mapping lists them in
``ignore``. Everything else is reported once as ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sapper.formats.identity import LINK_KEYS
from sapper.formats.mapping import KEPT_BY_REGISTER, Mapping, check_mapping, writable_fields
from sapper.formats.names import MAX_LENGTH, full_names, short_name
from sapper.formats.table import Source
from sapper.formats.values import convert_value, required_fields
from sapper.model.errors import SapperError
from sapper.store.rules import LINKS
from sapper.store.schema import Layer

# Columns of sapper's own exports that the register keeps itself: skipped without a word.
KEPT_COLUMNS = {name.casefold() for name in (*KEPT_BY_REGISTER, "orig_m2", "sapper_id")}


@dataclass
class FieldPlan:
    fields: dict[str, str] = field(default_factory=dict)  # sapper field -> source field
    constants: dict[str, Any] = field(default_factory=dict)  # sapper field -> typed value
    links: dict[str, str] = field(default_factory=dict)  # sapper link field -> source field holding keys
    id_field: str | None = None  # source field whose value becomes source_key
    ignored: list[str] = field(default_factory=list)
    old_ids: dict[str, str] = field(default_factory=dict)  # link field -> source field with the other register's id
    restore: bool = False  # a sapper export: records as a register kept them (see ``is_export``)

    @property
    def provided(self) -> set[str]:
        """Sapper fields this file sets (the others keep their default or held value)."""
        return set(self.fields) | set(self.constants) | set(self.links)


def resolve(source: Source, mapping: Mapping, lay: Layer) -> FieldPlan:
    check_mapping(mapping, lay)
    find = _finder(source)
    plan = FieldPlan()
    used: set[str] = set()
    for src, target in mapping.fields.items():
        name = find(src, f"fields.{src}")
        if target == "source_key" and mapping.id_field:
            raise SapperError(f"the mapping gives the id twice: id = {mapping.id_field!r} and fields.{src}")
        plan.fields[target] = name
        used.add(name)
    if mapping.id_field:
        plan.id_field = find(mapping.id_field, "id")
        used.add(plan.id_field)
    elif "source_key" in plan.fields:
        plan.id_field = plan.fields.pop("source_key")
    for target, src in mapping.links.items():
        plan.links[target] = find(src, f"links.{target}")
        used.add(plan.links[target])
    for target, value in mapping.constants.items():
        if target in plan.fields:
            raise SapperError(f"constants.{target}: also mapped from field {plan.fields[target]!r}; keep one")
        plan.constants[target] = _constant(lay, target, value, mapping)
    _key_links(source, lay, plan, used)
    plan.restore = is_export(source) and not (mapping.fields or mapping.id_field or mapping.links)
    if plan.restore:
        _kept_by_register(source, lay, plan, used)
    _same_names(source, mapping, lay, plan, used)
    _check_required(source, lay, plan)
    return plan


def is_export(source: Source) -> bool:
    """A file sapper exported: records as a register kept them, with its id, version and keys."""
    names = {name.casefold() for name in source.fields}
    return {"version", "source_key"} <= names and bool({"id", "sapper_id"} & names)


def _key_links(source: Source, lay: Layer, plan: FieldPlan, used: set[str]) -> None:
    """Links by key (``hazard_key`` beside ``hazard_id``, as sapper exports them): the key is the link,
    and the id beside it, the other register's own, is only checked against it."""
    folded = {name.casefold(): name for name in source.fields}
    for target in LINKS.get(lay.name, {}):
        key_column = LINK_KEYS[target]
        name = folded.get(key_column) or folded.get(short_name(key_column))
        if name is None or target in plan.links or target in plan.fields:
            continue
        plan.links[target] = name
        used.add(name)
        if target.casefold() in folded:
            plan.old_ids[target] = folded[target.casefold()]
            used.add(plan.old_ids[target])


def _kept_by_register(source: Source, lay: Layer, plan: FieldPlan, used: set[str]) -> None:
    """A hazard's original area, which a register keeps itself, comes with the record it restores."""
    folded = {name.casefold(): name for name in source.fields}
    used.update(folded[name] for name in ("id", "sapper_id", "version") if name in folded)  # the other register's
    for target in sorted(KEPT_BY_REGISTER - {"version"}):
        if not any(c.name == target for c in lay.columns):
            continue
        name = folded.get(target) or folded.get(short_name(target))
        if name is not None:
            plan.fields[target] = name
            used.add(name)


def _finder(source: Source):
    exact = set(source.fields)
    folded: dict[str, list[str]] = {}
    for name in source.fields:
        folded.setdefault(name.casefold(), []).append(name)

    def find(name: str, where: str) -> str:
        if name in exact:
            return name
        matches = folded.get(name.casefold(), [])
        if len(matches) == 1:
            return matches[0]
        listing = ", ".join(source.fields) or "none"
        raise SapperError(f"mapping {where}: {source.path.name} has no field {name!r} (its fields: {listing})")

    return find


def _constant(lay: Layer, target: str, value: Any, mapping: Mapping) -> Any:
    col = lay.column(target)
    converted, problem = convert_value(col, value, mapping.value_map(target), mapping.date_format, required=True)
    if problem:
        raise SapperError(f"constants.{target}: {problem}")
    return converted


def _same_names(source: Source, mapping: Mapping, lay: Layer, plan: FieldPlan, used: set[str]) -> None:
    writable = {name.casefold(): name for name in writable_fields(lay)}
    short = _shapefile_names(writable) if source.driver == "ESRI Shapefile" else {}
    ignore = {name.casefold() for name in mapping.ignore}
    for name in source.fields:
        if name in used or name.casefold() in ignore:
            continue
        target = writable.get(name.casefold()) or short.get(name.casefold())
        if target is None or target in plan.provided:
            if name not in source.housekeeping and name.casefold() not in KEPT_COLUMNS:
                plan.ignored.append(name)
            continue
        if target == "source_key":
            if plan.id_field is None:
                plan.id_field = name
            else:
                plan.ignored.append(name)
            continue
        plan.fields[target] = name


def _shapefile_names(writable: dict[str, str]) -> dict[str, str]:
    """Names a Shapefile may hold for sapper's long field names: sapper's own short names, and
    the first 10 characters other tools (GDAL, QGIS) cut them to, where that is unambiguous."""
    cut: dict[str, list[str]] = {}
    for folded, name in writable.items():
        if len(name) > MAX_LENGTH:
            cut.setdefault(folded[:MAX_LENGTH], []).append(name)
    names = {k: v[0] for k, v in cut.items() if len(v) == 1}
    names.update({k.casefold(): v for k, v in full_names().items() if v.casefold() in writable})
    return names


def _check_required(source: Source, lay: Layer, plan: FieldPlan) -> None:
    missing = sorted(required_fields(lay) - plan.provided)
    if missing:
        listing = ", ".join(source.fields) or "none"
        raise SapperError(
            f"{source.path.name} has no field for {', '.join(map(repr, missing))}, which every {lay.kind} needs; "
            f"map a source field to it in a mapping's fields, or give a value in its constants (fields: {listing})"
        )
