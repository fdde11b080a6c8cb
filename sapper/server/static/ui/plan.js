// The plan view: a stored plan's headline figures, its teams over time (Gantt, bars coloured by
// the priority class of the hazard worked) and its burn-down (the area the plan still has to
// work, with the land actually released before it and the forecast finish percentiles).
// A supervisor can make a new plan here: the server runs the planner in the background.
import { api, canWrite, el, hectares, label, number, showError, start } from "./app.js";
import { dateLines, gantt, isoDay, keys } from "./charts.js";

const { me, config } = await start();
const PRIORITY = { 1: "#d7301f", 2: "#fc8d59", 3: "#fdcc8a" };
const OTHER = "#bdbdbd";
const message = document.getElementById("message");
const DAY_MS = 86400000;

function card(id, what, value, sub = "") {
  return el("div", { class: "card", id, "data-value": value }, el("div", { class: "what" }, what), el("div", { class: "value" }, value), el("div", { class: "sub" }, sub));
}

function chooser(numbers, current) {
  const select = el("select", { id: "plan-number", "aria-label": "Plan" }, numbers.map((n) => el("option", { value: n, selected: n === current }, `plan ${n}`)));
  select.addEventListener("change", () => show(Number(select.value)));
  document.getElementById("choose").replaceChildren(el("label", { for: "plan-number" }, "Plan shown"), select);
}

function cards(p, teams) {
  const teamDays = new Set(teams.flatMap((t) => t.bars.flatMap((b) => spanDays(b).map((d) => `${t.team_id} ${d}`)))).size;
  const gap = p.gap === null || p.gap === undefined ? "" : `, gap ${(100 * p.gap).toFixed(1)} %`;
  return [
    card("plan-start", "First working day", p.start_on || "—", `made ${String(p.made_at || "").slice(0, 16).replace("T", " ")} by ${p.made_by || "?"}`),
    card("plan-finish", "Finish (p50)", p.finish_p50 || "—", `p80 ${p.finish_p80 || "—"} · p95 ${p.finish_p95 || "—"}`),
    card("plan-area", "Area to work", hectares(p.area_m2), `${number(p.hazards)} hazards in ${number(p.sectors)} sectors`),
    card("plan-unworkable", "Sectors no team may work", number(p.unworkable), p.unworkable ? "see the sectors layer on the map" : "every sector has a team"),
    card("plan-team-days", "Team-days", number(teamDays), `${teams.length} team${teams.length === 1 ? "" : "s"} at work`),
    card("plan-solver", "Schedule", label(p.solver), `${p.status || ""}${gap}`),
  ];
}

function spanDays(bar) {
  const out = [];
  for (let d = Date.parse(bar.start); d <= Date.parse(bar.end); d += DAY_MS) out.push(isoDay(d));
  return out;
}

function drawGantt(doc) {
  const rows = doc.teams.map((t) => ({
    name: t.name,
    bars: t.bars.map((b) => {
      const hazard = doc.hazards[String(b.hazard_id)] || { name: `hazard ${b.hazard_id}` };
      return {
        start: b.start,
        end: b.end,
        colour: PRIORITY[hazard.priority] || OTHER,
        title: `${hazard.name} (priority ${hazard.priority ?? "?"}): ${b.start} to ${b.end}, ${b.sectors} sector(s), ${number(b.hours, 1)} h`,
      };
    }),
  }));
  const box = document.getElementById("gantt");
  box.replaceChildren(rows.length ? gantt({ rows }) : el("p", { class: "muted" }, "no team has work in this plan"));
  document.getElementById("gantt-keys").replaceChildren(
    keys([1, 2, 3].map((n) => ({ name: `hazard of priority ${n}`, colour: PRIORITY[n] })).concat([{ name: "other", colour: OTHER }])),
  );
}

async function drawBurndown(doc) {
  const p = doc.plan;
  const planned = doc.burndown.map((d) => [d.day, d.left_m2 / 10000]);
  const series = [{ name: "planned", colour: "#0b5394", points: planned }];
  const end = [p.finish_p95, doc.burndown.at(-1)?.day].filter(Boolean).sort().at(-1);
  if (p.start_on && end) {
    // the land still hazardous in the register from a month before the plan, for comparison
    const from = Date.parse(p.start_on) - 30 * DAY_MS;
    const until = [config.latest_report_date || config.today, config.today, end].sort()[0];
    const days = Math.max(1, Math.min(3660, Math.round((Date.parse(until) - from) / DAY_MS) + 1));
    const progress = await api(`/ui/api/progress?on=${until}&days=${days}`);
    const actual = progress.days.map((d) => [d.day, d.still_hazardous_m2 / 10000]);
    series.push({ name: "still hazardous (register)", colour: "#d7301f", points: actual });
  }
  const marks = [
    ["p50", p.finish_p50, "#238b45", 0],
    ["p80", p.finish_p80, "#807dba", 1],
    ["p95", p.finish_p95, "#6a51a3", 2],
  ].filter(([, day]) => day).map(([name, day, colour, row]) => ({ label: `${name} finish`, day, colour, row }));
  document.getElementById("burndown").replaceChildren(dateLines({ series, marks, unit: "ha", height: 300, width: 1100 }));
  document.getElementById("burndown-keys").replaceChildren(keys(series.map((s) => ({ name: s.name, colour: s.colour }))));
}

async function show(numberShown) {
  document.body.dataset.loading = "1";
  try {
    const doc = await api(`/ui/api/plan${numberShown ? `?number=${numberShown}` : ""}`);
    const p = doc.plan;
    document.getElementById("title").textContent = `Plan ${p.number}`;
    chooser(doc.numbers, p.number);
    document.getElementById("cards").replaceChildren(...cards(p, doc.teams));
    drawGantt(doc);
    await drawBurndown(doc);
    message.replaceChildren();
    document.body.dataset.plan = String(p.number);
  } catch (error) {
    if (error.status === 404) {
      message.replaceChildren(el("p", { class: "muted", id: "no-plan" }, error.message));
      for (const id of ["gantt-box", "burndown-box"]) document.getElementById(id).hidden = true;
    } else {
      showError(message, error);
    }
  } finally {
    document.body.dataset.loading = "0";
  }
}

function makePlans() {
  if (!canWrite(me) || !["supervisor", "admin"].includes(me.role)) return;
  const form = document.getElementById("make");
  const status = document.getElementById("make-status");
  document.getElementById("make-box").hidden = false;
  form.start.value = config.today;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      let job = await api("/api/plans", { method: "POST", body: { start: form.start.value, time_limit_s: Number(form.time_limit.value) } });
      while (job.status === "queued" || job.status === "running") {
        status.textContent = `plan run ${job.id}: ${job.status} ${job.step || ""}`;
        await new Promise((resolve) => setTimeout(resolve, 1500));
        job = await api(`/api/plans/${job.id}`);
      }
      if (job.status !== "done") throw new Error(`the plan ${job.status}: ${job.error || "no reason given"}`);
      status.textContent = `plan ${job.summary.stored.number} is ready`;
      for (const id of ["gantt-box", "burndown-box"]) document.getElementById(id).hidden = false;
      await show(job.summary.stored.number);
    } catch (error) {
      showError(status, error);
    } finally {
      button.disabled = false;
    }
  });
}

makePlans();
show(null);
