"""Import a file into one layer of the register: all rows or none.

The whole import is one transaction. Rows are checked first, on whole columns (values,
geometry, ids, links), then the register applies its own rules as records are added; a
bad row stops the import with an error naming the row and the problem, and everything
is rolled back. With ``skip_invalid`` the good rows go in and the bad ones are listed
in a rejects file, written before the commit so that a rejects file that cannot be
written leaves the register unchanged. Rows whose source key is already in the register
update their record (through ``Register.update``: state machines and audit log apply) if
their content changed, and are left alone otherwise, so importing the same file twice
adds nothing. A file sapper exported is taken as records a register kept (``restore``):
links follow the linked records' keys, not the other register's ids (``identity``), and a
hazard keeps its original area and, released, its lack of polygon.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from sapper.field.exports import is_field_export
from sapper.formats.identity import keyless_by_identity
from sapper.formats.keys import HASH_PREFIX, content_keys, key_text
from sapper.formats.mapping import KEPT_BY_REGISTER, Mapping, load_mapping, mapping_from_dict
from sapper.formats.prepare import Prepared, prepare
from sapper.formats.rejects import default_rejects_path, write_rejects
from sapper.formats.resolve import is_export, resolve
from sapper.formats.source import read_source
from sapper.formats.table import Source
from sapper.formats.values import plain
from sapper.model.errors import InvalidRecord, SapperError
from sapper.store import rules
from sapper.store.register import Register
from sapper.store.schema import Layer
from sapper.store.schema import layer as find_layer

BATCH_ROWS = 50_000  # new records per write: checked and written as columns, progress told between
LOOKUP_CHUNK = 1_000
# IMSMA: a report only updates a record if its date of information is later than the
# one held (IMSMA data management rules, see DESIGN.md "Reference figures").
DATE_OF_INFORMATION = {"hazards": "reported_on"}

Progress = Callable[[str, int, int], None]  # (what is happening, done, total)


class BadRows(SapperError):
    """Rows that cannot be imported; nothing was written."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        label, first = problems[0]
        message = f"{label}: {first}"
        if len(problems) > 1:
            more = len(problems) - 1
            # at least: the checks stop at the first stage that finds bad rows (words and dates before ranges)
            message += f" (and at least {more} more bad row{'s' if more > 1 else ''})"
        message += (
            "; nothing was imported (--skip-invalid imports the good rows and lists the bad ones in a file;"
            " with --dry-run it lists every bad row and writes nothing)"
        )
        super().__init__(message)
        self.problems = problems


@dataclass
class ImportResult:
    layer: str
    path: Path
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0  # older than the information held (IMSMA rule), left as they were
    rejected: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)  # (row label, problem)
    ignored_fields: list[str] = field(default_factory=list)
    rejects_path: Path | None = None
    dry_run: bool = False

    def counts(self) -> str:
        return (
            f"{self.added:,} added, {self.updated:,} updated, {self.unchanged:,} unchanged, "
            f"{self.stale:,} stale, {self.rejected:,} rejected"
        )


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


def import_file(
    reg: Register,
    path: str | Path,
    layer: str,
    mapping: Mapping | dict[str, Any] | str | Path | None = None,
    skip_invalid: bool = False,
    rejects: str | Path | None = None,
    *,
    crs: str | None = None,
    source_layer: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    encoding: str | None = None,
) -> ImportResult:
    """Import ``path`` into ``layer``; see the module docstring for the rules."""
    lay = _layer(layer)
    the_mapping = as_mapping(mapping)
    if the_mapping.layer and _layer(the_mapping.layer) is not lay:
        raise SapperError(f"the mapping is for {the_mapping.layer}, not {lay.name}")
    if is_field_export(Path(path)):  # KoboToolbox or ODK Central: submissions, repeat groups as tables
        from sapper.field.imports import export_source  # the field forms' builders, only when needed

        source = export_source(reg, Path(path), lay, the_mapping, source_layer)
    else:
        source = read_source(path, source_layer, prefer=lay.name, encoding=encoding)
    prep = prepare_source(source, lay, the_mapping, crs, progress)
    result = ImportResult(layer=lay.name, path=Path(path), rows=len(source), ignored_fields=prep.plan.ignored)
    result.dry_run = dry_run
    target = (Path(rejects) if rejects else default_rejects_path(path)) if skip_invalid and not dry_run else None
    try:
        with reg.transaction():
            write_prepared(reg, prep, result, skip_invalid, progress)
            if dry_run:
                raise _DryRun
            if target is not None:  # before the commit: rejects that cannot be written undo the import
                messages = {i: prep.problem(i) for i in prep.problems}
                result.rejects_path = write_rejects(target, source, sorted(prep.problems), messages)
    except _DryRun:
        pass
    except BaseException:
        if result.rejects_path is not None:  # written, but the commit failed: nothing was imported
            result.rejects_path.unlink(missing_ok=True)
        raise
    return result


