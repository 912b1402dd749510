// quotaplan's planning workspace: plain ES modules against the HTTP API (/v1), no libraries,
// no build step. This module holds the page's state (who is calling, the plan on screen, the
// plan before it) and wires the screens together.
import { getToken, job, request, setToken } from "./api.js";
import { bandChart, phasingChart, probChart } from "./charts.js";
import { $, money, percent } from "./dom.js";
import {
  FieldError, addGroupTarget, addLock, applyDefaults, buildLimitFields, clearErrors, offerNames,
  readSettings, showError, showProblem, syncGoal, writeSettings,
} from "./forms.js";
import { adoptRelief, proposeRelief, track } from "./inyear.js";
import { can, loadPlanAudit, loadQueue, openRep, previewAdjustment, renderState, sendAdjustment } from "./lifecycle.js";
import { compare, loadStored } from "./scenarios.js";
import { periods, renderPlanTable } from "./table.js";
import { files, forecastId, forecastPeriods, makeForecast, setForecastId, useSample, watchFiles } from "./uploads.js";

const LAST_PLAN = "quotaplan.plan";

const ctx = {
  me: null,
  plan: null,      // the plan on screen
  previous: null,  // the one before it (differences highlighted)
  base: null,      // the stored inputs of an opened plan (re-plans send its roster as rows)
  stale: false,    // the plan on screen is not the plan of the settings (the last try failed)
  flags: new Map(),  // rep_id -> in-year flags
  quarters: [],
  changed: () => refreshReview(),
  decided: (out) => { if (out.plan) openPlan(out.plan.id, { keepPrevious: true }); else refreshReview(); },
  open: (id) => { openPlan(id, { keepPrevious: true }); showScreen("plan-screen"); },
  flagged: (map) => { ctx.flags = map; if (ctx.plan) drawCharts(); },
  adopted: (plan) => { showPlan(plan, { previous: ctx.plan }); showScreen("plan-screen"); },
  progress: (j) => showJob(j),
};

// --- who is calling ------------------------------------------------------------------------
async function loadMe() {
  document.querySelector('.error[data-for="me"]').textContent = "";
  const r = await request("GET", "v1/me");
  ctx.me = r.ok ? r.body : null;
  if (!r.ok) {
    $("me").textContent = "";
    showError("me", r.status === 401 ? `${r.body.detail}: type it above and press Use` : r.body.detail);
  } else {
    $("me").textContent = r.body.open
      ? "open server: you may do everything"
      : `${r.body.name}, ${r.body.role}${r.body.scope ? " (" + r.body.scope + ")" : ""}`;
  }
  document.querySelectorAll("[data-role]").forEach((n) => { n.hidden = !can(ctx.me, n.dataset.role); });
  if (ctx.plan) { renderState(ctx); renderTable(); }
  refreshReview();
}

// --- screens -------------------------------------------------------------------------------
function showScreen(id) {
  document.querySelectorAll(".screen").forEach((s) => { s.hidden = s.id !== id; });
  document.querySelectorAll("#tabs a").forEach((a) => a.classList.toggle("active", a.dataset.screen === id));
  if (id === "scenarios-screen") loadStored(ctx);
  if (id === "review-screen") refreshReview();
}

function refreshReview() {
  if (ctx.plan) loadPlanAudit(ctx);
  loadQueue(ctx);
}

// A job's progress while it runs (bar, stage in words), then what it came to.
let jobSeen = null;
function showJob(j) {
  $("job").hidden = !j;
  if (!j) {
    if (jobSeen) $("job-done").textContent = `${jobSeen.kind} job #${jobSeen.id} ${jobSeen.state} after ${jobSeen.updates} updates: ${jobSeen.message}`;
    jobSeen = null;
    return;
  }
  jobSeen = { ...j, updates: (jobSeen && jobSeen.id === j.id ? jobSeen.updates : 0) + 1 };
  $("job-bar").value = j.percent;
  $("job-message").textContent = `${j.kind} job #${j.id}: ${j.message} (${j.percent}%)`;
}

// --- planning ------------------------------------------------------------------------------
function markStale(why) {
  if (!ctx.plan) return;
  ctx.stale = true;
  $("result").classList.add("is-stale");
  $("stale").hidden = false;
  $("stale").textContent = `Plan #${ctx.plan.id} below is NOT the plan of these settings: ${why}. ` +
    "It is kept greyed for reference only; fix the field and plan again.";
  renderState(ctx);
  renderTable();
}

function markEdited() {
  if (!ctx.plan || ctx.stale) return;
  $("stale").hidden = false;
  $("stale").textContent = `The settings changed since plan #${ctx.plan.id}: press Plan to see them planned.`;
}

