"""Loaders for Microsoft's AdventureWorks sample company, turned into quotaplan's tables.

Three releases sit under ``../shared/data`` (each folder has a ``SOURCE.md`` with provenance and
licence). Each loader returns a :class:`RealDataset`: the canonical roster, the history where the
release has sales, and the quotas the company really set, keyed like our plans (rep and quarter),
so our quotas can be scored next to the humans'.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .company import Company, load_company
from .errors import DataValidationError, Problem
from .history import bookings_to_history
from .periods import quarter_freq
from .roster import load_roster

#: AdventureWorks sets quotas for quarters that start in March, June, September and December.
#: With a fiscal year starting in December, Jun-Aug 2011 is labelled 2011Q3: one month ahead of
#: the calendar quarter of the same name.
AW_FISCAL_YEAR_START = 12


@dataclass(frozen=True)
class RealDataset:
    """A real company's data in quotaplan's tables.

    Attributes
    ----------
    name : the folder name under the shared data directory.
    roster : canonical roster.
    history : canonical history, or None where the release holds no sales.
    quotas : the quotas the company set: ``rep_id``, ``period``, ``quota``.
    fiscal_year_start : month in which the quarters used by ``history`` and ``quotas`` start.
    notes : how the source was turned into these tables.
    monthly : the bookings per rep and month (``rep_id``, ``period`` such as ``2013-07``,
        ``revenue``), every month of the source (the edges' partial quarters included), or None
        where the release holds no sales: actuals for ``quotaplan track``.
    """

    name: str
    roster: pd.DataFrame
    history: pd.DataFrame | None
    quotas: pd.DataFrame
    fiscal_year_start: int
    notes: tuple[str, ...]
    monthly: pd.DataFrame | None = None

    @property
    def company(self) -> Company:
        """History and roster validated together (raises where the release has no sales)."""
        if self.history is None:
            raise DataValidationError(
                [
                    Problem(
                        self.name,
                        (),
                        "this release holds no sales history",
                        "Use adventureworks_oltp or adventureworks_dw_pl300 for sales.",
                    )
                ]
            )
        return load_company(self.history, self.roster, fiscal_year_start=self.fiscal_year_start)


def shared_data_dir() -> Path:
    """``$QUOTAPLAN_SHARED_DATA``, or ``../shared/data`` beside the repository."""
    env = os.environ.get("QUOTAPLAN_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def _need(folder: Path, *files: str) -> None:
    missing = [f for f in files if not (folder / f).exists()]
    if missing:
        raise FileNotFoundError(
            f"{folder} lacks {', '.join(missing)}; point QUOTAPLAN_SHARED_DATA at the shared data directory"
        )


def _quarterly(
    monthly: pd.DataFrame, fiscal_year_start: int, complete_months: pd.PeriodIndex
) -> tuple[pd.DataFrame, list[str]]:
    """Monthly history -> quarters, keeping only quarters whose three months all hold data."""
    freq = quarter_freq(fiscal_year_start)
    months = pd.PeriodIndex(monthly["period"], freq="M")
    quarter = months.asfreq(freq)
    covered = pd.Series(complete_months.asfreq(freq)).value_counts()
    full = covered[covered == 3].index
    keep = quarter.isin(full)
    dropped = sorted({str(q) for q in quarter[~keep]})
    out = monthly[keep].assign(period=quarter[keep].astype(str))
    out = out.groupby(["rep_id", "period"], as_index=False)["revenue"].sum()
    notes = (
        [f"dropped partial quarter(s) at the edges of the data: {', '.join(dropped)}"]
        if dropped
        else []
    )
    return out, notes


def load_adventureworks_oltp(data_dir: str | os.PathLike | None = None) -> RealDataset:
    """AdventureWorks OLTP, 2011-05-31 to 2014-06-30: 17 reps, their orders and their quotas.

    Revenue is the order ``SubTotal`` (before tax and freight) of orders with a sales person.
    Team is the rep's current territory and region its group; the three sales managers (who
    have quotas and some orders but no territory) form a "Sales management" team in the region
    their title names, and are every rep's manager in that region.
    """
    folder = Path(data_dir or shared_data_dir()) / "adventureworks_oltp"
    _need(
        folder,
        "SalesOrderHeader.csv",
        "SalesPerson.csv",
        "SalesPersonQuotaHistory.csv",
        "SalesTerritory.csv",
        "SalesTerritoryHistory.csv",
        "Employee.csv",
    )
    orders = pd.read_csv(
        folder / "SalesOrderHeader.csv", usecols=["OrderDate", "SalesPersonID", "SubTotal"]
    )
    monthly = bookings_to_history(orders, rep="SalesPersonID", date="OrderDate", amount="SubTotal")
    all_months = pd.PeriodIndex(
        pd.to_datetime(orders["OrderDate"]).dt.to_period("M").unique(), freq="M"
    )
    history, notes = _quarterly(monthly, AW_FISCAL_YEAR_START, all_months)

    tsv = {"sep": "\t", "header": None}
    person = pd.read_csv(
        folder / "SalesPerson.csv", **tsv, usecols=[0, 1], names=["rep_id", "territory_id"]
    )
    territory = pd.read_csv(
        folder / "SalesTerritory.csv",
        **tsv,
        usecols=[0, 1, 3],
        names=["territory_id", "team", "region"],
    )
    moves = pd.read_csv(
        folder / "SalesTerritoryHistory.csv",
        **tsv,
        usecols=[0, 1, 2, 3],
        names=["rep_id", "territory_id", "start", "end"],
    )
    employee = pd.read_csv(
        folder / "Employee.csv",
        **tsv,
        encoding="utf-16",
        usecols=[0, 5, 9, 13],
        names=["rep_id", "title", "hire_date", "current"],
    )
    # The latest territory (a rep whose last assignment ended keeps it as their team).
    current = moves.sort_values("start").drop_duplicates("rep_id", keep="last")[
        ["rep_id", "territory_id"]
    ]
    roster = (
        person[["rep_id"]]
        .merge(current, on="rep_id", how="left")
        .merge(territory, on="territory_id", how="left")
    )
    roster = roster.merge(employee, on="rep_id", how="left")
    is_mgr = _manager_region(roster["title"]).notna()
    roster.loc[is_mgr, "region"] = _manager_region(roster.loc[is_mgr, "title"])
    roster.loc[is_mgr, "team"] = "Sales management"
    manager_region = dict(
        zip(roster.loc[is_mgr, "region"], roster.loc[is_mgr, "rep_id"], strict=True)
    )
    roster["manager_id"] = [
        None if m else manager_region.get(r) for m, r in zip(is_mgr, roster["region"], strict=True)
    ]
    roster["active"] = roster["current"].astype(int) == 1
    roster, _ = load_roster(
        roster[["rep_id", "team", "region", "hire_date", "manager_id", "active"]]
    )

    quotas = pd.read_csv(
        folder / "SalesPersonQuotaHistory.csv",
        **tsv,
        usecols=[0, 1, 2],
        names=["rep_id", "date", "quota"],
    )
    # Quota dates fall on or a day or two before the first day of the quota's quarter.
    starts = (pd.to_datetime(quotas["date"]) + pd.Timedelta(days=15)).dt.to_period("M")
    quotas = pd.DataFrame(
        {
            "rep_id": quotas["rep_id"].astype(str),
            "period": starts.dt.asfreq(quarter_freq(AW_FISCAL_YEAR_START)).astype(str),
            "quota": quotas["quota"].astype(float),
        }
    )
    notes.append(
        "revenue = order SubTotal (before tax and freight); quarters start in Mar/Jun/Sep/Dec as AdventureWorks' quotas do"
    )
    return RealDataset(
        "adventureworks_oltp",
        roster,
        history,
        quotas,
        AW_FISCAL_YEAR_START,
        tuple(notes),
        monthly.sort_values(["rep_id", "period"]).reset_index(drop=True),
    )


def _manager_region(titles: pd.Series) -> pd.Series:
    """The region a sales manager's title names ("European Sales Manager" -> "Europe"), else NaN."""
    regions = {
        "North American Sales Manager": "North America",
        "European Sales Manager": "Europe",
        "Pacific Sales Manager": "Pacific",
    }
    return titles.map(regions)


