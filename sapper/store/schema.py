"""Layers of the register, derived from the model's dataclasses.

One source of truth: a record's fields are the columns of its layer, so adding a
field to a dataclass adds the column on both backends.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import Enum
from functools import cached_property

from shapely.geometry.base import BaseGeometry

from sapper.i18n import N_
from sapper.model import plan as p
from sapper.model import qc
from sapper.model import records as r
from sapper.model.enums import Vocabulary
from sapper.model.errors import Problem

# Column kinds, mapped to SQL types by each backend.
TEXT, INTEGER, REAL, BOOLEAN, DATE, DATETIME, GEOMETRY = (
    "text",
    "integer",
    "real",
    "boolean",
    "date",
    "datetime",
    "geometry",
)


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    vocabulary: type[Vocabulary] | None = None  # for enum and enum-list columns
    is_list: bool = False
    nullable: bool = True


@dataclass(frozen=True)
class Layer:
    """A table of the register: its name, record type and geometry type (OGC name)."""

    name: str
    kind: str  # the word users type: hazard, item, site...
    record: type[r.Record]
    geometry_type: str | None  # MULTIPOLYGON, POINT, GEOMETRY or None for attributes
    title: str

    @cached_property
    def columns(self) -> tuple[Column, ...]:
        hints = typing.get_type_hints(self.record)
        return tuple(_column(f.name, hints[f.name]) for f in fields(self.record) if f.name != "id")

    @cached_property
    def attribute_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.kind != GEOMETRY)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        known = ", ".join(c.name for c in self.columns)
        raise KeyError(
            Problem(N_("{kind} has no field {name!r} (fields: {known})"), kind=self.kind, name=name, known=known)
        )


def _column(name: str, hint: object) -> Column:
    nullable = False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        nullable, hint = True, args[0]
    if typing.get_origin(hint) is tuple:
        return Column(name, TEXT, typing.get_args(hint)[0], is_list=True)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return Column(name, TEXT, hint, nullable=nullable)
    kinds: dict[object, str] = {
        str: TEXT,
        int: INTEGER,
        float: REAL,
        bool: BOOLEAN,
        date: DATE,
        datetime: DATETIME,
        BaseGeometry: GEOMETRY,
    }
    return Column(name, kinds[hint], nullable=nullable)


LAYERS: tuple[Layer, ...] = (
    Layer("hazards", "hazard", r.Hazard, "MULTIPOLYGON", "Hazard areas (SHA/CHA)"),
    Layer("items", "item", r.Item, "POINT", "Explosive ordnance items"),
    Layer("protected_sites", "site", r.ProtectedSite, "GEOMETRY", "Protected sites"),
    Layer("teams", "team", r.Team, "POINT", "Teams and assets (home base)"),
    Layer("activities", "activity", r.Activity, None, "Activities (tasks)"),
    Layer("reports", "report", r.Report, "MULTIPOLYGON", "Daily progress reports"),
    Layer("releases", "release", r.Release, "MULTIPOLYGON", "Land released (cancelled, reduced, cleared)"),
    Layer("plans", "plan", p.Plan, None, "Plans made by sapper plan (number = version)"),
    Layer("plan_sectors", "plan_sector", p.PlanSector, "MULTIPOLYGON", "Plan: work sectors, method, team and dates"),
    Layer("plan_lanes", "plan_lane", p.PlanLane, "GEOMETRY", "Plan: lanes of each sector in driving order"),
    Layer("plan_assignments", "assignment", p.PlanAssignment, None, "Plan: team-days (team, sector, day, hours)"),
    Layer("plan_priorities", "priority", p.PlanPriority, None, "Plan: hazard priorities with their breakdown"),
    Layer("plan_days", "plan_day", p.PlanDay, None, "Plan: work and area still to do each day (burn-down)"),
    Layer("qc_plans", "qc_plan", qc.QcPlan, None, "Quality control (IMAS 09.20): post-clearance inspection plans"),
    Layer("qc_samples", "qc_sample", qc.QcSample, "MULTIPOLYGON", "Quality control: sample units and their results"),
    Layer("qa_visits", "qa_visit", qc.QaVisit, None, "Quality assurance visits to sites and teams"),
)
AUDIT_TABLE = "audit_log"
ATTACHMENTS_TABLE = "sapper_attachments"  # photos and PDFs of records (sapper.store.attachments)

# Geometry types a layer accepts (OGC names as shapely spells them).
ACCEPTS: dict[str | None, tuple[str, ...]] = {
    "MULTIPOLYGON": ("Polygon", "MultiPolygon"),
    "POINT": ("Point",),
    "GEOMETRY": ("Point", "Polygon", "MultiPolygon", "LineString", "MultiLineString"),
    None: (),
}


def layer(key: str | type[r.Record]) -> Layer:
    """Find a layer by kind ('hazard'), table name ('hazards') or record type."""
    for candidate in LAYERS:
        if key in (candidate.kind, candidate.name, candidate.record):
            return candidate
    known = ", ".join(lay.kind for lay in LAYERS)
    raise KeyError(Problem(N_("unknown layer {key!r} (known: {known})"), key=key, known=known))
