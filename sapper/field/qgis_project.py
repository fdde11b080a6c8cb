"""The QGIS project (.qgs) of a field package, written as XML so no QGIS is needed to pack.

Hazards follow IMSMA's symbology (IMSMA wiki, "Symbology": CHA fill #FF0000, SHA fill #F4A718,
50 % transparent); every other colour is the web map's (server/static/ui/colours.js), so a team
sees on its tablet what the office sees in the browser. The register's vocabularies become value
lists (ValueMap widgets): QField offers only the terms the register takes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from sapper.field.pack_layers import LAYERS, VALUE_LISTS, PackLayer
from sapper.field.xlsform import term_label

# colours.js HAZARD: (fill, stroke, opacity, outline style)
HAZARD_STYLE = {
    "suspected": ("#F4A718", "#a86f00", 0.5, "solid"),
    "confirmed": ("#FF0000", "#a00000", 0.5, "solid"),
    "in_clearance": ("#FF0000", "#4a0000", 0.5, "dash"),
    "suspended": ("#FF0000", "#555555", 0.2, "dot"),
    "released": ("#1a9850", "#1a9850", 0.0, "dot"),
}
# colours.js ITEM: (QGIS marker shape, colour)
ITEM_STYLE = {
    "ap_mine": ("triangle", "#6a3d9a"),
    "at_mine": ("triangle", "#3f007d"),
    "ied_victim_operated": ("diamond", "#000000"),
    "ied_command_operated": ("diamond", "#525252"),
    "ied_time": ("diamond", "#969696"),
    "booby_trap": ("square", "#8c510a"),
    "uxo": ("circle", "#2166ac"),
    "axo": ("circle", "#01665e"),
}
PROGRESS = ("#00bcd4", "#006064")  # colours.js PROGRESS: the land a report covers
BUFFER = "#1f5fbf"  # colours.js BUFFER
SECTOR = ("#777777", "#333333")  # colours.js teamColour() without a team
GEOMETRY_WORD = {"MultiPolygon": "Polygon", "MultiLineString": "Line", "Point": "Point"}


def rgba(colour: str, opacity: float = 1.0) -> str:
    """'#RRGGBB' as QGIS writes a colour: 'r,g,b,a'."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"{r},{g},{b},{round(opacity * 255)}"


def _options(parent: ET.Element, values: dict[str, str]) -> None:
    box = ET.SubElement(parent, "Option", type="Map")
    for name, value in values.items():
        ET.SubElement(box, "Option", type="QString", name=name, value=value)


def _symbol(parent: ET.Element, name: str, kind: str, layer_class: str, values: dict[str, str]) -> None:
    symbol = ET.SubElement(parent, "symbol", type=kind, name=name, alpha="1", clip_to_extent="1", force_rhr="0")
    _options(ET.SubElement(symbol, "layer", {"class": layer_class, "pass": "0", "enabled": "1", "locked": "0"}), values)


def fill(fill_colour: str, stroke: str, opacity: float, style: str = "solid") -> tuple[str, str, dict[str, str]]:
    values = {"color": rgba(fill_colour, opacity), "outline_color": rgba(stroke), "outline_style": style}
    return "fill", "SimpleFill", {**values, "outline_width": "0.5", "style": "solid" if opacity else "no"}


def marker(shape: str, colour: str) -> tuple[str, str, dict[str, str]]:
    return (
        "marker",
        "SimpleMarker",
        {"name": shape, "color": rgba(colour), "outline_color": "255,255,255,255"} | {"size": "3"},
    )


def line(colour: str) -> tuple[str, str, dict[str, str]]:
    return "line", "SimpleLine", {"line_color": rgba(colour), "line_width": "0.4"}


def _categorised(parent: ET.Element, field: str, styles: dict[str, tuple[str, str, dict[str, str]]]) -> None:
    renderer = ET.SubElement(parent, "renderer-v2", type="categorizedSymbol", attr=field, symbollevels="0")
    categories = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for n, (value, (kind, cls, values)) in enumerate(styles.items()):
        ET.SubElement(categories, "category", value=value, symbol=str(n), label=label(value), render="true")
        _symbol(symbols, str(n), kind, cls, values)


def _single(parent: ET.Element, style: tuple[str, str, dict[str, str]]) -> None:
    renderer = ET.SubElement(parent, "renderer-v2", type="singleSymbol", symbollevels="0")
    kind, cls, values = style
    _symbol(ET.SubElement(renderer, "symbols"), "0", kind, cls, values)


def label(value: str) -> str:
    return term_label(value)  # as the field forms write it


