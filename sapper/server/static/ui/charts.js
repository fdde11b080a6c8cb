// Plain SVG charts drawn here (no chart library): bars by day, horizontal bars, lines over dates.
// Every chart is a viewBox the page scales, with a <title> on each mark for its exact value.
// Numbers and dates are written in the reader's convention (i18n.js; days as the PDFs write them). The axes run left to right in
// every language (time goes to the right, as in the PDF charts): each chart is laid out ltr, so an
// Arabic page does not turn its text anchors around; the browser still shapes each Arabic label.

import { formatDay, formatNumber, lang, locale } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function title(text) {
  return svg("title", {}, text);
}

// Round steps for an axis from 0 to max: 1, 2 or 5 times a power of ten.
export function ticks(max, count = 4) {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const out = [];
  for (let v = 0; v <= max + step * 0.999; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v) {
  return formatNumber(v, 2);
}

// Axis labels as the documents write days: ISO 8601 in English (the register's own form), else in
// words: a day and month ("6 апр."), or a month on a long axis.

function dayLabel(ms) {
  if (lang === "en") return isoDay(ms).slice(5);
  return new Date(ms).toLocaleDateString(locale, { day: "numeric", month: "short", timeZone: "UTC" });
}

function monthLabel(ms) {
  if (lang === "en") return isoDay(ms).slice(0, 7);
  return new Date(ms).toLocaleDateString(locale, { month: "short", year: "numeric", timeZone: "UTC" });
}

// The root <svg> of a chart, laid out left to right whatever the page's direction.
function chartRoot(width, height, attrs = {}) {
  return svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", direction: "ltr", ...attrs });
}

const DAY_MS = 86400000;
const toDay = (iso) => Date.parse(`${iso}T00:00:00Z`);
export const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);

// Stacked bars per day. rows: [{day, values: [..]}], series: [{name, colour}].
export function dayBars({ rows, series, unit = "", width = 640, height = 240 }) {
  const m = { l: 52, r: 10, t: 22, b: 34 };
  const w = width - m.l - m.r;
  const h = height - m.t - m.b;
  const totals = rows.map((r) => r.values.reduce((a, b) => a + b, 0));
  const axis = ticks(Math.max(...totals, 0));
  const top = axis[axis.length - 1];
  const y = (v) => m.t + h - (v / top) * h;
  const band = w / Math.max(rows.length, 1);
  const root = chartRoot(width, height);
  const grid = svg("g", { class: "grid" });
  for (const t of axis) {
    grid.append(svg("line", { x1: m.l, x2: width - m.r, y1: y(t), y2: y(t) }));
    root.append(svg("text", { x: m.l - 6, y: y(t) + 4, "text-anchor": "end" }, fmt(t)));
  }
  root.prepend(grid);
  root.append(svg("text", { x: 4, y: 4, "dominant-baseline": "hanging" }, unit));
  const every = Math.ceil(rows.length / 8);
  rows.forEach((row, i) => {
    let base = 0;
    const x = m.l + i * band + band * 0.15;
    row.values.forEach((v, s) => {
      if (v <= 0) return;
      const rect = svg("rect", { x, width: band * 0.7, y: y(base + v), height: y(base) - y(base + v), fill: series[s].colour });
      rect.append(title(`${formatDay(row.day)}: ${series[s].name} ${fmt(v)} ${unit}`));
      root.append(rect);
      base += v;
    });
    if (i % every === 0) root.append(svg("text", { x: x + band * 0.35, y: height - m.b + 14, "text-anchor": "middle" }, dayLabel(toDay(row.day))));
  });
  root.append(svg("line", { class: "axis", x1: m.l, x2: width - m.r, y1: y(0), y2: y(0), stroke: "#999" }));
  return root;
}

