// The team leader's daily report form: reports go to POST /api/reports, items found to the OGC
// API's items collection, with the user's token. A team leader reports for their own team only
// (the server checks it too). Everything sent goes through the outbox (outbox.js): with no
// network it waits in this browser and goes when the network returns; the list on the page
// shows each one queued, sent, or refused with the server's sentence. The service worker
// (/ui/sw.js) keeps this page and its data so it opens with no network.
/* global L */
import { DATA_CACHE, api, canWrite, el, hectares, label, showError, start } from "./app.js";
import { AreaDrawer } from "./draw.js";
import { t } from "./i18n.js";
import { Outbox, discard } from "./outbox.js";
import { hazardStyle, siteStyle } from "./style.js";

const ITEMS = "/ogc/collections/items/items";
const controlled = Boolean(navigator.serviceWorker?.controller);
const { me, config } = await start();
const form = document.getElementById("report");
const message = document.getElementById("message");
const areaText = document.getElementById("area");
const outboxList = document.getElementById("outbox");
const read = ["/api/me", "/ui/api/config"]; // what this page read, kept for offline use
document.body.dataset.loading = "1";

async function readKept(path) {
  read.push(path);
  return api(path);
}

const map = L.map("draw-map", { zoomSnap: 0.25 });
L.control.scale({ imperial: false }).addTo(map);
const hazards = new Map();
const drawer = new AreaDrawer(map, (d) => {
  areaText.textContent = d.points.length < 3 ? t("{n} corner(s): click at least 3", { n: d.points.length }) : t("about {area} ({n} corners)", { area: hectares(d.areaM2()), n: d.points.length });
});
const itemMarker = L.circleMarker([0, 0], { radius: 6, color: "#b00020", weight: 2, fillOpacity: 0.6 });

function fillSelect(select, options) {
  select.append(...options.map(([value, text]) => el("option", { value }, text)));
}

async function loadMap() {
  const [w, s, e, n] = config.extent || [-10, -10, 10, 10];
  map.fitBounds([[s, w], [n, e]]);
  const bbox = [w, s, e, n].join(",");
  const [sites, found] = await Promise.all([
    readKept(`/ogc/collections/protected_sites/items?bbox=${bbox}&limit=1000`),
    readKept(`/ogc/collections/hazards/items?bbox=${bbox}&limit=5000`),
  ]);
  L.geoJSON(sites, { style: siteStyle, interactive: false, pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 3, interactive: false }) }).addTo(map);
  L.geoJSON(found, {
    style: hazardStyle,
    interactive: false,
    onEachFeature: (feature, layer) => hazards.set(String(feature.id), layer),
  }).addTo(map);
}

function zoomToHazard() {
  // At once, not animated: a tap while the map still zoomed would land on another place (and a
  // polygon drawn then could cross itself).
  const layer = hazards.get(form.hazard_id.value);
  if (layer) map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 18, animate: false });
}

function reportBody() {
  const out = {
    report_date: form.report_date.value,
    activity_type: form.activity_type.value,
    items_found: Number(form.items_found.value || 0),
    notes: form.notes.value,
    restricted: form.restricted.checked,
  };
  if (form.hazard_id.value) out.hazard_id = Number(form.hazard_id.value);
  if (form.team_id.value) out.team_id = Number(form.team_id.value);
  const geometry = drawer.geometry();
  if (geometry) out.geometry = geometry;
  return out;
}

function itemBody() {
  const properties = {
    category: form.item_category.value,
    state: form.item_state.value,
    found_on: form.report_date.value,
    notes: form.item_notes.value,
    restricted: form.restricted.checked,
  };
  if (form.item_depth_cm.value !== "") properties.depth_cm = Number(form.item_depth_cm.value);
  if (form.hazard_id.value) properties.hazard_id = Number(form.hazard_id.value);
  if (form.team_id.value) properties.team_id = Number(form.team_id.value);
  const point = [Number(form.item_lon.value), Number(form.item_lat.value)];
  return { type: "Feature", geometry: { type: "Point", coordinates: point }, properties };
}

function stateText(entry) {
  if (entry.state === "sent") return t("sent: {kind} {id}", { kind: entry.kind, id: entry.id });
  if (entry.state === "refused") return t("refused: {reason}", { reason: entry.reason });
  return entry.reason ? t("queued ({reason})", { reason: entry.reason }) : t("queued: goes when the network returns");
}

function showOutbox(entries) {
  document.getElementById("outbox-box").hidden = entries.length === 0;
  outboxList.replaceChildren(
    ...entries.map((entry) => {
      const item = el("li", { "data-key": entry.key, "data-kind": entry.kind, "data-state": entry.state, "data-id": entry.id },
        `${entry.title}: `, el("span", { class: "state" }, stateText(entry)));
      if (entry.state === "refused") {
        const edit = el("button", { type: "button", class: "edit" }, t("Edit"));
        edit.addEventListener("click", () => editEntry(entry));
        const drop = el("button", { type: "button", class: "discard" }, t("Discard"));
        drop.addEventListener("click", async () => {
          await discard(entry.key);
          await outbox.changed();
        });
        item.append(edit, drop);
      }
      return item;
    }),
  );
}

const outbox = new Outbox(me.name, showOutbox);

