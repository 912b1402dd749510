// The plan as a table: one row per rep (grouped by team, each team with its subtotal), a
// totals row, columns sortable within the teams, differences with the previous plan highlighted.
import { $, el, money, percent, signedMoney } from "./dom.js";

let sortKey = "rep_id", sortUp = true;

export function periods(plan) {
  return [...new Set(plan.quotas.map((q) => q.period))].sort();
}

// Each rep's row: the rep's fields, its quarters and its change against `previous` (or null).
export function repRows(plan, previous) {
  const byRep = {};
  for (const q of plan.quotas) (byRep[q.rep_id] = byRep[q.rep_id] || {})[q.period] = q.quota;
  const before = {};
  if (previous) for (const r of previous.reps) before[r.rep_id] = r.annual_quota;
  return plan.reps.map((r) => ({
    ...r,
    quarters: byRep[r.rep_id] || {},
    change: previous ? (r.rep_id in before ? r.annual_quota - before[r.rep_id] : null) : undefined,
  }));
}

function sum(rows, f) { return rows.reduce((a, r) => a + (f(r) || 0), 0); }

export function renderPlanTable(plan, previous, onRep, stale) {
  const ps = periods(plan);
  const cols = [["rep_id", "rep"], ["team", "team"], ...ps.map((p) => [p, p]),
    ["annual_quota", "annual"], ["stretch", "stretch"], ["p_attain", "P(attain)"], ["binding", "bound by"]];
  if (previous) cols.push(["change", "vs previous"]);
  cols.push(["", ""]);
  const head = el("tr", {}, cols.map(([k, t]) =>
    el("th", { "data-key": k, class: k ? "sortable" : "" }, t + (k && k === sortKey ? (sortUp ? " ▲" : " ▼") : ""))));
  head.querySelectorAll("th.sortable").forEach((th) => th.addEventListener("click", () => {
    const k = th.dataset.key;
    sortUp = sortKey === k ? !sortUp : true;
    sortKey = k;
    renderPlanTable(plan, previous, onRep, stale);
  }));
  const table = $("plan-table");
  table.tHead.replaceChildren(head);
  const value = (r, k) => (ps.includes(k) ? r.quarters[k] : r[k]);
  const cmp = (a, b) => {
    const x = value(a, sortKey), y = value(b, sortKey);
    const c = typeof x === "number" && typeof y === "number" ? x - y : String(x ?? "").localeCompare(String(y ?? ""));
    return sortUp ? c : -c;
  };
  const rows = repRows(plan, previous);
  const teams = [...new Set(rows.map((r) => r.team ?? ""))].sort();
  const body = [];
  for (const team of teams) {
    const mine = rows.filter((r) => (r.team ?? "") === team).sort(cmp);
    for (const r of mine) body.push(repRow(r, ps, previous, onRep, stale));
    body.push(totalRow(`${team || "no team"} subtotal (${mine.length} reps)`, team, mine, ps, previous, "subtotal"));
  }
  table.tBodies[0].replaceChildren(...body);
  table.tFoot.replaceChildren(totalRow(`Total (${rows.length} reps)`, "", rows, ps, previous, "total"));
}

function changeCell(change) {
  if (change === undefined) return null;
  if (change === null) return "new";
  return el("span", { class: change >= 0.5 ? "up" : change <= -0.5 ? "down" : "" }, signedMoney(change));
}

function repRow(r, ps, previous, onRep, stale) {
  const changed = r.change !== undefined && r.change !== null && Math.abs(r.change) > 0.005 * r.annual_quota;
  const cells = [r.rep_id, r.team ?? "", ...ps.map((p) => money(r.quarters[p])), money(r.annual_quota),
    r.stretch === null || r.stretch === undefined ? "" : r.stretch.toFixed(2), percent(r.p_attain), r.binding || ""];
  if (previous) cells.push(changeCell(r.change));
  const open = el("button", { type: "button", class: "open-rep", "data-rep": r.rep_id, disabled: stale }, "explain / adjust");
  open.addEventListener("click", () => onRep(r.rep_id));
  const flagged = (r.violations || "") !== "" || (r.gave_way || "") !== "";
  const cls = [changed ? "changed" : "", flagged ? "flagged" : ""].filter(Boolean).join(" ");
  return el("tr", { class: cls, "data-rep": r.rep_id }, cells.map((c) => el("td", {}, c)), el("td", {}, open));
}

function totalRow(label, team, rows, ps, previous, cls) {
  const cells = [label, "", ...ps.map((p) => money(sum(rows, (r) => r.quarters[p]))), money(sum(rows, (r) => r.annual_quota)), "", "", ""];
  if (previous) cells.push(signedMoney(sum(rows, (r) => r.change)));
  cells.push("");
  return el("tr", { class: cls, "data-team": team }, cells.map((c) => el("td", {}, c)));
}
