// The heavy map layers (hazards, items, land released) drawn from the server's vector tiles
// (OGC API - Tiles, /ogc/collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}) with
// Leaflet.VectorGrid: the server cuts each layer to the view and the browser never holds a
// whole layer. A tile holds a feature's id and the fields its colour comes from; a click reads
// the whole feature by id for the details panel. Tiles are answers for the user logged in,
// sent with the session cookie like every read.
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

function styleOf(overlay, properties, zoom) {
  const feature = asFeature(properties);
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

export function tileLayer(map, overlay, onSelect, busy) {
  const token = localStorage.getItem(TOKEN);
  const grid = L.vectorGrid.protobuf(`/ogc/collections/${overlay.collection}/tiles/WebMercatorQuad/{z}/{y}/{x}`, {
    pane: overlay.pane,
    interactive: true,
    minZoom: overlay.minZoom || 0,
    maxNativeZoom: 20,
    maxZoom: 22,
    getFeatureId: (feature) => feature.id,
    vectorTileLayerStyles: { [overlay.collection]: (properties, zoom) => styleOf(overlay, properties, zoom) },
    fetchOptions: { credentials: "same-origin", headers: token ? { Authorization: `Bearer ${token}` } : {} },
  });
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
    for (const [id, entry] of Object.entries(tile?._features || {})) entry.feature._path?.setAttribute("data-id", id);
  });
  const tooltip = L.tooltip({ sticky: true, direction: "top" });
  grid.on("mouseover", (event) => {
    const name = event.layer.properties?.name || event.layer.properties?.label;
    // a string would be read as HTML: record text goes in as a text node, shown as typed
    if (!name) return;
    const at = event.latlng || map.mouseEventToLatLng(event.originalEvent);
    tooltip.setLatLng(at).setContent(document.createTextNode(String(name))).openOn(map);
  });
  grid.on("mouseout", () => tooltip.close());
  grid.on("click", async (event) => {
    L.DomEvent.stopPropagation(event);
    const id = event.layer.properties?.id;
    if (id === undefined) return;
    const feature = await api(`/ogc/collections/${overlay.collection}/items/${id}`);
    onSelect(feature, highlighter(grid, overlay, id));
  });
  return grid;
}
