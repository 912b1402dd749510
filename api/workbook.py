"""A stored plan as an Excel workbook for planners: a formatted sheet of quotas per rep and
quarter (team subtotals, the company total, money formatted, the header frozen), a notes sheet
with the plan's settings, and the plan's tables as data (``quotas``: a row per rep and quarter,
``reps``: a row per rep).

Every text cell from data is written as text: text a spreadsheet would run as a formula (starting
with =, +, -, @, tab or CR) gets a leading quote, as in the CSV export, and rep ids and team names
are never numbers or formulas. Totals are numbers computed here, not formulas. The notes hold
what was asked for and what was used, never the solver's timings.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pandas as pd
from openpyxl.styles import Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from optimizer import parse_amount
from optimizer.wording import money

from .routes.common import neutral, write_sheets
from .storage import utc_iso

#: Money: thousands separated, whole units, no currency symbol (quotaplan does not know the
#: currency; a planner's spreadsheet adds one with a click).
MONEY = "#,##0"
SHARE = "0.0%"

HEADER = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
SUBTOTAL = Font(bold=True)
SUBTOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
TOTAL_BORDER = Border(top=Side(style="thin"), bottom=Side(style="double"))


def plan_workbook(rec, quotas_table: pd.DataFrame, forecast=None, now: datetime | None = None):
    """The workbook of plan ``rec`` (a stored plan); ``quotas_table``: its rows per rep and
    quarter with the rep's annual figures; ``forecast``: the stored forecast it was planned
    from, if any."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        book = writer.book
        _by_rep(book.create_sheet("plan"), pd.DataFrame(rec.quotas), pd.DataFrame(rec.reps))
        _notes(book.create_sheet("notes"), rec, forecast, now or datetime.now(UTC))
        write_sheets(writer, {"quotas": quotas_table, "reps": pd.DataFrame(rec.reps)})
        for name in ("quotas", "reps"):
            ws = book[name]
            ws.freeze_panes = "A2"
            for cell in ws[1]:
                cell.font = HEADER
    return buf.getvalue()


def _by_rep(ws, quotas: pd.DataFrame, reps: pd.DataFrame) -> None:
    """One row per rep (rep, team, region, each quarter's quota, the year), grouped by team,
    each team followed by its subtotal; the company total last."""
    grid = quotas.pivot_table(index="rep_id", columns="period", values="quota", aggfunc="sum")
    periods = sorted(grid.columns)
    info = reps.set_index("rep_id")[["team", "region"]].astype(object)
    info = info.where(info.notna(), "")
    rows = info.join(grid[periods]).fillna({p: 0.0 for p in periods})
    rows["annual"] = rows[periods].sum(axis=1)
    money_cols = [*periods, "annual"]
    ws.append(["Rep", "Team", "Region", *periods, "Annual"])
    for cell in ws[1]:
        cell.font, cell.fill = HEADER, HEADER_FILL
    for team, members in rows.groupby("team", sort=True):
        for rep, r in members.iterrows():
            ws.append([_text(rep), _text(team), _text(r["region"]), *map(float, r[money_cols])])
        regions = ", ".join(sorted({str(x) for x in members["region"] if str(x)}))
        ws.append(["Subtotal", _text(team), _text(regions), *map(float, members[money_cols].sum())])
        for cell in ws[ws.max_row]:
            cell.font, cell.fill = SUBTOTAL, SUBTOTAL_FILL
    ws.append(["Company total", None, None, *map(float, rows[money_cols].sum())])
    for cell in ws[ws.max_row]:
        cell.font, cell.border = SUBTOTAL, TOTAL_BORDER
    for row in ws.iter_rows(min_row=2, min_col=4, max_col=3 + len(money_cols)):
        for cell in row:
            cell.number_format = MONEY
    ws.freeze_panes = "A2"
    _widths(ws)


def _text(value) -> str | None:
    """Data as a text cell: never a number, never a formula (blank: an empty cell)."""
    text = "" if value is None else str(value)
    return neutral(text) if text else None


def _notes(ws, rec, forecast, now: datetime) -> None:
    """The plan's settings, one per row: what was asked for and what was used."""
    ws.append(["Setting", "Value"])
    for cell in ws[1]:
        cell.font, cell.fill = HEADER, HEADER_FILL
    for label, value, fmt in _settings(rec, forecast, now):
        ws.append([label, _text(value) if isinstance(value, str) else value])
        if fmt:
            ws.cell(ws.max_row, 2).number_format = fmt
    ws.freeze_panes = "A2"
    _widths(ws, widest=90)


def _share_or_none(value) -> tuple:
    return (float(value), SHARE) if value is not None else ("none", None)