_DIM_EMPLOYEE = {
    1: "key",
    2: "parent_key",
    3: "national_id",
    5: "territory_key",
    10: "title",
    11: "hire_date",
    25: "current",
    26: "sales_person",
}


def _dw_roster(dw_folder: Path, hire_shift: pd.Timedelta | None = None) -> pd.DataFrame:
    emp = pd.read_csv(
        dw_folder / "DimEmployee.csv", sep="|", header=None, usecols=list(_DIM_EMPLOYEE), dtype=str
    )
    emp = emp.rename(columns=_DIM_EMPLOYEE)
    emp = emp[emp["sales_person"] == "1"]
    terr = pd.read_csv(
        dw_folder / "DimSalesTerritory.csv",
        sep="|",
        header=None,
        usecols=[1, 3, 5],
        names=["territory_key", "team", "region"],
        dtype=str,
    )
    emp = emp.merge(terr, on="territory_key", how="left")
    mgr = _manager_region(emp["title"])
    emp.loc[mgr.notna(), "team"] = "Sales management"
    emp["region"] = mgr.fillna(emp["region"])
    roster = pd.DataFrame(
        {
            "rep_id": emp["key"],
            "team": emp["team"],
            "region": emp["region"].replace("NA", None),
            "hire_date": pd.to_datetime(emp["hire_date"]) + (hire_shift or pd.Timedelta(0)),
            "manager_id": emp["parent_key"],
            "active": emp["current"] == "1",
        }
    )
    return load_roster(roster)[0]