// Horizontal bars, one group per row: rows: [{label, values: [..]}], series: [{name, colour}].
export function hBars({ rows, series, unit = "", max, width = 640, rowHeight = 26 }) {
  // room on the left for the longest label (about 6.5 px a character), so an Arabic or Russian one is not cut
  const longest = Math.max(0, ...rows.map((r) => String(r.label).length));
  const m = { l: Math.round(Math.min(width * 0.45, Math.max(170, 12 + 6.5 * longest))), r: 60, t: 6, b: 20 };
  const bar = (rowHeight - 6) / series.length;
  const height = m.t + m.b + rows.length * rowHeight;
  const top = max ?? ticks(Math.max(...rows.flatMap((r) => r.values), 0)).at(-1);
  const w = width - m.l - m.r;
  const x = (v) => m.l + (Math.min(v, top) / top) * w;
  const root = chartRoot(width, height);
  rows.forEach((row, i) => {
    const y0 = m.t + i * rowHeight;
    root.append(svg("text", { x: m.l - 6, y: y0 + rowHeight / 2 + 4, "text-anchor": "end" }, row.label));
    row.values.forEach((v, s) => {
      const rect = svg("rect", { x: m.l, y: y0 + 3 + s * bar, width: Math.max(x(v) - m.l, v > 0 ? 1 : 0), height: bar - 1, fill: series[s].colour });
      rect.append(title(`${row.label}: ${series[s].name} ${fmt(v)}${unit}`));
      root.append(rect);
      root.append(svg("text", { x: x(v) + 4, y: y0 + 3 + s * bar + bar - 2, "font-size": Math.min(11, bar + 1) }, `${fmt(v)}${unit}`));
    });
  });
  root.append(svg("line", { x1: m.l, x2: m.l, y1: m.t, y2: height - m.b, stroke: "#999" }));
  return root;
}

// Lines over dates: series: [{name, colour, points: [[isoDay, value]], dash}], marks: [{day, label, colour}],
// bands: [{name, colour, points: [[isoDay, low, high]]}] drawn as shaded areas under the lines.
export function dateLines({ series, bands = [], marks = [], unit = "", width = 640, height = 260, from, to }) {
  const m = { l: 56, r: 14, t: 24, b: 34 };  // the unit sits above the top tick
  const w = width - m.l - m.r;
  const h = height - m.t - m.b;
  const shown = [...series, ...bands];
  const days = [...shown.flatMap((s) => s.points.map((p) => toDay(p[0]))), ...marks.map((k) => toDay(k.day))];
  const x0 = from ? toDay(from) : Math.min(...days);
  const x1 = Math.max(to ? toDay(to) : Math.max(...days), x0 + DAY_MS);
  const axis = ticks(Math.max(...shown.flatMap((s) => s.points.map((p) => p.at(-1))), 0));
  const top = axis.at(-1);
  const x = (ms) => m.l + ((ms - x0) / (x1 - x0)) * w;
  const y = (v) => m.t + h - (v / top) * h;
  const root = chartRoot(width, height);
  const grid = svg("g", { class: "grid" });
  for (const t of axis) {
    grid.append(svg("line", { x1: m.l, x2: width - m.r, y1: y(t), y2: y(t) }));
    root.append(svg("text", { x: m.l - 6, y: y(t) + 4, "text-anchor": "end" }, fmt(t)));
  }
  root.append(grid, svg("text", { x: 4, y: 2, "dominant-baseline": "hanging" }, unit));
  const span = (x1 - x0) / DAY_MS;
  const step = [1, 2, 7, 14, 30, 61, 91, 182, 365, 730, 1826].find((s) => span / s <= 9) || 3652;
  for (let d = x0; d <= x1 - step * DAY_MS * 0.3; d += step * DAY_MS) {
    const text = span > 300 ? monthLabel(d) : dayLabel(d);
    root.append(svg("text", { x: x(d), y: height - m.b + 16, "text-anchor": "middle" }, text));
  }
  for (const mark of marks) {
    const at = x(toDay(mark.day));
    root.append(
      svg("line", { x1: at, x2: at, y1: m.t, y2: m.t + h, stroke: mark.colour || "#555", "stroke-dasharray": "3 3" }, title(`${mark.label}: ${formatDay(mark.day)}`)),
      at > width - 90
        ? svg("text", { x: at - 3, y: m.t + 10 + (mark.row || 0) * 12, fill: mark.colour || "#555", "text-anchor": "end" }, mark.label)
        : svg("text", { x: at + 3, y: m.t + 10 + (mark.row || 0) * 12, fill: mark.colour || "#555" }, mark.label),
    );
  }
  for (const b of bands) {
    if (!b.points.length) continue;
    const upper = b.points.map((p, i) => `${i ? "L" : "M"}${x(toDay(p[0])).toFixed(1)},${y(p[2]).toFixed(1)}`);
    const lower = [...b.points].reverse().map((p) => `L${x(toDay(p[0])).toFixed(1)},${y(p[1]).toFixed(1)}`);
    const d = `${upper.join("")}${lower.join("")}Z`;
    root.append(svg("path", { d, fill: b.colour, stroke: "none", "fill-opacity": 0.55, "data-band": b.name }, title(b.name)));
  }
  for (const s of series) {
    if (!s.points.length) continue;
    const d = s.points.map((p, i) => `${i ? "L" : "M"}${x(toDay(p[0])).toFixed(1)},${y(p[1]).toFixed(1)}`).join("");
    root.append(svg("path", { d, fill: "none", stroke: s.colour, "stroke-width": 2, "stroke-dasharray": s.dash, "data-series": s.name }, title(s.name)));
  }
  root.append(svg("line", { x1: m.l, x2: width - m.r, y1: y(0), y2: y(0), stroke: "#999" }));
  return root;
}

