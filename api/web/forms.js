// The plan's settings as form fields: every limit and goal the API takes (PlanLimits, with the
// defaults the API's OpenAPI document declares), the team and region targets and the locks as
// rows, read back as the settings JSON; and the API's problems shown next to the field they name.
import { $, el, share, shareText } from "./dom.js";

// key, label, kind ("share": 5% or 0.05; "level": a quantile 0..1), whether blank switches it off.
export const LIMITS = [
  ["over_assignment", "Over-assignment (company)", "share", false],
  ["group_over_assignment", "Over-assignment (teams, regions)", "share", false],
  ["cap_quantile", "Cap quantile", "level", false],
  ["floor_quantile", "Floor quantile", "level", true],
  ["phasing_band", "Phasing band", "share", true],
  ["max_increase", "Max increase on last year", "share", true],
  ["min_increase", "Min increase on last year", "share", true],
  ["smoothness", "Smoothness (quarter to quarter)", "share", true],
];

function limitBox(key, label) {
  return el("div", { class: "field" },
    el("label", { for: key }, label),
    el("input", { id: key, size: 7 }),
    el("span", { class: "default", id: `${key}-default` }),
    el("div", { class: "error", "data-for": key }));
}

export function buildLimitFields() {
  const grid = $("limit-grid");
  grid.replaceChildren(...LIMITS.map(([k, label]) => limitBox(k, label)),
    el("div", { class: "field" },
      el("label", { for: "ote_low" }, "Quota-to-OTE band (multiples)"),
      el("span", {}, el("input", { id: "ote_low", size: 4, "aria-label": "OTE band low" }), " to ",
        el("input", { id: "ote_high", size: 4, "aria-label": "OTE band high" })),
      el("span", { class: "default", id: "ote_band-default" }),
      el("div", { class: "error", "data-for": "ote_band" })));
}

// The API's defaults, read from its OpenAPI document (so the page never disagrees with it).
export function applyDefaults(openapi) {
  const props = openapi?.components?.schemas?.PlanLimits?.properties || {};
  for (const [key, , kind] of LIMITS) {
    const d = props[key]?.default;
    const text = d === null || d === undefined ? "" : kind === "share" ? shareText(d) : String(d);
    $(key).value = text;
    $(key).dataset.default = text;
    $(`${key}-default`).textContent = `default: ${text || "off"}`;
  }
  $("ote_band-default").textContent = "default: off";
  const policy = openapi?.components?.schemas?.PlanUpload?.properties?.policy?.default;
  if (policy) $("policy").value = policy;
}

// --- rows: team and region targets, locks --------------------------------------------------
function removeButton(row) {
  const b = el("button", { type: "button", class: "remove", title: "remove" }, "remove");
  b.addEventListener("click", () => { row.remove(); document.dispatchEvent(new Event("settings-edited")); });
  return b;
}

export function addGroupTarget(kind, name = "", amount = "") {
  const row = el("div", { class: "group-row", "data-kind": kind },
    el("input", { class: "group-name", list: `${kind}-names`, size: 12, value: name, "aria-label": `${kind} name` }),
    el("input", { class: "group-amount", size: 10, value: amount, "aria-label": `${kind} target` }));
  row.append(removeButton(row));
  $(`${kind}-targets`).append(row);
  return row;
}

export function addLock(rep = "", period = "", quota = "", quarters = []) {
  const select = el("select", { class: "lock-period", "aria-label": "locked period" },
    el("option", { value: "" }, "annual"),
    quarters.map((q) => el("option", { value: q }, q)));
  select.value = period;
  const row = el("div", { class: "lock-row" },
    el("input", { class: "lock-rep", list: "rep-names", size: 10, value: rep, "aria-label": "locked rep" }),
    select,
    el("input", { class: "lock-quota", size: 10, value: quota, "aria-label": "locked quota" }));
  row.append(removeButton(row));
  $("locks").append(row);
  return row;
}

// The quarters a lock can name, and the names the datalists offer, from the plan on screen.
export function offerNames(plan) {
  const uniq = (k) => [...new Set(plan.reps.map((r) => r[k]).filter((v) => v !== null && v !== undefined))].sort();
  $("team-names").replaceChildren(...uniq("team").map((t) => el("option", { value: t })));
  $("region-names").replaceChildren(...uniq("region").map((t) => el("option", { value: t })));
  $("rep-names").replaceChildren(...uniq("rep_id").map((t) => el("option", { value: t })));
  const quarters = [...new Set(plan.quotas.map((q) => q.period))].sort();
  document.querySelectorAll(".lock-period").forEach((s) => {
    const keep = s.value;
    s.replaceChildren(el("option", { value: "" }, "annual"), ...quarters.map((q) => el("option", { value: q }, q)));
    s.value = keep;
  });
  return quarters;
}

// --- reading the settings --------------------------------------------------------------------
export class FieldError extends Error {
  constructor(field, message) { super(message); this.field = field; }
}

