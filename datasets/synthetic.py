"""A synthetic sales company with known truth, for tests, benchmarks and scale runs.

Every rep has a heavy-tailed base level, a growth trend, their region's seasonality, a ramp-up
after hire, spells of leave or part time, and noise that grows with their level; reps are hired
and leave through the years. The expected revenue behind every booked figure is kept, so a
forecaster can be scored against the truth rather than against noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .company import Company, load_company, with_notes
from .periods import quarter_freq
from .roster import COLUMNS as ROSTER_COLUMNS

#: Share of a quarter's bookings that close in its first, second and third month (hockey stick).
WITHIN_QUARTER = np.array([0.15, 0.25, 0.60])

REGIONS = ("AMER", "EMEA", "APAC", "LATAM", "ANZ", "NORDICS", "DACH", "JAPAN")


@dataclass(frozen=True)
class SyntheticCompany:
    """What :func:`make_company` returns.

    Attributes
    ----------
    company : the validated history and roster, as a planner would supply them.
    truth : per rep and quarter of the history: ``expected_revenue`` (the mean of the
        distribution the booked revenue was drawn from, excluding bluebird deals), ``capacity``
        (employment x ramp x fte, 0..1) and ``bluebird`` (whether a windfall deal was added).
    reps : per rep: the true ``level`` (quarterly revenue at full capacity at the start),
        ``growth`` (annual), ``team``, ``region``, ``hire_month`` and ``leave_month`` (months
        since the start of the history; ``leave_month`` past the end means still employed),
        ``ramp_months`` (months from the start date to full productivity) and
        ``fast_starter`` (an experienced hire, productive within weeks).
    team_targets : the plan year's number per team, as a planner might set them (one team's
        beyond what it can carry; see ``overreach``).
    monthly : with ``monthly=True`` (or a partial last quarter), the bookings per rep and month
        (``rep_id``, ``period`` such as ``2025-11``, ``revenue``) as an export would hold them;
        ``company`` is then read from this table by the data layer. None otherwise.
    """

    company: Company
    truth: pd.DataFrame
    reps: pd.DataFrame
    team_targets: dict = field(default_factory=dict)
    monthly: pd.DataFrame | None = None


def make_company(
    n_reps: int = 200,
    n_years: int = 5,
    *,
    start_year: int = 2021,
    n_regions: int = 4,
    teams_per_region: int = 3,
    level: float = 300_000.0,
    level_spread: float = 0.6,
    growth: float = 0.06,
    headcount_growth: float = 0.05,
    attrition: float = 0.15,
    ramp_months: float = 5.0,
    seasonality: tuple[float, float, float, float] = (0.85, 0.95, 0.95, 1.25),
    noise: float = 0.3,
    leave_rate: float = 0.04,
    part_time_share: float = 0.05,
    bluebird_rate: float = 0.01,
    planned_hires: float = 0.05,
    quota_uplift: float = 0.10,
    no_quota_share: float = 0.05,
    team_growth: float = 0.10,
    overreach: float = 2.0,
    leave_history: bool = True,
    fast_starters: float = 0.25,
    unknown_start: float = 0.3,
    fiscal_year_start: int = 1,
    last_quarter_months: int = 3,
    monthly: bool = False,
    random_state: int | np.random.Generator | None = None,
) -> SyntheticCompany:
    """Generate a synthetic company.

    Parameters
    ----------
    n_reps : headcount at the start of the history.
    n_years : calendar years of quarterly history.
    start_year : first year of the history.
    n_regions, teams_per_region : the hierarchy.
    level : median quarterly revenue of a fully ramped rep; ``level_spread`` is the sigma of the
        log-normal spread of levels across reps (heavy right tail).
    growth : mean annual growth of a rep's level (each rep draws their own).
    headcount_growth, attrition : annual net headcount growth and share of reps who leave.
    ramp_months : months for a new hire to reach full productivity (0, 25, 50, 75, 100% ...).
    seasonality : relative size of Q1..Q4 (normalised to mean 1); regions vary around it.
    noise : coefficient of variation of a quarter's revenue for a median rep; absolute noise
        grows with level (as level ** 0.85).
    leave_rate : chance per rep and year of a leave of 2-6 months.
    part_time_share : share of reps working part time (fte 0.5-0.8).
    bluebird_rate : chance per rep and quarter of a windfall deal of 3-6x a normal quarter.
    planned_hires : share of the final headcount hired in the first half of the next year (on the
        roster, no history yet).
    quota_uplift : last year's quotas were set as the year before's actuals plus this share
        (the "last year plus X%" practice), and appear as ``last_year_quota`` on the roster.
        Reps hired during last year have a pro-rated, partial-year quota (see
        :func:`_last_year_quotas`).
    no_quota_share : share of reps with no last year's quota on file.
    team_growth, overreach : the plan year's team targets (``SyntheticCompany.team_targets``):
        last year's team bookings plus ``team_growth``; one team asked for ``overreach`` times
        its bookings, more than it can carry (0: none).
    leave_history : the roster also records past leave and part-time spells, per quarter
        (``fte_2024Q3`` columns for the history's quarters), as an HR system does; otherwise
        only the plan year's.
    fast_starters : share of hires who are experienced: productive within one or two months of
        their start date and above the usual level (their first, partial quarters are strong).
    unknown_start : share of the planned hires whose roster row has no hire date (roster reps
        with no history and no hire date, as CRM exports have them).
    fiscal_year_start : month (1-12) in which the company's fiscal year and its Q1 start; the
        history's quarter labels are fiscal quarters (pandas' convention: the fiscal year is
        named after the calendar year it ends in) and hire dates are calendar dates.
    last_quarter_months : months (1-3) of the history's last quarter that the data holds (an
        export taken part-way through a quarter); below 3 the history is monthly and read by
        the data layer, which completes or drops the partial quarter and says so.
    monthly : also keep the bookings per month (``SyntheticCompany.monthly``) and read the
        company from them.
    random_state : seed or Generator; the same seed gives the same company.
    """
    if n_reps < 1 or n_years < 1:
        raise ValueError(f"n_reps and n_years must be >= 1, got n_reps={n_reps}, n_years={n_years}")
    if not 0 <= attrition < 1:
        raise ValueError(f"attrition must be in [0, 1), got {attrition}")
    if n_regions < 1 or n_regions > len(REGIONS) or teams_per_region < 1:
        raise ValueError(f"n_regions must be 1..{len(REGIONS)} and teams_per_region >= 1")
    if not 1 <= last_quarter_months <= 3:
        raise ValueError(f"last_quarter_months must be 1, 2 or 3, got {last_quarter_months}")
    if not (0 <= fast_starters <= 1 and 0 <= unknown_start <= 1):
        raise ValueError("fast_starters and unknown_start are shares between 0 and 1")
    origin = pd.Period(f"{start_year}Q1", freq=quarter_freq(fiscal_year_start)).start_time
    rng = np.random.default_rng(random_state)
    # The draws of the inputs-as-planners-have-them features (fast starters, start days, blank
    # hire dates, months) come from their own stream: they leave every other draw as it was.
    extra = rng.spawn(1)[0]
    T = 12 * n_years  # months of history
    horizon = T + 12  # plus the plan year, for leave and planned hires known in advance

    # --- who works when (months since the start of the history) -------------------------------
    tenure_at_start = np.ceil(rng.exponential(36.0, n_reps)).astype(np.int64)
    hires = [-tenure_at_start]
    for y in range(n_years):
        k = rng.poisson(n_reps * (1 + headcount_growth) ** y * (attrition + headcount_growth))
        hires.append(rng.integers(12 * y, 12 * y + 12, k))
    n_hist = sum(len(h) for h in hires)
    final_heads = max(1, round(n_reps * (1 + headcount_growth) ** n_years))
    hires.append(rng.integers(T, T + 6, rng.binomial(final_heads, planned_hires)))
    hire = np.concatenate(hires)
    n = len(hire)
    monthly_exit = -np.log1p(-attrition) / 12 if attrition > 0 else 0.0
    stay = rng.exponential(1 / monthly_exit, n) if monthly_exit > 0 else np.full(n, np.inf)
    leave = np.maximum(hire, 0) + np.ceil(stay)
    leave[n_hist:] = np.inf  # planned hires have not left

    # --- who they are ------------------------------------------------------------------------
    n_teams = n_regions * teams_per_region
    team_weights = rng.dirichlet(np.full(n_teams, 20.0))
    # Systematic sampling: team sizes follow the weights closely even for a small company.
    team = rng.permutation(
        np.searchsorted(np.cumsum(team_weights), (np.arange(n) + rng.random()) / n).clip(
            max=n_teams - 1
        )
    )
    region = team // teams_per_region
    team_effect = np.exp(rng.normal(0, 0.2, n_teams))
    rep_level = level * team_effect[team] * np.exp(rng.normal(0, level_spread, n))
    rep_growth = rng.normal(growth, 0.04, n)
    rep_ramp = np.maximum(1.0, ramp_months * np.exp(rng.normal(0, 0.2, n)))
    season = np.asarray(seasonality, float)
    season = season / season.mean()
    region_season = season * np.exp(rng.normal(0, 0.05, (n_regions, 4)))
    region_season /= region_season.mean(axis=1, keepdims=True)

    # --- fast starters and start days ---------------------------------------------------------
    # Experienced hires reach full productivity within weeks, at a higher level: their first,
    # partial quarters already show what they can sell. Everyone starts on a day of the month,
    # and the ramp runs from that day.
    fast = (hire >= 0) & (extra.random(n) < fast_starters)
    rep_ramp[fast] = extra.uniform(0.5, 1.5, int(fast.sum()))
    rep_level[fast] *= np.exp(extra.normal(0.3, 0.2, int(fast.sum())))
    start_day = extra.integers(0, 28, n)

    # --- capacity by month: employed x ramp x fte ---------------------------------------------
    # Month-level arrays are n x months: small dtypes and in-place products keep them cheap.
    standing_fte = np.ones(n)  # the rep's contracted capacity: what the roster's fte says
    part = rng.random(n) < part_time_share
    standing_fte[part] = rng.uniform(0.5, 0.8, part.sum())
    fte = np.repeat(standing_fte.astype(np.float32)[:, None], horizon, axis=1)
    n_leave = rng.binomial(n * (horizon // 12), leave_rate)
    who = rng.integers(0, n, n_leave)
    start = rng.integers(0, horizon, n_leave)
    stop = np.minimum(start + rng.integers(2, 7, n_leave), horizon)
    on_leave = np.zeros((n, horizon + 1), np.int8)
    np.add.at(on_leave, (who, start), 1)
    np.add.at(on_leave, (who, stop), -1)
    fte[np.cumsum(on_leave, axis=1, dtype=np.int8)[:, :horizon] > 0] = 0.0
    del on_leave

    m = np.arange(T, dtype=np.int16)
    employed = (m[None, :] >= np.maximum(hire, -10 * 12).astype(np.int16)[:, None]) & (
        m[None, :] < np.minimum(leave, horizon + 1).astype(np.int16)[:, None]
    )
    capacity = ramp_from_start(hire + start_day / 30.0, rep_ramp, T)
    capacity *= fte[:, :T]
    capacity *= employed

    # --- expected revenue by month, summed to quarters ----------------------------------------
    quarter_of = (m // 3) % 4
    expected_m = np.exp(
        np.log1p(rep_growth).astype(np.float32)[:, None] * (m / np.float32(12))[None, :]
    )
    expected_m *= region_season.astype(np.float32)[region][:, quarter_of]
    expected_m *= WITHIN_QUARTER.astype(np.float32)[m % 3][None, :]
    expected_m *= capacity
    expected_m *= rep_level.astype(np.float32)[:, None]
    Q = T // 3
    expected = expected_m.reshape(n, Q, 3).sum(axis=2, dtype=np.float64)
    by_month = expected_m.reshape(n, Q, 3) if monthly or last_quarter_months < 3 else None
    del expected_m
    cap_q = capacity.reshape(n, Q, 3).mean(axis=2, dtype=np.float64)
    on_books = employed.reshape(n, Q, 3).any(axis=2)

    # --- booked revenue: gamma noise growing with level, plus rare bluebirds --------------------
    r_idx, q_idx = np.nonzero(on_books)
    mu = expected[r_idx, q_idx]
    sd = noise * np.power(np.maximum(mu, 1e-9), 0.85) * level**0.15
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(mu > 0, (mu / sd) ** 2, 1.0)
        revenue = np.where(mu > 0, rng.gamma(k, np.where(mu > 0, mu / k, 1.0)), 0.0)
    bluebird = (rng.random(len(mu)) < bluebird_rate) & (cap_q[r_idx, q_idx] > 0.5)
    revenue = revenue + bluebird * mu * rng.uniform(3.0, 6.0, len(mu))
    revenue = np.round(revenue, 2)

    # --- tables ------------------------------------------------------------------------------
    width = max(5, len(str(n)))
    ids = np.char.add("R", np.char.zfill(np.arange(1, n + 1).astype(str), width))
    labels = np.array([f"{start_year + q // 4}Q{q % 4 + 1}" for q in range(Q)])
    # Text columns by taking from a small array of labels: far faster than converting millions.
    rep_col = pd.array(ids, dtype="str").take(r_idx)
    period_col = pd.array(labels, dtype="str").take(q_idx)
    history = pd.DataFrame({"rep_id": rep_col, "period": period_col, "revenue": revenue})
    truth = pd.DataFrame(
        {
            "rep_id": rep_col,
            "period": period_col,
            "expected_revenue": mu,
            "capacity": cap_q[r_idx, q_idx],
            "bluebird": bluebird,
        }
    )
    teams = np.array(
        [f"{REGIONS[t // teams_per_region]}-{t % teams_per_region + 1}" for t in range(n_teams)]
    )
    hire_date = _month_starts(origin, hire) + pd.to_timedelta(start_day, "D")
    # --- roster reps with no history and no hire date -----------------------------------------
    blank_start = np.zeros(n, bool)
    blank_start[n_hist:] = extra.random(n - n_hist) < unknown_start
    hire_date[blank_start] = pd.NaT

    on_roster = leave > T - 1  # still employed at the end of the history, or a planned hire
    # Reps who left during the history stay on the roster, inactive, with the day they left
    # (the last day of the month before their first month away), as an HR export lists them.
    left = ~on_roster & (hire < T)
    leave_month = np.where(left, leave, 0).astype(np.int64)
    leave_date = _month_starts(origin, leave_month) - pd.Timedelta(days=1)
    leave_date = leave_date.where(left)
    annual_level = 4 * rep_level * (1 + rep_growth) ** n_years
    ote = np.round(annual_level / (5.0 * np.exp(rng.normal(0, 0.12, n))), -3).clip(min=1000)
    last_year_quota = _last_year_quotas(
        hire, leave, team, r_idx, q_idx, revenue, n_years, quota_uplift, rng, no_quota_share
    )
    roster = pd.DataFrame(
        {
            "rep_id": ids,
            "team": teams[team],
            "region": np.array(REGIONS)[region],
            "hire_date": hire_date.dt.normalize().astype("datetime64[ns]"),
            "leave_date": leave_date.astype("datetime64[ns]"),
            "fte": standing_fte,
            "last_year_quota": np.where(on_roster, last_year_quota, np.nan),
            "last_year_quota_months": np.nan,
            "ote": ote,
            "manager_id": np.char.add("M-", teams[team]),
            "active": on_roster,
        }
    )
    plan_year = start_year + n_years
    for qi in range(4):
        f = quarter_capacity(fte[:, T + 3 * qi : T + 3 * qi + 3])
        col = np.where(np.isclose(f, roster["fte"].to_numpy()), np.nan, f)
        col = np.where(on_roster, col, np.nan)
        if np.isfinite(col).any():
            roster[f"fte_{plan_year}Q{qi + 1}"] = col
    # --- leave on the roster for past quarters too -------------------------------------------
    if leave_history:
        past = {}
        for q in range(Q):
            f = quarter_capacity(fte[:, 3 * q : 3 * q + 3])
            col = np.where(np.isclose(f, standing_fte), np.nan, f)
            if np.isfinite(col[on_roster | left]).any():
                past[f"fte_{labels[q]}"] = col
        roster = pd.concat([roster, pd.DataFrame(past, index=roster.index)], axis=1)
    roster = roster[on_roster | left].sort_values("rep_id").reset_index(drop=True)
    roster = roster[ROSTER_COLUMNS + sorted(c for c in roster.columns if c not in ROSTER_COLUMNS)]

    reps = pd.DataFrame(
        {
            "rep_id": ids,
            "level": rep_level,
            "growth": rep_growth,
            "team": teams[team],
            "region": np.array(REGIONS)[region],
            "hire_month": hire,
            "leave_month": leave,
            "ramp_months": rep_ramp,
            "fast_starter": fast,
        }
    )
    targets = _team_targets(history, roster, labels[-4:], team_growth, overreach, rng)
    # --- monthly bookings; a last quarter the export caught part-way ----------------------------
    if monthly or last_quarter_months < 3:
        months = _months(revenue, by_month[r_idx, q_idx], r_idx, q_idx, origin, ids, extra)
        if last_quarter_months < 3:
            last = months["period"].max()
            first_of_last = pd.Period(last, "M") - 2
            cut = pd.PeriodIndex(months["period"], freq="M") >= first_of_last + last_quarter_months
            months = months[~cut].reset_index(drop=True)
        company = load_company(months, roster, fiscal_year_start=fiscal_year_start)
        return SyntheticCompany(company, truth, reps, targets, months)
    company = with_notes(Company(history, roster, (), fiscal_year_start))
    return SyntheticCompany(company, truth, reps, targets)


def _last_year_quotas(
    hire, leave, team, r_idx, q_idx, revenue, n_years, uplift, rng, no_quota_share
) -> np.ndarray:
    """Last year's annual quota per rep, as companies set them ("last year plus X%").

    - Employed all of last year: the year before's bookings, annualised over the months they
      were employed then, plus ``uplift``; the team's median where that year says too little
      (under three months).
    - Hired during last year: a pro-rated quota, the team's median full-year quota times the
      share of the year they were employed. A hire in the second half has a quota for a few
      months only: it is not a full year to compare the plan year with.
    - A share ``no_quota_share`` of reps have none on file, and planned hires have none.
    """
    n = len(hire)
    last, before = n_years - 1, n_years - 2  # year indices within the history
    quota = np.full(n, np.nan)
    if before < 0:
        return quota
    employed = leave > 12 * n_years - 1
    start_b, end_b = 12 * before, 12 * before + 12
    months_before = np.clip(np.minimum(end_b, leave) - np.maximum(hire, start_b), 0, 12)
    in_before = q_idx // 4 == before
    booked = np.bincount(r_idx[in_before], revenue[in_before], n)
    full = employed & (hire <= 12 * last)
    known = full & (months_before >= 3) & (booked > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        quota[known] = booked[known] * 12 / months_before[known] * (1 + uplift)
    median = pd.Series(quota).groupby(team).median()
    team_median = median.reindex(team).to_numpy(float)
    rest = full & ~known
    quota[rest] = team_median[rest]
    joined = employed & (hire > 12 * last) & (hire < 12 * n_years)
    months_last = 12 * n_years - hire[joined]
    quota[joined] = team_median[joined] * months_last / 12
    missing = rng.random(n) < no_quota_share
    quota[missing] = np.nan
    return np.round(quota, -3)


def _team_targets(history, roster, plan_quarters, growth, overreach, rng) -> dict[str, float]:
    """Each team's number for the plan year: what its roster reps booked last year plus
    ``growth``; one team (drawn at random, if there are two or more) is asked for ``overreach``
    times that, more than it can carry: the case a planner's team targets often hold."""
    teams = roster[roster["active"]].set_index("rep_id")["team"]  # the team as it is now
    last = history[history["period"].str[:4] == history["period"].max()[:4]]
    booked = last.groupby(last["rep_id"].map(teams))["revenue"].sum()
    names = sorted(teams.unique())
    targets = {t: float(np.round(booked.get(t, 0.0) * (1 + growth), -3)) for t in names}
    targets = {t: v for t, v in targets.items() if v > 0}
    if len(targets) >= 2 and overreach:
        pick = sorted(targets)[int(rng.integers(len(targets)))]
        targets[pick] = float(np.round(targets[pick] / (1 + growth) * overreach, -3))
    return targets


