// In-year: bookings uploaded against the plan on screen, each rep's pace on a chart, the flags
// with their reasons, and a relief proposal adopted through the re-plan.
import { job, request } from "./api.js";
import { $, el, fillTable, money, percent, signedMoney } from "./dom.js";
import { paceChart } from "./charts.js";
import { clearErrors, showProblem } from "./forms.js";

let relief = null;

function bookingsForm(ctx) {
  const file = $("bookings").files[0];
  if (!file) return null;
  const form = new FormData();
  form.append("actuals", file, file.name);
  return form;
}

export async function track(ctx) {
  clearErrors($("inyear-screen"));
  if (!ctx.plan) { showProblem({ detail: "open or make a plan first" }, "actuals"); return; }
  const form = bookingsForm(ctx);
  if (!form) { showProblem({ detail: "choose the bookings file (CSV, .xlsx or Parquet)" }, "actuals"); return; }
  $("progress").hidden = true;
  $("relief-panel").hidden = true;
  const r = await request("POST", `v1/plans/${ctx.plan.id}/progress`, { form });
  if (!r.ok) { showProblem(r.body, "actuals"); return; }
  const p = r.body, s = p.summary;
  $("progress-summary").textContent =
    `Plan #${ctx.plan.id} as of ${s.as_of}: ${money(s.actual_to_date)} booked of ${money(s.due_to_date)} due ` +
    `(pace ${percent(s.pace)}), projected year-end ${money(s.projected_year_end)} of ${money(s.annual_quota)}; ` +
    `${s.reps_at_risk} at risk, ${s.reps_out_of_reach} out of reach`;
  paceChart(p);
  const flagged = p.reps.filter((x) => (x.flags || "") !== "").sort((a, b) => a.pace - b.pace);
  fillTable($("flags-table"), [["rep", "rep"], ["team", "team"], ["booked", "booked"], ["due", "due"], ["pace", "pace"],
    ["projected", "projected"], ["chance", "P(year)"], ["flags", "why flagged"]],
  flagged.map((x) => ({ attrs: { "data-rep": x.rep_id }, cells: [x.rep_id, x.team ?? "", money(x.actual_to_date),
    money(x.due_to_date), percent(x.pace), money(x.projected_year_end), percent(x.p_attain_year), x.flags] })));
  if (!flagged.length) $("flags-table").tBodies[0].append(el("tr", {}, el("td", { colspan: 8 }, "No rep is flagged.")));
  ctx.flagged(new Map(flagged.map((x) => [x.rep_id, x.flags])));
  $("progress").hidden = false;
  $("relief").disabled = false;
}

export async function proposeRelief(ctx) {
  clearErrors($("inyear-screen"));
  const form = bookingsForm(ctx);
  if (!form) { showProblem({ detail: "choose the bookings file (CSV, .xlsx or Parquet)" }, "actuals"); return; }
  const r = await request("POST", `v1/plans/${ctx.plan.id}/relief`, { form });
  if (!r.ok) { showProblem(r.body, "relief"); return; }
  relief = { planId: ctx.plan.id, body: r.body };
  $("relief-summary").textContent = `Relief for plan #${ctx.plan.id}: ${r.body.message} (${money(r.body.number)})`;
  const moved = r.body.reps.filter((x) => Math.abs(x.change) > 0.5).sort((a, b) => a.change - b.change);
  fillTable($("relief-table"), [["rep", "rep"], ["team", "team"], ["before", "annual now"], ["after", "proposed"], ["change", "change"]],
    moved.map((x) => ({ attrs: { "data-rep": x.rep_id }, cells: [x.rep_id, x.team ?? "", money(x.annual_quota_before),
      money(x.annual_quota_after), el("span", { class: x.change > 0 ? "up" : "down" }, signedMoney(x.change))] })));
  $("adopt-relief").disabled = !r.body.quotas;
  $("relief-panel").hidden = false;
}

// Adopting relief is the re-plan from the closed quarters' actuals (stored as the next version).
export async function adoptRelief(ctx) {
  clearErrors($("inyear-screen"));
  if (!relief || relief.planId !== ctx.plan.id) { showProblem({ detail: "propose relief for the plan on screen first" }, "relief"); return; }
  const r = await job("POST", `v1/plans/${ctx.plan.id}/replan`, { json: { actuals: relief.body.closed_actuals } }, ctx.progress);
  ctx.progress(null);
  if (!r.ok) { showProblem(r.body, "relief"); return; }
  relief = null;
  $("relief-panel").hidden = true;
  $("relief-summary").textContent = "";
  ctx.adopted(r.body);
}
