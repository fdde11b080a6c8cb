// The plan view: a stored plan's headline figures, its teams over time (Gantt, bars coloured by
// the priority class of the hazard worked, the finish dates marked) and its burn-down as the plan
// stored it: the team-days of work still to do (what sets the finish) and the hectares still to
// clear (what the map shows), each as the plan's line and the forecast's median with the band
// of 10-90 % of runs; the area chart also shows the land still hazardous in the register before
// the plan. A supervisor can make a new plan here: the server runs the planner in the background.
import { api, canWrite, el, hectares, label, number, showError, start } from "./app.js";
import { dateLines, gantt, isoDay, keys } from "./charts.js";
import { formatDay, t } from "./i18n.js";

const { me, config } = await start();
const PRIORITY = { 1: "#d7301f", 2: "#fc8d59", 3: "#fdcc8a" };
// the finish percentiles, coloured as in the plan's PNG charts
const FINISH = [["p50", "#1b7837"], ["p80", "#e08214"], ["p95", "#b2182b"]];
const MEDIAN = "#2166ac";
const BAND = "#92c5de";
const PLANNED = "#404040";
const OTHER = "#bdbdbd";
const message = document.getElementById("message");
const DAY_MS = 86400000;

function card(id, what, value, sub = "") {
  return el("div", { class: "card", id, "data-value": value }, el("div", { class: "what" }, what), el("div", { class: "value" }, value), el("div", { class: "sub" }, sub));
}

function chooser(numbers, current) {
  const select = el("select", { id: "plan-number", "aria-label": t("Plan") }, numbers.map((n) => el("option", { value: n, selected: n === current }, t("plan {n}", { n }))));
  select.addEventListener("change", () => show(Number(select.value)));
  document.getElementById("choose").replaceChildren(el("label", { for: "plan-number" }, t("Plan shown")), select);
}

function cards(p, teams) {
  const teamDays = new Set(teams.flatMap((t) => t.bars.flatMap((b) => spanDays(b).map((d) => `${t.team_id} ${d}`)))).size;
  const gap = p.gap === null || p.gap === undefined ? "" : t(", gap {gap} %", { gap: number(100 * p.gap, 1) });
  return [
    card("plan-start", t("First working day"), p.start_on || "—", t("made {when} by {who}", { when: String(p.made_at || "").slice(0, 16).replace("T", " "), who: p.made_by || "?" })),
    card("plan-finish", t("Finish (p50)"), p.finish_p50 || "—", `p80 ${p.finish_p80 || "—"} · p95 ${p.finish_p95 || "—"}`),
    card("plan-area", t("Area to work"), hectares(p.area_m2), t("{hazards} hazards in {sectors} sectors", { hazards: number(p.hazards), sectors: number(p.sectors) })),
    card("plan-unworkable", t("Sectors no team may work"), number(p.unworkable), p.unworkable ? t("see the sectors layer on the map") : t("every sector has a team")),
    card("plan-team-days", t("Team-days"), number(teamDays), t("teams at work: {n}", { n: teams.length })),
    card("plan-solver", t("Schedule"), label(p.solver), `${p.status || ""}${gap}`),
  ];
}

function spanDays(bar) {
  const out = [];
  for (let d = Date.parse(bar.start); d <= Date.parse(bar.end); d += DAY_MS) out.push(isoDay(d));
  return out;
}

function drawGantt(doc) {
  const rows = doc.teams.map((team) => ({
    name: team.name,
    bars: team.bars.map((b) => {
      const hazard = doc.hazards[String(b.hazard_id)] || { name: t("hazard {id}", { id: b.hazard_id }) };
      return {
        start: b.start,
        end: b.end,
        colour: PRIORITY[hazard.priority] || OTHER,
        title: t("{name} (priority {priority}): {start} to {end}, {sectors} sector(s), {hours} h", {
          name: hazard.name,
          priority: hazard.priority ?? "?",
          start: formatDay(b.start),
          end: formatDay(b.end),
          sectors: b.sectors,
          hours: number(b.hours, 1),
        }),
      };
    }),
  }));
  const last = doc.teams.flatMap((t) => t.bars.map((b) => b.end)).sort().at(-1);
  const marks = [{ label: t("plan finish"), day: last, colour: PLANNED }, ...finishMarks(doc.plan, ["p50", "p95"])].filter((k) => k.day);
  const box = document.getElementById("gantt");
  box.replaceChildren(rows.length ? gantt({ rows, marks }) : el("p", { class: "muted" }, t("no team has work in this plan")));
  document.getElementById("gantt-keys").replaceChildren(
    keys([1, 2, 3].map((n) => ({ name: t("hazard of priority {n}", { n }), colour: PRIORITY[n] })).concat([{ name: t("other"), colour: OTHER }])),
  );
}

// The plan's finish dates at the given levels (all by default) as chart marks.
function finishMarks(p, levels = FINISH.map(([name]) => name)) {
  return FINISH.filter(([name]) => levels.includes(name))
    .map(([name, colour], row) => ({ label: t("{level} finish", { level: name }), day: p[`finish_${name}`], colour, row }))
    .filter((k) => k.day);
}

