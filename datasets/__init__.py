"""Where data enters quotaplan: loading, validation, the synthetic company and the samples.

Note: ``datasets`` is also the import name of Hugging Face's package; install quotaplan in its own
virtual environment (``make run`` creates one).

The loaders (pandas) are imported when first used (PEP 562); the error types are here without
them.
"""

from importlib import import_module

from .errors import DataValidationError, Problem

#: The names imported when first used, and the submodule of each.
_LAZY = {
    "Company": ".company",
    "load_company": ".company",
    "summarise": ".company",
    "bookings_to_history": ".history",
    "load_history": ".history",
    "load_roster": ".roster",
    "SyntheticCompany": ".synthetic",
    "make_company": ".synthetic",
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


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