def _renderer(parent: ET.Element, lay: PackLayer) -> None:
    if lay.name == "hazards":
        _categorised(parent, "status", {k: fill(f, s, o, d) for k, (f, s, o, d) in HAZARD_STYLE.items()})
    elif lay.name == "items":
        _categorised(parent, "category", {k: marker(shape, c) for k, (shape, c) in ITEM_STYLE.items()})
    elif lay.name == "reports":
        _single(parent, fill(PROGRESS[0], PROGRESS[1], 0.5))
    elif lay.name == "site_buffers":
        _single(parent, fill(BUFFER, BUFFER, 0.0, "dash"))
    elif lay.name == "protected_sites":
        _single(parent, fill(BUFFER, BUFFER, 0.3))
    elif lay.name == "plan_lanes":
        _single(parent, line(SECTOR[1]))
    else:
        _single(parent, fill(SECTOR[0], SECTOR[1], 0.15, "dash"))


def _value_maps(parent: ET.Element, lay: PackLayer) -> None:
    config = ET.SubElement(parent, "fieldConfiguration")
    for name in lay.fields:
        widget = ET.SubElement(ET.SubElement(config, "field", name=name, configurationFlags="None"), "editWidget")
        vocabulary = VALUE_LISTS.get(name)
        if vocabulary is None:
            widget.set("type", "TextEdit" if lay.fields[name] == "str" else "Range")
            ET.SubElement(ET.SubElement(widget, "config"), "Option")
            continue
        widget.set("type", "ValueMap")
        top = ET.SubElement(ET.SubElement(widget, "config"), "Option", type="Map")
        entries = ET.SubElement(top, "Option", type="List", name="map")
        for term in vocabulary:
            ET.SubElement(ET.SubElement(entries, "Option", type="Map"), "Option", type="QString").attrib.update(
                name=label(term.value), value=term.value
            )


def _srs(parent: ET.Element) -> None:
    ref = ET.SubElement(ET.SubElement(parent, "srs"), "spatialrefsys")
    for tag, text in (("proj4", "+proj=longlat +datum=WGS84 +no_defs"), ("srid", "4326"), ("authid", "EPSG:4326")):
        ET.SubElement(ref, tag).text = text
    ET.SubElement(ref, "description").text = "WGS 84"
    ET.SubElement(ref, "geographicflag").text = "true"


def _map_layer(parent: ET.Element, lay: PackLayer, gpkg: str) -> None:
    word = GEOMETRY_WORD[lay.geometry_type]
    node = ET.SubElement(parent, "maplayer", type="vector", geometry=word, wkbType=lay.geometry_type)
    node.set("readOnly", "0" if lay.editable else "1")
    ET.SubElement(node, "id").text = f"sapper_{lay.name}"
    ET.SubElement(node, "datasource").text = f"./{gpkg}|layername={lay.name}"
    ET.SubElement(node, "layername").text = label(lay.name)
    _srs(node)
    ET.SubElement(node, "provider", encoding="UTF-8").text = "ogr"
    _renderer(node, lay)
    _value_maps(node, lay)
    ET.SubElement(node, "layerOpacity").text = "1"


# drawn top first: what the team adds above what it was given
ORDER = ["items", "reports", "hazards", "plan_lanes", "plan_sectors", "site_buffers", "protected_sites"]


def project_xml(gpkg: str, title: str) -> ET.ElementTree:
    root = ET.Element("qgis", version="3.22.0", projectname=title)
    ET.SubElement(root, "title").text = title
    crs = ET.SubElement(root, "projectCrs")
    _srs(crs)
    crs.append(crs.find("srs/spatialrefsys"))  # type: ignore[arg-type]
    crs.remove(crs.find("srs"))  # type: ignore[arg-type]
    tree = ET.SubElement(root, "layer-tree-group")
    layers = sorted(LAYERS, key=lambda lay: ORDER.index(lay.name))
    for lay in layers:
        ET.SubElement(
            tree, "layer-tree-layer", id=f"sapper_{lay.name}", name=label(lay.name), providerKey="ogr",
            source=f"./{gpkg}|layername={lay.name}", checked="Qt::Checked", expanded="1",
        )  # fmt: skip
    holder = ET.SubElement(root, "projectlayers")
    for lay in layers:
        _map_layer(holder, lay, gpkg)
    properties = ET.SubElement(root, "properties")
    paths = ET.SubElement(properties, "Paths")
    ET.SubElement(paths, "Absolute", type="bool").text = "false"
    ET.indent(root)
    return ET.ElementTree(root)


def write_project(path: Path, gpkg: str, title: str) -> None:
    """The project next to its GeoPackage, which it names by a relative path (the folder moves to the tablet)."""
    with path.open("wb") as out:
        out.write(b"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n")
        project_xml(gpkg, title).write(out, encoding="utf-8", xml_declaration=False)
