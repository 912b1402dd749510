"""The fast route: a plan's limits as a flow network, solved without building a general model.

Without team/region targets and smoothness, every limit of a plan is one of four kinds:

- a bound on a rep-quarter quota (floor, cap, the policy's stretch or quantile level, a
  quarterly lock),
- a range on a rep's annual quota (anti-ratchet, growth floor, OTE band, an annual lock),
- a range on a quarter's company total (phasing),
- the company total itself.

Together they are a circulation ``source -> rep -> quarter -> sink -> source`` with lower and
upper bounds on every edge, which gives two exact shortcuts:

- **Is a level reachable?** By Hoffman's circulation theorem the plan is feasible exactly when no
  cut asks for more than it can carry. With T quarters only ``4 x 2^T`` cuts matter (each rep
  picks its own side), so feasibility is a few vectorised sums, and the lowest common stretch
  (or quantile level) is a bisection on one number.
- **Which plan at that level?** The second stage, the squared deviation from a reference
  weighted by P50, is separable: given a price per quarter, each rep's quotas are the reference
  plus weight x (price + the rep's own multiplier), clipped to the rep's bounds ("water
  filling"), and the rep's multiplier is found exactly from the 2T breakpoints. Only the
  1 + 2T prices of the coupling rows (company total, phasing band) remain; they maximise a
  smooth concave dual, found with L-BFGS-B. The answer is certified by its duality gap and
  residuals; a plan that cannot be certified goes to the general Pyomo model instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import minimize

#: Relative tolerance of the feasibility test (below the certificate's RESIDUAL_TOL, so a level
#: it accepts can be certified).
TOL = 1e-10


@dataclass(frozen=True)
class Network:
    """A plan's limits in units of the average quota cell (all finite)."""

    lower: np.ndarray  # (n, T) per rep-quarter
    upper: np.ndarray  # (n, T)
    annual_lo: np.ndarray  # (n,)
    annual_hi: np.ndarray  # (n,)
    col_lo: np.ndarray  # (T,) phasing band
    col_hi: np.ndarray  # (T,)
    total: float

    def tightened(self) -> Network:
        """Row and column ranges clipped to what the cell bounds allow (same feasible set)."""
        up = np.maximum(self.upper, self.lower)
        return replace(
            self,
            upper=up,
            annual_lo=np.maximum(self.annual_lo, self.lower.sum(axis=1)),
            annual_hi=np.minimum(self.annual_hi, up.sum(axis=1)),
            col_lo=np.maximum(self.col_lo, self.lower.sum(axis=0)),
            col_hi=np.minimum(self.col_hi, up.sum(axis=0)),
        )


def _cuts(T: int) -> np.ndarray:
    """Every subset of quarters as a 0/1 row: (2^T, T)."""
    return ((np.arange(2**T)[:, None] >> np.arange(T)) & 1).astype(float)


def shortfall(net: Network) -> float:
    """How far the plan is from feasible (0 when feasible): the largest excess, over all cuts of
    the circulation, of the lower bounds entering a cut over the upper bounds leaving it."""
    t = net.tightened()
    worst = max(
        0.0,
        float(np.max(net.lower - net.upper)),
        float(np.max(t.annual_lo - t.annual_hi)),
        float(np.max(t.col_lo - t.col_hi)),
    )
    M = _cuts(net.lower.shape[1])
    low_in = t.lower @ M.T  # (n, cuts): lower bounds into quarters inside the cut
    up_out = t.upper @ (1 - M).T  # upper bounds to quarters outside it
    for src in (0.0, 1.0):
        for snk in (0.0, 1.0):
            reps = np.maximum(
                (1 - src) * t.annual_lo[:, None] - up_out, low_in - src * t.annual_hi[:, None]
            ).sum(axis=0)
            quarters = (1 - snk) * -(M @ t.col_hi) + snk * ((1 - M) @ t.col_lo)
            edge = t.total * (src * (1 - snk) - snk * (1 - src))
            worst = max(worst, float(np.max(reps + quarters + edge)))
    return worst


def excess(net: Network) -> float:
    """The shortfall beyond the feasibility tolerance: <= 0 exactly when feasible."""
    return shortfall(net) - TOL * max(net.total, 1.0)