function number(key, kind, nullable, limits) {
  const text = $(key).value;
  let v;
  try { v = share(text); } catch (e) { throw new FieldError(key, e.message); }
  if (v === null) { if (nullable) limits[key] = null; return; }
  limits[key] = v;
}

function groups(kind) {
  const out = {};
  for (const row of $(`${kind}-targets`).querySelectorAll(".group-row")) {
    const name = row.querySelector(".group-name").value.trim();
    const amount = row.querySelector(".group-amount").value.trim();
    if (!name && !amount) continue;
    if (!name) throw new FieldError(`${kind}_targets`, `name the ${kind} of the target ${amount}`);
    if (!amount) throw new FieldError(`${kind}_targets`, `give ${kind} ${name}'s target (such as 12M)`);
    out[name] = amount;
  }
  return out;
}

function locks() {
  const out = [];
  for (const row of $("locks").querySelectorAll(".lock-row")) {
    const rep = row.querySelector(".lock-rep").value.trim();
    const quota = row.querySelector(".lock-quota").value.trim();
    if (!rep && !quota) continue;
    if (!rep || !quota) throw new FieldError("locks", "a lock needs a rep and a quota (such as 1.2M)");
    out.push({ rep_id: rep, period: row.querySelector(".lock-period").value || null, quota });
  }
  return out;
}

// The settings part of a plan request (PlanUpload), without forecast_id.
export function readSettings() {
  const limits = {};
  for (const [key, , kind, nullable] of LIMITS) number(key, kind, nullable, limits);
  const lo = $("ote_low").value.trim(), hi = $("ote_high").value.trim();
  if (lo || hi) {
    const a = Number(lo), b = Number(hi);
    if (!lo || !hi || !Number.isFinite(a) || !Number.isFinite(b)) {
      throw new FieldError("ote_band", "give both ends of the band as multiples of OTE (such as 3 and 6)");
    }
    limits.ote_band = [a, b];
  } else {
    limits.ote_band = null;
  }
  limits.team_targets = groups("team");
  limits.region_targets = groups("region");
  limits.locks = locks();
  const settings = { scenario: $("scenario").value.trim(), policy: $("policy").value, limits };
  if ($("goal-attainment").checked) {
    let a;
    try { a = share($("attainment").value); } catch (e) { throw new FieldError("attainment", e.message); }
    if (a === null) throw new FieldError("attainment", "give the share of reps who should reach quota (such as 60%)");
    settings.attainment = a;
  } else {
    settings.target = $("target").value.trim();
  }
  return settings;
}

// The form as stored settings (a stored plan's inputs put back into the fields).
export function writeSettings(req, quarters) {
  $("scenario").value = req.scenario || "";
  $("policy").value = req.policy || "equal-stretch";
  if (req.attainment !== undefined && req.attainment !== null) {
    $("goal-attainment").checked = true; $("attainment").value = shareText(req.attainment);
  } else {
    $("goal-target").checked = true; $("target").value = String(req.target ?? "");
  }
  syncGoal();
  const limits = req.limits || {};
  for (const [key, , kind] of LIMITS) {
    const v = limits[key];
    $(key).value = v === null || v === undefined ? "" : kind === "share" ? shareText(v) : String(v);
  }
  $("ote_low").value = limits.ote_band ? String(limits.ote_band[0]) : "";
  $("ote_high").value = limits.ote_band ? String(limits.ote_band[1]) : "";
  for (const kind of ["team", "region"]) {
    $(`${kind}-targets`).replaceChildren();
    for (const [n, v] of Object.entries(limits[`${kind}_targets`] || {})) addGroupTarget(kind, n, String(v));
  }
  $("locks").replaceChildren();
  for (const lk of limits.locks || []) addLock(lk.rep_id, lk.period || "", String(lk.quota), quarters);
}

export function syncGoal() {
  const byShare = $("goal-attainment").checked;
  $("attainment").disabled = !byShare;
  $("target").disabled = byShare;
}

// --- problems next to their fields ---------------------------------------------------------
const KNOWN = new Set(["scenario", "target", "attainment", "policy", "history", "roster", "forecast",
  "team_targets", "region_targets", "locks", "ote_band", ...LIMITS.map((l) => l[0])]);

// Which field a request field path names: limits.cap_quantile -> cap_quantile, limits.locks.0.quota -> locks.
function fieldOfPath(path) {
  const parts = String(path).split(".");
  if (parts[0] === "limits" && parts.length > 1) return KNOWN.has(parts[1]) ? parts[1] : "plan";
  if (parts[0] === "forecast_id") return "forecast";
  if (parts[0].startsWith("history")) return "history";
  if (parts[0].startsWith("roster")) return "roster";
  if (parts[0].startsWith("forecast")) return "forecast";
  if (parts[0].startsWith("actuals")) return "actuals";
  return KNOWN.has(parts[0]) ? parts[0] : null;
}

