"""Field mappings: how a file from another system (IMSMA, a partner's GIS) maps to sapper.

A mapping is a small TOML or JSON file the information manager edits by hand::

    id = "HAZARD_ID"          # the source field holding the record's id (-> source_key)
    id_prefix = "IMSMA:"      # keeps ids of different systems apart (optional)
    crs = "EPSG:32637"        # CRS of files that do not declare one, e.g. CSV (optional)
    date_format = "%d/%m/%Y"  # how the source writes dates, if not YYYY-MM-DD (optional)
    ignore = ["STATUS"]       # source fields not to take even if named like sapper's

    [fields]                  # source field = sapper field
    HAZ_NAME = "name"

    [constants]               # sapper field = value given to every row
    organisation = "MAC Palmyra"

    [values.status]           # per sapper field: source value = sapper value
    Open = "suspected"

    [links]                   # sapper link field = source field holding the linked record's id
    hazard_id = "HAZARD_REF"

Everything is checked against the layer when the import starts, so a typo in the
mapping is one clear error before any row is read.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sapper.model.errors import SapperError
from sapper.store.rules import LINKS
from sapper.store.schema import GEOMETRY, Layer

# Fields the register keeps itself: never taken from a file.
KEPT_BY_REGISTER = frozenset({"version", "original_area_m2"})
KEYS = frozenset({"layer", "id", "id_prefix", "crs", "date_format", "ignore", "fields", "constants", "values", "links"})


@dataclass(frozen=True)
class Mapping:
    """Source field -> sapper field, constants, value maps and the external id field."""

    fields: dict[str, str] = field(default_factory=dict)  # source -> sapper
    constants: dict[str, Any] = field(default_factory=dict)  # sapper -> value
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # sapper -> {source value: sapper value}
    links: dict[str, str] = field(default_factory=dict)  # sapper link field -> source field with the linked key
    id_field: str | None = None
    id_prefix: str = ""
    crs: str | None = None
    date_format: str | None = None
    ignore: frozenset[str] = frozenset()
    layer: str | None = None

    def value_map(self, sapper_field: str) -> dict[str, Any]:
        """The field's value map with keys folded (trimmed, case-insensitive), as they are matched."""
        return {fold(k): v for k, v in self.values.get(sapper_field, {}).items()}


def fold(value: object) -> str:
    """How source values are matched against a value map: trimmed and case-insensitive."""
    return str(value).strip().casefold()


def load_mapping(path: str | Path) -> Mapping:
    """Read a mapping file (.toml or .json); errors name the file and the entry."""
    path = Path(path)
    if not path.exists():
        raise SapperError(f"mapping file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise SapperError(f"mapping file {path}: {exc}") from None
    try:
        return mapping_from_dict(data)
    except SapperError as exc:
        raise SapperError(f"mapping file {path}: {exc}") from None


def mapping_from_dict(data: dict[str, Any]) -> Mapping:
    if not isinstance(data, dict):
        raise SapperError("a mapping is a table of keys (id, fields, constants, values, links...)")
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise SapperError(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(KEYS))})")
    for name in ("fields", "constants", "values", "links"):
        if not isinstance(data.get(name, {}), dict):
            raise SapperError(f"{name} must be a table")
    for sapper_field, table in data.get("values", {}).items():
        if not isinstance(table, dict):
            raise SapperError(f"values.{sapper_field} must be a table of source value = sapper value")
    ignore = data.get("ignore", [])
    if not isinstance(ignore, list):
        raise SapperError("ignore must be a list of source field names")
    return Mapping(
        fields={str(k): str(v) for k, v in data.get("fields", {}).items()},
        constants=dict(data.get("constants", {})),
        values={str(k): dict(v) for k, v in data.get("values", {}).items()},
        links={str(k): str(v) for k, v in data.get("links", {}).items()},
        id_field=None if data.get("id") in (None, "") else str(data["id"]),
        id_prefix=str(data.get("id_prefix", "")),
        crs=None if data.get("crs") in (None, "") else str(data["crs"]),
        date_format=None if data.get("date_format") in (None, "") else str(data["date_format"]),
        ignore=frozenset(str(v) for v in ignore),
        layer=None if data.get("layer") in (None, "") else str(data["layer"]),
    )


def check_mapping(mapping: Mapping, lay: Layer) -> None:
    """Every sapper field the mapping names must exist in the layer and be writable.

    Entries are named as TOML's dotted keys name them (``fields.HAZ_NAME``), which a
    terminal shows as they are (square brackets would be taken for markup)."""
    known = writable_fields(lay)
    listing = ", ".join(sorted(known))

    def need(where: str, name: str) -> None:
        if name not in known:
            why = "is kept by the register" if name in KEPT_BY_REGISTER else f"is not a field of {lay.kind}"
            raise SapperError(f"{where}: {name!r} {why} (fields: {listing})")

    targets: dict[str, str] = {}
    for source, target in mapping.fields.items():
        need(f"fields.{source}", target)
        if target in targets:
            raise SapperError(f"fields: {targets[target]!r} and {source!r} both map to {target!r}")
        targets[target] = source
    for name in mapping.constants:
        need(f"constants.{name}", name)
    for name in mapping.values:
        need(f"values.{name}", name)
    links = LINKS.get(lay.name, {})
    for name in mapping.links:
        if name not in links:
            allowed = ", ".join(links) or "none"
            raise SapperError(f"links.{name}: not a link field of {lay.kind} (link fields: {allowed})")
        if name in targets:
            raise SapperError(f"links.{name}: also mapped in fields, from {targets[name]!r}; keep one")


def writable_fields(lay: Layer) -> set[str]:
    return {c.name for c in lay.columns if c.kind != GEOMETRY and c.name not in KEPT_BY_REGISTER}