// A refused entry back into the form, to fix and send again (as a new entry).
async function editEntry(entry) {
  const b = entry.kind === "item" ? entry.body.properties : entry.body;
  form.report_date.value = b.report_date || b.found_on || form.report_date.value;
  if (b.hazard_id !== undefined) form.hazard_id.value = String(b.hazard_id);
  if (entry.kind === "report") {
    form.activity_type.value = b.activity_type;
    form.items_found.value = String(b.items_found);
    form.notes.value = b.notes;
    drawer.clear();
    for (const [lon, lat] of (b.geometry?.coordinates[0] || []).slice(0, -1)) drawer.add(L.latLng(lat, lon));
  } else {
    form.item_category.value = b.category;
    form.item_state.value = b.state;
    form.item_notes.value = b.notes;
    [form.item_lon.value, form.item_lat.value] = entry.body.geometry.coordinates.map(String);
  }
  await discard(entry.key);
  await outbox.changed();
  form.scrollIntoView();
}

// Keep, send, and say what became of it; the form is emptied once the entry is safe in the outbox.
async function submit(kind, path, body, title, button, clear) {
  button.disabled = true;
  try {
    const entry = await outbox.keep(kind, path, body, title);
    if (entry.state === "refused") {
      await discard(entry.key); // still in the form: fix it there
      await outbox.changed();
      return showError(message, new Error(entry.reason));
    }
    clear();
    if (entry.state === "queued") {
      message.replaceChildren(el("div", { class: "ok", role: "status", id: "queued" }, t("{title} kept in this browser: it goes when the network returns.", { title })));
    } else {
      message.replaceChildren(
        el("div", { class: "ok", role: "status", id: "saved", "data-id": entry.id }, t("{title} saved as {kind} {id}. ", { title, kind: entry.kind, id: entry.id }),
          el("a", { href: "/ui/sitrep" }, t("See the sitrep")), " " + t("or") + " ", el("a", { href: "/ui/" }, t("the map")), "."),
      );
    }
  } catch (error) {
    showError(message, error);
  } finally {
    button.disabled = !canWrite(me);
  }
}

function sendReport(event) {
  event.preventDefault();
  if (!form.report_date.value) return showError(message, new Error(t("give the date of the work")));
  const body = reportBody();
  const title = t("Report of {day}: {activity}", { day: body.report_date, activity: label(body.activity_type) }) + (body.hazard_id ? t(", hazard {id}", { id: body.hazard_id }) : "");
  return submit("report", "/api/reports", body, title, document.getElementById("send"), () => {
    drawer.clear();
    form.items_found.value = "0";
    form.notes.value = "";
  });
}

function sendItem() {
  if (!form.report_date.value) return showError(message, new Error(t("give the date the item was found")));
  if (form.item_lat.value === "" || form.item_lon.value === "") return showError(message, new Error(t("give the item's position: click the map or type it")));
  const body = itemBody();
  const title = t("Item of {day}: {category}", { day: body.properties.found_on, category: label(body.properties.category) });
  return submit("item", ITEMS, body, title, document.getElementById("send-item"), () => {
    form.item_notes.value = "";
    form.item_depth_cm.value = "";
    form.item_lat.value = "";
    form.item_lon.value = "";
    itemMarker.remove();
  });
}

function placeItem(event) {
  if (!document.getElementById("place_item").checked) return;
  form.item_lat.value = event.latlng.lat.toFixed(7);
  form.item_lon.value = event.latlng.lng.toFixed(7);
  itemMarker.setLatLng(event.latlng).addTo(map);
}

// The worker keeps what pages read from now on; what this page read before it was there is kept now.
async function keepForOffline() {
  if (!("serviceWorker" in navigator)) return;
  await navigator.serviceWorker.register("/ui/sw.js", { scope: "/ui/" });
  await navigator.serviceWorker.ready;
  if (!controlled && navigator.onLine) {
    const cache = await caches.open(DATA_CACHE);
    await Promise.all(read.map(async (path) => {
      const answer = await fetch(path, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (answer.ok) await cache.put(path, answer);
    }));
  }
  document.body.dataset.offline = "ready";
}

try {
  form.report_date.value = config.today;
  fillSelect(form.activity_type, config.vocabularies.activity_type.map((v) => [v, label(v)]));
  form.activity_type.value = "clearance";
  fillSelect(form.item_category, config.vocabularies.item_category.map((v) => [v, label(v)]));
  fillSelect(form.item_state, config.vocabularies.item_state.map((v) => [v, label(v)]));
  form.item_state.value = "found";
  const choices = await readKept("/ui/api/choices");
  const open = choices.hazards.filter((h) => h.status !== "released");
  fillSelect(form.hazard_id, open.map((h) => [h.id, `${h.id} · ${h.name} (${label(h.status)})`]));
  fillSelect(form.team_id, choices.teams.map((t) => [t.id, `${t.id} · ${t.name} (${label(t.kind)})`]));
  if (me.role === "field_team" && me.team_id) {
    form.team_id.value = String(me.team_id);
    form.team_id.disabled = true;
  }
  if (!canWrite(me)) {
    document.getElementById("send").disabled = true;
    document.getElementById("send-item").disabled = true;
    const why = me.role === "viewer" ? t("{name} is a viewer: viewers read, they do not send reports", { name: me.name }) : t("log out and in again to send reports from this browser");
    showError(message, new Error(why));
  }
  form.hazard_id.addEventListener("change", zoomToHazard);
  document.getElementById("undo").addEventListener("click", () => drawer.undo());
  document.getElementById("clear").addEventListener("click", () => drawer.clear());
  document.getElementById("place_item").addEventListener("change", (event) => {
    drawer.enabled = !event.target.checked;
  });
  document.getElementById("send-item").addEventListener("click", sendItem);
  map.on("click", placeItem);
  form.addEventListener("submit", sendReport);
  await loadMap();
  await outbox.changed();
  await outbox.flush();
  await keepForOffline().catch((error) => {
    document.body.dataset.offline = `unavailable: ${error.message}`;
  });
} catch (error) {
  showError(message, error);
} finally {
  document.body.dataset.loading = "0";
}