function fieldOfWords(text) {
  const t = text.toLowerCase();
  if (t.includes("team target")) return "team_targets";
  if (t.includes("region target")) return "region_targets";
  if (/\block/.test(t)) return "locks";
  for (const [key] of LIMITS) if (t.includes(key)) return key;
  if (t.includes("ote")) return "ote_band";
  if (t.includes("attainment")) return "attainment";
  if (t.includes("target") || t.includes("number")) return "target";
  return null;
}

const DIAGNOSIS = { team: "team_targets", region: "region_targets", lock: "locks" };

// [field, message] pairs for a problem (RFC 9457 body): the 422's `errors` name request fields,
// the data layer's `problems` name tables, an impossible plan's diagnosis names limits.
export function fieldErrors(problem, fallback = "plan") {
  const out = [];
  const title = problem.title || "";
  if (Array.isArray(problem.errors) && problem.errors.length) {
    for (const e of problem.errors) {
      const f = fieldOfPath(e.field) || fieldOfWords(e.message) || fallback;
      out.push([f, e.field && e.field !== "body" ? `${e.field}: ${e.message}` : e.message]);
    }
  } else if (Array.isArray(problem.problems) && problem.problems.length) {
    for (const p of problem.problems) {
      const f = fieldOfPath(String(p.table).replace(/\..*$/, "")) || fallback;
      const cols = p.columns && p.columns.length ? ` column ${p.columns.join(", ")}` : "";
      const at = p.rows && p.rows.length ? ` at ${p.rows.join(", ")}${p.n_rows > p.rows.length ? ` and ${p.n_rows - p.rows.length} more` : ""}` : "";
      out.push([f, `${p.table}${cols}: ${p.what}${at}. ${p.fix}`]);
    }
  } else if (title === "Impossible plan") {
    out.push(["target", problem.detail]);
    for (const d of problem.diagnosis || []) if (DIAGNOSIS[d.limit]) out.push([DIAGNOSIS[d.limit], d.message]);
  } else if (title === "Unknown forecast") {
    out.push(["forecast", problem.detail]);
  } else if (title === "Invalid plan request") {
    out.push([fieldOfWords(problem.detail) || fallback, problem.detail]);
  } else {
    out.push([fallback, problem.detail || title]);
  }
  return out;
}

export function clearErrors(scope = document) {
  scope.querySelectorAll(".error").forEach((e) => (e.textContent = ""));
  scope.querySelectorAll(".fixes").forEach((e) => e.replaceChildren());
}

// An impossible plan's fixes as buttons that put the change into the fields (then plan again):
// the number, a limit, the OTE band or a team's or region's target. A fix the form cannot
// express (unlocking) stays words only.
function fillFix(changes) {
  const edits = [];
  for (const [key, value] of Object.entries(changes)) {
    const limit = LIMITS.find((l) => l[0] === key);
    if (key === "target") edits.push(() => { $("goal-target").checked = true; syncGoal(); $("target").value = String(value); });
    else if (key === "attainment") edits.push(() => { $("goal-attainment").checked = true; syncGoal(); $("attainment").value = shareText(value); });
    else if (limit) edits.push(() => { $(key).value = value === null ? "" : limit[2] === "share" ? shareText(value) : String(value); });
    else if (key === "ote_band" && Array.isArray(value)) edits.push(() => { $("ote_low").value = String(value[0]); $("ote_high").value = String(value[1]); });
    else if (key === "group_targets" && value && typeof value === "object") {
      for (const [group, amount] of Object.entries(value)) {
        const [kind, name] = [group.slice(0, group.indexOf(":")), group.slice(group.indexOf(":") + 1)];
        if (kind !== "team" && kind !== "region") return null;
        edits.push(() => {
          const row = [...$(`${kind}-targets`).querySelectorAll(".group-row")]
            .find((r) => r.querySelector(".group-name").value.trim() === name) || addGroupTarget(kind, name);
          row.querySelector(".group-amount").value = String(amount);
        });
      }
    } else return null;
  }
  return edits.length ? () => edits.forEach((f) => f()) : null;
}

function showFixes(problem) {
  const box = $("fixes");
  if (!box) return;
  for (const fix of problem.fixes || []) {
    const apply = fillFix(fix.changes || {});
    if (!apply) continue;
    const b = el("button", { type: "button", class: "fix" }, `Use this: ${fix.message}`);
    b.addEventListener("click", () => { apply(); box.replaceChildren(); document.dispatchEvent(new Event("settings-edited")); });
    box.append(b);
  }
}

export function showError(field, text, fallback = "plan") {
  const box = document.querySelector(`.error[data-for="${field}"]`) ||
    document.querySelector(`.error[data-for="${fallback}"]`);
  box.textContent = box.textContent ? `${box.textContent}\n${text}` : text;
}

export function showProblem(problem, fallback = "plan") {
  for (const [f, text] of fieldErrors(problem, fallback)) showError(f, text, fallback);
  if (problem.title === "Impossible plan") showFixes(problem);
}
