"""How records, histories and summaries look in a terminal."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.table import Table
from shapely.geometry.base import BaseGeometry

from sapper.cli.record_words import field_word, kind_word, layer_title
from sapper.i18n import N_, _, translate, vocabulary
from sapper.model.enums import ItemState
from sapper.model.geometry import area_m2
from sapper.model.records import Record
from sapper.store.audit_rows import AuditEntry
from sapper.store.schema import Layer
from sapper.store.summary import Summary

WIDE = 100  # a terminal at least this wide gets the optional columns of the summary tables

# Columns shown by `sapper list`, per layer; `sapper show` shows every field.
LIST_COLUMNS: dict[str, tuple[str, ...]] = {
    "hazards": ("name", "hazard_class", "status", "contamination", "land_use", "priority", "original_area_m2"),
    "items": ("category", "state", "hazard_id", "model", "found_on"),
    "protected_sites": ("name", "kind", "buffer_m", "forbidden_methods", "heritage_value"),
    "teams": ("name", "kind", "personnel", "lane_width_m", "capabilities", "organisation"),
    "activities": ("activity_type", "hazard_id", "team_id", "status", "start_on", "end_on"),
    "reports": ("report_date", "activity_type", "hazard_id", "team_id", "area_m2", "items_found"),
    "releases": ("hazard_id", "route", "released_on", "area_m2", "team_id", "depth_cm"),
}


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, BaseGeometry):
        return describe_geometry(value)
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def describe_geometry(geom: BaseGeometry) -> str:
    if geom.is_empty:
        return _("{type} (empty)", type=geom.geom_type)
    if geom.geom_type in ("Point",):
        return f"POINT ({geom.x:.6f} {geom.y:.6f})"
    centre = f"{geom.centroid.x:.5f} {geom.centroid.y:.5f}"
    if "Polygon" in geom.geom_type:
        area = format(area_m2(geom) / 10_000, ",.3f")
        return _("{type}, {area} ha, centre {centre}", type=geom.geom_type, area=area, centre=centre)
    return _("{type}, centre {centre}", type=geom.geom_type, centre=centre)


def compact_table(title: str, header: bool = True) -> Table:
    """A table that fits an 80-column terminal: a rule under the header, no side borders,
    two spaces between columns (a boxed table spends three characters per column); a blank
    line above its title sets it apart from the one before."""
    return Table(
        title="\n" + title,
        min_width=cell_len(title),
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        show_header=header,
        padding=(0, 1),
        collapse_padding=True,
    )


def room_for(width: int, headers: Sequence[str], rows: Sequence[Sequence[str]], flexible: int) -> int:
    """What a compact table of ``width`` columns leaves for column ``flexible`` once every other
    column has its widest cell: each column costs its text plus two (padding and separator)."""
    fixed = sum(max([cell_len(h), *(cell_len(r[i]) for r in rows)]) for i, h in enumerate(headers) if i != flexible)
    return width - fixed - 2 * len(headers)


def shorten(text: str, width: int) -> str:
    """Cut ``text`` to ``width``: first a remark in brackets ("Ancient city zone 3…"), then the
    middle, keeping the last words whole ("Mine detect…team 1"): names of teams and hazards
    differ most at their two ends."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    if " (" in text:
        text = text[: text.index(" (")] + "…"
        if cell_len(text) <= width:
            return text
    words = text.split(" ")
    tail = ""
    for i in range(len(words) - 1, 0, -1):
        candidate = " ".join(words[i:])
        if cell_len(candidate) > (width - 1) // 2:
            break
        tail = candidate
    head = text[: width - 1 - cell_len(tail)]
    while cell_len(head) > width - 1 - cell_len(tail):
        head = head[:-1]
    return head.rstrip() + "…" + tail


def records_table(lay: Layer, records: Sequence[Record]) -> Table:
    columns = LIST_COLUMNS[lay.name]
    table = Table(title=f"{layer_title(lay)}: {len(records)}", title_justify="left")
    table.add_column(field_word("id"), justify="right")
    for name in columns:
        table.add_column(
            field_word(name), justify="right" if name.endswith(("_m2", "_m", "_id", "priority")) else "left"
        )
    for rec in records:
        table.add_row(str(rec.id), *(text(getattr(rec, name)) for name in columns))
    return table


def record_table(lay: Layer, rec: Record, extra: dict[str, str] | None = None) -> Table:
    table = Table(title=f"{kind_word(lay)} {rec.id}", show_header=False, title_justify="left")
    table.add_column(_("field"), style="bold")
    table.add_column(_("value"))
    table.add_row(field_word("id"), str(rec.id))
    for col in lay.columns:
        table.add_row(field_word(col.name), text(getattr(rec, col.name)))
    for key, value in (extra or {}).items():
        table.add_row(key, value)
    return table


def history_table(lay: Layer, record_id: int, entries: Sequence[AuditEntry]) -> Table:
    table = Table(title=_("History of {kind} {id}", kind=kind_word(lay), id=record_id), title_justify="left")
    for name in (_("when (UTC)"), _("who"), _("action"), _("version"), _("changes")):
        table.add_column(name)
    for entry in entries:
        action = translate(ACTIONS.get(entry.action, entry.action))
        table.add_row(entry.at.strftime("%Y-%m-%d %H:%M:%S"), entry.user, action, str(entry.version), _changes(entry))
    return table


# What the audit log's actions are called in the history table.
ACTIONS = {"insert": N_("insert"), "update": N_("update"), "delete": N_("delete")}


def _changes(entry: AuditEntry) -> str:
    if entry.action == "insert":
        return _("created")
    if entry.action == "delete":
        kept = {k: v for k, v in (entry.before or {}).items() if k != "geometry" and v not in (None, "")}
        return _("deleted; last state kept in the log: {state}", state=json.dumps(kept, ensure_ascii=False)[:300])
    before, after = entry.before or {}, entry.after or {}
    lines = []
    for key in after:
        if key == "version" or before.get(key) == after.get(key):
            continue
        if key == "geometry":
            lines.append(_("geometry changed"))
        else:
            lines.append(f"{field_word(key)}: {before.get(key)!r} -> {after.get(key)!r}")
    return "\n".join(lines) or _("no field changed")


# Item states as short column headers, in the order an item goes through them.
STATE_HEADERS = {
    "found": N_("found"),
    "rendered_safe": N_("made safe"),
    "removed": N_("removed"),
    "destroyed_in_place": N_("destroyed"),
}


def summary_tables(s: Summary) -> list[Table]:
    """`sapper summary`: hazards by status, land by release route, items, teams; fits 80 columns."""
    hazards = compact_table(_("Hazard areas by status"))
    for i, name in enumerate((_("status"), _("hazards"), _("original ha"), _("still hazardous ha"))):
        hazards.add_column(name, justify="left" if i == 0 else "right", no_wrap=True)
    for status, line in s.hazards.items():
        if line.count:
            hazards.add_row(status.value, f"{line.count:,}", _ha(line.original_m2), _ha(line.hazardous_m2))
    total = sum(x.count for x in s.hazards.values())
    hazards.add_row(_("total"), f"{total:,}", _ha(s.land.original), _ha(s.land.hazardous), style="bold")

    land = compact_table(_("Land release (IMAS 07.11)"))
    for i, name in enumerate((_("route"), _("ha"), _("share"))):
        land.add_column(name, justify="left" if i == 0 else "right", no_wrap=True)
    routes = (
        (_("still hazardous"), s.land.hazardous),
        (vocabulary.label("cancelled"), s.land.cancelled),
        (vocabulary.label("reduced"), s.land.reduced),
        (vocabulary.label("cleared"), s.land.cleared),
    )
    for route, m2 in routes:
        land.add_row(route, _ha(m2), f"{m2 / s.land.original if s.land.original else 0.0:.1%}")
    land.add_row(_("original"), _ha(s.land.original), "100.0%", style="bold")

    items = compact_table(_("Explosive items: {n}", n=format(s.item_total, ",")))
    found = {st for _category, st in s.items}
    states = [st for st in ItemState if st in found]
    items.add_column(_("category"), no_wrap=True)
    for st in states:
        items.add_column(translate(STATE_HEADERS.get(st.value, st.value)), justify="right", no_wrap=True)
    items.add_column(_("total"), justify="right", no_wrap=True)
    for cat in sorted({c for c, _state in s.items}, key=lambda c: c.value):
        counts = [s.items.get((cat, st), 0) for st in states]
        items.add_row(cat.value, *(f"{n:,}" for n in counts), f"{sum(counts):,}")

    teams = compact_table(_("Teams and assets; protected sites: {n}", n=s.protected_sites))
    for i, name in enumerate((_("kind"), _("teams"), _("personnel"))):
        teams.add_column(name, justify="left" if i == 0 else "right", no_wrap=True)
    for kind, (n, people) in sorted(s.teams.items()):
        teams.add_row(kind, f"{n:,}", f"{people:,}")
    return [hazards, land, items, teams]


def _ha(m2: float) -> str:
    return f"{m2 / 10_000:,.2f}"
