// A plan's life on the page: its state and the moves the caller's role may make, the audit
// trail of the plan and of a rep, one rep's adjustment (preview of the team's rebalance, then
// sent for approval) and the approver's queue.
import { request } from "./api.js";
import { $, el, fillTable, money, signedMoney, when } from "./dom.js";
import { clearErrors, showProblem } from "./forms.js";

const RANK = { rep: 0, viewer: 1, planner: 2, approver: 3 };

export function can(me, role) {
  return !!me && (me.open || RANK[me.role] >= RANK[role]);
}

function companyApprover(me) {
  return !!me && (me.open || (me.role === "approver" && me.scope === "company"));
}

// The moves from each state: [to, button label, who may].
const MOVES = {
  draft: [["in_review", "Send for review", (me) => can(me, "planner")]],
  in_review: [["approved", "Approve the plan", companyApprover], ["draft", "Send back to draft", companyApprover]],
  approved: [["published", "Publish", companyApprover]],
  published: [],
};
const STATE_WORDS = { draft: "draft", in_review: "in review", approved: "approved", published: "published" };

export function renderState(ctx) {
  const plan = ctx.plan;
  $("state-badge").textContent = STATE_WORDS[plan.state] || plan.state;
  $("state-badge").dataset.state = plan.state;
  const buttons = (MOVES[plan.state] || []).filter(([, , may]) => may(ctx.me)).map(([to, label]) => {
    const b = el("button", { type: "button", class: "move", "data-to": to, disabled: ctx.stale }, label);
    b.addEventListener("click", () => move(ctx, to));
    return b;
  });
  $("state-buttons").replaceChildren(...buttons);
  $("state-comment").parentElement.hidden = buttons.length === 0;
}

async function move(ctx, to) {
  clearErrors($("lifecycle"));
  const r = await request("POST", `v1/plans/${ctx.plan.id}/state`, { json: { to, comment: $("state-comment").value } });
  if (!r.ok) { showProblem(r.body, "state"); return; }
  ctx.plan.state = r.body.state;
  $("state-comment").value = "";
  renderState(ctx);
  ctx.changed();
}

// --- audit --------------------------------------------------------------------------------
function change(before, after) {
  const keys = [...new Set([...Object.keys(before || {}), ...Object.keys(after || {})])];
  return keys.map((k) => {
    const a = (before || {})[k], b = (after || {})[k];
    const f = (v) => (typeof v === "number" && Math.abs(v) >= 1000 ? money(v) : v === undefined ? "" : String(v));
    return before && k in before ? `${k} ${f(a)} -> ${f(b)}` : `${k} ${f(b)}`;
  }).join(", ");
}

export function auditList(node, entries) {
  node.replaceChildren(...entries.map((e) => el("li", { "data-action": e.action },
    el("span", { class: "when" }, when(e.at)), " ", el("b", {}, e.who), " ", e.action,
    e.rep_id ? ` ${e.rep_id}` : "", e.before || e.after ? `: ${change(e.before, e.after)}` : "",
    e.why ? el("q", {}, e.why) : null)));
  if (!entries.length) node.append(el("li", {}, "nothing yet"));
}

export async function loadPlanAudit(ctx) {
  const r = await request("GET", `v1/plans/${ctx.plan.id}/audit`);
  if (r.ok) auditList($("plan-audit"), r.body.entries);
  const books = await request("GET", `v1/plans/${ctx.plan.id}/books`);
  if (books.ok) {
    fillTable($("books-table"), [["level", "level"], ["name", "name"], ["number", "number set"],
      ["sum", "sum of quotas"], ["uplift", "uplift"], ["share", "uplift %"]],
    books.body.levels.map((b) => ({ attrs: { "data-level": `${b.level}:${b.name}`, class: b.level === "company" ? "total" : "" },
      cells: [b.level, b.name, money(b.number), money(b.sum_of_quotas), signedMoney(b.uplift),
        b.uplift_share === null ? "" : `${(Math.abs(b.uplift_share) < 5e-4 ? 0 : 100 * b.uplift_share).toFixed(1)}%`] })));
  }
  const a = await request("GET", `v1/plans/${ctx.plan.id}/adjustments`);
  if (a.ok) {
    fillTable($("adjustments-table"), [["id", "#"], ["rep", "rep"], ["status", "status"], ["next", "waits for"],
      ["by", "proposed by"], ["reason", "reason"], ["moves", "reps moved"]],
    a.body.adjustments.map((x) => ({ attrs: { "data-adjustment": x.id, "data-status": x.status },
      cells: [String(x.id), x.rep_id, x.status, x.next_level || "", x.proposed_by, x.reason, String(x.changes.length)] })));
  }
}

