// quotaplan's planner page: plain JavaScript against the same HTTP API (/v1), no libraries.
// Every value from data is set as text (textContent, attributes): never parsed as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";

// An element with attributes and children (strings become text nodes, never markup).
function el(tag, attrs, ...children) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
const files = { history: null, roster: null };
let current = null;   // the plan on screen
let previous = null;  // the one before it (for the comparison)
let sortKey = "rep_id", sortUp = true;

function money(x) {
  if (Math.abs(x) < 0.5) return "0";
  const a = Math.abs(x);
  if (a >= 1e9) return (x / 1e9).toFixed(2) + "B";
  if (a >= 1e6) return (x / 1e6).toFixed(2) + "M";
  if (a >= 1e3) return (x / 1e3).toFixed(2) + "k";
  return x.toFixed(0);
}

function share(text) {  // "5%" -> 0.05, "0.05" -> 0.05
  const t = String(text).trim();
  if (t === "") return null;
  const v = t.endsWith("%") ? parseFloat(t) / 100 : parseFloat(t);
  if (Number.isNaN(v)) throw new Error(`not a number or a percentage: ${t}`);
  return v;
}

function headers(extra) {
  const h = Object.assign({}, extra || {});
  const token = $("token").value.trim();
  if (token) h["Authorization"] = "Bearer " + token;
  return h;
}

function clearErrors() {
  document.querySelectorAll(".error").forEach((e) => (e.textContent = ""));
}

function showError(field, text) {
  const box = document.querySelector(`.error[data-for="${field}"]`) ||
    document.querySelector('.error[data-for="plan"]');
  box.textContent = text;
}

// Which field a problem is about, from its words: the diagnosis of an impossible number goes
// next to the target, a data problem next to the file at fault.
function fieldOf(problem) {
  const d = (problem.title + " " + problem.detail).toLowerCase();
  if (problem.title === "Impossible plan" || d.includes("target")) return "target";
  if (d.includes("limits.")) return "limits";
  if (d.includes("roster")) return "roster";
  if (d.includes("history")) return "history";
  return "plan";
}

["history", "roster"].forEach((name) => {
  $(name).addEventListener("change", (ev) => {
    files[name] = ev.target.files[0] || null;
    $("data-status").textContent = "";
  });
});

$("use-sample").addEventListener("click", async () => {
  clearErrors();
  for (const name of ["history", "roster"]) {
    const resp = await fetch(`v1/sample/${name}.csv`, { headers: headers() });
    if (!resp.ok) { showError(name, `could not load the sample (${resp.status})`); return; }
    files[name] = new File([await resp.blob()], `${name}.csv`, { type: "text/csv" });
  }
  $("data-status").textContent = "bundled sample loaded (46 reps, 2021-2025)";
});

$("inputs").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  clearErrors();
  if (!files.roster) { showError("roster", "choose a roster CSV, or use the bundled sample"); return; }
  if (!files.history) { showError("history", "choose a history CSV, or use the bundled sample"); return; }
  let limits;
  try {
    limits = {
      over_assignment: share($("over_assignment").value) || 0,
      cap_quantile: share($("cap_quantile").value),
      max_increase: share($("max_increase").value),
    };
  } catch (e) { showError("limits", e.message); return; }
  const settings = { scenario: "web", target: $("target").value.trim(), policy: $("policy").value, limits };
  const form = new FormData();
  form.append("settings", JSON.stringify(settings));
  form.append("history", files.history, "history.csv");
  form.append("roster", files.roster, "roster.csv");
  $("run").disabled = true;
  $("run").textContent = "Planning...";
  try {
    const resp = await fetch("v1/plans", { method: "POST", body: form, headers: headers() });
    const body = await resp.json();
    if (!resp.ok) { showError(fieldOf(body), body.detail); return; }
    previous = current;
    current = body;
    render();
  } catch (e) {
    showError("plan", "the server did not answer: " + e.message);
  } finally {
    $("run").disabled = false;
    $("run").textContent = "Plan";
  }
});