def lowest_level(excess_at, lo: float, hi: float, rtol: float = 1e-11):
    """The lowest level in [lo, hi] at which ``excess_at(level) <= 0`` (feasible; feasibility
    only grows with the level); None if not even ``hi`` is feasible.

    The network's excess is piecewise linear in the level, and convex for the stretch level, so
    the secant through the last two infeasible levels lands on or short of the answer: it is
    exact once both lie on the last piece. Each step is safeguarded by bisection of the bracket
    (a predicate returning only 0/1 falls back to plain bisection).
    """
    if excess_at(hi) > 0:
        return None
    e_lo = excess_at(lo)
    if e_lo <= 0:
        return lo
    left = [(lo, e_lo)]  # infeasible levels, increasing
    while hi - lo > rtol * max(abs(hi), 1e-12):
        x = 0.5 * (lo + hi)
        secant = False
        if len(left) >= 2:
            (x0, e0), (x1, e1) = left[-2], left[-1]
            if e1 < e0:
                guess = x1 + e1 * (x1 - x0) / (e0 - e1)
                if lo < guess < hi:
                    x, secant = guess, True
        e = excess_at(x)
        if e > 0:
            lo = x
            left.append((x, e))
            continue
        hi = x
        if secant:  # likely exact: check just below
            probe = hi - 0.5 * rtol * max(abs(hi), 1e-12)
            if probe > lo:
                e = excess_at(probe)
                if e > 0:
                    return hi
                hi = probe
    return hi


def network_excess(data, limits, total: float):
    """``upper (money, reps x quarters) -> float``: the plan's excess (<= 0: feasible) with
    these cell upper bounds in place of the caps."""
    net, unit = plan_network(data, limits, total)
    return lambda upper: excess(replace(net, upper=upper / unit))


def _fill(price, r, w, lower, upper, lo, hi):
    """Each rep's quotas at cell prices ``price`` (n, T): clip(r + w x (price + rho_i)), with
    rho_i = 0 if the annual total lands in [lo, hi], else the exact rho_i that puts it on the
    nearer end (the total is piecewise linear in rho_i between 2T breakpoints)."""
    q = np.clip(r + w * price, lower, upper)
    annual = q.sum(axis=1)
    need = np.where(annual < lo, lo, np.where(annual > hi, hi, np.nan))
    rows = np.flatnonzero(np.isfinite(need))
    if len(rows):
        p, rr, ww, lw, up = price[rows], r[rows], w[rows], lower[rows], upper[rows]
        bp = np.sort(np.concatenate([(lw - rr) / ww - p, (up - rr) / ww - p], axis=1), axis=1)
        at = np.clip(
            rr[:, None, :] + ww[:, None, :] * (p[:, None, :] + bp[:, :, None]),
            lw[:, None, :],
            up[:, None, :],
        ).sum(axis=2)  # (rows, 2T): annual total at each breakpoint
        target = need[rows]
        k = np.clip((at < target[:, None]).sum(axis=1), 1, bp.shape[1] - 1)
        j = np.arange(len(rows))
        a0, a1, b0, b1 = at[j, k - 1], at[j, k], bp[j, k - 1], bp[j, k]
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.where(a1 > a0, b0 + (target - a0) * (b1 - b0) / (a1 - a0), b1)
        rho = np.where(target <= at[:, 0], bp[:, 0], np.where(target >= at[:, -1], bp[:, -1], rho))
        q[rows] = np.clip(rr + ww * (p + rho[:, None]), lw, up)
    return q


GAP_TOL = 1e-7  # duality gap, relative to the objective
RESIDUAL_TOL = 1e-9  # violation of the total and the quarter rows, relative to the total


@dataclass(frozen=True)
class Closest:
    quota: np.ndarray  # (n, T), in units
    price: np.ndarray  # (T,) the price of a unit of quota in each quarter at the optimum
    company_dual: float  # multiplier of the company total
    objective: float
    gap: float  # duality gap, relative
    residual: float  # largest violation of a coupling row, relative to the total
    iterations: int

    @property
    def certified(self) -> bool:
        return self.gap <= GAP_TOL and self.residual <= RESIDUAL_TOL