def quarter_capacity(months: np.ndarray) -> np.ndarray:
    """A quarter's capacity as the roster's ``fte_<quarter>`` states it: the months' fte
    weighted by their share of the quarter's bookings (:data:`WITHIN_QUARTER`), so a leave in
    the quarter's last month, which holds 60% of it, costs 60% of the quarter."""
    return months.astype(np.float64) @ WITHIN_QUARTER


def ramp_from_start(start: np.ndarray, ramp_months: np.ndarray, n_months: int) -> np.ndarray:
    """Share of full productivity in each month (reps x months), for reps who start at
    ``start`` (months since the history's first month, fractional: the 15th is about +0.5)
    and ramp linearly to full productivity over ``ramp_months`` from that day: the month's
    average of ``clip((t - start) / ramp, 0, 1)``, zero before the start."""
    r = np.maximum(np.asarray(ramp_months, np.float32), 1e-6)[:, None]
    t = np.arange(n_months, dtype=np.float32)[None, :] - np.asarray(start, np.float32)[:, None]

    def area(u):  # integral of clip(x / r, 0, 1) from 0 to u (u >= 0)
        return np.where(u <= r, u * u / (2 * r), u - r / 2)

    out = (area(np.clip(t + 1, 0, None)) - area(np.clip(t, 0, None))).astype(np.float32)
    return np.clip(out, 0.0, 1.0, out=out)  # float32 rounding can leave 1 + 1e-7


