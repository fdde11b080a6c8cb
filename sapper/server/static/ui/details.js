// The side panel for a clicked feature: its fields, a hazard's land-release balance, and the
// record's history from the audit log (who changed what, when).
import { api, el, hectares, label, number, showError } from "./app.js";

const TITLES = {
  hazard: "Hazard",
  item: "Item",
  site: "Protected site",
  release: "Land released",
  report: "Daily report",
  team: "Team",
  plan_sector: "Plan sector",
  plan_lane: "Plan lanes",
};
const QUIET = new Set(["version", "source_key", "geometry"]);

function value(name, v) {
  if (v === null || v === undefined || v === "") return "—";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (Array.isArray(v)) return v.map(label).join(", ");
  if (typeof v === "number" && name.endsWith("area_m2")) return `${number(v)} m² (${hectares(v)})`;
  if (typeof v === "number") return number(v, 2);
  return label(v);
}

function fieldTable(props) {
  const rows = Object.entries(props)
    .filter(([k]) => !QUIET.has(k))
    .map(([k, v]) => el("tr", {}, el("th", {}, label(k)), el("td", {}, value(k, v))));
  return el("table", { class: "fields" }, el("tbody", {}, rows));
}

function changes(entry) {
  if (entry.action === "insert") return ["created"];
  if (entry.action === "delete") return ["deleted"];
  const before = entry.before || {};
  const after = entry.after || {};
  const out = [];
  for (const key of Object.keys(after)) {
    if (key === "version" || JSON.stringify(before[key]) === JSON.stringify(after[key])) continue;
    out.push(key === "geometry" ? "geometry changed" : `${label(key)}: ${value(key, before[key])} → ${value(key, after[key])}`);
  }
  return out.length ? out : ["no field changed"];
}

async function history(kind, id, box) {
  try {
    const doc = await api(`/api/history/${kind}/${id}`);
    const items = [...doc.entries].reverse().map((e) =>
      el(
        "li",
        { "data-action": e.action },
        el("strong", {}, `v${e.version} ${e.action}`),
        ` · ${e.at.slice(0, 16).replace("T", " ")} · ${e.user || "?"}`,
        el("div", { class: "change" }, changes(e).join("; ")),
      ),
    );
    box.replaceChildren(el("ol", { class: "history", reversed: true }, items));
  } catch (error) {
    showError(box, error);
  }
}

async function balance(id, box) {
  try {
    const b = await api(`/api/hazards/${id}/balance`);
    const rows = [
      ["original", b.original],
      ["still hazardous", b.hazardous],
      ["cancelled", b.cancelled],
      ["reduced", b.reduced],
      ["cleared", b.cleared],
    ].filter(([, v]) => v !== undefined);
    box.replaceChildren(
      el("table", { class: "fields" }, el("tbody", {}, rows.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, hectares(v)))))),
    );
  } catch (error) {
    showError(box, error);
  }
}

export function showDetails(panel, collection, kind, feature, onClose) {
  const props = feature.properties || {};
  const name = props.name || props.label || props.model || "";
  const close = el("button", { type: "button", class: "close", title: "Close" }, "×");
  close.addEventListener("click", () => {
    panel.replaceChildren();
    onClose?.();
  });
  const historyBox = el("div", { id: "history" }, el("span", { class: "busy" }, "loading history…"));
  const parts = [
    close,
    el("h2", { id: "details-title" }, `${TITLES[kind] || kind} ${feature.id}`, name ? `: ${name}` : ""),
    el("a", { href: `/ogc/collections/${collection}/items/${feature.id}?f=html`, target: "_blank" }, "open in the OGC API"),
    fieldTable(props),
  ];
  if (kind === "hazard") {
    const box = el("div", { id: "balance" }, el("span", { class: "busy" }, "loading balance…"));
    parts.push(el("h2", {}, "Land release balance"), box);
    balance(feature.id, box);
  }
  parts.push(el("h2", {}, "History"), historyBox);
  panel.replaceChildren(...parts);
  panel.scrollIntoView({ block: "nearest" });
  history(kind, feature.id, historyBox);
}
