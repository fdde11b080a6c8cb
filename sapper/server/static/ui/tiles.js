// The heavy map layers (hazards, items, land released) drawn from the server's vector tiles
// (OGC API - Tiles, /ogc/collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}) with
// Leaflet.VectorGrid: the server cuts each layer to the view and the browser never holds a
// whole layer. A tile holds a feature's id and the fields its colour comes from; a click reads
// the whole feature by id for the details panel. Tiles are answers for the user logged in,
// sent with the session cookie like every read. Below zoom 15 the server counts small features
// per cell (a point with `count` and the cell's most common colour field): drawn here as a
// circle sized by the count and labelled with it; a click on one zooms in.
/* global L */
import { api } from "./app.js";
import { ITEM, itemLook } from "./style.js";

const TOKEN = "sapper.token"; // app.js keeps the login's token under this name

// Item symbols keep their shapes in tiles: points draw as circles unless style.js's symbol
// drawing (triangles, squares, diamonds) is asked for by the style's shape.
L.SVG.Tile.include({
  _updateCircle(layer) {
    if (layer.options.shape && layer.options.shape !== "circle") this._updateSymbol(layer);
    else L.SVG.prototype._updateCircle.call(this, layer);
  },
});

// A GeoJSON-like stand-in for a tile's feature, for the style functions of style.js.
function asFeature(properties) {
  return { id: properties.id, properties };
}

// A count sits at the centre of its 32-pixel cell. Items: a labelled circle growing with the count's
// order of magnitude (at most 14 px, so neighbours never overlap). Areas (hazards): a square filling
// most of the cell, darker where there are more, so the circles over it stay readable.
function countStyle(overlay, feature) {
  const magnitude = Math.log10(Math.max(1, feature.properties.count));
  if (overlay.point) {
    const colour = (ITEM[feature.properties.category] || ITEM.uxo).color;
    const radius = Math.min(14, 5 + 4 * magnitude);
    return { radius, shape: "circle", fill: true, fillColor: colour, fillOpacity: 0.85, color: "#ffffff", weight: 1.5 };
  }
  const look = overlay.style(feature);
  const fillOpacity = Math.min(0.75, 0.3 + 0.15 * magnitude);
  return { radius: 13, shape: "square", fill: true, fillColor: look.fillColor, fillOpacity, color: look.color, weight: 1 };
}

const COMPACT = new Intl.NumberFormat(document.documentElement.lang || undefined, { notation: "compact" });
const SVG_NS = "http://www.w3.org/2000/svg";

// The count written on its circle (Leaflet.VectorGrid draws no text): an SVG text beside the circle's path.
function labelCount(entry) {
  const path = entry.feature._path;
  const at = entry.feature._point;
  if (!path || !at) return;
  path.setAttribute("data-count", String(entry.feature.properties.count));
  const text = document.createElementNS(SVG_NS, "text");
  Object.entries({ x: at.x, y: at.y, "text-anchor": "middle", "dominant-baseline": "central", class: "tile-count" })
    .forEach(([k, v]) => text.setAttribute(k, v));
  text.textContent = COMPACT.format(entry.feature.properties.count);
  path.parentNode.appendChild(text);
}

let counts = 0; // keys of the counts in a tile: they have no feature id

function styleOf(overlay, properties, zoom) {
  const feature = asFeature(properties);
  if (properties.count !== undefined) return countStyle(overlay, feature);
  if (overlay.point) return { ...itemLook(zoom, feature), shape: (ITEM[properties.category] || ITEM.uxo).shape, fill: true };
  return { fill: true, ...overlay.style(feature) };
}

// What map.js's select() needs of a layer: setStyle to highlight the feature and back.
function highlighter(grid, overlay, id) {
  return {
    options: {},
    setStyle(style) {
      if (style.weight === undefined) grid.resetFeatureStyle(id);
      else grid.setFeatureStyle(id, (props, zoom) => ({ ...styleOf(overlay, props, zoom), ...style }));
    },
  };
}

// A layer counted from afar and drawn one by one close up, with nothing in between
// (overlay.countsTo < zoom < overlay.minZoom): Leaflet asks for no tile outside [minZoom, maxZoom],
// so the lower bound follows the zoom the view moves to.
function zoomBands(grid, overlay) {
  if (overlay.countsTo === undefined) return;
  const setView = grid._setView;
  grid._setView = function (center, zoom, ...rest) {
    this.options.minZoom = Math.round(zoom) <= overlay.countsTo ? 0 : overlay.minZoom;
    return setView.call(this, center, zoom, ...rest);
  };
}

export function tileLayer(map, overlay, onSelect, busy) {
  const token = localStorage.getItem(TOKEN);
  const grid = L.vectorGrid.protobuf(`/ogc/collections/${overlay.collection}/tiles/WebMercatorQuad/{z}/{y}/{x}`, {
    pane: overlay.pane,
    interactive: true,
    minZoom: overlay.minZoom || 0,
    maxNativeZoom: 20,
    maxZoom: 22,
    getFeatureId: (feature) => (feature.properties.count !== undefined ? `count-${++counts}` : feature.id),
    vectorTileLayerStyles: { [overlay.collection]: (properties, zoom) => styleOf(overlay, properties, zoom) },
    fetchOptions: { credentials: "same-origin", headers: token ? { Authorization: `Bearer ${token}` } : {} },
  });
  zoomBands(grid, overlay);
  // tiles in flight count as loading, so a script waiting for the map waits for them too
  let loading = false;
  const setLoading = (on) => {
    if (on !== loading) busy(on ? +1 : -1);
    loading = on;
  };
  grid.on("loading", () => setLoading(true));
  grid.on("load remove", () => setLoading(false));
  grid.on("tileload", (event) => {
    // the drawn paths name their feature, as the GeoJSON layers' do
    const tile = grid._vectorTiles[grid._tileCoordsToKey(event.coords)];
    for (const [id, entry] of Object.entries(tile?._features || {})) {
      if (entry.feature.properties.count === undefined) entry.feature._path?.setAttribute("data-id", id);
      else if (overlay.point) labelCount(entry);
      else entry.feature._path?.setAttribute("data-count", String(entry.feature.properties.count));
    }
  });
  const tooltip = L.tooltip({ sticky: true, direction: "top" });
  grid.on("mouseover", (event) => {
    const count = event.layer.properties?.count;
    const name = count !== undefined ? COMPACT.format(count) : event.layer.properties?.name || event.layer.properties?.label;
    // a string would be read as HTML: record text goes in as a text node, shown as typed
    if (!name) return;
    const at = event.latlng || map.mouseEventToLatLng(event.originalEvent);
    tooltip.setLatLng(at).setContent(document.createTextNode(String(name))).openOn(map);
  });
  grid.on("mouseout", () => tooltip.close());
  grid.on("click", async (event) => {
    L.DomEvent.stopPropagation(event);
    if (event.layer.properties?.count !== undefined) {
      map.setView(event.latlng, Math.min(map.getZoom() + 2, 15)); // into the count, down to single features
      return;
    }
    const id = event.layer.properties?.id;
    if (id === undefined) return;
    const feature = await api(`/ogc/collections/${overlay.collection}/items/${id}`);
    onSelect(feature, highlighter(grid, overlay, id));
  });
  return grid;
}
