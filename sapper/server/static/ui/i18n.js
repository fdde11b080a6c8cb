// The page in the reader's language: the server's catalogue (/ui/i18n/messages) fetched once, before
// any page script runs (a module with top-level await), then
// - t("English text", { name: value }) gives a sentence in the reader's language, {name} fields filled;
// - label(code) gives a vocabulary code as words (the codes stay the same in the data);
// - elements marked data-i18n have their text translated, data-i18n-attr="title aria-label" their attributes;
// - <html lang dir> follow the language, so Arabic lays out right to left (the browser shapes the letters).
// Without the network (offline) the last catalogue fetched is used, else English.

const STORE = "sapper.messages";

async function load() {
  const asked = new URLSearchParams(location.search).get("lang");
  const url = "/ui/i18n/messages" + (asked ? `?lang=${encodeURIComponent(asked)}` : "");
  try {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.ok) {
      const body = await response.json();
      localStorage.setItem(STORE, JSON.stringify(body));
      return body;
    }
  } catch {
    // offline: the catalogue kept from the last visit
  }
  try {
    return JSON.parse(localStorage.getItem(STORE)) || {};
  } catch {
    return {};
  }
}

const catalogue = await load();
const messages = catalogue.messages || {};
const labels = catalogue.labels || {};
export const lang = catalogue.lang || "en";
export const dir = catalogue.dir || "ltr";
// Latin digits in every language, as in the PDF documents (CLDR's default for Arabic, "ar").
export const locale = `${lang}-u-nu-latn`;

export function t(text, params = {}) {
  const found = messages[text] || text;
  return found.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

export function label(code) {
  const key = String(code ?? "");
  return labels[key] || key.replaceAll("_", " ");
}

export function formatNumber(value, digits = 0, minimum = 0) {
  return Number(value || 0).toLocaleString(locale, { maximumFractionDigits: digits, minimumFractionDigits: minimum });
}

export function formatDate(value) {
  const day = value instanceof Date ? value : new Date(`${value}T00:00:00`);
  return Number.isNaN(day.getTime()) ? String(value) : day.toLocaleDateString(locale, { dateStyle: "medium" });
}

// Text kept whole in the page's direction (a date inside a sentence of the other direction): a Unicode isolate.
export function isolate(text) {
  return `${dir === "rtl" ? "\u2067" : "\u2066"}${text}\u2069`;
}

// A day as the PDF documents write it: ISO 8601 in English (the register's own form), else in words.
export function formatDay(value) {
  return lang === "en" ? String(value) : formatDate(value);
}

export function localise(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) {
    node.dataset.i18nSource ??= node.textContent.trim().replace(/\s+/g, " ");
    node.textContent = t(node.dataset.i18nSource);
  }
  for (const node of root.querySelectorAll("[data-i18n-attr]")) {
    for (const name of node.dataset.i18nAttr.split(/\s+/)) {
      const source = `i18n${name.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase())}`;
      node.dataset[source] ??= node.getAttribute(name) || "";
      if (node.dataset[source]) node.setAttribute(name, t(node.dataset[source]));
    }
  }
}

document.documentElement.lang = lang;
document.documentElement.dir = dir;
localise();
