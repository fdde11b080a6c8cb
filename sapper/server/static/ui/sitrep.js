// The sitrep as a dashboard: the day's figures and the totals (from /api/sitrep), and charts of
// the last weeks (from /ui/api/progress). Redrawn when the day changes and every minute.
import { api, el, hectares, label, number, showError, start } from "./app.js";
import { dateLines, dayBars, hBars, keys } from "./charts.js";
import { ITEM, RELEASE } from "./colours.js";

const { day: firstDay } = await start();
let day = firstDay;
const DAYS = 30;
const ROUTES = ["cleared", "reduced", "cancelled"].map((r) => ({ key: r, name: label(r), colour: RELEASE[r].fill }));

function card(id, what, value, sub = "") {
  return el("div", { class: "card", id, "data-value": value }, el("div", { class: "what" }, what), el("div", { class: "value" }, value), el("div", { class: "sub" }, sub));
}

function sum(values) {
  return Object.values(values || {}).reduce((a, b) => a + b, 0);
}

function cards(s) {
  const land = s.land;
  const today = land.released_today;
  const share = land.original.m2 > 0 ? (100 * land.released_total.all.m2) / land.original.m2 : 0;
  const worked = Object.values(s.reports.worked_today).reduce((a, v) => a + v.m2, 0);
  const found = sum(s.items.found_today);
  const plan = typeof s.forecast.plan === "object" ? s.forecast.plan : null;
  const planText = plan ? `plan ${plan.id}: ${Object.entries(plan.finish).map(([q, d]) => `${q} ${d}`).join(", ")}` : "no plan yet";
  const buildings = Object.entries(s.buildings_checked.by_kind).map(([k, n]) => `${n} ${label(k)}`).join(", ");
  return [
    card("released-today", `Land released on ${s.date}`, hectares(today.all.m2), ROUTES.map((r) => `${r.name} ${hectares(today[r.key].m2)}`).join(" · ")),
    card("released-total", "Land released in total", hectares(land.released_total.all.m2), `${share.toFixed(1)} % of ${hectares(land.original.m2, 0)}`),
    card("still-hazardous", "Still hazardous", hectares(land.still_hazardous.m2), ""),
    card("reports-today", `Daily reports on ${s.date}`, String(s.reports.reports_today), `area worked ${hectares(worked)}`),
    card("roads", "Road released", `${number(s.roads.released_total_km, 2)} km`, `${number(s.roads.released_today_km, 2)} km on the day`),
    card("buildings", "Buildings checked", String(s.buildings_checked.total), buildings),
    card("items-today", `Items found on ${s.date}`, number(found), `${number(s.items.total_found)} found in total, ${number(s.items.total_disposed)} disposed of`),
    card("forecast", "Finish at the recent rate", s.forecast.at_recent_rate || "not yet known", `${number(s.forecast.rate_m2_per_day / 10000, 2)} ha/day; ${planText}`),
  ];
}

function chart(id, heading, ...content) {
  return el("section", { class: "chart", id }, el("h2", {}, heading), ...content);
}

function charts(s, p) {
  const rows = p.days.map((d) => ({ day: d.day, values: ROUTES.map((r) => d.released_m2[r.key] / 10000) }));
  const found = p.days.map((d) => ({ day: d.day, values: [d.items_found] }));
  const left = p.days.map((d) => [d.day, d.still_hazardous_m2 / 10000]);
  const categories = Object.keys(ITEM).filter((c) => s.items.found_total[c]);
  const itemSeries = [
    { name: "found", colour: "#b2182b" },
    { name: "disposed of", colour: "#4d4d4d" },
  ];
  const prioritySeries = [{ name: "released", colour: RELEASE.cleared.fill }];
  return [
    chart("chart-released", `Land released per day, last ${DAYS} days (ha)`, dayBars({ rows, series: ROUTES, unit: "ha" }), keys(ROUTES)),
    chart(
      "chart-hazardous",
      "Still hazardous (ha)",
      dateLines({ series: [{ name: "still hazardous", colour: "#d7301f", points: left }] }),
    ),
    chart("chart-found", `Items found per day, last ${DAYS} days`, dayBars({ rows: found, series: [{ name: "found", colour: "#b2182b" }], unit: "items" })),
    chart(
      "chart-items",
      "Explosive items by category, in total",
      hBars({ rows: categories.map((c) => ({ label: ITEM[c].label, values: [s.items.found_total[c] || 0, s.items.disposed_total[c] || 0] })), series: itemSeries }),
      keys(itemSeries),
    ),
    chart(
      "chart-priorities",
      "Land released by priority class (% of its area)",
      hBars({ rows: s.priorities.map((p) => ({ label: `priority ${p.priority} (${hectares(p.original.m2, 0)})`, values: [p.percent_done] })), series: prioritySeries, unit: " %", max: 100 }),
    ),
  ];
}

async function draw() {
  document.body.dataset.loading = "1";
  try {
    const [s, p] = await Promise.all([api(`/api/sitrep?on=${day}`), api(`/ui/api/progress?on=${day}&days=${DAYS}`)]);
    document.getElementById("title").textContent = `Situation report, ${s.date}`;
    document.getElementById("sitrep-pdf").href = `/api/reports/sitrep.pdf?on=${s.date}`;
    document.getElementById("cards").replaceChildren(...cards(s));
    document.getElementById("charts").replaceChildren(...charts(s, p));
    document.getElementById("methods").textContent =
      `Roads: ${s.roads.method}. Buildings: ${s.buildings_checked.method}. Forecast: ${s.forecast.rate_basis}.`;
    document.getElementById("message").replaceChildren();
    document.body.dataset.loaded = s.date;
  } catch (error) {
    showError("message", error);
  } finally {
    document.body.dataset.loading = "0";
  }
}

document.addEventListener("daychange", (event) => {
  day = event.detail;
  draw();
});
setInterval(draw, 60000);
draw();