def closest(net: Network, reference: np.ndarray, weight: np.ndarray) -> Closest:
    """The feasible plan minimising sum((q - reference)^2 / (2 weight)), weight > 0.

    Strictly convex, so the answer is unique: the same reps in another order get the same
    quotas, and equal reps equal quotas.
    """
    t = net.tightened()
    n, T = t.lower.shape
    r, w = reference, weight
    scale = max(t.total, 1.0)

    def parts(x):
        lam, nlo, nhi = x[0], x[1 : T + 1], x[T + 1 :]
        price = lam + nlo - nhi
        q = _fill(np.broadcast_to(price, (n, T)), r, w, t.lower, t.upper, t.annual_lo, t.annual_hi)
        col = q.sum(axis=0)
        primal = float(((q - r) ** 2 / (2 * w)).sum())
        dual = primal - float(price @ col) + lam * t.total + nlo @ t.col_lo - nhi @ t.col_hi
        grad = np.concatenate([[t.total - col.sum()], t.col_lo - col, col - t.col_hi])
        return q, col, primal, dual, grad

    def f(x):
        _, _, _, dual, grad = parts(x)
        return -dual / scale, -grad / scale

    lam0 = (t.total - r.sum()) / w.sum()
    x0 = np.concatenate([[lam0], np.zeros(2 * T)])
    bounds = [(None, None)] + [(0, None)] * (2 * T)

    def violation(q, col):
        return max(
            abs(q.sum() - t.total),
            float(np.max(t.col_lo - col, initial=0.0)),
            float(np.max(col - t.col_hi, initial=0.0)),
        )

    iterations = 0
    for _ in range(4):  # a restart clears L-BFGS-B's memory, which can stall at a kink
        res = minimize(
            f,
            x0,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 2000, "ftol": 1e-16, "gtol": 1e-13, "maxcor": 20},
        )
        iterations += int(res.nit)
        q, col, primal, dual, _ = parts(res.x)
        residual = violation(q, col)
        # Near a kink L-BFGS-B crawls; on the right pieces the dual is quadratic, so a few
        # Newton steps on the active coupling rows land on the optimum (to rounding).
        x = res.x
        for _ in range(8):
            x_new = _newton_step(x, q, col, t, w)
            q_new, col_new, primal_new, dual_new, _ = parts(x_new)
            if residual == 0 or violation(q_new, col_new) >= residual:
                break
            x, q, col, primal, dual = x_new, q_new, col_new, primal_new, dual_new
            residual = violation(q, col)
        res.x = x
        gap = max(primal - dual, 0.0) / max(abs(primal), 1.0)
        if gap <= GAP_TOL and residual / scale <= RESIDUAL_TOL or np.array_equal(x, x0):
            break
        x0 = x
    return Closest(
        quota=q,
        price=res.x[0] + res.x[1 : T + 1] - res.x[T + 1 :],
        company_dual=float(res.x[0]),
        objective=primal,
        gap=gap,
        residual=residual / scale,
        iterations=iterations,
    )


def _newton_step(x, q, col, t: Network, w):
    """One Newton step on the coupling prices (company total, phasing rows), with the rows'
    active sides and the cells' pieces taken from the current plan ``q``."""
    T = len(col)
    lam, nlo, nhi = x[0], x[1 : T + 1], x[T + 1 :]
    price = lam + nlo - nhi
    eps = 1e-12 * max(t.total, 1.0)
    free = (q > t.lower + eps) & (q < t.upper - eps)
    wf = np.where(free, w, 0.0)
    annual = q.sum(axis=1)
    pinned = (np.abs(annual - t.annual_lo) <= eps) | (np.abs(annual - t.annual_hi) <= eps)
    wp = wf[pinned]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.nan_to_num(wp / wp.sum(axis=1, keepdims=True))
    J = np.diag(wf.sum(axis=0)) - share.T @ wp  # d col / d price on these pieces
    at_lo = (nlo > 0) | (col < t.col_lo)
    at_hi = ~at_lo & ((nhi > 0) | (col > t.col_hi))
    A, b = np.zeros((T + 1, T + 1)), np.zeros(T + 1)
    for k in range(T):
        if at_lo[k] or at_hi[k]:
            A[k, :T] = J[k]
            b[k] = (t.col_lo[k] if at_lo[k] else t.col_hi[k]) - col[k]
        else:  # an inactive row: its price is the company price
            A[k, k], A[k, T] = 1.0, -1.0
            b[k] = lam - price[k]
    A[T, :T] = J.sum(axis=0)
    b[T] = t.total - col.sum()
    step = np.linalg.lstsq(A, b, rcond=None)[0]
    new_price, new_lam = price + step[:T], lam + step[T]
    return np.concatenate(
        [[new_lam], np.maximum(new_price - new_lam, 0.0), np.maximum(new_lam - new_price, 0.0)]
    )


def plan_network(data, limits, total: float) -> tuple[Network, float]:
    """The limits of a plan (without group targets or smoothness) as a :class:`Network`, in
    units of the average quota cell; returns the network and the unit."""
    from .ranges import annual_range, bounds, phasing_ranges

    n, T = data.p50.shape
    unit = total / (n * T)
    floor, cap = bounds(data, limits)
    lo, hi = annual_range(data, limits)
    col_lo, col_hi = phasing_ranges(data, limits, total)
    net = Network(
        lower=floor / unit,
        upper=cap / unit,
        annual_lo=lo / unit,
        annual_hi=hi / unit,
        col_lo=np.nan_to_num(col_lo, nan=0.0) / unit,
        col_hi=np.nan_to_num(col_hi, nan=np.inf) / unit,
        total=n * T,
    )
    return net, unit
