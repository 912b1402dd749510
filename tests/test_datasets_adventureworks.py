"""The real AdventureWorks data, from ../shared/data (skipped where it is absent)."""

import pandas as pd
import pytest

from datasets import DataValidationError
from datasets.adventureworks import (
    attainment,
    load_adventureworks_dw,
    load_adventureworks_oltp,
    load_adventureworks_pl300,
)


def test_oltp_history_roster_and_real_quotas(shared_data):
    aw = load_adventureworks_oltp(shared_data)
    company = aw.company
    assert len(company.roster) == 17
    assert (
        company.history["period"].min() == "2011Q3" and company.history["period"].max() == "2014Q2"
    )
    assert company.history["period"].nunique() == 12
    # Every order with a sales person, within the complete quarters (Jun 2011 - May 2014).
    orders = pd.read_csv(shared_data / "adventureworks_oltp" / "SalesOrderHeader.csv")
    dated = pd.to_datetime(orders["OrderDate"])
    inside = orders["SalesPersonID"].notna() & (dated >= "2011-06-01") & (dated < "2014-06-01")
    assert company.history["revenue"].sum() == pytest.approx(
        orders.loc[inside, "SubTotal"].sum(), rel=1e-9
    )
    assert len(aw.quotas) == 163
    scored = attainment(aw)
    assert len(scored) == 163
    # SOURCE.md: the quotas sit well above what reps then sold.
    assert 0.7 < scored["attainment"].median() < 0.95
    assert 1.1 < scored["quota"].sum() / scored["revenue"].sum() < 1.3
    mgr = company.roster.set_index("rep_id")
    assert mgr.loc["282", "manager_id"] == "287" and mgr.loc["287", "team"] == "Sales management"


def test_dw_roster_hierarchy_and_quotas(shared_data):
    aw = load_adventureworks_dw(shared_data)
    assert len(aw.roster) == 17 and len(aw.quotas) == 163
    assert aw.roster.set_index("rep_id").loc["296", "manager_id"] == "294"
    assert aw.quotas["period"].min() == "2010Q4"
    with pytest.raises(DataValidationError, match="no sales history"):
        _ = aw.company


def test_pl300_sales_and_targets(shared_data):
    aw = load_adventureworks_pl300(shared_data)
    company = aw.company
    assert (
        company.history["period"].min() == "2017Q3" and company.history["period"].max() == "2020Q1"
    )
    assert set(company.history["rep_id"]) <= set(company.roster["rep_id"])
    assert aw.quotas["quota"].gt(0).all()
    assert len(attainment(aw)) > 30
