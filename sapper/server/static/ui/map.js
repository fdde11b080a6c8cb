// The operations map. Hazards, items and land released are drawn from vector tiles (tiles.js).
// Every other layer is read from the OGC API for the box in view (padded a
// little), page by page, and read again only when the view leaves what was loaded; a layer
// with more features than its cap says so and asks to zoom in. Nothing comes from the
// internet: the basemap is the site outline and buildings from the register, plus the
// server's own imagery when it has some.
/* global L */
import { api, el, label, showError, start } from "./app.js";
import { t } from "./i18n.js";
import { showDetails } from "./details.js";
import * as S from "./style.js";
import { tileLayer } from "./tiles.js";

const { me, config, day: firstDay } = await start();
const state = { day: firstDay, plan: config.latest_plan };
document.body.dataset.loading = "0";

const map = L.map("map", { zoomSnap: 0.25, preferCanvas: false });
L.control.scale({ imperial: false }).addTo(map);
const PANES = { base: 250, hazards: 400, released: 410, plan: 420, progress: 430, qc: 435, buffers: 440, items: 450 };
for (const [name, z] of Object.entries(PANES)) map.createPane(name).style.zIndex = z;

// QC sample units (IMAS 09.20) outlined by result, as on the PDF maps (sapper/report/maps.py).
const QC = { passed: "#08306b", failed: "#e7298a", pending: "#542788" };
const qcStyle = (f) => {
  const pending = f.properties.result === "pending";
  return { color: QC[f.properties.result] || QC.pending, weight: pending ? 1.5 : 2.5, dashArray: pending ? "2 3" : null, fill: false };
};

const OVERLAYS = [
  { id: "base", title: t("Site outline and buildings"), collection: "protected_sites", kind: "site", pane: "base",
    style: S.siteStyle, point: S.siteSymbol, on: true, swatch: { fill: S.OUTLINE.fill, stroke: S.OUTLINE.stroke } },
  { id: "hazards", title: t("Hazard areas"), collection: "hazards", kind: "hazard", pane: "hazards",
    style: S.hazardStyle, on: true, tiles: true, swatch: { fill: "#FF0000" } },
  { id: "releases", title: t("Land released"), collection: "releases", kind: "release", pane: "released",
    style: S.releaseStyle, on: true, tiles: true, swatch: { fill: S.RELEASE.cleared.fill } },
  { id: "qc", title: t("QC samples (passed, failed, pending)"), collection: "qc_samples", kind: "qc_sample", pane: "qc",
    style: qcStyle, on: true, minZoom: 14, swatch: { fill: QC.failed, stroke: QC.failed, opacity: 0 } },
  { id: "progress", title: t("Day's progress (reports)"), collection: "reports", kind: "report", pane: "progress",
    style: S.progressStyle, on: true, params: () => ({ report_date: state.day }),
    swatch: { fill: S.PROGRESS.fill, stroke: S.PROGRESS.stroke } },
  { id: "sectors", title: t("Plan sectors"), collection: "plan_sectors", kind: "plan_sector", pane: "plan",
    style: S.sectorStyle, on: true, minZoom: 15, params: () => (state.plan ? { plan_id: state.plan.id } : null),
    swatch: { fill: S.teamColour(0), opacity: 0 } },
  { id: "lanes", title: t("Plan lanes"), collection: "plan_lanes", kind: "plan_lane", pane: "plan", style: S.laneStyle,
    on: false, minZoom: 16, params: () => (state.plan ? { plan_id: state.plan.id } : null),
    swatch: { fill: S.teamColour(1), opacity: 0 } },
  { id: "buffers", title: t("Protected site buffers"), url: "/ui/api/buffers", collection: "protected_sites",
    kind: "site", pane: "buffers", style: S.bufferStyle, on: true, swatch: { fill: S.BUFFER.stroke, opacity: 0.1, dash: "4 3" } },
  { id: "items", title: t("Explosive items"), collection: "items", kind: "item", pane: "items",
    point: S.itemSymbol, on: true, minZoom: 15, countsTo: 11, tiles: true, swatch: { shape: "circle", fill: S.ITEM.uxo.color } },
  { id: "teams", title: t("Teams (home base)"), collection: "teams", kind: "team", pane: "items", point: S.teamSymbol,
    on: false, swatch: { shape: "circle", fill: S.teamColour(2), stroke: "#000" } },
];

let selected = null;
const details = document.getElementById("details");

function select(overlay, feature, layer) {
  if (selected?.setStyle && selected.defaultStyle) selected.setStyle(selected.defaultStyle);
  selected = layer;
  if (layer.setStyle) {
    layer.defaultStyle = { weight: layer.options.weight, color: layer.options.color };
    layer.setStyle({ weight: 4, color: "#00e5ff" });
    layer.bringToFront?.();
  }
  showDetails(details, overlay.collection, overlay.kind, feature, () => select(overlay, feature, {}));
}