def load_adventureworks_dw(data_dir: str | os.PathLike | None = None) -> RealDataset:
    """AdventureWorksDW: the sales reps with their managers and the quarterly quotas set for them.

    This release holds no sales (its reseller-sales fact table is not in the snapshot), so
    ``history`` is None: use it for the hierarchy and the quota practice.
    """
    folder = Path(data_dir or shared_data_dir()) / "adventureworks_dw"
    _need(folder, "DimEmployee.csv", "DimSalesTerritory.csv", "FactSalesQuota.csv")
    roster = _dw_roster(folder)
    q = pd.read_csv(
        folder / "FactSalesQuota.csv",
        sep="|",
        header=None,
        usecols=[1, 3, 4, 5],
        names=["rep_id", "year", "quarter", "quota"],
    )
    quotas = pd.DataFrame(
        {
            "rep_id": q["rep_id"].astype(str),
            "period": q["year"].astype(str) + "Q" + q["quarter"].astype(str),
            "quota": q["quota"].astype(float),
        }
    )
    notes = (
        "calendar quarters from FactSalesQuota's CalendarYear/CalendarQuarter (dates shifted by the DW release)",
        "no sales history in this release",
    )
    return RealDataset("adventureworks_dw", roster, None, quotas, 1, notes)


def load_adventureworks_pl300(data_dir: str | os.PathLike | None = None) -> RealDataset:
    """AdventureWorksDW2020 (PL-300 lab data), 2017-07 to 2020-05: reseller sales and monthly targets.

    Revenue is the reseller order lines' ``SalesAmount`` per employee. The roster comes from
    ``adventureworks_dw/DimEmployee.csv`` (the same employee keys); that release's dates are
    shifted differently, so hire dates are moved by the gap between its first quota date and
    this release's first order. Targets (in $ thousands, by month) are summed into quarters.
    """
    root = Path(data_dir or shared_data_dir())
    folder, dw = root / "adventureworks_dw_pl300", root / "adventureworks_dw"
    _need(folder, "FactResellerSales.csv", "ResellerSalesTargets.csv")
    _need(dw, "DimEmployee.csv", "DimSalesTerritory.csv", "FactSalesQuota.csv")
    sales = pd.read_csv(
        folder / "FactResellerSales.csv", usecols=["OrderDate", "EmployeeKey", "SalesAmount"]
    )
    monthly = bookings_to_history(sales, rep="EmployeeKey", date="OrderDate", amount="SalesAmount")
    all_months = pd.PeriodIndex(
        pd.to_datetime(sales["OrderDate"]).dt.to_period("M").unique(), freq="M"
    )
    history, notes = _quarterly(monthly, 1, all_months)

    first_quota = pd.read_csv(dw / "FactSalesQuota.csv", sep="|", header=None, usecols=[6])[6].min()
    shift = pd.to_datetime(sales["OrderDate"]).min() - pd.Timestamp(first_quota)
    roster = _dw_roster(dw, shift)

    targets = pd.read_csv(
        folder / "ResellerSalesTargets.csv",
        encoding="utf-8-sig",
        na_values=["NULL"],
        dtype={"EmployeeID": str},
    )
    ids = pd.read_csv(
        dw / "DimEmployee.csv",
        sep="|",
        header=None,
        usecols=[1, 3],
        names=["rep_id", "national_id"],
        dtype=str,
    )
    months = [c for c in targets.columns if c.startswith("M")]
    long = targets.melt(
        id_vars=["Year", "EmployeeID"], value_vars=months, var_name="m", value_name="target"
    ).dropna(subset=["target"])
    long = long.merge(ids, left_on="EmployeeID", right_on="national_id", how="inner")
    month = pd.PeriodIndex.from_fields(
        year=long["Year"].to_numpy(), month=long["m"].str[1:].astype(int).to_numpy(), freq="M"
    )
    long = long.assign(
        period=month.asfreq("Q-DEC").astype(str), quota=long["target"].astype(float) * 1000.0
    )
    quotas = long.groupby(["rep_id", "period"], as_index=False)["quota"].sum()
    notes += [
        "revenue = reseller order lines' SalesAmount",
        f"hire dates shifted by {shift.days} days to this release's dates",
        "targets converted from $ thousands per month to $ per calendar quarter",
    ]
    return RealDataset(
        "adventureworks_dw_pl300",
        roster,
        history,
        quotas,
        1,
        tuple(notes),
        monthly.sort_values(["rep_id", "period"]).reset_index(drop=True),
    )


LOADERS = {
    "adventureworks_oltp": load_adventureworks_oltp,
    "adventureworks_dw": load_adventureworks_dw,
    "adventureworks_dw_pl300": load_adventureworks_pl300,
}


def attainment(dataset: RealDataset) -> pd.DataFrame:
    """Revenue against the real quota for every rep and quarter that has both."""
    if dataset.history is None:
        raise DataValidationError(
            [
                Problem(
                    dataset.name,
                    (),
                    "no sales history to compare the quotas with",
                    "Use a release with sales.",
                )
            ]
        )
    joined = dataset.quotas.merge(dataset.history, on=["rep_id", "period"], how="inner")
    joined["attainment"] = np.where(
        joined["quota"] > 0, joined["revenue"] / joined["quota"], np.nan
    )
    return joined