def _months(revenue, month_mean, r_idx, q_idx, origin, ids, rng) -> pd.DataFrame:
    """Each booked quarter split into its months: Dirichlet shares around the months' expected
    revenue (the within-quarter shape, hire and leave dates), so the months add up to the
    quarter."""
    weight = np.maximum(month_mean, 0.0) * 30.0 + 1e-9
    g = rng.gamma(weight)
    g[month_mean <= 0] = 0.0
    total = g.sum(axis=1, keepdims=True)
    share = np.where(total > 0, g / np.where(total > 0, total, 1.0), 1.0 / 3.0)
    amounts = np.round(revenue[:, None] * share, 2)
    first = pd.Period(origin, "M")
    labels = np.array([str(first + k) for k in range(3 * (int(q_idx.max()) + 1))])
    month_idx = 3 * q_idx[:, None] + np.arange(3)[None, :]
    keep = (month_mean > 0) | (amounts > 0)
    rows = np.repeat(r_idx, 3).reshape(-1, 3)
    return pd.DataFrame(
        {
            "rep_id": pd.array(ids, dtype="str").take(rows[keep]),
            "period": pd.array(labels, dtype="str").take(month_idx[keep]),
            "revenue": amounts[keep],
        }
    )


def _month_starts(origin, months) -> pd.Series:
    """The first day of the month ``months`` (an array) months after ``origin``'s month."""
    number = origin.year * 12 + origin.month - 1 + np.asarray(months)
    frame = pd.DataFrame(
        {"year": np.floor_divide(number, 12), "month": np.mod(number, 12) + 1, "day": 1}
    )
    return pd.to_datetime(frame)
