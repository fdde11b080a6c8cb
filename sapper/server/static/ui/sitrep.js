// The sitrep as a dashboard: the day's figures and the totals (from /api/sitrep), and charts of
// the last weeks (from /ui/api/progress). Redrawn when the day changes and every minute.
import { api, el, hectares, label, number, showError, start } from "./app.js";
import { dateLines, dayBars, hBars, keys } from "./charts.js";
import { ITEM, RELEASE } from "./colours.js";
import { formatDate, formatDay, isolate, t } from "./i18n.js";

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
  // each date isolated in the page's direction, as the reader's locale writes it: it stays whole beside Latin text
  const finish = plan ? Object.entries(plan.finish).map(([q, d]) => `${q} ${isolate(formatDate(d))}`).join(", ") : "";
  const planText = plan ? t("plan {id}: {finish}", { id: plan.id, finish }) : t("no plan yet");
  const on = formatDate(s.date);
  const buildings = Object.entries(s.buildings_checked.by_kind).map(([k, n]) => `${n} ${label(k)}`).join(", ");
  return [
    card("released-today", t("Land released on {day}", { day: on }), hectares(today.all.m2), ROUTES.map((r) => `${r.name} ${hectares(today[r.key].m2)}`).join(" · ")),
    card("released-total", t("Land released in total"), hectares(land.released_total.all.m2), t("{share} % of {total}", { share: number(share, 1), total: hectares(land.original.m2, 0) })),
    card("still-hazardous", t("Still hazardous"), hectares(land.still_hazardous.m2), ""),
    card("reports-today", t("Daily reports on {day}", { day: on }), String(s.reports.reports_today), t("area worked {area}", { area: hectares(worked) })),
    card("roads", t("Road released"), t("{km} km", { km: number(s.roads.released_total_km, 2) }), t("{km} km on the day", { km: number(s.roads.released_today_km, 2) })),
    card("buildings", t("Buildings checked"), String(s.buildings_checked.total), buildings),
    card("items-today", t("Items found on {day}", { day: on }), number(found), t("{found} found in total, {disposed} disposed of", { found: number(s.items.total_found), disposed: number(s.items.total_disposed) })),
    card("forecast", t("Finish at the recent rate"), s.forecast.at_recent_rate ? formatDate(s.forecast.at_recent_rate) : t("not yet known"), t("{rate} ha/day; {plan}", { rate: number(s.forecast.rate_m2_per_day / 10000, 2), plan: planText })),
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
    { name: t("found"), colour: "#b2182b" },
    { name: t("disposed of"), colour: "#4d4d4d" },
  ];
  const prioritySeries = [{ name: t("released"), colour: RELEASE.cleared.fill }];
  return [
    chart("chart-released", t("Land released per day, last {n} days (ha)", { n: DAYS }), dayBars({ rows, series: ROUTES, unit: t("ha") }), keys(ROUTES)),
    chart(
      "chart-hazardous",
      t("Still hazardous (ha)"),
      dateLines({ series: [{ name: t("still hazardous"), colour: "#d7301f", points: left }] }),
    ),
    chart("chart-found", t("Items found per day, last {n} days", { n: DAYS }), dayBars({ rows: found, series: [{ name: t("found"), colour: "#b2182b" }], unit: t("items") })),
    chart(
      "chart-items",
      t("Explosive items by category, in total"),
      hBars({ rows: categories.map((c) => ({ label: ITEM[c].label, values: [s.items.found_total[c] || 0, s.items.disposed_total[c] || 0] })), series: itemSeries }),
      keys(itemSeries),
    ),
    chart(
      "chart-priorities",
      t("Land released by priority class (% of its area)"),
      hBars({ rows: s.priorities.map((p) => ({ label: t("priority {p} ({area})", { p: p.priority, area: hectares(p.original.m2, 0) }), values: [p.percent_done] })), series: prioritySeries, unit: " %", max: 100 }),
    ),
  ];
}

async function draw() {
  document.body.dataset.loading = "1";
  try {
    const [s, p] = await Promise.all([api(`/api/sitrep?on=${day}`), api(`/ui/api/progress?on=${day}&days=${DAYS}`)]);
    document.getElementById("title").textContent = t("Situation report, {day}", { day: formatDate(s.date) });
    document.getElementById("sitrep-pdf").href = `/api/reports/sitrep.pdf?on=${s.date}`;
    document.getElementById("monthly-pdf").href = `/api/reports/monthly.pdf?month=${s.date.slice(0, 7)}`;
    document.getElementById("cards").replaceChildren(...cards(s));
    document.getElementById("charts").replaceChildren(...charts(s, p));
    document.getElementById("methods").textContent =
      t("Roads: {roads}. Buildings: {buildings}. Forecast: {forecast}.", {
        roads: t(s.roads.method),
        buildings: t(s.buildings_checked.method),
        forecast: t("mean area released per day over the {days} days to {day}", { days: s.forecast.rate_days, day: formatDay(s.date) }),
      });
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
// The EOD task reports the reader may download (the newest tasks first), listed once.
async function eodTasks() {
  try {
    const { tasks } = await api("/api/reports/eod-tasks");
    const text = (task) => [
      task.kind === "activity" ? t("EOD task {id}", { id: task.id }) : t("EOD daily report {id}", { id: task.id }),
      task.hazard_id ? t("hazard {id}", { id: task.hazard_id }) : null,
      task.start_on === task.end_on ? task.start_on : `${task.start_on || "–"} – ${task.end_on || "–"}`,
    ].filter(Boolean).join(", ");
    const items = tasks.map((task) => el("li", {}, el("a", { href: task.pdf, download: "" }, text(task))));
    document.getElementById("eod-tasks").replaceChildren(...(items.length ? items : [el("li", {}, t("No EOD spot task recorded."))]));
  } catch (error) {
    showError("message", error);
  }
}

setInterval(draw, 60000);
draw();
eodTasks();