// One burn-down chart: the plan's line, the forecast's median and its 10-90 % band, from the stored rows.
function burndownChart(days, field, planned, scale, extra = []) {
  const at = (name) => days.map((d) => [d.day, d[name] / scale]);
  const series = [
    { name: t("plan (expected durations)"), colour: PLANNED, dash: "6 4", points: at(planned) },
    { name: t("forecast, median of the runs (p50)"), colour: MEDIAN, points: at(`${field}_p50`) },
    ...extra,
  ];
  const bands = [{ name: t("forecast, 10-90 % of runs"), colour: BAND, points: days.map((d) => [d.day, d[`${field}_p10`] / scale, d[`${field}_p90`] / scale]) }];
  return { series, bands };
}

async function drawBurndown(doc) {
  const p = doc.plan;
  const box = document.getElementById("burndown");
  if (!doc.days.length) {
    box.replaceChildren(el("p", { class: "muted", id: "no-burndown" }, t("this plan was stored without its burn-down (made by an older sapper): make a new plan to see it")));
    document.getElementById("burndown-keys").replaceChildren();
    return;
  }
  const marks = finishMarks(p);
  const first = doc.days[0].day;
  const until = [config.latest_report_date || config.today, config.today, doc.days.at(-1).day].sort()[0];
  // the land still hazardous in the register from a month before the plan, for comparison
  const from = isoDay(Date.parse(first) - 30 * DAY_MS);
  const span = Math.max(1, Math.min(3660, Math.round((Date.parse(until) - Date.parse(from)) / DAY_MS) + 1));
  const progress = await api(`/ui/api/progress?on=${until}&days=${span}`);
  const actual = { name: t("still hazardous (register)"), colour: "#d7301f", points: progress.days.map((d) => [d.day, d.still_hazardous_m2 / 10000]) };
  const work = burndownChart(doc.days, "team_days", "planned_team_days", 1);
  const area = burndownChart(doc.days, "m2", "planned_m2", 10000, [actual]);
  const size = { width: 1100, from, to: doc.days.at(-1).day };
  box.replaceChildren(
    el("h3", {}, t("Team-days of work still to do")),
    el("div", { id: "burndown-work" }, dateLines({ ...work, marks, unit: t("team-days"), height: 300, ...size })),
    el("h3", {}, t("Hectares still to clear")),
    el("div", { id: "burndown-area" }, dateLines({ ...area, marks, unit: t("ha"), height: 220, ...size })),
  );
  const shown = [...work.bands, ...area.series];
  document.getElementById("burndown-keys").replaceChildren(keys(shown.map((s) => ({ name: s.name, colour: s.colour }))));
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

// A plan run's status and step in the reader's words; the API keeps its codes ("queued", "forecast 40%").
function runStatus(status) {
  const words = { queued: t("waiting for a worker"), running: t("being made"), done: t("made"), failed: t("stopped by an error"), cancelled: t("cancelled by a user") };
  return words[status] || status;
}

function runStep(step) {
  const [, name, share] = /^(.*?)( \d+%)?$/.exec(step || "");
  return name ? `${t(name)}${share || ""}` : "";
}

function makePlans() {
  if (!canWrite(me) || !["supervisor", "admin"].includes(me.role)) return;
  const form = document.getElementById("make");
  const status = document.getElementById("make-status");
  document.getElementById("make-box").hidden = false;
  form.start.value = config.plan_start || config.today;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    const cancel = document.getElementById("cancel-run");
    button.disabled = true;
    try {
      let job = await api("/api/plans", { method: "POST", body: { start: form.start.value, time_limit_s: Number(form.time_limit.value) } });
      cancel.hidden = false;
      cancel.onclick = async () => {
        cancel.disabled = true;
        try {
          await api(`/api/jobs/${job.id}/cancel`, { method: "POST" });
        } catch (error) {
          showError(status, error);
        }
      };
      while (job.status === "queued" || job.status === "running") {
        status.textContent = t("plan run {id}: {status} {step}", { id: job.id, status: runStatus(job.status), step: runStep(job.step) });
        await new Promise((resolve) => setTimeout(resolve, 1500));
        job = await api(`/api/plans/${job.id}`);
      }
      cancel.hidden = true;
      if (job.status === "cancelled") {
        status.textContent = t("plan run {id} was cancelled", { id: job.id });
        return;
      }
      if (job.status !== "done") throw new Error(t("the plan {status}: {error}", { status: runStatus(job.status), error: job.error || t("no reason given") }));
      status.textContent = t("plan {n} is ready", { n: job.summary.stored.number });
      for (const id of ["gantt-box", "burndown-box"]) document.getElementById(id).hidden = false;
      await show(job.summary.stored.number);
    } catch (error) {
      showError(status, error);
    } finally {
      button.disabled = false;
      cancel.hidden = true;
      cancel.disabled = false;
    }
  });
}

makePlans();
show(null);