def prepare_source(
    source: Source, lay: Layer, mapping: Mapping, crs: str | None, progress: Progress | None = None
) -> Prepared:
    """A file's rows checked for ``lay``: every check that needs no register."""
    plan = resolve(source, mapping, lay) if lay.name != "releases" or is_export(source) else None
    if plan is None or (lay.name == "releases" and not plan.restore):
        raise SapperError(
            "land is released with `sapper release` (it cuts the hazard's polygon), not imported "
            "(releases exported by sapper, with their keys, can be imported back)"
        )
    _tell(progress, "checking rows", 0, len(source))
    return prepare(source, plan, mapping, lay, crs)


def as_mapping(mapping: Mapping | dict[str, Any] | str | Path | None) -> Mapping:
    if mapping is None:
        return Mapping()
    if isinstance(mapping, Mapping):
        return mapping
    if isinstance(mapping, dict):
        return mapping_from_dict(mapping)
    return load_mapping(mapping)


def _layer(layer: str) -> Layer:
    try:
        return find_layer(layer)
    except KeyError as exc:
        raise SapperError(exc.args[0]) from None


def _tell(progress: Progress | None, what: str, done: int, total: int) -> None:
    if progress is not None:
        progress(what, done, total)


def write_prepared(
    reg: Register, prep: Prepared, result: ImportResult, skip_invalid: bool, progress: Progress | None
) -> None:
    """Add and update the rows' records; call inside a transaction (raising rolls everything back)."""
    _resolve_links(reg, prep)
    held = _held_records(reg, prep)
    new_rows, updates = [], []
    date_field = DATE_OF_INFORMATION.get(prep.lay.name)
    for i, key in enumerate(prep.keys):
        if i in prep.problems:
            continue
        before = held.get(key) if key is not None else None
        if before is None:
            new_rows.append(i)
            continue
        values = prep.row_values(i)
        changes = {f: v for f, v in values.items() if f not in KEPT_BY_REGISTER and not same(getattr(before, f), v)}
        if not changes:
            result.unchanged += 1
        elif date_field and _is_stale(getattr(before, date_field), values.get(date_field)):
            result.stale += 1
        else:
            updates.append((i, before, changes))
    _stop_if_bad(prep, skip_invalid)
    total = len(new_rows) + len(updates)
    result.added = _add_new(reg, prep, new_rows, skip_invalid, lambda done: _tell(progress, "adding", done, total))
    for done, (i, before, changes) in enumerate(updates):
        if done % 1000 == 0:
            _tell(progress, "updating", len(new_rows) + done, total)
        try:
            with reg.transaction():
                reg.update(dataclasses.replace(before, **changes))
            result.updated += 1
        except InvalidRecord as exc:
            prep.add_problems({i: str(exc)})
            if not skip_invalid:
                break
    _stop_if_bad(prep, skip_invalid)  # inside the transaction: raising rolls everything back
    result.problems = [(prep.source.label(i), prep.problem(i)) for i in sorted(prep.problems)]
    result.rejected = len(result.problems)
    _tell(progress, "done", total, total)


def _stop_if_bad(prep: Prepared, skip_invalid: bool) -> None:
    if prep.problems and not skip_invalid:
        raise BadRows([(prep.source.label(i), prep.problem(i)) for i in sorted(prep.problems)])


def _add_new(reg: Register, prep: Prepared, rows: list[int], skip_invalid: bool, tell: Callable[[int], None]) -> int:
    """Add the new rows' records in batches; the register's own checks (ranges, links, protected
    sites) apply, on whole columns, and name each row they refuse. Without ``skip_invalid`` the
    import stops after a batch with refused rows (the caller then rolls everything back)."""
    added = 0
    for start in range(0, len(rows), BATCH_ROWS):
        if prep.problems and not skip_invalid:
            break
        tell(start)
        chunk = rows[start : start + BATCH_ROWS]
        done = reg.add_batch(prep.batch(chunk), restore=prep.plan.restore, keep_going=True)
        added += len(done.ids)
        prep.add_problems({chunk[i]: error.problem for i, error in done.refused.items()}, about=prep.ref)
    return added


