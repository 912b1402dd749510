"""Scenario sweeps: many synthetic companies (size, growth, volatility, hiring, ambition) and
seeds, each backtested with every policy, run on Dask.

``sweep(scenarios, ...)`` runs on a ``distributed`` local cluster by default, or on the cluster
at ``scheduler`` (``tcp://host:8786``) to scale out. Each task builds one company, plans its last
year with every policy (``benchmarks.policy_backtest``) and returns the metrics plus each rep's
annual quota and sales. Results come back as tidy tables.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from datasets import make_company
from optimizer import POLICIES

from .policy_backtest import backtest_policies
from .policy_metrics import score

#: The sweep's ranges: each company draws one value of each.
SIZES = (30, 60, 120)
GROWTH = (0.0, 0.06, 0.15)
VOLATILITY = (0.2, 0.35, 0.5)
HIRING = (0.0, 0.10, 0.20)
AMBITION = (0.95, 1.0, 1.1)


@dataclass(frozen=True)
class Scenario:
    """One synthetic company and the number it is planned to."""

    company: int
    n_reps: int
    growth: float
    volatility: float
    hiring: float
    ambition: float
    seed: int
    years: int = 5


def scenarios(companies: int, seed: int = 0) -> list[Scenario]:
    """``companies`` scenarios drawn from the sweep's ranges (reproducible from ``seed``)."""
    rng = np.random.default_rng(seed)
    return [
        Scenario(
            company=i,
            n_reps=int(rng.choice(SIZES)),
            growth=float(rng.choice(GROWTH)),
            volatility=float(rng.choice(VOLATILITY)),
            hiring=float(rng.choice(HIRING)),
            ambition=float(rng.choice(AMBITION)),
            seed=int(rng.integers(2**31)),
        )
        for i in range(companies)
    ]


def run_scenario(sc: Scenario, policies=POLICIES, forecaster=None) -> dict[str, pd.DataFrame]:
    """Backtest one scenario: ``metrics`` (a row per policy) and ``reps`` (per policy and rep:
    annual quota and sales), both tagged with the scenario's fields."""
    synth = make_company(
        sc.n_reps,
        sc.years,
        growth=sc.growth,
        noise=sc.volatility,
        headcount_growth=sc.hiring,
        random_state=sc.seed,
    )
    year = int(synth.company.history["period"].max()[:4])
    result = backtest_policies(
        synth.company, year, policies=policies, ambition=sc.ambition, forecaster=forecaster
    )
    metrics, quotas = result.metrics, result.quotas
    if len(quotas):
        ceiling = ceiling_quotas(synth, quotas, float(metrics["target"].iloc[0]))
        actual = quotas.drop_duplicates(["rep_id", "period"])[["rep_id", "period", "revenue"]]
        row = {"year": year, "policy": CEILING, "target": metrics["target"].iloc[0]}
        m = score(ceiling, actual, caps=result.caps)
        metrics = pd.concat(
            [metrics, pd.DataFrame([{**row, "status": "ok", **m}])], ignore_index=True
        )
        quotas = pd.concat(
            [quotas, ceiling.merge(actual, on=["rep_id", "period"])], ignore_index=True
        )
    tags = asdict(sc)
    reps = (
        quotas.groupby(["policy", "rep_id"], as_index=False)[["quota", "revenue"]].sum()
        if len(quotas)
        else pd.DataFrame(columns=["policy", "rep_id", "quota", "revenue"])
    )
    return {"metrics": metrics.assign(**tags), "reps": reps.assign(**tags)}


#: The ceiling no forecast can beat on average: quotas in proportion to each rep's true
#: expected sales in the plan year (known only to the generator: leaves, ramp and growth
#: included), scaled to the same number. Scored so the report can say how much of the possible
#: cut in spread each policy captures; it is not a policy anyone could run.
CEILING = "ceiling (true expected sales)"


def ceiling_quotas(synth, quotas: pd.DataFrame, number: float) -> pd.DataFrame:
    """:data:`CEILING`'s quotas for the rep-quarters the policies planned."""
    cells = quotas.drop_duplicates(["rep_id", "period"])[["rep_id", "period"]]
    truth = synth.truth.assign(rep_id=synth.truth["rep_id"].astype(str))
    e = cells.merge(truth[["rep_id", "period", "expected_revenue"]], how="left")
    e = e["expected_revenue"].fillna(0.0).to_numpy()
    return cells.assign(quota=number * e / e.sum(), policy=CEILING)


def sweep(
    scs: list[Scenario],
    *,
    policies=POLICIES,
    scheduler: str | None = None,
    workers: int = 2,
    forecaster=None,
    progress: bool = True,
) -> dict[str, pd.DataFrame]:
    """Run every scenario on Dask; returns ``metrics`` and ``reps`` for all of them."""
    from distributed import Client, LocalCluster, as_completed
    from tqdm import tqdm

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        client = Client(cluster)
    try:
        futures = client.map(
            run_scenario, scs, policies=tuple(policies), forecaster=forecaster, pure=False
        )
        parts = []
        bar = tqdm(total=len(futures), desc="companies", unit="company", disable=not progress)
        for fut in as_completed(futures):
            parts.append(fut.result())
            bar.update(1)
        bar.close()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    order = ["company", "policy"]
    return {
        key: pd.concat([p[key] for p in parts], ignore_index=True).sort_values(order, kind="stable")
        for key in ("metrics", "reps")
    }