def _settings(rec, forecast, now: datetime):
    """(label, value, number format or None) for the notes sheet."""
    req, s = rec.request, rec.summary
    limits = req.get("limits") or {}
    periods = sorted({q["period"] for q in rec.quotas})
    out = [
        ("Plan", rec.id, None),
        ("Scenario", rec.scenario_name, None),
        ("Version", rec.version, None),
        ("Kind", rec.kind, None),
        ("State", rec.state, None),
    ]
    if rec.parent_id is not None:
        out.append(("Made from plan", rec.parent_id, None))
    out += [
        ("Created", utc_iso(rec.created_at), None),
        ("Created by", rec.created_by, None),
        ("Exported", utc_iso(now), None),
        ("Plan year", f"{periods[0]} to {periods[-1]}" if periods else "", None),
        ("Fiscal year starts in month", s.get("fiscal_year_start") or 1, None),
    ]
    if req.get("attainment") is not None:
        out.append(("Attainment goal (share of reps)", float(req["attainment"]), SHARE))
    out += [
        ("Company number", float(s.get("company_target") or 0.0), MONEY),
        ("Over-assignment", float(s.get("over_assignment") or 0.0), SHARE),
        ("Sum of quotas", float(s.get("total_quota") or 0.0), MONEY),
        ("Expected share of reps attaining", *_share_or_none(s.get("expected_share_attaining"))),
        ("Policy", s.get("policy", req.get("policy", "")), None),
        ("Forecast", _forecast_used(req, forecast), None),
    ]
    band = s.get("band_levels") or []
    if len(band) == 2:
        out.append(("Forecast band", f"P{band[0] * 100:g} to P{band[1] * 100:g}", None))
    out += _limits(limits)
    replan = req.get("replan")
    if replan:
        closed = sorted({a["period"] for a in replan.get("actuals") or []})
        out += [
            ("Re-plan of plan", replan.get("of"), None),
            ("Closed quarters (actuals)", ", ".join(closed), None),
            ("At risk below (chance)", float(replan.get("at_risk_below", 0.0)), SHARE),
        ]
    for a in req.get("adjustments") or []:
        what = f"{a['rep_id']}: {money(float(a['annual_quota']))} (adjustment {a.get('id')})"
        out.append(("Approved adjustment", what, None))
    for g in s.get("limits_gave_way") or []:
        out.append(("Limit gave way", f"{g.get('rep_id')}: {g.get('why') or g.get('limit')}", None))
    for w in s.get("warnings") or []:
        out.append(("Warning", str(w), None))
    out.append(("Solver status", s.get("solver_status", ""), None))
    return out


def _forecast_used(req: dict, forecast) -> str:
    if req.get("forecast_id") is not None:
        made = f", made {utc_iso(forecast.created_at)}" if forecast is not None else ""
        return f"stored forecast {req['forecast_id']}{made}"
    if req.get("history") is not None:
        year = f" for {req['year']}" if req.get("year") else ""
        rows = len(req["history"])
        return f"made{year} from the history sent with the plan ({rows:,} rows)"
    rows = len(req.get("forecast") or [])
    return f"the forecast sent with the plan ({rows:,} rows)"


def _limits(limits: dict):
    def level(key, what):
        v = limits.get(key)
        return (what, f"P{float(v) * 100:g} of the forecast" if v is not None else "none", None)

    def amounts(key, what):
        v = limits.get(key) or {}
        text = "; ".join(f"{k}: {money(parse_amount(x))}" for k, x in sorted(v.items()))
        return (what, text or "none", None)

    out = [
        level("cap_quantile", "Cap"),
        level("floor_quantile", "Floor"),
        ("Phasing band", *_share_or_none(limits.get("phasing_band"))),
        ("Largest increase on last year's quota", *_share_or_none(limits.get("max_increase"))),
        ("Smallest increase on last year's quota", *_share_or_none(limits.get("min_increase"))),
    ]
    band = limits.get("ote_band")
    out.append(("Quota to OTE", f"{band[0]:g}x to {band[1]:g}x" if band else "none", None))
    out.append(("Quarter-to-quarter change at most", *_share_or_none(limits.get("smoothness"))))
    out.append(amounts("team_targets", "Team targets"))
    out.append(amounts("region_targets", "Region targets"))
    if limits.get("team_targets") or limits.get("region_targets"):
        over = float(limits.get("group_over_assignment") or 0.0)
        out.append(("Team and region over-assignment", over, SHARE))
    locks = limits.get("locks") or []
    text = "; ".join(
        f"{lk['rep_id']} {lk.get('period') or 'year'}: {money(parse_amount(lk['quota']))}"
        for lk in locks
    )
    out.append(("Locks", text or "none", None))
    return out


def _widths(ws, widest: int = 40) -> None:
    """Columns as wide as their longest cell (money as it shows), within 8..``widest``."""
    for i, col in enumerate(ws.iter_cols(), start=1):
        longest = 0
        for cell in col:
            v = cell.value
            if v is None:
                continue
            text = f"{v:,.0f}" if isinstance(v, float) and cell.number_format == MONEY else str(v)
            longest = max(longest, len(text))
        ws.column_dimensions[get_column_letter(i)].width = min(widest, max(8, longest + 2))
