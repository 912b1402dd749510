// Charts as SVG elements (createElementNS and text nodes; no markup strings): axes with ticks
// and labels, counts in the captions, and the reps that matter named on the chart.
import { $, el, money, percent } from "./dom.js";

const W = 420, H = 240;
const M = { left: 46, right: 10, top: 14, bottom: 38 };
const X0 = M.left, X1 = W - M.right, Y0 = H - M.bottom, Y1 = M.top;

function draw(id, parts) {
  const svg = $(id);
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  svg.replaceChildren(...parts.flat());
}

// A "nice" top for an axis and its ticks.
function ticks(top, n = 4) {
  if (!(top > 0)) return { top: 1, values: [0, 1] };
  const raw = top / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const values = [];
  for (let v = 0; v <= top + step * 0.999; v += step) values.push(v);
  return { top: values[values.length - 1], values };
}

function yAxis(scale, values, format, title) {
  const out = [el("svg:line", { class: "axis", x1: X0, x2: X0, y1: Y1, y2: Y0 })];
  for (const v of values) {
    const y = scale(v);
    out.push(el("svg:line", { class: "grid", x1: X0, x2: X1, y1: y, y2: y }));
    out.push(el("svg:text", { class: "tick", x: X0 - 4, y: y + 3, "text-anchor": "end" }, format(v)));
  }
  out.push(el("svg:text", { class: "axis-title", x: 10, y: (Y0 + Y1) / 2, transform: `rotate(-90 10 ${(Y0 + Y1) / 2})`, "text-anchor": "middle" }, title));
  return out;
}

function xAxis(title) {
  return [
    el("svg:line", { class: "axis", x1: X0, x2: X1, y1: Y0, y2: Y0 }),
    el("svg:text", { class: "axis-title", x: (X0 + X1) / 2, y: H - 4, "text-anchor": "middle" }, title),
  ];
}

// Each rep's annual quota (dot) against their forecast band; the top three quotas and every
// flagged rep (`flagged`: rep_id -> reason) named.
export function bandChart(plan, flagged) {
  const reps = [...plan.reps].sort((a, b) => a.annual_quota - b.annual_quota);
  const [lo, hi] = (plan.summary.band_levels || [0.1, 0.9]).map((l) => "P" + Math.round(100 * l));
  const named = new Set(reps.slice(-3).map((r) => r.rep_id));
  for (const r of reps) if (flagged.has(r.rep_id)) named.add(r.rep_id);
  $("band-caption").textContent =
    `Each rep's annual quota (dot) against their forecast band (${lo}-${hi}): ${reps.length} reps, ` +
    `${[...named].filter((n) => flagged.has(n)).length} flagged (red, named), the top three quotas named`;
  const t = ticks(Math.max(...reps.map((r) => Math.max(r.annual_quota, r.annual_high || 0))));
  const y = (v) => Y0 - (v / t.top) * (Y0 - Y1);
  const x = (i) => X0 + (i + 0.5) * (X1 - X0) / reps.length;
  const out = [yAxis(y, t.values, money, "annual"), xAxis(`${reps.length} reps, by annual quota`)];
  const placed = [];  // labels drawn so far: [x, y], so that names do not overlap
  reps.forEach((r, i) => {
    const bad = flagged.has(r.rep_id);
    out.push(el("svg:line", { class: "band", x1: x(i), x2: x(i), y1: y(r.annual_low), y2: y(r.annual_high) },
      el("svg:title", {}, `${r.rep_id}: ${lo} ${money(r.annual_low)}, ${hi} ${money(r.annual_high)}`)));
    out.push(el("svg:circle", { class: bad ? "quota flagged" : "quota", cx: x(i), cy: y(r.annual_quota), r: 3, "data-rep": r.rep_id },
      el("svg:title", {}, `${r.rep_id}: ${money(r.annual_quota)}${bad ? " (" + flagged.get(r.rep_id) + ")" : ""}`)));
    if (named.has(r.rep_id)) {
      let ty = Math.max(Y1 + 8, y(Math.max(r.annual_high || 0, r.annual_quota)) - 4);
      while (placed.some(([px, py]) => Math.abs(px - x(i)) < 30 && Math.abs(py - ty) < 9)) ty -= 9;
      placed.push([x(i), ty]);
      out.push(el("svg:text", { class: bad ? "rep-label flagged" : "rep-label", x: x(i), y: ty, "text-anchor": i > reps.length * 0.7 ? "end" : "middle", "data-rep": r.rep_id }, r.rep_id));
    }
  });
  draw("chart-band", out);
}

