"""Where data enters quotaplan: loading, validation, the synthetic company and the samples.

Note: ``datasets`` is also the import name of Hugging Face's package; install quotaplan in its own
virtual environment (``make run`` creates one).

The loaders (pandas) are imported when first used (PEP 562); the error types are here without
them.
"""

import lazy_loader

from .errors import DataValidationError, Problem

#: The names imported when first used, and the submodule of each.
__getattr__, _, _LAZY = lazy_loader.attach(
    __name__,
    submod_attrs={
        "company": ["Company", "load_company", "summarise"],
        "history": ["bookings_to_history", "load_history"],
        "roster": ["load_roster"],
        "synthetic": ["SyntheticCompany", "make_company"],
    },
)


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


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