// --- one rep ------------------------------------------------------------------------------
let previewed = null;  // the body whose preview is on screen (only that one can be sent)

export async function openRep(ctx, repId) {
  const panel = $("rep-panel");
  panel.hidden = false;
  panel.dataset.rep = repId;
  $("rep-title").textContent = `${repId}: loading...`;
  $("preview").hidden = true;
  $("adjust-send").disabled = true;
  $("adjust-status").textContent = "";
  previewed = null;
  clearErrors(panel);
  const r = await request("GET", `v1/plans/${ctx.plan.id}/reps/${encodeURIComponent(repId)}`);
  if (!r.ok) { $("rep-title").textContent = repId; showProblem(r.body, "adjust"); return; }
  const rep = ctx.plan.reps.find((x) => x.rep_id === repId) || {};
  $("rep-title").textContent = `${repId} (${rep.team ?? "no team"}): annual quota ${money(r.body.annual_quota)}`;
  $("rep-explanation").replaceChildren(...r.body.explanation.map((w) => el("li", {}, w)));
  auditList($("rep-audit"), r.body.history);
  $("adjust-quota").value = money(r.body.annual_quota);
  $("adjust-form").hidden = !can(ctx.me, "planner");
  panel.scrollIntoView({ block: "nearest" });
}

function adjustment(repId) {
  const text = $("adjust-quota").value.trim();
  const m = /^([0-9][0-9,_]*(?:\.[0-9]+)?)\s*([kKmMbB]?)$/.exec(text);
  if (!m) return { error: `write the new annual quota like 2.7M, 850k or 2700000, not ${JSON.stringify(text)}` };
  const v = Number(m[1].replace(/[,_]/g, "")) * ({ k: 1e3, m: 1e6, b: 1e9 }[m[2].toLowerCase()] || 1);
  return { body: { rep_id: repId, annual_quota: v, reason: $("adjust-reason").value.trim() } };
}

export async function previewAdjustment(ctx) {
  const repId = $("rep-panel").dataset.rep;
  clearErrors($("rep-panel"));
  $("adjust-send").disabled = true;
  const a = adjustment(repId);
  if (a.error) { showProblem({ detail: a.error }, "adjust"); return; }
  const r = await request("POST", `v1/plans/${ctx.plan.id}/adjustments/preview`, { json: a.body });
  if (!r.ok) { $("preview").hidden = true; showProblem(r.body, "adjust"); return; }
  const p = r.body;
  $("preview-summary").textContent =
    `${p.rep_id}: ${money(p.annual_quota_before)} -> ${money(p.annual_quota_after)}; team ${p.team} ` +
    `${money(p.team_total_before)} -> ${money(p.team_total_after)}; ${p.changes.length} reps move (nothing is stored yet)`;
  fillTable($("preview-table"), [["rep", "rep"], ["team", "team"], ["before", "before"], ["after", "after"],
    ["delta", "moves by"], ["binding", "limit that binds"]],
  p.changes.map((c) => ({ attrs: { "data-rep": c.rep_id, class: c.rep_id === p.rep_id ? "changed" : "" },
    cells: [c.rep_id, c.team ?? "", money(c.before), money(c.after),
      el("span", { class: c.delta > 0 ? "up" : "down" }, signedMoney(c.delta)), c.binding || ""] })));
  $("preview").hidden = false;
  previewed = JSON.stringify(a.body);
  $("adjust-send").disabled = false;
}