function rows() {
  const byRep = {};
  for (const q of current.quotas) (byRep[q.rep_id] = byRep[q.rep_id] || {})[q.period] = q.quota;
  const before = {};
  if (previous) for (const r of previous.reps) before[r.rep_id] = r.annual_quota;
  return current.reps.map((r) => {
    const row = Object.assign({}, r, { quarters: byRep[r.rep_id] });
    row.change = r.rep_id in before ? r.annual_quota - before[r.rep_id] : null;
    return row;
  });
}

function periods() {
  return [...new Set(current.quotas.map((q) => q.period))].sort();
}

function render() {
  const s = current.summary;
  $("result").hidden = false;
  $("summary").textContent =
    `Plan ${current.id} (${s.policy}): ${money(s.company_target)} company number, quotas ${money(s.total_quota)} over ${s.reps} reps`;
  $("summary-detail").textContent =
    `Expected share of reps reaching quota: ${Math.round(100 * s.expected_share_attaining)}%; ` +
    `max stretch ${s.max_stretch.toFixed(2)}; reps over their cap: ${s.reps_over_cap}; solver: ${s.solver_status}`;
  $("compare-note").textContent = previous
    ? `Compared with plan ${previous.id} (${money(previous.summary.company_target)}): changed reps are highlighted.`
    : "";
  renderTable();
  chartBand();
  chartProb();
  chartPhasing();
}

function renderTable() {
  const ps = periods();
  const cols = [["rep_id", "rep"], ["team", "team"], ...ps.map((p) => [p, p]),
    ["annual_quota", "annual"], ["stretch", "stretch"], ["p_attain", "P(attain)"], ["binding", "bound by"]];
  if (previous) cols.push(["change", "vs previous"]);
  const head = el("tr", {}, ...cols.map(([k, t]) =>
    el("th", { "data-key": k }, t + (k === sortKey ? (sortUp ? " ▲" : " ▼") : ""))));
  head.querySelectorAll("th").forEach((th) => th.addEventListener("click", () => {
    const k = th.dataset.key;
    sortUp = sortKey === k ? !sortUp : true;
    sortKey = k;
    renderTable();
  }));
  $("plan-table").tHead.replaceChildren(head);
  const value = (r, k) => (ps.includes(k) ? r.quarters[k] : r[k]);
  const data = rows().sort((a, b) => {
    const x = value(a, sortKey), y = value(b, sortKey);
    const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return sortUp ? c : -c;
  });
  $("plan-table").tBodies[0].replaceChildren(...data.map((r) => {
    const changed = r.change !== null && Math.abs(r.change) > 0.005 * r.annual_quota;
    const cells = [r.rep_id, r.team, ...ps.map((p) => money(r.quarters[p])), money(r.annual_quota),
      r.stretch.toFixed(2), Math.round(100 * r.p_attain) + "%", r.binding];
    if (previous) cells.push(r.change === null ? "new" :
      el("span", { class: r.change >= 0.5 ? "up" : r.change <= -0.5 ? "down" : "" },
        (r.change >= 0.5 ? "+" : "") + money(r.change)));
    return el("tr", { class: changed ? "changed" : "", "data-rep": r.rep_id },
      ...cells.map((c) => el("td", {}, c)));
  }));
}

// --- charts: plain SVG, built as elements ---------------------------------------------------
const W = 360, H = 200, PAD = 30;

function svg(id, parts) { $(id).setAttribute("viewBox", `0 0 ${W} ${H}`); $(id).replaceChildren(...parts); }

