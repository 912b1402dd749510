"""What the commands print: plain text a planner reads, from the library's results (data in,
text out; nothing here reads or writes files). Imports pandas: the commands import it when they
run."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from datasets.forecasts import level_columns
from datasets.periods import quarter_freq
from inyear.flags import FLAGS
from optimizer.wording import headline, money


def format_summary(s: dict, files) -> str:
    """The summary as a planner reads it."""
    lines = [f"Checked {', '.join(str(f) for f in files)}: OK", ""]
    if "reps_in_history" in s:
        lines.append(
            f"History   {s['rows']:,} rows, {s['reps_in_history']:,} reps, {s['first_period']}..{s['last_period']} ({s['n_periods']} quarters), revenue {money(s['total_revenue'])}"
        )
    if "reps_on_roster" in s:
        extra = (
            f", {s['new_hires']} new hire(s), {s['leavers']} leaver(s)" if "new_hires" in s else ""
        )
        lines.append(
            f"Roster    {s['reps_on_roster']:,} active reps ({s['inactive_on_roster']} inactive){extra}"
        )
    if s.get("revenue_by_year"):
        t = pd.DataFrame(s["revenue_by_year"])
        t["revenue"] = t["revenue"].map(money)
        lines += ["", "Revenue by year", t.to_string(index=False)]
    if s.get("teams"):
        t = pd.DataFrame(s["teams"])
        quarters = {f"revenue_{y['year']}": y["quarters"] for y in s.get("revenue_by_year", [])}
        for c in [c for c in t.columns if c.startswith("revenue")]:
            t[c] = t[c].map(money)
            if quarters.get(c, 4) < 4:  # the latest year, still partial: say so
                t = t.rename(columns={c: f"{c} ({quarters[c]} of 4 quarters)"})
        lines += ["", "Teams", t.to_string(index=False)]
    if s.get("warnings"):
        lines += ["", "Warnings", *(f"  - {w}" for w in s["warnings"])]
    if s.get("notes"):
        lines += ["", "Notes", *(f"  - {n}" for n in s["notes"])]
    return "\n".join(lines)


def format_scores(table: pd.DataFrame) -> str:
    shown = pd.DataFrame(
        {
            "WAPE": table["wape"].map("{:.1%}".format),
            "MAPE": table["mape"].map("{:.1%}".format),
            "pinball": table["pinball"].map("{:.4f}".format),
            "P10-P90 coverage": table["coverage_p10_p90"].map("{:.1%}".format),
        }
    )
    return (
        shown.to_string()
        + "\n(MAPE on rep-quarters above a quarter of the median; pinball loss averaged over the levels and divided by mean revenue)"
    )


def format_forecast(
    table: pd.DataFrame, model, year: int, why: str, company, out: Path | None
) -> str:
    qcols = level_columns(table.columns)
    by_q = table.groupby("period")[qcols].sum()
    quarters = sorted(table["period"].unique())
    which = (
        "" if len(quarters) == 4 else f" ({', '.join(quarters)}: the quarters after the history)"
    )
    fiscal = (
        f"; fiscal years start in month {company.fiscal_year_start}"
        if company.fiscal_year_start != 1
        else ""
    )
    lines = [
        f"Forecast {year}{which} for {table['rep_id'].nunique():,} active reps ({type(model).__name__})",
        f"Year: {why}{fiscal}",
        "",
    ]
    lines.append(by_q.map(money).to_string())
    total = table[qcols].sum()
    lines.append("year    " + "  ".join(f"{c}={money(v)}" for c, v in total.items()))
    lines.append(
        "(sums of per-rep quantiles are not the company's quantiles: they overstate its spread)"
    )
    outliers = getattr(model, "outliers_", None)
    if outliers is not None and len(outliers):
        lines += [
            "",
            f"Bluebird quarters damped ({len(outliers)}): "
            + ", ".join(
                f"{r} {p} ({money(v)} -> {money(t)})"
                for r, p, v, t in outliers.head(5).itertuples(index=False)
            )
            + (" ..." if len(outliers) > 5 else ""),
        ]
    ramp = getattr(model, "ramp_", None)
    if ramp is not None:
        text = ramp.describe(company.month_shape)
        lines.append(text[0].upper() + text[1:])
    if company.warnings:
        lines += ["", "Warnings", *(f"  - {w}" for w in company.warnings)]
    if company.notes:
        lines += ["", "Notes", *(f"  - {n}" for n in company.notes)]
    if out:
        lines.append(f"wrote {out} ({len(table):,} rows)")
    return "\n".join(lines)


def fiscal_words(quarter: str, fiscal_year_start: int) -> str:
    """``"fiscal years start in month 12: 2012Q1 is 2011-12-01 to 2012-02-29"``."""
    q = pd.Period(quarter, freq=quarter_freq(fiscal_year_start))
    return (
        f"fiscal years start in month {fiscal_year_start}: {quarter} is "
        f"{q.start_time:%Y-%m-%d} to {q.end_time:%Y-%m-%d}"
    )


def format_plan(result, out: Path | None, max_rows: int = 60) -> str:
    s = result.summary
    lines = headline(s)
    if s.attainment_goal is not None:
        lines.append(
            f"Company number found for {s.attainment_goal:.0%} of reps attaining: "
            f"{money(s.company_target)} ({s.plans_solved} plans solved)"
        )
    periods = sorted(result.quotas["period"].unique())
    if s.fiscal_year_start != 1 and periods:
        lines.append(f"Fiscal calendar: {fiscal_words(periods[0], s.fiscal_year_start)}")
    if s.warnings:
        lines += ["Warnings:", *(f"  - {w}" for w in s.warnings)]
    r = result.reps.set_index("rep_id")
    if s.replan is not None:
        lines += _replan_lines(s, r)
    by_q = result.quotas.groupby("period")["quota"].sum()
    lines += [
        "",
        "Quarterly phasing: "
        + ", ".join(f"{p} {money(v)} ({v / by_q.sum():.0%})" for p, v in by_q.items()),
    ]
    table = _quota_table(result.quotas, r, replanned=s.replan is not None)
    lines += ["", table.head(max_rows).to_string()]
    if len(table) > max_rows:
        lines.append(
            f"... and {len(table) - max_rows} more reps"
            + (f" (all in {out})" if out else " (use --out)")
        )
    if out:
        lines.append(f"wrote {out} and {out.with_suffix('.summary.json')}")
    return "\n".join(lines)


def _replan_lines(s, r: pd.DataFrame) -> list[str]:
    """A re-plan's closed quarters, its level and the reps at risk (``s``: its summary)."""
    rp = s.replan
    kept = (
        "kept at the plan's"
        if rp.level <= rp.previous_level * (1 + 1e-9)
        else f"raised from the plan's {rp.previous_level:.3f} to"
    )
    # The level kept is the highest stretch; where limits hold cells above the rest, the
    # headline's common stretch is another figure, and the level is not called common.
    common = s.objective.common_stretch
    level = (
        f"common level {kept} {rp.level:.3f}"
        if common is None
        else f"highest stretch {kept} {rp.level:.3f} (the common stretch is {common:.3f})"
    )
    lines = [
        "",
        f"Re-plan: closed {', '.join(s.closed_quarters)}; actuals to date "
        f"{money(s.actual_to_date)}, remaining quotas {money(s.remaining_quota)}; {level}",
        f"Reps at risk (under a {rp.at_risk_below:.0%} chance of reaching the annual "
        f"quota they were given): {rp.reps_at_risk}",
    ]
    risk = r[r["at_risk"]].sort_values("p_attain_previous").head(20)
    for rep, row in risk.iterrows():
        lines.append(
            f"  {rep} ({row['team']}): {money(row['actual_to_date'])} sold of "
            f"{money(row['previous_annual_quota'])}, {row['p_attain_previous']:.0%} chance"
        )
    return lines