function timeTicks(root, x, x0, x1, y, height) {
  const span = (x1 - x0) / DAY_MS;
  const start = new Date(x0);
  if (span > 60) {
    const every = span > 730 ? 3 : 1;
    let d = Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
    for (let i = 0; d <= x1; i += 1) {
      if (i % every === 0 && x1 - d > 20 * DAY_MS) {
        root.append(svg("line", { x1: x(d), x2: x(d), y1: y, y2: height, stroke: "#e4e4e4" }));
        root.append(svg("text", { x: x(d) + 2, y: y - 4 }, monthLabel(d)));
      }
      const next = new Date(d);
      d = Date.UTC(next.getUTCFullYear(), next.getUTCMonth() + 1, 1);
    }
    return;
  }
  const step = span > 20 ? 7 : 1;
  for (let d = x0; d <= x1 - step * DAY_MS * 0.5; d += step * DAY_MS) {
    root.append(svg("line", { x1: x(d), x2: x(d), y1: y, y2: height, stroke: "#e4e4e4" }));
    root.append(svg("text", { x: x(d) + 2, y: y - 4 }, dayLabel(d)));
  }
}

// A Gantt chart: rows: [{name, bars: [{start, end, colour, title}]}], days inclusive;
// marks: [{day, label, colour}] drawn at the end of their day (where a bar ending that day ends).
export function gantt({ rows, marks = [], width = 1100, rowHeight = 20, label = 190 }) {
  const ends = marks.map((k) => toDay(k.day) + DAY_MS);
  const days = rows.flatMap((r) => r.bars.flatMap((b) => [toDay(b.start), toDay(b.end) + DAY_MS]));
  const x0 = Math.min(...days);
  const x1 = Math.max(...days, ...ends, x0 + DAY_MS);
  const top = 22 + 12 * marks.length;
  const height = top + rows.length * rowHeight + 4;
  const x = (ms) => label + ((ms - x0) / (x1 - x0)) * (width - label - 10);
  const root = chartRoot(width, height, { class: "gantt" });
  timeTicks(root, x, x0, x1, top, height);
  rows.forEach((row, i) => {
    const y = top + i * rowHeight;
    const g = svg("g", { class: "row", "data-team": row.name });
    g.append(svg("rect", { class: "band", x: 0, y, width, height: rowHeight, fill: "transparent" }));
    g.append(svg("text", { x: label - 6, y: y + rowHeight / 2 + 4, "text-anchor": "end" }, row.name));
    for (const bar of row.bars) {
      const left = x(toDay(bar.start));
      const rect = svg("rect", {
        class: "bar",
        x: left,
        y: y + 3,
        width: Math.max(x(toDay(bar.end) + DAY_MS) - left, 1),
        height: rowHeight - 6,
        fill: bar.colour,
      });
      rect.append(title(bar.title));
      g.append(rect);
    }
    root.append(g);
  });
  marks.forEach((mark, i) => {
    const at = x(toDay(mark.day) + DAY_MS);
    const colour = mark.colour || "#555";
    const text = `${mark.label} ${formatDay(mark.day)}`;
    root.append(
      svg("line", { class: "mark", x1: at, x2: at, y1: 12 * i + 14, y2: height, stroke: colour, "stroke-dasharray": "4 3", "stroke-width": 1.5 }, title(text)),
      svg("text", { x: at - 3, y: 12 * i + 12, fill: colour, "text-anchor": "end", "font-weight": "bold" }, text),
    );
  });
  return root;
}

export function keys(series) {
  const box = document.createElement("div");
  box.className = "keys";
  for (const s of series) {
    const k = document.createElement("span");
    k.style.setProperty("--c", s.colour);
    k.textContent = s.name;
    box.append(k);
  }
  return box;
}
