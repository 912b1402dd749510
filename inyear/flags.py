"""Flags: which reps to look at, and why.

Each flag is computed for every rep at once (arrays) and raised as a record (rep, kind, the
figures behind it); its reason in words is made from the record in one place
(:func:`reason`). The kinds:

- ``at_risk``: behind pace, and the chance of reaching the annual quota is under a threshold;
- ``out_of_reach``: behind pace, and even the top forecast quantile of the rest of the year
  does not bring what is left to reach it;
- ``missed_quarters``: the latest closed quarters, so many in a row, under quota;
- ``pull_forward``: a closed quarter far above its quota, then the next projected well under;
- ``overload``: behind pace, and the rest of the current quarter needs more than the cap of
  what remains of it.

A rep on or ahead of their phased quota is never at risk, out of reach or overloaded: the plan
expected exactly what they did.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from optimizer.errors import SpecError
from optimizer.inputs import quantile_at
from optimizer.spec import AT_RISK_BELOW
from optimizer.wording import money

from .pacing import Standing

#: The flags, in the order they are reported (and columns of the rep table).
FLAGS = ("at_risk", "out_of_reach", "missed_quarters", "pull_forward", "overload")


@dataclass(frozen=True)
class Thresholds:
    """When a flag is raised.

    at_risk_below : chance of reaching the annual quota under which a rep behind pace is at risk.
    missed_quarters : consecutive closed quarters under quota that raise the flag.
    pull_forward_above : a closed quarter this far above its quota (0.25: 125%) ...
    shortfall_after : ... followed by a quarter projected this far under its quota (0.10: 90%).
    """

    at_risk_below: float = AT_RISK_BELOW
    missed_quarters: int = 2
    pull_forward_above: float = 0.25
    shortfall_after: float = 0.10

    def __post_init__(self):
        if not 0 < self.at_risk_below < 1:
            raise SpecError(f"at_risk_below is a chance between 0 and 1, got {self.at_risk_below}")
        if self.missed_quarters < 1:
            raise SpecError(f"missed_quarters must be at least 1, got {self.missed_quarters}")
        if self.pull_forward_above <= 0 or not 0 < self.shortfall_after < 1:
            raise SpecError("pull_forward_above must be > 0 and shortfall_after in (0, 1)")


@dataclass(frozen=True)
class Flag:
    """One flag raised: on ``rep`` (row index in the plan's data) and ``rep_id``, its
    ``kind`` (one of :data:`FLAGS`), and the ``figures`` its reason is worded from."""

    rep: int
    rep_id: str
    kind: str
    figures: Mapping[str, Any]

    @property
    def reason(self) -> str:
        return reason(self)


def reason(flag: Flag) -> str:
    """A flag's reason in words, with its figures: the one place flags are worded."""
    f = flag.figures
    if flag.kind == "at_risk":
        return (
            f"at risk: {f['chance']:.0%} chance of reaching the annual quota "
            f"(under {f['threshold']:.0%}); {money(f['booked'])} booked of "
            f"{money(f['due'])} due so far"
        )
    if flag.kind == "out_of_reach":
        return (
            f"out of reach: needs {money(f['need'])} more; even at P{f['level'] * 100:g} the "
            f"rest of the year brings {money(f['top'])}"
        )
    if flag.kind == "missed_quarters":
        detail = ", ".join(f"{q} at {share:.0%}" for q, share in f["quarters"])
        return f"missed {len(f['quarters'])} quarters in a row ({detail})"
    if flag.kind == "pull_forward":
        return (
            f"pull-forward: {f['quarter']} at {f['share']:.0%} of quota, then "
            f"{f['next_quarter']} projected at {f['next_share']:.0%}"
        )
    if flag.kind == "overload":
        return (
            f"overload: needs {money(f['need'])} in the rest of {f['quarter']}, more than "
            f"the cap (P{f['cap_quantile'] * 100:g}) of what remains: {money(f['cap'])}"
        )
    raise ValueError(f"unknown flag {flag.kind!r}")


def raise_flags(
    s: Standing,
    reps: Sequence[str],
    periods: Sequence[str],
    levels: np.ndarray,
    cap_quantile: float,
    th: Thresholds,
) -> tuple[Flag, ...]:
    """Every flag raised on every rep (``reps`` and ``periods``: the plan's labels; ``levels``:
    its forecast's quantile levels), ordered by rep, then kind, then quarter."""
    Q, A = s.quota, s.booked_by_quarter
    label = [str(p) for p in periods]
    behind = s.behind
    top = s.rest.sum(axis=1)[:, -1]  # the rest of the year at the top quantile
    found: list[tuple[int, int, int, dict]] = []  # (rep, kind, quarter, figures)

    def add(kind: str, mask: np.ndarray, figures, quarter=None) -> None:
        k = FLAGS.index(kind)
        for i in np.flatnonzero(mask):
            found.append((int(i), k, 0 if quarter is None else quarter, figures(int(i))))

    add(
        "at_risk",
        behind & (s.p_year < th.at_risk_below),
        lambda i: {
            "chance": float(s.p_year[i]),
            "threshold": th.at_risk_below,
            "booked": float(s.booked[i]),
            "due": float(s.due[i]),
        },
    )
    add(
        "out_of_reach",
        behind & (s.need > top * (1 + 1e-9)) & (s.need > 0),
        lambda i: {"need": float(s.need[i]), "level": float(levels[-1]), "top": float(top[i])},
    )
    # The latest closed quarters missed in a row: the run of misses at the end of the closed
    # quarters, per rep.
    shut = np.flatnonzero(s.closed)
    missed = (A[:, shut] < Q[:, shut] * (1 - 1e-9))[:, ::-1]
    streak = np.where(missed.all(axis=1), len(shut), missed.argmin(axis=1) if len(shut) else 0)
    add(
        "missed_quarters",
        streak >= th.missed_quarters,
        lambda i: {
            "quarters": tuple(
                (label[t], float(A[i, t] / Q[i, t])) for t in shut[len(shut) - streak[i] :]
            )
        },
    )
    # A closed quarter far above its quota, then the next one projected well under its own.
    nxt = A[:, 1:] + quantile_at(levels, s.rest[:, 1:, :], 0.5)
    pulled = (
        s.closed[None, :-1]
        & (Q[:, :-1] > 0)
        & (A[:, :-1] >= Q[:, :-1] * (1 + th.pull_forward_above))
        & (Q[:, 1:] > 0)
        & (nxt < Q[:, 1:] * (1 - th.shortfall_after))
    )
    for t in range(pulled.shape[1]):
        add(
            "pull_forward",
            pulled[:, t],
            lambda i, t=t: {
                "quarter": label[t],
                "share": float(A[i, t] / Q[i, t]),
                "next_quarter": label[t + 1],
                "next_share": float(nxt[i, t] / Q[i, t + 1]),
            },
            quarter=t,
        )
    c = s.current
    add(
        "overload",
        behind & (s.elapsed[c] < 1) & (s.need_quarter > s.cap_rest * (1 + 1e-9)),
        lambda i: {
            "need": float(s.need_quarter[i]),
            "quarter": label[c],
            "cap_quantile": cap_quantile,
            "cap": float(s.cap_rest[i]),
        },
    )
    found.sort(key=lambda x: x[:3])
    return tuple(Flag(i, str(reps[i]), FLAGS[k], figures) for i, k, _, figures in found)


def per_rep(flags: Sequence[Flag], n: int) -> pd.DataFrame:
    """For each of ``n`` reps: a column per kind (raised or not) and ``flags``, every reason
    joined by "; " (empty: none raised)."""
    raised = {k: np.zeros(n, dtype=bool) for k in FLAGS}
    for k in FLAGS:
        raised[k][[f.rep for f in flags if f.kind == k]] = True
    reasons: list[list[str]] = [[] for _ in range(n)]
    for f in flags:  # in order: by rep, kind, quarter
        reasons[f.rep].append(f.reason)
    return pd.DataFrame({**raised, "flags": ["; ".join(r) for r in reasons]})
