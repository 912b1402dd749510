"""The fast route: a plan's limits as a flow network, solved without building a general model.

Without smoothness, every limit of a plan is one of five kinds:

- a bound on a rep-quarter quota (floor, cap, the policy's stretch or quantile level, a
  quarterly lock),
- a range on a rep's annual quota (anti-ratchet, growth floor, OTE band, an annual lock),
- a range on a quarter's company total (phasing),
- a team or region total (its target), where the groups nest (a team inside one region),
- the company total itself.

Together they are a circulation ``source -> region -> team -> rep -> quarter -> sink -> source``
with lower and upper bounds on every edge, which gives two exact shortcuts:

- **Is a level reachable?** By Hoffman's circulation theorem the plan is feasible exactly when no
  cut asks for more than it can carry. With T quarters only ``4 x 2^T`` choices of the quarters'
  sides matter; for each, every rep and group takes its best side given its parent's (a pass up
  the tree), so feasibility is a few vectorised sums, and the lowest common stretch (or quantile
  level) is a search on one number.
- **Which plan at that level?** The second stage, the squared deviation from a reference
  weighted by P50, is separable: given a price per quarter and per group, each rep's quotas are
  the reference plus weight x (the prices + the rep's own multiplier), clipped to the rep's
  bounds ("water filling"), and the rep's multiplier is found exactly from the 2T breakpoints.
  Only the 1 + 2T + G prices of the coupling rows (company total, phasing band, group targets)
  remain; they maximise a smooth concave dual, found with L-BFGS-B and polished by Newton
  steps. The answer is certified by its duality gap and
  residuals; a plan that cannot be certified goes to the general Pyomo model instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse
from scipy.optimize import minimize
from scipy.sparse.linalg import spsolve

#: Relative tolerance of the feasibility test (below the certificate's RESIDUAL_TOL, so a level
#: it accepts can be certified).
TOL = 1e-10


@dataclass(frozen=True)
class Groups:
    """Team/region targets that nest (every two groups are disjoint or one holds the other), in
    the network as nodes between the source and the reps: ``source -> region -> team -> rep``."""

    member: sparse.csr_matrix  # (n, G) 1 where a rep belongs to a group (at any depth)
    total: np.ndarray  # (G,) each group's quotas add up to this
    rep_up: sparse.csr_matrix  # (G + 1, n) each rep's parent: its smallest group, or G (source)
    levels: list  # deepest first: (groups at that depth, (G + 1, k) their parents like rep_up)

    @classmethod
    def nest(cls, n: int, members: list[np.ndarray], totals) -> Groups | None:
        """The groups as a tree, or None if two of them overlap without one holding the other
        (then the plan is not a flow network)."""
        G = len(members)
        label = np.full(n, G)  # the smallest group holding each rep so far; G: none
        parent = np.full(G, G)
        depth = np.zeros(G, int)
        for g in sorted(range(G), key=lambda g: -len(members[g])):  # larger groups first
            under = np.unique(label[members[g]])
            if len(under) > 1:  # straddles a group and its outside
                return None
            parent[g] = under[0]
            depth[g] = depth[under[0]] + 1 if under[0] < G else 0
            label[members[g]] = g
        rows = np.concatenate(members) if members else np.zeros(0, int)
        cols = np.repeat(np.arange(G), [len(m) for m in members])
        member = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, G))

        def up(children, parents):
            k = len(children)
            return sparse.csr_matrix((np.ones(k), (parents, np.arange(k))), shape=(G + 1, k))

        levels = []
        for d in range(int(depth.max(initial=-1)), -1, -1):  # deepest first
            g = np.flatnonzero(depth == d)
            levels.append((g, up(g, parent[g])))
        return cls(member, np.asarray(totals, float), up(np.arange(n), label), levels)


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
    groups: Groups | None = None  # team/region targets, nested (or none)

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
    # Each node's best side given its parent's (0: outside the cut, 1: inside), leaves up.
    rep_out = np.maximum(t.annual_lo[:, None] - up_out, low_in)  # parent outside
    rep_in = np.maximum(-up_out, low_in - t.annual_hi[:, None])  # parent inside
    top = _group_sums(net.groups, rep_out, rep_in)
    for src in (0.0, 1.0):
        reps = top[int(src)]
        for snk in (0.0, 1.0):
            quarters = (1 - snk) * -(M @ t.col_hi) + snk * ((1 - M) @ t.col_lo)
            edge = t.total * (src * (1 - snk) - snk * (1 - src))
            worst = max(worst, float(np.max(reps + quarters + edge)))
    return worst


def _group_sums(groups: Groups | None, rep_out: np.ndarray, rep_in: np.ndarray):
    """The nodes below the source, summed at their best sides: (parent outside, parent inside),
    each (cuts,). A group node's edge carries exactly its target, so with its parent outside
    and itself inside it brings its target in; with its parent inside and itself outside it
    takes its target out."""
    if groups is None:
        return rep_out.sum(axis=0), rep_in.sum(axis=0)
    node_out, node_in = groups.rep_up @ rep_out, groups.rep_up @ rep_in  # (G + 1, cuts)
    for g, up in groups.levels:
        tot = groups.total[g, None]
        g_out = np.maximum(tot + node_in[g], node_out[g])
        g_in = np.maximum(node_in[g], node_out[g] - tot)
        node_out += up @ g_out
        node_in += up @ g_in
    return node_out[-1], node_in[-1]


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
                step = max(e1 * (x1 - x0) / (e0 - e1), rtol * max(abs(x1), 1e-12))
                if lo < x1 + step < hi:  # at least one tolerance up: lo itself is infeasible
                    x, secant = x1 + step, True
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
RESIDUAL_TOL = (
    1e-8  # violation of the total and the quarter rows, relative to the total (a cent in a million)
)


@dataclass(frozen=True)
class Closest:
    quota: np.ndarray  # (n, T), in units
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
    member = t.groups.member if t.groups is not None else sparse.csr_matrix((n, 0))
    g_total = t.groups.total if t.groups is not None else np.zeros(0)
    G = len(g_total)

    def split(x):
        return x[0], x[1 : T + 1], x[T + 1 : 2 * T + 1], x[2 * T + 1 :]

    def parts(x):
        lam, nlo, nhi, mu = split(x)
        price = (lam + nlo - nhi)[None, :] + (member @ mu)[:, None]  # (n, T)
        q = _fill(price, r, w, t.lower, t.upper, t.annual_lo, t.annual_hi)
        col = q.sum(axis=0)
        group = member.T @ q.sum(axis=1)
        primal = float(((q - r) ** 2 / (2 * w)).sum())
        dual = (
            primal
            - float((price * q).sum())
            + lam * t.total
            + nlo @ t.col_lo
            - nhi @ t.col_hi
            + mu @ g_total
        )
        grad = np.concatenate(
            [[t.total - col.sum()], t.col_lo - col, col - t.col_hi, g_total - group]
        )
        return q, col, group, primal, dual, grad

    def f(x):
        *_, dual, grad = parts(x)
        return -dual / scale, -grad / scale

    lam0 = (t.total - r.sum()) / w.sum()
    x0 = np.concatenate([[lam0], np.zeros(2 * T + G)])
    # Beyond +/-B0 a price moves no cell off its bound, so the dual is flat out there; bounding
    # the prices well beyond it keeps L-BFGS-B from drifting along a flat direction, where the
    # gap's rounding (price x residual) would grow with the price.
    B = 10 * float(np.max(np.maximum(np.abs(t.upper - r), np.abs(t.lower - r)) / w)) + 1.0
    bounds = [(-B, B)] + [(0, 2 * B)] * (2 * T) + [(-B, B)] * G

    def violation(q, col, group):
        return max(
            abs(q.sum() - t.total),
            float(np.max(t.col_lo - col, initial=0.0)),
            float(np.max(col - t.col_hi, initial=0.0)),
            float(np.max(np.abs(group - g_total), initial=0.0)),
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
        x = res.x
        q, col, group, primal, dual, _ = parts(x)
        residual, gap = violation(q, col, group), _gap(primal, dual)
        # Near a kink L-BFGS-B crawls; on the right pieces the dual is quadratic, so a few
        # Newton steps on the active coupling rows land on the optimum (to rounding).
        # Damped (Levenberg-Marquardt): a rejected step is retried with more damping, which
        # tames directions that barely move any quota (a group that holds every free rep).
        damping = 1e-13
        for _ in range(12):
            x_new = _newton_step(x, q, col, group, t, w, member, g_total, damping)
            q_new, col_new, group_new, primal_new, dual_new, _ = parts(x_new)
            res_new, gap_new = violation(q_new, col_new, group_new), _gap(primal_new, dual_new)
            tiny = RESIDUAL_TOL * scale / 10
            if res_new < residual or (res_new <= max(residual, tiny) and gap_new < gap):
                x, q, col, group = x_new, q_new, col_new, group_new
                primal, dual, residual, gap = primal_new, dual_new, res_new, gap_new
                damping = max(damping / 10, 1e-13)
            elif damping < 1e-2:
                damping *= 1e3
            else:
                break
        if gap <= GAP_TOL and residual / scale <= RESIDUAL_TOL or np.array_equal(x, x0):
            break
        x0 = x
    return Closest(
        quota=q,
        company_dual=float(x[0]),
        objective=primal,
        gap=gap,
        residual=residual / scale,
        iterations=iterations,
    )


def _gap(primal: float, dual: float) -> float:
    """The duality gap, relative to the objective."""
    return max(primal - dual, 0.0) / max(abs(primal), 1.0)


def _newton_step(x, q, col, group, t: Network, w, member, g_total, damping: float):
    """One Newton step on the coupling prices (company total, phasing rows, group targets),
    with the rows' active sides and the cells' pieces taken from the current plan ``q``.

    A cell's price is the company price, plus its quarter's offset where the quarter's phasing
    row is active (an inactive row's offset goes back to 0), plus its rep's groups' prices. On
    the current pieces a rep's quotas move with their cells' prices by H_i = diag(w_free) (minus
    the projection that keeps the year fixed where the rep's annual range binds), so the rows
    move by the symmetric positive semidefinite M = B' H B in the free prices z.
    (M + damping x diag(M)) z = residual is solved sparse (the group block follows the
    team/region tree); a price that moves no quota gets no step.
    """
    T = len(col)
    lam, nlo, nhi, mu = x[0], x[1 : T + 1], x[T + 1 : 2 * T + 1], x[2 * T + 1 :]
    offset = nlo - nhi
    eps = 1e-12 * max(t.total, 1.0)
    free = (q > t.lower + eps) & (q < t.upper - eps)
    wf = np.where(free, w, 0.0)
    annual = q.sum(axis=1)
    pinned = (np.abs(annual - t.annual_lo) <= eps) | (np.abs(annual - t.annual_hi) <= eps)
    wp = wf[pinned]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.nan_to_num(wp / wp.sum(axis=1, keepdims=True))
    J = np.diag(wf.sum(axis=0)) - share.T @ wp  # d col / d quarter price
    h = np.where(pinned[:, None], 0.0, wf)  # H_i 1: a pinned rep's year does not move
    s = h.sum(axis=1)
    # A row is active where the quarter's total is beyond its band, or priced and near it; a row
    # with a price but clear room inside the band is not (its offset goes back to 0).
    near = 1e-6 * max(t.total, 1.0)
    at_lo = (col < t.col_lo) | ((nlo > 0) & (col <= t.col_lo + near))
    at_hi = ~at_lo & ((col > t.col_hi) | ((nhi > 0) & (col >= t.col_hi - near)))
    act = np.flatnonzero(at_lo | at_hi)
    d = np.where(at_lo | at_hi, 0.0, -offset)  # the inactive offsets' reset
    Jqg = np.asarray((member.T @ h).T)  # (T, G): d col / d group price
    M = sparse.bmat(
        [
            [np.array([[s.sum()]]), h.sum(axis=0)[None, act], (member.T @ s)[None, :]],
            [None, J[np.ix_(act, act)], Jqg[act]],
            [None, None, member.T @ sparse.diags(s) @ member],
        ],
        format="csc",
    )
    M = sparse.triu(M) + sparse.triu(M, 1).T  # the symmetric matrix from its upper triangle
    bound = np.where(at_lo, t.col_lo, t.col_hi)
    rhs = np.concatenate(
        [
            [t.total - col.sum() - h.sum(axis=0) @ d],
            (bound - col - J @ d)[act],
            g_total - group - member.T @ (h @ d),
        ]
    )
    diag = M.diagonal()
    keep = np.flatnonzero(diag > 1e-12 * max(diag.max(initial=0.0), 1e-300))
    z = np.zeros(len(rhs))
    if len(keep):
        Mk = M[keep][:, keep] + sparse.diags(damping * diag[keep])
        z[keep] = np.atleast_1d(spsolve(Mk.tocsc(), rhs[keep]))
    new_offset = offset + d
    new_offset[act] += z[1 : len(act) + 1]
    return np.concatenate(
        [
            [lam + z[0]],
            np.maximum(new_offset, 0.0),
            np.maximum(-new_offset, 0.0),
            mu + z[len(act) + 1 :],
        ]
    )


def plan_groups(data, limits, unit: float = 1.0) -> Groups | None:
    """The plan's team/region targets (in ``unit``) as a :class:`Groups` tree (empty without
    targets); None if they overlap without nesting (then the plan is not a flow network)."""
    from .ranges import group_targets

    targets = group_targets(data, limits)
    members = [rows for _, rows, _ in targets]
    return Groups.nest(len(data.reps), members, [v / unit for *_, v in targets])


def plan_network(data, limits, total: float) -> tuple[Network, float] | None:
    """The limits of a plan (without smoothness) as a :class:`Network`, in units of the average
    quota cell; returns the network and the unit, or None if the team/region targets overlap
    without nesting."""
    from .ranges import annual_range, bounds, phasing_ranges

    n, T = data.p50.shape
    unit = total / (n * T)
    groups = plan_groups(data, limits, unit)
    if groups is None:
        return None
    floor, cap = bounds(data, limits, total)
    lo, hi = annual_range(data, limits, total)
    col_lo, col_hi = phasing_ranges(data, limits, total)
    net = Network(
        lower=floor / unit,
        upper=cap / unit,
        annual_lo=lo / unit,
        annual_hi=hi / unit,
        col_lo=np.nan_to_num(col_lo, nan=0.0) / unit,
        col_hi=np.nan_to_num(col_hi, nan=np.inf) / unit,
        total=n * T,
        groups=groups,
    )
    return net, unit
