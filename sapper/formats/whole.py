"""A whole register into one GeoPackage and back into another: the same records, the same links.

``export_all`` writes every layer; ``import_all`` reads every layer of records the file
holds (plans are made again by ``sapper plan``, not imported) in the order links need:
hazards and teams before the items, activities, reports and releases that name them.
It is one transaction: every layer or none. Links go through keys (see ``identity``):
each link's old id and the key beside it must agree with the linked layer of the same
file, and the key finds the record in the register, added earlier in the same import or
already there. Records keep what their register derived: a hazard's original area, a
released hazard without polygon, the releases that make up its land-release balance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sapper.formats.attachment_files import read_gpkg
from sapper.formats.importer import BadRows, ImportResult, Progress, prepare_source, write_prepared
from sapper.formats.keys import key_text
from sapper.formats.mapping import Mapping
from sapper.formats.prepare import Prepared
from sapper.formats.source import read_source
from sapper.formats.values import plain
from sapper.model.errors import SapperError
from sapper.store.register import Register
from sapper.store.rules import LINKS
from sapper.store.schema import layer as find_layer

# Layers of records, each after the layers its links name.
ORDER = ("hazards", "teams", "protected_sites", "items", "activities", "reports", "releases")


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


def import_all(
    reg: Register, path: str | Path, *, dry_run: bool = False, progress: Progress | None = None
) -> list[ImportResult]:
    """Import every layer of records of a register exported whole (``sapper export REG FILE.gpkg``)."""
    path = Path(path)
    present = _layers(path)
    wanted = [name for name in ORDER if name in present]
    if not wanted:
        raise SapperError(f"{path.name} holds none of the register's layers ({', '.join(ORDER)})")
    results: list[ImportResult] = []
    ids_in_file: dict[str, dict[str, str]] = {}  # layer -> the file's id -> key, to check links against
    try:
        with reg.transaction():
            for name in wanted:
                lay = find_layer(name)
                source = read_source(path, name)
                prep = prepare_source(source, lay, Mapping(), None, progress)
                if not prep.plan.restore:
                    raise SapperError(
                        f"{path.name}: layer {name} is not as sapper exports it (an id, version and source_key "
                        "field); import it on its own with --layer"
                    )
                _check_links_agree(prep, ids_in_file)
                ids_in_file[name] = _file_ids(prep)
                result = ImportResult(layer=name, path=path, rows=len(source), ignored_fields=prep.plan.ignored)
                result.dry_run = dry_run
                try:
                    write_prepared(reg, prep, result, False, progress)
                except BadRows as exc:
                    raise BadRows([(f"{name} {label}", problem) for label, problem in exc.problems]) from None
                results.append(result)
            read_gpkg(reg, path)  # the records' photos, once the records are in
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return results


def _layers(path: Path) -> set[str]:
    if not path.exists():
        raise SapperError(f"file {path} does not exist")
    import pyogrio

    try:
        return {str(name) for name, _ in pyogrio.list_layers(path)}
    except Exception as exc:  # GDAL's own error types
        raise SapperError(f"cannot read {path}: {str(exc).strip() or type(exc).__name__}") from None


def _file_ids(prep: Prepared) -> dict[str, str]:
    """The file's id of each row -> the row's key: how the file's links are to be read."""
    column = prep.source.columns.get("id")
    if column is None:
        return {}
    return {text: key for value, key in zip(plain(column), prep.keys) if (text := key_text(value)) and key}


def _check_links_agree(prep: Prepared, ids_in_file: dict[str, dict[str, str]]) -> None:
    """Each link's old id and key must name the same record of the linked layer in this file."""
    for target, kind in LINKS.get(prep.lay.name, {}).items():
        linked = ids_in_file.get(find_layer(kind).name)
        if linked is None or target not in prep.plan.old_ids:
            continue
        olds = plain(prep.source.columns[prep.plan.old_ids[target]])
        found: dict[int, str] = {}
        for i, (old, key) in enumerate(zip(olds, prep.link_keys[target])):
            text = key_text(old)
            if text is None or key is None:
                continue
            expected: Any = linked.get(text)
            if expected is None:
                found[i] = f"{target} {text} names a {kind} that is not in this file"
            elif expected != key:
                found[i] = (
                    f"{target} {text} is {kind} {expected!r} in this file, but {prep.plan.links[target]} is {key!r}"
                )
        prep.add_problems(found, about=prep.ref)