def _quota_table(quotas: pd.DataFrame, r: pd.DataFrame, replanned: bool) -> pd.DataFrame:
    """Every rep's quarters, annual quota, stretch, chance and binding limit, largest first."""
    wide = quotas.pivot(index="rep_id", columns="period", values="quota")
    table = pd.DataFrame({"team": r["team"]})
    for p in wide.columns:
        table[p] = wide[p].map(money)
    table["annual"] = r["annual_quota"].map(money)
    table["stretch"] = r["stretch"].map(lambda x: f"{x:.2f}" if pd.notna(x) else "-")
    table["P(attain)"] = r["p_attain"].map("{:.0%}".format)
    table["bound by"] = r["binding"]
    if replanned:
        table["was"] = r["previous_annual_quota"].map(money)
        table["at risk"] = r["at_risk"].map({True: "yes", False: ""})
    if r["violations"].astype(bool).any():
        table["breaks"] = r["violations"]
    return table.loc[r["annual_quota"].sort_values(ascending=False).index]


def format_progress(p, proposal=None, max_rows: int = 30) -> str:
    s = p.summary
    lines = [
        f"Tracking to {s.as_of} ({s.share_of_year_gone:.0%} of the year's forecast gone; "
        f"closed: {', '.join(s.closed_quarters) or 'none'}; now in {s.current_quarter})",
        f"Company: {money(s.actual_to_date)} booked of {money(s.due_to_date)} due so far "
        f"(pace {s.pace:.0%}); projected year-end {money(s.projected_year_end)} against "
        f"quotas of {money(s.annual_quota)}",
        "Month shape inside a quarter: " + " / ".join(f"{x:.0%}" for x in s.month_shape),
        "Flags: " + ", ".join(f"{s.flagged[k]} {k.replace('_', ' ')}" for k in FLAGS),
        "",
    ]
    t = p.teams.set_index("team")
    table = pd.DataFrame(
        {
            "booked": t["actual_to_date"].map(money),
            "due": t["due_to_date"].map(money),
            "pace": t["pace"].map(lambda v: f"{v:.0%}" if pd.notna(v) else "-"),
            "projected": t["projected_year_end"].map(money),
            "quota": t["annual_quota"].map(money),
            "reps flagged": t["reps_flagged"],
        }
    )
    lines.append(table.to_markdown(tablefmt="simple"))
    flagged = p.reps[p.reps["flags"] != ""].sort_values("p_attain_year")
    if len(flagged):
        lines += ["", f"Reps flagged ({len(flagged)}):"]
        for r in flagged.head(max_rows).itertuples():
            lines.append(
                f"  {r.rep_id} ({r.team}): pace {r.pace:.0%}, {r.p_attain_year:.0%} chance of "
                f"the year, {r.p_attain_quarter:.0%} of the quarter; {r.flags}"
            )
        if len(flagged) > max_rows:
            lines.append(f"  ... and {len(flagged) - max_rows} more (see --out)")
    if proposal is not None:
        lines += ["", f"Relief: {proposal.message}"]
        if proposal.plan is not None:
            for g in proposal.plan.summary.limits_gave_way:
                if g.rep_id is None:  # a company, team or region ahead of plan
                    lines.append(f"  ({g.why})")
            c = proposal.reps.sort_values("change")
            moved = c[c["change"].abs() > 1e-6 * max(c["annual_quota_before"].max(), 1.0)]
            for r in moved.head(max_rows).itertuples():
                lines.append(
                    f"  {r.rep_id} ({r.team}): {money(r.annual_quota_before)} -> "
                    f"{money(r.annual_quota_after)} ({'+' if r.change > 0 else '-'}"
                    f"{money(abs(r.change))})"
                )
    return "\n".join(lines)


def format_audit(entries) -> list[str]:
    """Audit entries, one line each: when, plan, rep, action, who, before -> after, why."""
    lines = []
    for e in entries:
        change = ""
        if e.before or e.after:
            change = f" {json.dumps(e.before)} -> {json.dumps(e.after)}"
        rep = f" {e.rep_id}" if e.rep_id else ""
        why = f": {e.why}" if e.why else ""
        lines.append(
            f"{e.at:%Y-%m-%d %H:%M} plan {e.plan_id}{rep} {e.action} by {e.who}{change}{why}"
        )
    return lines
