// The team leader's daily report form: POST /api/reports with the user's token. A team leader
// reports for their own team only (the server checks it too); the server's answer, good or
// bad, is shown as it is.
/* global L */
import { api, canWrite, el, hectares, label, showError, start } from "./app.js";
import { AreaDrawer } from "./draw.js";
import { hazardStyle, siteStyle } from "./style.js";

const { me, config } = await start();
const form = document.getElementById("report");
const message = document.getElementById("message");
const areaText = document.getElementById("area");
document.body.dataset.loading = "1";

const map = L.map("draw-map", { zoomSnap: 0.25 });
L.control.scale({ imperial: false }).addTo(map);
const hazards = new Map();
const drawer = new AreaDrawer(map, (d) => {
  areaText.textContent = d.points.length < 3 ? `${d.points.length} corner(s): click at least 3` : `about ${hectares(d.areaM2())} (${d.points.length} corners)`;
});

function fillSelect(select, options) {
  select.append(...options.map(([value, text]) => el("option", { value }, text)));
}

async function loadMap() {
  const [w, s, e, n] = config.extent || [-10, -10, 10, 10];
  map.fitBounds([[s, w], [n, e]]);
  const bbox = [w, s, e, n].join(",");
  const [sites, found] = await Promise.all([
    api(`/ogc/collections/protected_sites/items?bbox=${bbox}&limit=1000`),
    api(`/ogc/collections/hazards/items?bbox=${bbox}&limit=5000`),
  ]);
  L.geoJSON(sites, { style: siteStyle, interactive: false, pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 3, interactive: false }) }).addTo(map);
  L.geoJSON(found, {
    style: hazardStyle,
    interactive: false,
    onEachFeature: (feature, layer) => hazards.set(String(feature.id), layer),
  }).addTo(map);
}

function zoomToHazard() {
  const layer = hazards.get(form.hazard_id.value);
  if (layer) map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 18 });
}

function body() {
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

async function send(event) {
  event.preventDefault();
  if (!form.report_date.value) return showError(message, new Error("give the date of the work"));
  const button = document.getElementById("send");
  button.disabled = true;
  try {
    const saved = await api("/api/reports", { method: "POST", body: body() });
    const p = saved.properties;
    message.replaceChildren(
      el("div", { class: "ok", role: "status", id: "saved", "data-id": saved.id },
        `Report ${saved.id} saved: ${label(p.activity_type)} on ${p.report_date}, area worked ${hectares(p.area_m2 || 0)}, `,
        `${p.items_found} item(s) found. `, el("a", { href: "/ui/sitrep" }, "See the sitrep"), " or ", el("a", { href: "/ui/" }, "the map"), "."),
    );
    drawer.clear();
    form.items_found.value = "0";
    form.notes.value = "";
  } catch (error) {
    showError(message, error);
  } finally {
    button.disabled = false;
  }
}

try {
  form.report_date.value = config.today;
  fillSelect(form.activity_type, config.vocabularies.activity_type.map((v) => [v, label(v)]));
  form.activity_type.value = "clearance";
  const choices = await api("/ui/api/choices");
  const open = choices.hazards.filter((h) => h.status !== "released");
  fillSelect(form.hazard_id, open.map((h) => [h.id, `${h.id} · ${h.name} (${label(h.status)})`]));
  fillSelect(form.team_id, choices.teams.map((t) => [t.id, `${t.id} · ${t.name} (${label(t.kind)})`]));
  if (me.role === "field_team" && me.team_id) {
    form.team_id.value = String(me.team_id);
    form.team_id.disabled = true;
  }
  if (!canWrite(me)) {
    document.getElementById("send").disabled = true;
    const why = me.role === "viewer" ? `${me.name} is a viewer: viewers read, they do not send reports` : "log out and in again to send reports from this browser";
    showError(message, new Error(why));
  }
  form.hazard_id.addEventListener("change", zoomToHazard);
  document.getElementById("undo").addEventListener("click", () => drawer.undo());
  document.getElementById("clear").addEventListener("click", () => drawer.clear());
  form.addEventListener("submit", send);
  await loadMap();
} catch (error) {
  showError(message, error);
} finally {
  document.body.dataset.loading = "0";
}
