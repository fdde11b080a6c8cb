// How the map draws each layer with Leaflet: styles from colours.js, item symbols on canvas or SVG.
/* global L */
import { BUFFER, BUILDING_FILL, DISPOSED, HAZARD, ITEM, OUTLINE, PROGRESS, RELEASE, teamColour } from "./colours.js";

export { BUFFER, BUILDING_FILL, DISPOSED, HAZARD, ITEM, OUTLINE, PROGRESS, RELEASE, teamColour };

export function hazardStyle(feature) {
  const s = HAZARD[feature.properties.status] || HAZARD.confirmed;
  return {
    color: s.stroke,
    weight: s.weight || 1.2,
    dashArray: s.dash || null,
    fillColor: s.fill,
    fillOpacity: s.opacity ?? 0.5,
  };
}

export function releaseStyle(feature) {
  const s = RELEASE[feature.properties.route] || RELEASE.cleared;
  return { color: s.fill, weight: 0.8, fillColor: s.fill, fillOpacity: 0.55 };
}

export function progressStyle() {
  return { color: PROGRESS.stroke, weight: 2.5, fillColor: PROGRESS.fill, fillOpacity: 0.35 };
}

export function sectorStyle(feature) {
  return { color: teamColour(feature.properties.team_id), weight: 1.5, fill: false };
}

export function laneStyle(feature) {
  return { color: teamColour(feature.properties.team_id), weight: 1, opacity: 0.9 };
}

export function bufferStyle() {
  return { color: BUFFER.stroke, weight: 1.5, dashArray: "5 4", fillColor: BUFFER.stroke, fillOpacity: 0.06 };
}

export function siteStyle(feature) {
  if (feature.properties.kind === "heritage_site") {
    return { color: OUTLINE.stroke, weight: 1.5, fillColor: OUTLINE.fill, fillOpacity: 0.45 };
  }
  return { color: "#333333", weight: 1, fillColor: BUILDING_FILL, fillOpacity: 0.75 };
}

// A circle marker drawn as another shape, on canvas (thousands of items) or in SVG.
export const Symbol = L.CircleMarker.extend({
  options: { shape: "circle" },
  _updatePath() {
    this._renderer._updateSymbol(this);
  },
});

function corners(shape, x, y, r) {
  if (shape === "triangle") {
    const h = r * 1.25;
    return [[x, y - h], [x + h, y + h * 0.8], [x - h, y + h * 0.8]];
  }
  if (shape === "diamond") return [[x, y - r * 1.3], [x + r * 1.3, y], [x, y + r * 1.3], [x - r * 1.3, y]];
  if (shape === "square") return [[x - r, y - r], [x + r, y - r], [x + r, y + r], [x - r, y + r]];
  return null;
}

L.Canvas.include({
  _updateSymbol(layer) {
    if (!this._drawing || layer._empty()) return;
    const p = layer._point;
    const r = Math.max(Math.round(layer._radius), 1);
    const ctx = this._ctx;
    const points = corners(layer.options.shape, p.x, p.y, r);
    ctx.beginPath();
    if (points) {
      points.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.closePath();
    } else {
      ctx.arc(p.x, p.y, r, 0, Math.PI * 2, false);
    }
    this._fillStroke(ctx, layer);
  },
});

L.SVG.include({
  _updateSymbol(layer) {
    const p = layer._point;
    const r = Math.max(Math.round(layer._radius), 1);
    const points = corners(layer.options.shape, p.x, p.y, r);
    const d = points
      ? `M${points.map(([x, y]) => `${x},${y}`).join("L")}z`
      : `M${p.x - r},${p.y}a${r},${r} 0 1,0 ${2 * r},0 a${r},${r} 0 1,0 ${-2 * r},0`;
    this._setPath(layer, layer._empty() ? "M0 0" : d);
  },
});

// Items shrink to dots when a whole city is in view and grow as one zooms in.
export function itemRadius(zoom, feature) {
  const base = zoom >= 18 ? 6 : zoom >= 17 ? 5 : zoom >= 16 ? 4 : zoom >= 15 ? 3 : 2;
  return base * ((ITEM[feature.properties.category] || ITEM.uxo).size || 1);
}

// Close up: a white edge around a found item, a coloured edge round a hollow disposed one.
// From afar: plain dots, disposed ones paler, so the hazards underneath stay readable.
export function itemLook(zoom, feature) {
  const s = ITEM[feature.properties.category] || ITEM.uxo;
  const disposed = DISPOSED.has(feature.properties.state);
  const radius = itemRadius(zoom, feature);
  if (radius < 3) {
    return { radius, stroke: false, fillColor: s.color, fillOpacity: disposed ? 0.35 : 0.9 };
  }
  return {
    radius,
    stroke: true,
    color: disposed ? s.color : "#ffffff",
    weight: disposed ? 1.2 : 0.6,
    fillColor: disposed ? "#ffffff" : s.color,
    fillOpacity: 1,
  };
}

export function itemSymbol(feature, latlng, options, zoom) {
  const s = ITEM[feature.properties.category] || ITEM.uxo;
  return new Symbol(latlng, { ...options, shape: s.shape, ...itemLook(zoom, feature) });
}

export function siteSymbol(feature, latlng, options) {
  return new Symbol(latlng, { ...options, shape: "square", radius: 4, color: "#ffffff", weight: 1, fillColor: "#333", fillOpacity: 1 });
}

export function teamSymbol(feature, latlng, options) {
  const colour = teamColour(feature.id);
  return new Symbol(latlng, { ...options, shape: "circle", radius: 6, color: "#000", weight: 2, fillColor: colour, fillOpacity: 1 });
}

// Small SVG swatches for the legend, drawn the way the map draws them.
const NS = "http://www.w3.org/2000/svg";

export function swatch({ shape = "box", fill, stroke, opacity = 0.5, dash, hollow = false }) {
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("width", "18");
  svg.setAttribute("height", "14");
  svg.setAttribute("viewBox", "0 0 18 14");
  const points = shape === "box" ? null : corners(shape, 9, 7, 4);
  const node = document.createElementNS(NS, points ? "polygon" : shape === "circle" ? "circle" : "rect");
  if (points) node.setAttribute("points", points.map((pt) => pt.join(",")).join(" "));
  else if (shape === "circle") Object.entries({ cx: 9, cy: 7, r: 4 }).forEach(([k, v]) => node.setAttribute(k, v));
  else Object.entries({ x: 1, y: 1, width: 16, height: 12 }).forEach(([k, v]) => node.setAttribute(k, v));
  node.setAttribute("fill", hollow ? "#fff" : fill);
  node.setAttribute("fill-opacity", shape === "box" ? opacity : 1);
  node.setAttribute("stroke", hollow ? fill : stroke || fill);
  node.setAttribute("stroke-width", shape === "box" ? 1.2 : 1);
  if (dash) node.setAttribute("stroke-dasharray", dash);
  svg.append(node);
  return svg;
}
