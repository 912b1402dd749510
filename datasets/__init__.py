"""Where data enters quotaplan: loading, validation, the synthetic company and the samples.

Note: ``datasets`` is also the import name of Hugging Face's package; install quotaplan in its own
virtual environment (``make run`` creates one).
"""

from .company import Company, load_company, summarise
from .errors import DataValidationError, Problem
from .history import bookings_to_history, load_history
from .roster import load_roster
from .synthetic import SyntheticCompany, make_company

__all__ = [
    "Company",
    "DataValidationError",
    "Problem",
    "SyntheticCompany",
    "bookings_to_history",
    "load_company",
    "load_history",
    "load_roster",
    "make_company",
    "summarise",
]