function makeGroup(overlay) {
  // the heavy layers come as vector tiles (tiles.js); a click reads the feature by id
  if (overlay.tiles) return tileLayer(map, overlay, (feature, layer) => select(overlay, feature, layer), busy);
  return L.geoJSON(null, {
    pane: overlay.pane,
    style: overlay.style,
    pointToLayer: overlay.point ? (f, latlng) => overlay.point(f, latlng, { pane: overlay.pane }, map.getZoom()) : undefined,
    onEachFeature: (feature, layer) => {
      layer.on("add", () => layer.getElement?.()?.setAttribute("data-id", feature.id));
      layer.on("click", (event) => {
        L.DomEvent.stopPropagation(event);
        select(overlay, feature, layer);
      });
      const name = feature.properties.name || feature.properties.label;
      // a string would be read as HTML: record text goes in as a text node, shown as typed
      if (name && overlay.id !== "items") layer.bindTooltip(document.createTextNode(String(name)), { sticky: true });
    },
  });
}

function busy(delta) {
  const n = Number(document.body.dataset.loading) + delta;
  document.body.dataset.loading = String(n);
  document.getElementById("busy").textContent = n > 0 ? t("loading…") : "";
}

function boxText(bounds) {
  return [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()].map((v) => v.toFixed(6)).join(",");
}

async function fetchFeatures(overlay, box, signal) {
  const params = overlay.params ? overlay.params() : {};
  if (overlay.url) {
    const doc = await api(`${overlay.url}?${new URLSearchParams({ bbox: box })}`, { signal });
    return { features: doc.features, matched: doc.features.length };
  }
  const query = new URLSearchParams({ ...params, bbox: box, limit: overlay.pageSize || 1000 });
  let url = `/ogc/collections/${overlay.collection}/items?${query}`;
  const features = [];
  let matched = 0;
  while (url && features.length < (overlay.cap || 5000)) {
    const page = await api(url, { signal });
    features.push(...page.features);
    matched = page.numberMatched ?? features.length;
    url = page.links.find((link) => link.rel === "next")?.href;
  }
  return { features, matched };
}

// Read the layer for the view unless what is loaded already covers it.
async function load(overlay) {
  if (!overlay.on || !overlay.available) return;
  if (overlay.tiles) {
    await countInView(overlay);
    return;
  }
  const params = overlay.params ? overlay.params() : {};
  const key = JSON.stringify(params);
  const view = map.getBounds();
  if (params === null || map.getZoom() < (overlay.minZoom || 0)) {
    overlay.group.clearLayers();
    overlay.loaded = null;
    overlay.note = params === null ? t("no plan stored yet") : t("zoom in to see {what}", { what: overlay.title.toLowerCase() });
    overlay.count = overlay.matched = 0;
    refreshLegend(overlay);
    return;
  }
  const l = overlay.loaded;
  if (l && l.key === key && !l.truncated && l.box.contains(view)) return;
  overlay.abort?.abort();
  const abort = new AbortController();
  overlay.abort = abort;
  const box = view.pad(0.3);
  busy(+1);
  try {
    const { features, matched } = await fetchFeatures(overlay, boxText(box), abort.signal);
    overlay.group.clearLayers();
    overlay.group.addData({ type: "FeatureCollection", features });
    overlay.count = features.length;
    overlay.matched = matched;
    overlay.loaded = { key, box, truncated: features.length < matched };
    overlay.note = overlay.loaded.truncated ? t("showing {n} of {matched}: zoom in for all", { n: features.length, matched }) : "";
  } catch (error) {
    if (error.name !== "AbortError") overlay.note = error.message;
  } finally {
    busy(-1);
    refreshLegend(overlay);
  }
}

// A tile layer loads the view itself; its legend counts what the view holds, asked of the API
// (numberMatched of one feature's page: the same filter and access rules as the tiles).
// Items are counted per cell from afar (zoom <= countsTo), hidden at town zoom, where they would
// hide the hazards, and drawn one by one from minZoom.
async function countInView(overlay) {
  const close = map.getZoom() >= (overlay.minZoom || 0);
  const hidden = !close && !(map.getZoom() <= overlay.countsTo);
  overlay.note = close ? "" : t("zoom in to see {what}", { what: overlay.title.toLowerCase() });
  overlay.abort?.abort();
  if (hidden) {
    overlay.count = overlay.matched = 0;
    refreshLegend(overlay);
    return;
  }
  const abort = new AbortController();
  overlay.abort = abort;
  const query = new URLSearchParams({ bbox: boxText(map.getBounds()), limit: 1 });
  busy(+1);
  try {
    const page = await api(`/ogc/collections/${overlay.collection}/items?${query}`, { signal: abort.signal });
    overlay.count = overlay.matched = page.numberMatched ?? page.features.length;
  } catch (error) {
    if (error.name !== "AbortError") overlay.note = error.message;
  } finally {
    busy(-1);
    refreshLegend(overlay);
  }
}