def same(held: Any, incoming: Any) -> bool:
    """Equal values; geometries equal to 1e-9 degree (0.1 mm) whatever their ring order or start
    (a Shapefile turns rings clockwise, GeoJSON and KML keep 15 significant digits)."""
    if isinstance(held, BaseGeometry) and isinstance(incoming, BaseGeometry):
        return bool(shapely.normalize(held).equals_exact(shapely.normalize(incoming), 1e-9))
    return bool(held == incoming)


def _is_stale(held: Any, incoming: Any) -> bool:
    """Only information dated later than what is held replaces it."""
    return held is not None and (incoming is None or incoming <= held)


def _resolve_links(reg: Register, prep: Prepared) -> None:
    """Link keys become record ids; link ids must name records that exist."""
    links = rules.LINKS.get(prep.lay.name, {})
    for target, keys in prep.link_keys.items():
        kind = find_layer(links[target])
        wanted = sorted({k for k in keys if k is not None})
        found: dict[str, int] = {}
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            found.update(reg.backend.ids_by_source_key(kind, wanted[start : start + LOOKUP_CHUNK]))
        if any(k.startswith(HASH_PREFIX) and k not in found for k in wanted):
            # A record entered by hand went out with a key made from its content (``identity``).
            found.update({k: rec.id for k, rec in keyless_by_identity(reg, kind).items() if k not in found})
        prep.values[target] = [None if k is None else found.get(k) for k in keys]
        if target in prep.plan.old_ids:  # a sapper export: name the record, the link and both ids
            olds = plain(prep.source.columns[prep.plan.old_ids[target]])
            missing = {
                i: f"{target} {_old(olds[i])}names {kind.kind} {k!r} ({prep.plan.links[target]}), "
                f"which is neither in this register nor earlier in this import"
                for i, k in enumerate(keys)
                if k and k not in found
            }
            prep.add_problems(missing, about=prep.ref)
            continue
        missing = {i: f"{target}: no {kind.kind} has the id {k!r}" for i, k in enumerate(keys) if k and k not in found}
        prep.add_problems(missing)
    for target, kind_name in links.items():
        if target not in prep.values or target in prep.link_keys:
            continue
        kind = find_layer(kind_name)
        column = prep.values[target]
        wanted_ids = sorted({v for v in column if isinstance(v, int)})
        existing = reg.backend.existing_ids(kind, wanted_ids)
        prep.add_problems(
            {
                i: f"{target} names {kind.kind} {v}, which does not exist"
                for i, v in enumerate(column)
                if isinstance(v, int) and v not in existing
            }
        )


def _held_records(reg: Register, prep: Prepared) -> dict[str, Any]:
    """Records already in the register for the rows' keys (none in an empty layer: a first import
    looks nothing up). Keys are looked up first, and only the records found are read."""
    if not reg.list(prep.lay.kind, limit=1):
        return {}
    problems = prep.problems
    keys = sorted(
        {k for i, k in enumerate(prep.keys) if k is not None and i not in problems}
        if problems
        else set(prep.keys) - {None}
    )
    found: list[str] = []
    for start in range(0, len(keys), LOOKUP_CHUNK):
        found += reg.backend.ids_by_source_key(prep.lay, keys[start : start + LOOKUP_CHUNK])
    held: dict[str, Any] = {}
    for start in range(0, len(found), LOOKUP_CHUNK):
        for rec in reg.list(prep.lay.kind, where={"source_key": found[start : start + LOOKUP_CHUNK]}):
            held[rec.source_key] = rec
    if any(k.startswith(HASH_PREFIX) and k not in held for k in keys):
        # Records entered by hand went out with a key made from their content (``identity``).
        wanted = set(keys)
        held.update({k: rec for k, rec in keyless_by_identity(reg, prep.lay).items() if k in wanted and k not in held})
    if not prep.link_keys and any(k.startswith(HASH_PREFIX) and k not in held for k in keys):
        held.update({k: rec for k, rec in _keyless_by_content(reg, prep).items() if k not in held})
    return held


def _old(value: Any) -> str:
    text = key_text(value)
    return f"{text} " if text is not None else ""


def _keyless_by_content(reg: Register, prep: Prepared) -> dict[str, Any]:
    """Records entered by hand (no source key) under the content key a row with the same content
    gets, so a file exported from this register and imported back adds nothing."""
    keyless = reg.list(prep.lay.kind, where={"source_key": None})
    if not keyless:
        return {}
    columns = {name: [getattr(rec, name) for rec in keyless] for name in prep.values}
    geoms = np.empty(len(keyless), dtype=object)
    if prep.geometries is not None:
        geoms[:] = [rec.geometry for rec in keyless]
    return dict(zip(content_keys(columns, geoms), keyless))