function chartBand() {
  // Each rep's annual forecast band (the forecast's lowest to highest quantile), quota as a dot.
  const reps = rows().sort((a, b) => a.annual_quota - b.annual_quota);
  const [lo, hi] = current.summary.band_levels.map((l) => "P" + Math.round(100 * l));
  $("band-caption").textContent = `Each rep's annual quota (dot) against their forecast band (${lo}-${hi})`;
  const top = Math.max(...reps.map((r) => Math.max(r.annual_quota, r.annual_high)));
  const x = (i) => PAD + (i + 0.5) * (W - PAD - 5) / reps.length;
  const y = (v) => H - PAD + 5 - (v / top) * (H - PAD - 10);
  const out = [el("svg:line", { x1: PAD, y1: H - PAD + 5, x2: W, y2: H - PAD + 5, stroke: "#999" })];
  reps.forEach((r, i) => {
    out.push(el("svg:line", { x1: x(i), x2: x(i), y1: y(r.annual_low), y2: y(r.annual_high), stroke: "#9db4d6", "stroke-width": 3 },
      el("svg:title", {}, `${r.rep_id}: ${lo} ${money(r.annual_low)}, ${hi} ${money(r.annual_high)}`)));
    out.push(el("svg:circle", { class: "quota", cx: x(i), cy: y(r.annual_quota), r: 2.5, fill: "#1d3557" },
      el("svg:title", {}, `${r.rep_id}: ${money(r.annual_quota)}`)));
  });
  out.push(el("svg:text", { x: 2, y: 12, "font-size": 10 }, money(top)));
  out.push(el("svg:text", { x: PAD, y: H - 8, "font-size": 10 }, "reps, by quota"));
  svg("chart-band", out);
}

function chartProb() {
  const bins = new Array(10).fill(0);
  for (const r of current.reps) bins[Math.min(9, Math.floor(r.p_attain * 10))] += 1;
  const top = Math.max(...bins, 1);
  const bw = (W - PAD - 5) / 10;
  const out = [];
  bins.forEach((n, i) => {
    const h = (n / top) * (H - PAD - 10);
    out.push(el("svg:rect", { x: PAD + i * bw + 1, y: H - PAD + 5 - h, width: bw - 2, height: h, fill: "#457b9d" },
      el("svg:title", {}, `${i * 10}-${i * 10 + 10}%: ${n} reps`)));
    out.push(el("svg:text", { x: PAD + i * bw + 2, y: H - 12, "font-size": 9 }, `${i * 10}%`));
  });
  svg("chart-prob", out);
}

function chartPhasing() {
  const ps = periods();
  const totals = ps.map((p) => current.quotas.filter((q) => q.period === p).reduce((a, q) => a + q.quota, 0));
  const top = Math.max(...totals);
  const bw = (W - PAD - 5) / ps.length;
  const out = [];
  totals.forEach((t, i) => {
    const h = (t / top) * (H - PAD - 20);
    out.push(el("svg:rect", { x: PAD + i * bw + 8, y: H - PAD + 5 - h, width: bw - 16, height: h, fill: "#e63946" }));
    out.push(el("svg:text", { x: PAD + i * bw + 10, y: H - PAD - h, "font-size": 10 }, money(t)));
    out.push(el("svg:text", { x: PAD + i * bw + 10, y: H - 10, "font-size": 10 }, ps[i]));
  });
  svg("chart-phasing", out);
}

// --- exports -------------------------------------------------------------------------------
async function download(kind) {
  const accept = kind === "csv" ? "text/csv"
    : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
  const resp = await fetch(`v1/plans/${current.id}`, { headers: headers({ Accept: accept }) });
  if (!resp.ok) { showError("plan", `export failed (${resp.status})`); return; }
  const a = document.createElement("a");
  a.href = URL.createObjectURL(await resp.blob());
  a.download = `plan-${current.id}.${kind}`;
  document.body.appendChild(a);
  a.click();
  a.remove();
}
$("export-csv").addEventListener("click", (e) => { e.preventDefault(); download("csv"); });
$("export-xlsx").addEventListener("click", (e) => { e.preventDefault(); download("xlsx"); });