function refreshLegend(overlay) {
  const row = document.querySelector(`#layers [data-layer="${overlay.id}"]`);
  if (!row) return;
  row.querySelector(".count").textContent = overlay.on && overlay.count !== undefined ? String(overlay.count) : "";
  row.dataset.count = String(overlay.count ?? 0);
  row.dataset.matched = String(overlay.matched ?? 0);
  row.nextElementSibling.textContent = overlay.on ? overlay.note || "" : "";
}

function layerControls(overlays) {
  const box = document.getElementById("layers");
  for (const overlay of overlays) {
    const check = el("input", { type: "checkbox", checked: overlay.on, disabled: !overlay.available });
    check.addEventListener("change", () => {
      overlay.on = check.checked;
      if (overlay.on) {
        overlay.group.addTo(map);
        load(overlay);
      } else {
        overlay.group.remove();
      }
      refreshLegend(overlay);
    });
    const title = overlay.available ? overlay.title : t("{title} (not in this register)", { title: overlay.title });
    box.append(
      el("label", { "data-layer": overlay.id }, check, overlay.swatch ? S.swatch(overlay.swatch) : "", title,
        el("span", { class: "count" })),
      el("div", { class: "note" }),
    );
  }
}

function legend() {
  const box = document.getElementById("legend");
  const rows = [];
  const add = (spec, text) => rows.push(S.swatch(spec), el("span", {}, text));
  for (const s of Object.values(S.HAZARD)) add({ fill: s.fill, stroke: s.stroke, opacity: s.opacity ?? 0.5, dash: s.dash }, s.label);
  for (const s of Object.values(S.RELEASE)) add({ fill: s.fill, opacity: 0.55 }, t("Released: {what}", { what: s.label }));
  add({ fill: S.PROGRESS.fill, stroke: S.PROGRESS.stroke, opacity: 0.35 }, t("Worked on the day shown"));
  add({ fill: S.BUFFER.stroke, opacity: 0.06, dash: "5 4" }, t("Protected site buffer"));
  add({ fill: S.OUTLINE.fill, stroke: S.OUTLINE.stroke, opacity: 0.45 }, t("Site outline"));
  add({ fill: S.BUILDING_FILL, stroke: "#333", opacity: 0.75 }, t("Building / monument"));
  for (const s of Object.values(S.ITEM)) add({ shape: s.shape, fill: s.color, stroke: "#fff" }, s.label);
  add({ shape: "circle", fill: "#2166ac", hollow: true }, t("Hollow: item disposed of"));
  for (const [result, colour] of Object.entries(QC)) add({ fill: colour, opacity: 0, dash: result === "pending" ? "2 3" : undefined }, t("QC sample: {result}", { result: label(result) }));
  box.replaceChildren(...rows);
}

function escapeHtml(text) {
  const box = document.createElement("span");
  box.textContent = String(text);
  return box.innerHTML;
}

async function imagery() {
  const info = config.imagery;
  if (!info) return;
  const [w, s, e, n] = info.bounds;
  const tiles = L.tileLayer("/ui/imagery/{z}/{x}/{y}", {
    bounds: L.latLngBounds([s, w], [n, e]),
    minZoom: 0,
    minNativeZoom: info.minzoom,
    maxNativeZoom: info.maxzoom,
    maxZoom: 22,
    attribution: escapeHtml(info.attribution || info.name), // Leaflet shows attributions as HTML
  }).addTo(map);
  const check = el("input", { type: "checkbox", checked: true });
  check.addEventListener("change", () => (check.checked ? tiles.addTo(map) : tiles.remove()));
  document.getElementById("layers").prepend(el("label", { "data-layer": "imagery" }, check, t("Imagery: {name}", { name: info.name })));
}

try {
  const served = new Set((await api("/ogc/collections")).collections.map((c) => c.id));
  for (const overlay of OVERLAYS) {
    overlay.available = served.has(overlay.collection);
    overlay.on = overlay.on && overlay.available;
    overlay.group = makeGroup(overlay);
    if (overlay.on) overlay.group.addTo(map);
  }
  layerControls(OVERLAYS);
  legend();
  await imagery();
  let timer = null;
  let rounds = 0;
  // data-rounds counts finished loads of the view: a test (or a script) waits on it
  const reload = async () => {
    await Promise.all(OVERLAYS.map(load));
    rounds += 1;
    document.body.dataset.rounds = String(rounds);
  };
  map.on("moveend", () => {
    clearTimeout(timer);
    timer = setTimeout(reload, 200);
  });
  map.on("zoomend", () => {
    const zoom = map.getZoom();
    OVERLAYS.find((o) => o.id === "items").group.eachLayer?.((m) => m.setStyle(S.itemLook(zoom, m.feature)));
  });
  document.addEventListener("daychange", (event) => {
    state.day = event.detail;
    load(OVERLAYS.find((o) => o.id === "progress"));
  });
  const [w, s, e, n] = config.extent || [-10, -10, 10, 10];
  map.fitBounds([[s, w], [n, e]], { padding: [10, 10] });
} catch (error) {
  showError(details, error);
}
window.sapperMap = { map, overlays: OVERLAYS, me, label };
