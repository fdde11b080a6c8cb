"""Maps for documents, drawn offline with matplotlib from the register's own geometries.

No tiles come from anywhere: hazards, released land, protected sites with their buffers and
items are drawn in the UTM zone of the area (metres, so a scale bar holds), as a PNG.
Hazard colours follow IMSMA's symbology (IMSMA wiki, "Symbology": CHA fill #FF0000, SHA fill
#F4A718, 50 % transparent); the other colours are the web map's (static/ui/colours.js).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath
from shapely.geometry.base import BaseGeometry

from sapper.i18n import N_, vocabulary
from sapper.i18n.shaping import chart_text
from sapper.model.geometry import metric_epsg_for, to_metric_many

HAZARD_FILL = {"cha": "#FF0000", "sha": "#F4A718"}
RELEASE_FILL = {"cleared": "#1a9850", "reduced": "#91cf60", "cancelled": "#74add1"}
BUFFER, SITE, OUTLINE, FOUND, DISPOSED = "#1f5fbf", "#6b6b6b", "#000000", "#b2182b", "#4d4d4d"
SITE_ALPHA = 0.25  # light: a heritage site can cover the whole map
# QC sample units (IMAS 09.20) by result: outlined so the land under them stays readable, in colours
# apart from the release greens and hazard reds they lie on.
QC_STYLE = {"passed": ("#08306b", "-"), "failed": ("#e7298a", "-"), "pending": ("#542788", ":")}
DANGER = "#d7191c"


@dataclass
class MapLayers:
    """What a document's map shows, in WGS 84; ``outline`` is a boundary drawn with its turning points."""

    hazards: list[tuple[BaseGeometry, str]] = field(default_factory=list)  # geometry, hazard class
    released: list[tuple[BaseGeometry, str]] = field(default_factory=list)  # geometry, route
    sites: list[tuple[BaseGeometry, float]] = field(default_factory=list)  # geometry, buffer in m
    items: list[tuple[BaseGeometry, bool]] = field(default_factory=list)  # point, disposed of
    qc_samples: list[tuple[BaseGeometry, str]] = field(default_factory=list)  # sample unit, result
    danger: list[tuple[BaseGeometry, float]] = field(default_factory=list)  # demolition point, danger radius in m
    outline: BaseGeometry | None = None
    turning_points: Sequence[tuple[float, float]] = ()  # lon, lat, numbered 1, 2, 3 ... on the map


