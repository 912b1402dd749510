// Scenarios kept: every stored scenario's plans (name, number, policy, state, date) as the API
// holds them (so the list survives a reload), and any two plans side by side.
import { request } from "./api.js";
import { $, el, fillTable, money, percent, signedMoney, when } from "./dom.js";
import { clearErrors, showProblem } from "./forms.js";

export async function loadStored(ctx) {
  clearErrors($("scenarios-screen"));
  const r = await request("GET", "v1/scenarios");
  if (!r.ok) { showProblem(r.body, "compare"); return; }
  const rows = [];
  for (const s of r.body.scenarios) {
    const p = await request("GET", `v1/scenarios/${encodeURIComponent(s.name)}/plans`);
    if (p.ok) rows.push(...p.body.plans);
  }
  rows.sort((a, b) => b.id - a.id);
  fillTable($("stored-table"), [["a", "A"], ["b", "B"], ["id", "#"], ["scenario", "scenario"], ["version", "v"],
    ["kind", "kind"], ["number", "number"], ["quotas", "quotas"], ["policy", "policy"], ["state", "state"],
    ["share", "expected reaching"], ["by", "by"], ["at", "made"], ["open", ""]],
  rows.map((p, i) => {
    const open = el("button", { type: "button", class: "open-plan" }, "open");
    open.addEventListener("click", () => ctx.open(p.id));
    return { attrs: { "data-plan": p.id, class: ctx.plan && ctx.plan.id === p.id ? "current" : "" },
      cells: [el("input", { type: "radio", name: "pick-a", value: p.id, checked: i === 1, "aria-label": `plan ${p.id} as A` }),
        el("input", { type: "radio", name: "pick-b", value: p.id, checked: i === 0, "aria-label": `plan ${p.id} as B` }),
        String(p.id), p.scenario, String(p.version), p.kind, money(p.company_target), money(p.total_quota), p.policy,
        p.state.replace("_", " "), percent(p.expected_share_attaining), p.created_by, when(p.created_at), open] };
  }));
}

function picked(name) {
  const box = document.querySelector(`input[name="${name}"]:checked`);
  return box ? Number(box.value) : null;
}

function groupTotals(plan, key) {
  const out = new Map();
  for (const r of plan.reps) out.set(r[key] ?? "", (out.get(r[key] ?? "") || 0) + r.annual_quota);
  return out;
}

function side(table, plan, other, diffs) {
  const mine = new Map(plan.reps.map((r) => [r.rep_id, r]));
  table.caption.textContent = `Plan #${plan.id}: ${plan.scenario} v${plan.version}, ${plan.policy}, ${money(plan.company_target)} (${plan.state.replace("_", " ")})`;
  const reps = [...plan.reps].sort((a, b) => String(a.team).localeCompare(String(b.team)) || a.rep_id.localeCompare(b.rep_id));
  fillTable(table, [["rep", "rep"], ["team", "team"], ["region", "region"], ["annual", "annual"], ["diff", "B - A"]],
    reps.map((r) => {
      const d = diffs.get(r.rep_id);
      const moved = d === null || (d !== undefined && Math.abs(d) > 0.5);
      return { attrs: { "data-rep": r.rep_id, class: moved ? "changed" : "" },
        cells: [r.rep_id, r.team ?? "", r.region ?? "", money(r.annual_quota), d === null ? "only here" : d === undefined ? "" : signedMoney(d)] };
    }),
  [{ attrs: { class: "total" }, cells: [`Total (${mine.size} reps)`, "", "", money(plan.reps.reduce((a, r) => a + r.annual_quota, 0)), ""] }]);
}

export async function compare(ctx, aId = picked("pick-a"), bId = picked("pick-b")) {
  clearErrors($("scenarios-screen"));
  if (!aId || !bId) { showProblem({ detail: "pick a plan as A and another as B" }, "compare"); return; }
  const [a, b, d] = await Promise.all([request("GET", `v1/plans/${aId}`), request("GET", `v1/plans/${bId}`),
    request("GET", `v1/plans/${aId}/compare/${bId}`)]);
  for (const r of [a, b, d]) if (!r.ok) { showProblem(r.body, "compare"); return; }
  const diffs = new Map(d.body.reps.map((x) => [x.rep_id, x.difference]));
  $("compare-title").textContent =
    `A #${aId} against B #${bId}: quotas ${signedMoney(d.body.total_difference)} in B; ` +
    `${d.body.reps.filter((x) => x.difference === null || Math.abs(x.difference) > 0.5).length} of ${d.body.reps.length} reps differ`;
  const rows = [];
  for (const key of ["region", "team"]) {
    const ta = groupTotals(a.body, key), tb = groupTotals(b.body, key);
    for (const name of [...new Set([...ta.keys(), ...tb.keys()])].sort()) {
      const x = ta.get(name) || 0, y = tb.get(name) || 0;
      rows.push({ attrs: { "data-group": `${key}:${name}`, class: Math.abs(y - x) > 0.5 ? "changed" : "" },
        cells: [key, name, money(x), money(y), el("span", { class: y - x > 0.5 ? "up" : y - x < -0.5 ? "down" : "" }, signedMoney(y - x))] });
    }
  }
  const sa = a.body.reps.reduce((s, r) => s + r.annual_quota, 0), sb = b.body.reps.reduce((s, r) => s + r.annual_quota, 0);
  rows.push({ attrs: { class: "total", "data-group": "company" }, cells: ["company", "", money(sa), money(sb), signedMoney(sb - sa)] });
  fillTable($("compare-groups"), [["level", "level"], ["name", "name"], ["a", `A #${aId}`], ["b", `B #${bId}`], ["diff", "B - A"]], rows);
  side($("compare-a"), a.body, b.body, new Map([...diffs].filter(([rep]) => a.body.reps.some((r) => r.rep_id === rep))));
  side($("compare-b"), b.body, a.body, diffs);
  $("comparison").hidden = false;
}
