// What every page shares: the session, API calls that fail with the server's own sentence,
// the navigation bar with the day shown, and small formatting helpers.
//
// Reading uses the session cookie set at login (the server accepts it for GET only); writing
// sends the token the login returned, kept in this browser's localStorage, as a Bearer header,
// so another site cannot make the browser write on the user's behalf.

import { formatNumber, label as vocabularyLabel, t } from "./i18n.js";

const TOKEN = "sapper.token";
const DAY = "sapper.day";
export const DATA_CACHE = "sapper-data"; // what the pages read, kept for offline use (sw.js)

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function saveToken(token) {
  localStorage.setItem(TOKEN, token);
}

export async function api(path, { method = "GET", body, signal } = {}) {
  const headers = { Accept: "application/json" };
  const token = localStorage.getItem(TOKEN);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    credentials: "same-origin",
  });
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json() : null;
  if (!response.ok) {
    const message = (data && (data.description || data.detail)) || `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, message);
  }
  return data;
}

export function toLogin() {
  const next = location.pathname + location.search;
  location.assign(`/ui/login?next=${encodeURIComponent(next)}`);
}

// The logged-in user, or off to the login page.
async function session() {
  try {
    return await api("/api/me");
  } catch (error) {
    if (error.status === 401) {
      localStorage.removeItem(TOKEN);
      toLogin();
      return new Promise(() => {});
    }
    throw error;
  }
}

async function logout() {
  try {
    await api("/api/logout", { method: "POST" });
  } catch {
    // logged out already: nothing to withdraw
  }
  localStorage.removeItem(TOKEN);
  if (window.caches) await caches.delete(DATA_CACHE); // the next user of this browser must not read it offline
  location.assign("/ui/login");
}

export function canWrite(me) {
  return me.role !== "viewer" && Boolean(localStorage.getItem(TOKEN));
}

// The day the pages show: chosen in the bar, else the latest day with reports, else today.
export function currentDay(config) {
  return sessionStorage.getItem(DAY) || config.latest_report_date || config.today;
}

const PAGES = [
  ["/ui/", t("Map")],
  ["/ui/sitrep", t("Sitrep")],
  ["/ui/report", t("Daily report")],
  ["/ui/plan", t("Plan")],
];

function nav(me, day, config) {
  const bar = document.getElementById("nav");
  bar.replaceChildren(
    el("a", { class: "brand", href: "/ui/" }, "sapper"),
    ...PAGES.map(([href, title]) =>
      el("a", { class: `page${location.pathname === href ? " current" : ""}`, href }, title),
    ),
    el("span", { class: "spacer" }),
  );
  const picker = el("input", { type: "date", id: "day", value: day, max: config.today });
  picker.addEventListener("change", () => {
    if (!picker.value) return;
    sessionStorage.setItem(DAY, picker.value);
    document.dispatchEvent(new CustomEvent("daychange", { detail: picker.value }));
  });
  const out = el("button", { type: "button", id: "logout" }, t("Log out"));
  out.addEventListener("click", logout);
  const team = me.team_id ? t(", team {id}", { id: me.team_id }) : "";
  bar.append(
    el("label", { for: "day", title: t("The day the map and the sitrep show") }, t("Day")),
    picker,
    el("span", { class: "who" }, `${me.name} (${label(me.role)}${team})`),
    out,
  );
}

// Every page starts here: who is logged in, the server's config, the day shown.
export async function start() {
  const me = await session();
  const config = await api("/ui/api/config");
  const day = currentDay(config);
  nav(me, day, config);
  return { me, config, day };
}

// A small DOM builder: text is always set as text, never parsed as HTML.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function label(value) {
  return vocabularyLabel(value);
}

export function hectares(m2, digits = 2) {
  return t("{ha} ha", { ha: formatNumber(Number(m2 || 0) / 10000, digits, digits) });
}

export function number(value, digits = 0) {
  return formatNumber(value, digits);
}

export function showError(where, error) {
  const box = typeof where === "string" ? document.getElementById(where) : where;
  box.replaceChildren(el("div", { class: "error", role: "alert" }, error.message || String(error)));
}