def draw_map(layers: MapLayers, width_in: float = 7.0, height_in: float = 5.0, dpi: int = 150) -> bytes:
    """The map as PNG bytes; the view fits the outline if there is one, else everything drawn."""
    everything = [g for g, _ in layers.hazards + layers.released] + [g for g, _ in layers.sites]
    everything += [g for g, _ in layers.items] + ([layers.outline] if layers.outline is not None else [])
    everything += [g for g, _ in layers.qc_samples] + [g for g, _ in layers.danger]
    everything = [g for g in everything if g is not None and not g.is_empty]
    fig = Figure(figsize=(width_in, height_in), dpi=dpi)  # no pyplot: safe in server threads
    ax = fig.subplots()
    if not everything:
        ax.text(0.5, 0.5, chart_text(N_("nothing to map")), ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return _png(fig)
    # The UTM zone of the outline, else of the middle of everything (its bounding box: the union of
    # thousands of shapes only to find a zone cost a tenth of a second).
    area = layers.outline if layers.outline is not None else shapely.box(*shapely.total_bounds(everything))
    epsg = metric_epsg_for(area)
    legend = _draw(ax, layers, epsg)
    focus = _metric([layers.outline], epsg)[0] if layers.outline is not None else None
    _frame(ax, focus.bounds if focus is not None else _bounds(ax), width_in / height_in)
    _scale_bar(ax)
    zone = epsg % 100
    hemisphere = "N" if epsg < 32700 else "S"
    caption = chart_text(N_("UTM zone {zone} (EPSG:{epsg}), metres; north up"), zone=f"{zone}{hemisphere}", epsg=epsg)
    ax.set_xlabel(caption, fontsize=7)
    ax.legend(handles=legend, loc="upper right", fontsize=6.5, framealpha=0.85)
    return _png(fig)


def _metric(geoms: Sequence[BaseGeometry], epsg: int) -> np.ndarray:
    return to_metric_many(np.asarray(geoms, dtype=object), epsg)


def _draw(ax: Axes, layers: MapLayers, epsg: int) -> list[Patch | Line2D]:
    legend: list[Patch | Line2D] = []
    sites = [(g, b) for g, b in layers.sites if g is not None and not g.is_empty]
    if sites:
        metric = _metric([g for g, _ in sites], epsg)
        zones = [m.buffer(b) for m, (_, b) in zip(metric, sites) if b > 0]
        if zones:
            _fill(ax, zones, face="none", edge=BUFFER, style="--", width=0.8)
            legend.append(Line2D([], [], color=BUFFER, linestyle="--", label=chart_text(N_("site buffer"))))
        areas = [m for m in metric if m.geom_type in ("Polygon", "MultiPolygon")]
        _fill(ax, areas, face=SITE, edge=SITE, alpha=SITE_ALPHA)
        points = [m for m in metric if m.geom_type == "Point"]
        if points:
            ax.plot([p.x for p in points], [p.y for p in points], "s", color=SITE, markersize=3)
        legend.append(Patch(facecolor=SITE, alpha=SITE_ALPHA, label=chart_text(N_("protected site"))))
    for route, colour in RELEASE_FILL.items():
        pieces = [g for g, r in layers.released if r == route and g is not None]
        if pieces:
            _fill(ax, list(_metric(pieces, epsg)), face=colour, edge=colour, alpha=0.8)
            legend.append(
                Patch(
                    facecolor=colour,
                    alpha=0.8,
                    label=chart_text(N_("released: {route}"), route=vocabulary.label(route)),
                )
            )
    for cls, colour in HAZARD_FILL.items():
        shapes = [g for g, c in layers.hazards if c == cls and g is not None and not g.is_empty]
        if shapes:
            _fill(ax, list(_metric(shapes, epsg)), face=colour, edge=colour, alpha=0.5)
            legend.append(Patch(facecolor=colour, alpha=0.5, label=chart_text(N_("hazard ({cls})"), cls=cls.upper())))
    for disposed, colour, name in ((False, FOUND, N_("item found")), (True, DISPOSED, N_("item disposed of"))):
        points = [g for g, d in layers.items if d == disposed and g is not None and not g.is_empty]
        if points:
            xy = shapely.get_coordinates(_metric(points, epsg))
            size = 4.0 if len(points) < 500 else 1.0  # thousands of items must not hide the hazards under them
            ax.scatter(xy[:, 0], xy[:, 1], s=size, marker="x" if disposed else "o", color=colour, linewidths=0.6)
            legend.append(
                Line2D([], [], marker="x" if disposed else "o", color=colour, linestyle="", label=chart_text(name))
            )
    legend += _qc_samples(ax, layers.qc_samples, epsg) + _danger(ax, layers.danger, epsg)
    if layers.outline is not None:
        _fill(ax, [_metric([layers.outline], epsg)[0]], face="none", edge=OUTLINE, width=1.2)
        legend.append(Line2D([], [], color=OUTLINE, label=chart_text(N_("original boundary"))))
        _turning_points(ax, layers.turning_points, epsg)
    return legend


def _qc_samples(ax: Axes, samples: Sequence[tuple[BaseGeometry, str]], epsg: int) -> list[Patch | Line2D]:
    legend: list[Patch | Line2D] = []
    for result, (colour, style) in QC_STYLE.items():
        shapes = [g for g, r in samples if r == result and g is not None and not g.is_empty]
        if shapes:
            _fill(
                ax,
                list(_metric(shapes, epsg)),
                face="none",
                edge=colour,
                style=style,
                width=1.6 if style == "-" else 1.0,
            )
            legend.append(
                Line2D(
                    [],
                    [],
                    color=colour,
                    linestyle=style,
                    label=chart_text(N_("QC sample: {result}"), result=vocabulary.label(result)),
                )
            )
    return legend


def _danger(ax: Axes, demolitions: Sequence[tuple[BaseGeometry, float]], epsg: int) -> list[Patch | Line2D]:
    """The land kept clear for the demolitions: the union of a circle of each one's danger radius
    (the view widens to hold it)."""
    found = [(g, r) for g, r in demolitions if g is not None and not g.is_empty and r > 0]
    if not found:
        return []
    circles = [m.buffer(r, quad_segs=32) for m, (_, r) in zip(_metric([g for g, _ in found], epsg), found)]
    area = [shapely.union_all(circles)]
    _fill(ax, area, face=DANGER, edge="none", alpha=0.07)
    _fill(ax, area, face="none", edge=DANGER, style="-.", width=0.9)
    return [
        Patch(
            facecolor=DANGER,
            alpha=0.07,
            edgecolor=DANGER,
            linestyle="-.",
            label=chart_text(N_("demolition danger area")),
        )
    ]


def _turning_points(ax: Axes, points: Sequence[tuple[float, float]], epsg: int) -> None:
    if not points:
        return
    xy = shapely.get_coordinates(_metric([shapely.MultiPoint(list(points))], epsg))
    ax.plot(xy[:, 0], xy[:, 1], "o", color=OUTLINE, markersize=2.5)
    every = max(1, math.ceil(len(xy) / 40))  # at most about 40 labels stay readable
    for n, (x, y) in enumerate(xy, start=1):
        if (n - 1) % every == 0:
            ax.annotate(str(n), (x, y), xytext=(3, 3), textcoords="offset points", fontsize=6)


def _fill(
    ax: Axes,
    geoms: Sequence[BaseGeometry],
    face: str,
    edge: str,
    alpha: float = 1.0,
    style: str = "-",
    width: float = 0.5,
) -> None:
    """All polygons of one style as one compound path (holes kept), so thousands draw at once."""
    paths = [_path(p) for g in geoms if g is not None for p in getattr(g, "geoms", [g]) if p.geom_type == "Polygon"]
    if not paths:
        return
    patch = PathPatch(MplPath.make_compound_path(*paths), facecolor=face, edgecolor=edge, lw=width, ls=style)
    if face != "none":
        patch.set_alpha(alpha)
    ax.add_artist(patch)  # not add_patch: its limits walk every curve of the path; the vertices are enough
    ax.update_datalim(np.vstack([p.vertices for p in paths]))


def _path(polygon: BaseGeometry) -> MplPath:
    rings = [np.asarray(polygon.exterior.coords)] + [np.asarray(r.coords) for r in polygon.interiors]
    codes = [np.array([MplPath.MOVETO] + [MplPath.LINETO] * (len(r) - 2) + [MplPath.CLOSEPOLY]) for r in rings]
    return MplPath(np.vstack(rings), np.concatenate(codes))


def _bounds(ax: Axes) -> tuple[float, float, float, float]:
    ax.autoscale_view()
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return x0, y0, x1, y1


def _frame(ax: Axes, bounds: tuple[float, float, float, float], aspect: float) -> None:
    """Fit the bounds with a margin, keeping metres square."""
    x0, y0, x1, y1 = bounds
    w, h = max(x1 - x0, 50.0), max(y1 - y0, 50.0)
    w, h = max(w, h * aspect * 0.9), max(h, w / aspect / 0.9)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    ax.set_xlim(cx - 0.55 * w, cx + 0.55 * w)
    ax.set_ylim(cy - 0.55 * h, cy + 0.55 * h)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])


def _scale_bar(ax: Axes) -> None:
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    target = (x1 - x0) / 5
    magnitude = 10 ** math.floor(math.log10(target))
    length = max(step * magnitude for step in (1, 2, 5) if step * magnitude <= target)
    x, y = x0 + 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    ax.plot([x, x + length], [y, y], color="black", lw=2.5, solid_capstyle="butt")
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(x + length / 2, y + 0.015 * (y1 - y0), text, ha="center", va="bottom", fontsize=7)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()