// The plan request: for the files on screen, the settings with the stored forecast's id (or the
// forecast file) and the roster file; once the server has read them (or for a plan opened from
// the store), the stored inputs as JSON: the roster as rows and the forecast's id.
function planRequest(settings) {
  if (!ctx.base) {
    const form = new FormData();
    const s = { ...settings };
    if (forecastId) s.forecast_id = forecastId;
    form.append("settings", JSON.stringify(s));
    form.append("roster", files.roster, files.roster.name);
    if (!forecastId && files.forecast) form.append("forecast", files.forecast, files.forecast.name);
    return { form };
  }
  const json = { ...settings, roster: ctx.base.roster };
  for (const k of ["forecast_id", "forecast", "history", "year", "fiscal_year_start", "partial_quarters"]) {
    if (ctx.base[k] !== undefined && ctx.base[k] !== null) json[k] = ctx.base[k];
  }
  return { json };
}

async function plan(ev) {
  ev.preventDefault();
  clearErrors($("inputs"));
  let settings;
  try {
    settings = readSettings();
  } catch (e) {
    if (!(e instanceof FieldError)) throw e;
    showError(e.field, e.message);
    markStale(`${e.field} could not be read`);
    return;
  }
  if (!files.roster && !ctx.base) {
    showError("roster", "choose a roster file, or use the bundled sample");
    return;
  }
  $("run").disabled = true;
  $("run").textContent = "Planning...";
  try {
    if (!ctx.base && !forecastId && !files.forecast && !(await makeForecast(showJob))) {
      markStale("the forecast could not be made");
      return;
    }
    // From a stored forecast a plan takes well under a second: asked for directly. Anything
    // that fits a forecast first is long work: a job, its progress shown.
    const stored = forecastId || files.forecast || ctx.base?.forecast_id || ctx.base?.forecast;
    const t0 = performance.now();
    const r = stored
      ? await request("POST", "v1/plans", planRequest(settings))
      : await job("POST", "v1/plans", planRequest(settings), showJob);
    const seconds = (performance.now() - t0) / 1000;
    if (!r.ok) {
      showProblem(r.body);
      markStale(r.body.title ? r.body.title.toLowerCase() : "the plan failed");
      $("plan-time").textContent = "";
      return;
    }
    const from = forecastId || ctx.base?.forecast_id;
    $("plan-time").textContent = `planned in ${seconds.toFixed(2)} s${from ? ` from the stored forecast #${from}` : ""}`;
    if (!ctx.base) await keepInputs(r.body.id);
    showPlan(r.body, { previous: ctx.plan });
  } finally {
    showJob(null);
    $("run").disabled = false;
    $("run").textContent = "Plan";
    document.body.dataset.planned = String(Number(document.body.dataset.planned || 0) + 1);
  }
}

// After a plan from uploaded files, the next plans send what the server read from them (its
// stored inputs: the roster as rows, the forecast's id) instead of uploading the files again.
async function keepInputs(id) {
  const inputs = await request("GET", `v1/plans/${id}/inputs`);
  if (!inputs.ok) return;
  ctx.base = inputs.body;
}

function showPlan(p, { previous }) {
  ctx.previous = previous && previous.id !== p.id ? previous : null;
  ctx.plan = p;
  ctx.stale = false;
  ctx.flags = new Map();
  localStorage.setItem(LAST_PLAN, String(p.id));
  $("result").classList.remove("is-stale");
  $("stale").hidden = true;
  $("rep-panel").hidden = true;
  clearErrors($("inputs"));
  ctx.quarters = offerNames(p);
  render();
  refreshReview();
}

async function openPlan(id, { keepPrevious }) {
  const [p, inputs] = await Promise.all([request("GET", `v1/plans/${id}`), request("GET", `v1/plans/${id}/inputs`)]);
  if (!p.ok) { if (p.status === 404) localStorage.removeItem(LAST_PLAN); else showProblem(p.body); return; }
  if (inputs.ok) {
    ctx.base = inputs.body;
    for (const k of Object.keys(files)) files[k] = null;
    for (const f of ["history", "roster", "forecast-file"]) $(f).value = "";
    setForecastId(inputs.body.forecast_id || null);
    writeSettings(inputs.body, [...new Set(p.body.quotas.map((q) => q.period))].sort());
    $("data-status").textContent = `re-plans use plan #${id}'s stored roster${inputs.body.forecast_id ? " and forecast" : ""}`;
  }
  showPlan(p.body, { previous: keepPrevious ? ctx.plan : null });
}