// How many reps have each chance of reaching quota (bars of 10 points), with the counts.
export function probChart(plan) {
  const bins = new Array(10).fill(0);
  for (const r of plan.reps) bins[Math.min(9, Math.max(0, Math.floor((r.p_attain || 0) * 10)))] += 1;
  const t = ticks(Math.max(...bins, 1));
  const y = (v) => Y0 - (v / t.top) * (Y0 - Y1);
  const bw = (X1 - X0) / 10;
  const out = [yAxis(y, t.values, (v) => String(v), "reps"), xAxis("chance of reaching the annual quota")];
  bins.forEach((n, i) => {
    out.push(el("svg:rect", { class: "bar", x: X0 + i * bw + 1, y: y(n), width: bw - 2, height: Y0 - y(n) },
      el("svg:title", {}, `${i * 10}-${i * 10 + 10}%: ${n} reps`)));
    if (n) out.push(el("svg:text", { class: "count", x: X0 + (i + 0.5) * bw, y: y(n) - 2, "text-anchor": "middle" }, String(n)));
    out.push(el("svg:text", { class: "tick", x: X0 + i * bw, y: Y0 + 12, "text-anchor": "middle" }, `${i * 10}%`));
  });
  out.push(el("svg:text", { class: "tick", x: X1, y: Y0 + 12, "text-anchor": "end" }, "100%"));
  $("prob-caption").textContent = `Chance of reaching quota: ${plan.reps.length} reps; expected share reaching it ${percent(plan.summary.expected_share_attaining)}`;
  draw("chart-prob", out);
}

// The company number's quarters, with each quarter's amount and share.
export function phasingChart(plan, ps) {
  const totals = ps.map((p) => plan.quotas.filter((q) => q.period === p).reduce((a, q) => a + q.quota, 0));
  const all = totals.reduce((a, b) => a + b, 0);
  const t = ticks(Math.max(...totals));
  const y = (v) => Y0 - (v / t.top) * (Y0 - Y1);
  const bw = (X1 - X0) / Math.max(1, ps.length);
  const out = [yAxis(y, t.values, money, "quota"), xAxis(`${ps.length} quarters`)];
  totals.forEach((v, i) => {
    out.push(el("svg:rect", { class: "bar phase", x: X0 + i * bw + 10, y: y(v), width: bw - 20, height: Y0 - y(v) },
      el("svg:title", {}, `${ps[i]}: ${money(v)}`)));
    out.push(el("svg:text", { class: "count", x: X0 + (i + 0.5) * bw, y: y(v) - 3, "text-anchor": "middle" }, `${money(v)} (${percent(v / all)})`));
    out.push(el("svg:text", { class: "tick", x: X0 + (i + 0.5) * bw, y: Y0 + 12, "text-anchor": "middle" }, ps[i]));
  });
  $("phasing-caption").textContent = `Quarterly phasing of ${money(all)} of quotas`;
  draw("chart-phasing", out);
}

// In-year pace: each rep's bookings to date (y) against the quota phased to date (x); on the
// diagonal a rep is on pace. Flagged reps in red, named.
export function paceChart(progress) {
  const reps = progress.reps;
  const flagged = reps.filter((r) => (r.flags || "") !== "");
  const top = ticks(Math.max(...reps.map((r) => Math.max(r.due_to_date || 0, r.actual_to_date || 0)), 1));
  const x = (v) => X0 + (v / top.top) * (X1 - X0);
  const y = (v) => Y0 - (v / top.top) * (Y0 - Y1);
  const out = [yAxis(y, top.values, money, "booked to date"), xAxis("quota phased to date"),
    el("svg:line", { class: "diagonal", x1: x(0), y1: y(0), x2: x(top.top), y2: y(top.top) })];
  for (const v of top.values) out.push(el("svg:text", { class: "tick", x: x(v), y: Y0 + 12, "text-anchor": "middle" }, money(v)));
  out.push(el("svg:text", { class: "tick", x: x(top.top * 0.92), y: y(top.top * 0.92) - 4, "text-anchor": "end" }, "on pace"));
  const placed = [];  // names drawn so far, so that they do not overlap
  for (const r of reps) {
    const bad = (r.flags || "") !== "";
    out.push(el("svg:circle", { class: bad ? "pace flagged" : "pace", cx: x(r.due_to_date), cy: y(r.actual_to_date), r: 3, "data-rep": r.rep_id },
      el("svg:title", {}, `${r.rep_id}: ${money(r.actual_to_date)} booked of ${money(r.due_to_date)} due (pace ${percent(r.pace)})`)));
    if (bad) {
      let ty = y(r.actual_to_date) + 3;
      while (placed.some(([px, py]) => Math.abs(px - x(r.due_to_date)) < 34 && Math.abs(py - ty) < 9)) ty -= 9;
      placed.push([x(r.due_to_date), ty]);
      out.push(el("svg:text", { class: "rep-label flagged", x: x(r.due_to_date) + 4, y: ty, "data-rep": r.rep_id }, r.rep_id));
    }
  }
  $("pace-caption").textContent =
    `Bookings to date against the phased quota: ${reps.length} reps, ${flagged.length} flagged (red, named); ` +
    `company pace ${percent(progress.summary.pace)}`;
  draw("chart-pace", out);
}
