// The side panel for a clicked feature: its fields, a hazard's land-release balance, the photos
// and PDFs attached to a hazard, item or report, and the record's history from the audit log.
import { api, el, hectares, label, number, showError } from "./app.js";
import { t } from "./i18n.js";

const TITLES = {
  hazard: t("Hazard"),
  item: t("Item"),
  site: t("Protected site"),
  release: t("Land released"),
  report: t("Daily report"),
  team: t("Team"),
  plan_sector: t("Plan sector"),
  plan_lane: t("Plan lanes"),
};
const QUIET = new Set(["version", "source_key", "geometry"]);
const ACTIONS = { insert: t("insert"), update: t("update"), delete: t("delete") }; // the audit log's actions

function value(name, v) {
  if (v === null || v === undefined || v === "") return "—";
  if (typeof v === "boolean") return v ? t("yes") : t("no");
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
  if (entry.action === "insert") return [t("created")];
  if (entry.action === "delete") return [t("deleted")];
  const before = entry.before || {};
  const after = entry.after || {};
  const out = [];
  for (const key of Object.keys(after)) {
    if (key === "version" || JSON.stringify(before[key]) === JSON.stringify(after[key])) continue;
    out.push(key === "geometry" ? t("geometry changed") : `${label(key)}: ${value(key, before[key])} → ${value(key, after[key])}`);
  }
  return out.length ? out : [t("no field changed")];
}

async function history(kind, id, box) {
  try {
    const doc = await api(`/api/history/${kind}/${id}`);
    const items = [...doc.entries].reverse().map((e) =>
      el(
        "li",
        { "data-action": e.action },
        el("strong", {}, `v${e.version} ${ACTIONS[e.action] || e.action}`),
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
      [t("original"), b.original],
      [t("still hazardous"), b.hazardous],
      [label("cancelled"), b.cancelled],
      [label("reduced"), b.reduced],
      [label("cleared"), b.cleared],
    ].filter(([, v]) => v !== undefined);
    box.replaceChildren(
      el("table", { class: "fields" }, el("tbody", {}, rows.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, hectares(v)))))),
    );
  } catch (error) {
    showError(box, error);
  }
}

const ATTACHABLE = { hazard: "hazards", item: "items", report: "reports", qc_sample: "qc_samples" };

// Sends files as multipart/form-data with the login token (app.js's api() sends JSON only).
async function upload(path, files) {
  const form = new FormData();
  for (const file of files) form.append("file", file, file.name);
  const token = localStorage.getItem("sapper.token");
  const response = await fetch(path, {
    method: "POST",
    headers: token ? { Authorization: `Bearer ${token}`, Accept: "application/json" } : { Accept: "application/json" },
    body: form,
    credentials: "same-origin",
  });
  const data = (response.headers.get("content-type") || "").includes("json") ? await response.json() : null;
  if (!response.ok) throw new Error((data && (data.description || data.detail)) || `${response.status}`);
  return data;
}

function tile(a) {
  const inner = a.thumbnail ? el("img", { src: a.thumbnail, alt: a.name, loading: "lazy" }) : el("span", { class: "file" }, a.name);
  return el("a", { href: a.href, target: "_blank", rel: "noopener", class: "attachment", title: a.name, "data-id": a.id }, inner);
}

async function attachments(kind, id, box) {
  const path = `/api/${ATTACHABLE[kind]}/${id}/attachments`;
  try {
    const doc = await api(path);
    const parts = [
      doc.attachments.length ? el("div", { class: "attachments" }, doc.attachments.map(tile)) : el("p", { class: "none" }, t("No photos yet.")),
    ];
    if (doc.can_add) {
      const input = el("input", { type: "file", accept: "image/jpeg,image/png,image/webp,image/gif,application/pdf", multiple: true, id: "add-photo" });
      const status = el("div", { class: "upload-status", role: "status" });
      input.addEventListener("change", async () => {
        if (!input.files.length) return;
        status.replaceChildren(el("span", { class: "busy" }, t("sending…")));
        try {
          await upload(path, [...input.files]);
          attachments(kind, id, box);
        } catch (error) {
          showError(status, error);
        }
      });
      parts.push(el("label", { class: "add-photo" }, t("Add a photo or PDF"), " ", input), status);
    }
    box.replaceChildren(...parts);
  } catch (error) {
    showError(box, error);
  }
}

export function showDetails(panel, collection, kind, feature, onClose) {
  const props = feature.properties || {};
  const name = props.name || props.label || props.model || "";
  const close = el("button", { type: "button", class: "close", title: t("Close") }, "×");
  close.addEventListener("click", () => {
    panel.replaceChildren();
    onClose?.();
  });
  const historyBox = el("div", { id: "history" }, el("span", { class: "busy" }, t("loading history…")));
  const parts = [
    close,
    el("h2", { id: "details-title" }, `${TITLES[kind] || kind} ${feature.id}`, name ? `: ${name}` : ""),
    el("a", { href: `/ogc/collections/${collection}/items/${feature.id}?f=html`, target: "_blank" }, t("open in the OGC API")),
    fieldTable(props),
  ];
  if (kind === "hazard") {
    const box = el("div", { id: "balance" }, el("span", { class: "busy" }, t("loading balance…")));
    parts.push(el("h2", {}, t("Land release balance")), box);
    balance(feature.id, box);
  }
  if (kind in ATTACHABLE) {
    const box = el("div", { id: "attachments" }, el("span", { class: "busy" }, t("loading photos…")));
    parts.push(el("h2", {}, t("Photos and documents")), box);
    attachments(kind, feature.id, box);
  }
  parts.push(el("h2", {}, t("History")), historyBox);
  panel.replaceChildren(...parts);
  panel.scrollIntoView({ block: "nearest" });
  history(kind, feature.id, historyBox);
}