function render() {
  const p = ctx.plan, s = p.summary;
  $("result").hidden = false;
  $("summary").textContent =
    `Plan ${p.id} (${p.scenario} v${p.version}, ${s.policy}): ${money(s.company_target)} company number, ` +
    `quotas ${money(s.total_quota)} over ${s.reps} reps`;
  $("summary-detail").textContent =
    `Expected share of reps reaching quota: ${percent(s.expected_share_attaining)}; max stretch ` +
    `${(s.max_stretch ?? 0).toFixed(2)}; reps over their cap: ${s.reps_over_cap}; solver: ${s.solver_status}`;
  $("warnings").textContent = (s.warnings || []).join("; ");
  $("compare-note").textContent = ctx.previous
    ? `Compared with plan ${ctx.previous.id} (${money(ctx.previous.summary.company_target)}): changed reps are highlighted.`
    : "";
  renderState(ctx);
  drawCharts();
  renderTable();
}

function drawCharts() {
  const flagged = new Map(ctx.flags);
  for (const r of ctx.plan.reps) {
    const why = [r.violations, r.gave_way ? `gave way: ${r.gave_way}` : ""].filter(Boolean).join("; ");
    if (why && !flagged.has(r.rep_id)) flagged.set(r.rep_id, why);
  }
  bandChart(ctx.plan, flagged);
  probChart(ctx.plan);
  phasingChart(ctx.plan, periods(ctx.plan));
}

function renderTable() {
  renderPlanTable(ctx.plan, ctx.previous, (rep) => openRep(ctx, rep), ctx.stale);
}

// --- exports -------------------------------------------------------------------------------
async function download(kind) {
  const accept = kind === "csv" ? "text/csv" : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
  const r = await request("GET", `v1/plans/${ctx.plan.id}`, { accept, blob: true });
  if (!r.ok) { showProblem(r.body); return; }
  const a = document.createElement("a");
  a.href = URL.createObjectURL(r.body);
  a.download = `plan-${ctx.plan.id}.${kind}`;
  document.body.appendChild(a);
  a.click();
  a.remove();
}

// --- wiring --------------------------------------------------------------------------------
async function start() {
  buildLimitFields();
  $("token").value = getToken();
  $("who").addEventListener("submit", (e) => { e.preventDefault(); setToken($("token").value); loadMe(); });
  document.querySelectorAll("#tabs a").forEach((a) => a.addEventListener("click", (e) => {
    e.preventDefault();
    history.replaceState(null, "", "#" + a.dataset.screen);
    showScreen(a.dataset.screen);
  }));
  watchFiles(() => { ctx.base = null; markEdited(); });
  $("use-sample").addEventListener("click", async () => { if (await useSample()) { ctx.base = null; markEdited(); } });
  $("make-forecast").addEventListener("click", () => makeForecast(showJob));
  $("goal-target").addEventListener("change", syncGoal);
  $("goal-attainment").addEventListener("change", syncGoal);
  $("add-team-target").addEventListener("click", () => addGroupTarget("team").querySelector("input").focus());
  $("add-region-target").addEventListener("click", () => addGroupTarget("region").querySelector("input").focus());
  $("add-lock").addEventListener("click", () => addLock("", "", "", ctx.quarters.length ? ctx.quarters : forecastPeriods).querySelector("input").focus());
  $("inputs").addEventListener("input", markEdited);
  document.addEventListener("settings-edited", markEdited);
  $("inputs").addEventListener("submit", plan);
  $("export-csv").addEventListener("click", (e) => { e.preventDefault(); download("csv"); });
  $("export-xlsx").addEventListener("click", (e) => { e.preventDefault(); download("xlsx"); });
  $("adjust-preview").addEventListener("click", () => previewAdjustment(ctx));
  $("adjust-form").addEventListener("submit", (e) => { e.preventDefault(); sendAdjustment(ctx); });
  $("adjust-quota").addEventListener("input", () => { $("adjust-send").disabled = true; });
  $("refresh-stored").addEventListener("click", () => loadStored(ctx));
  $("compare-run").addEventListener("click", () => compare(ctx));
  $("track-form").addEventListener("submit", (e) => { e.preventDefault(); track(ctx); });
  $("relief").addEventListener("click", () => proposeRelief(ctx));
  $("adopt-relief").addEventListener("click", () => adoptRelief(ctx));

  const doc = await request("GET", "openapi.json");
  if (doc.ok) applyDefaults(doc.body);
  else showError("plan", "could not read the API's defaults (openapi.json); the limits start blank");
  await loadMe();
  const screen = location.hash.slice(1);
  showScreen(document.getElementById(screen)?.classList.contains("screen") ? screen : "plan-screen");
  const last = Number(localStorage.getItem(LAST_PLAN));
  if (last && ctx.me) await openPlan(last, { keepPrevious: false });
  document.body.dataset.ready = "1";
}

start();