export async function sendAdjustment(ctx) {
  const repId = $("rep-panel").dataset.rep;
  clearErrors($("rep-panel"));
  const a = adjustment(repId);
  if (a.error || JSON.stringify(a.body) !== previewed) {
    showProblem({ detail: "preview the rebalance of these numbers before sending them" }, "adjust");
    return;
  }
  const r = await request("POST", `v1/plans/${ctx.plan.id}/adjustments`, { json: a.body });
  if (!r.ok) { showProblem(r.body, "adjust"); return; }
  $("adjust-send").disabled = true;
  previewed = null;
  $("adjust-status").textContent =
    `adjustment #${r.body.id} sent: waits for ${r.body.levels.join(", then ")} (${r.body.status})`;
  ctx.changed();
}

// --- the approver's queue -------------------------------------------------------------------
// Who an adjustment moves, folded: "16 reps move", opened to each rep's before and after.
function rebalance(changes) {
  return el("details", {}, el("summary", {}, `${changes.length} reps move`),
    el("ul", { class: "moves" }, changes.map((c) =>
      el("li", {}, `${c.rep_id}: ${money(c.before)} -> ${money(c.after)} (${signedMoney(c.after - c.before)})${c.binding ? ", " + c.binding : ""}`))));
}
let queueLoads = 0;
let queueShown = null;  // what the queue's rows show (the caller and the items)

export async function loadQueue(ctx) {
  if (!can(ctx.me, "approver")) {
    $("queue-note").textContent = "Only approvers have a queue.";
    queueShown = null;
    fillTable($("queue-table"), [], []);
    $("queue-count").textContent = "";
    return;
  }
  const mine = ++queueLoads;
  const r = await request("GET", "v1/adjustments?state=pending");
  if (mine !== queueLoads) return;  // a later refresh is on its way
  if (!r.ok) { showProblem(r.body, "queue"); return; }
  const items = r.body.adjustments;
  const seen = JSON.stringify([ctx.me, items]);
  if (seen === queueShown) return;  // unchanged: keep the rows (and any comment being typed)
  queueShown = seen;
  $("queue-count").textContent = items.length ? `(${items.length})` : "";
  $("queue-note").textContent = items.length
    ? `${items.length} adjustment(s) wait for a decision at your level (${ctx.me.scope || "any"}).`
    : "Nothing waits for your decision.";
  fillTable($("queue-table"), [["id", "#"], ["plan", "plan"], ["rep", "rep"], ["team", "team"], ["by", "proposed by"],
    ["reason", "reason"], ["change", "annual quota"], ["moves", "the team's rebalance"], ["level", "level"], ["decide", "decision"]],
  items.map((x) => {
    const comment = el("input", { class: "decision-comment", size: 16, "aria-label": "comment", placeholder: "comment" });
    const decide = (d) => async () => {
      clearErrors($("review-screen"));
      const out = await request("POST", `v1/adjustments/${x.id}/decision`, { json: { decision: d, comment: comment.value.trim() } });
      if (!out.ok) { showProblem(out.body, "queue"); return; }
      await loadQueue(ctx);
      ctx.decided(out.body);
    };
    const yes = el("button", { type: "button", class: "approve" }, "approve");
    const no = el("button", { type: "button", class: "reject" }, "reject");
    yes.addEventListener("click", decide("approve"));
    no.addEventListener("click", decide("reject"));
    return { attrs: { "data-adjustment": x.id, class: x.stale ? "stale-row" : "" },
      cells: [String(x.id), `${x.scenario} v${x.plan_version} (#${x.plan_id})`, x.rep_id, x.team, x.proposed_by, x.reason,
        `${money(x.annual_quota_before)} -> ${money(x.annual_quota_after)}${x.stale ? " (stale: the plan changed)" : ""}`,
        rebalance(x.changes), x.level, el("span", {}, comment, yes, no)] };
  }));
}
