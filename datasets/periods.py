"""Period labels: parse quarter, month and date labels and normalise them to quarters ("2024Q3").

Quarters are calendar quarters unless a fiscal year start month is given. With a fiscal year that
starts in June (``fiscal_year_start=6``), June-August is Q1; the fiscal year is named after the
calendar year in which it ends (pandas' convention), so June 2011 - May 2012 is fiscal 2012.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))

_QUARTER = [
    re.compile(r"^(?:fy)?(?P<y>\d{4})\s*[-/ _]?\s*q(?P<q>[1-4])$"),
    re.compile(r"^q(?P<q>[1-4])\s*[-/ _]?\s*(?:fy)?(?P<y>\d{4})$"),
]
_MONTH = [
    re.compile(r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})$"),
    re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})$"),
    re.compile(rf"^(?P<mn>{_MONTH_NAMES})\.?[\s\-/]*(?P<y>\d{{4}})$"),
    re.compile(rf"^(?P<y>\d{{4}})[\s\-/]*(?P<mn>{_MONTH_NAMES})$"),
]
_DATE = re.compile(
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)

QUARTER_LABEL = re.compile(r"^\d{4}Q[1-4]$")

ACCEPTED_FORMS = "quarters like 2024Q3, 2024-Q3 or Q3 2024; months like 2024-07 or Jul 2024; ISO dates like 2024-07-15"


def quarter_freq(fiscal_year_start: int = 1) -> str:
    """The pandas quarterly frequency whose Q1 starts in month ``fiscal_year_start``."""
    if not 1 <= int(fiscal_year_start) <= 12:
        raise ValueError(
            f"fiscal_year_start must be a month number 1..12, got {fiscal_year_start!r}"
        )
    end = (int(fiscal_year_start) - 2) % 12  # month before the start, 0-based
    return (
        "Q-"
        + ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"][end]
    )


def _parse_one(text: str) -> tuple[str, int, int] | None:
    """('Q', year, quarter) or ('M', year, month) for one label, or None if unreadable."""
    s = text.strip().lower()
    for rx in _QUARTER:
        if m := rx.match(s):
            return ("Q", int(m["y"]), int(m["q"]))
    for rx in _MONTH:
        if m := rx.match(s):
            month = _MONTHS[m["mn"]] if "mn" in rx.groupindex else int(m["m"])
            return ("M", int(m["y"]), month) if 1 <= month <= 12 else None
    if m := _DATE.match(s):
        try:
            pd.Timestamp(int(m["y"]), int(m["m"]), int(m["d"]))
        except ValueError:
            return None
        return ("M", int(m["y"]), int(m["m"]))
    return None


def parse_periods(values: pd.Series, fiscal_year_start: int = 1) -> pd.DataFrame:
    """Parse period labels.

    Parameters
    ----------
    values : labels as text, datetimes or pandas Periods.
    fiscal_year_start : month (1-12) in which the fiscal year and its Q1 start.

    Returns
    -------
    DataFrame aligned with ``values`` with columns ``quarter`` (normalised label such as
    ``"2024Q3"``, NaN where unreadable), ``month`` (``"2024-07"`` for monthly or dated input, NaN
    for quarterly input) and ``grain`` (``"Q"``, ``"M"`` or NaN where unreadable).
    """
    freq = quarter_freq(fiscal_year_start)
    out = pd.DataFrame(index=values.index, columns=["quarter", "month", "grain"], dtype=object)
    if isinstance(values.dtype, pd.PeriodDtype):
        values = values.astype(str)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        months = values.dt.to_period("M")
        ok = months.notna()
        out.loc[ok, "month"] = months[ok].astype(str)
        out.loc[ok, "quarter"] = months[ok].dt.asfreq(freq).astype(str)
        out.loc[ok, "grain"] = "M"
        return out
    # Few distinct labels in practice: parse each once, then map.
    codes, uniques = pd.factorize(
        values.astype(object).where(values.notna(), None), use_na_sentinel=True
    )
    quarter, month, grain = [], [], []
    for u in uniques:
        p = _parse_one(str(u))
        if p is None:
            quarter.append(np.nan)
            month.append(np.nan)
            grain.append(np.nan)
        elif p[0] == "Q":
            # A quarter label is taken as written: it already names the (fiscal) quarter.
            quarter.append(f"{p[1]}Q{p[2]}")
            month.append(np.nan)
            grain.append("Q")
        else:
            per = pd.Period(year=p[1], month=p[2], freq="M")
            quarter.append(str(per.asfreq(freq)))
            month.append(str(per))
            grain.append("M")
    for col, vals in (("quarter", quarter), ("month", month), ("grain", grain)):
        arr = np.array(vals + [np.nan], dtype=object)
        out[col] = arr[np.where(codes < 0, len(vals), codes)]
    return out


def quarter_range(first: str, last: str) -> list[str]:
    """Every quarter label from ``first`` to ``last`` inclusive."""
    return [str(p) for p in pd.period_range(pd.Period(first, "Q"), pd.Period(last, "Q"), freq="Q")]


def quarter_index(labels: pd.Series | np.ndarray) -> np.ndarray:
    """Quarter labels as consecutive integers (year * 4 + quarter - 1), for arithmetic."""
    s = pd.Series(labels, dtype=object).astype(str)
    return s.str[:4].astype(int).to_numpy() * 4 + s.str[-1].astype(int).to_numpy() - 1


def quarter_label(index: np.ndarray | int) -> np.ndarray | str:
    """Inverse of :func:`quarter_index`."""
    idx = np.asarray(index)
    labels = np.char.add(np.char.add((idx // 4).astype(str), "Q"), (idx % 4 + 1).astype(str))
    return str(labels) if labels.ndim == 0 else labels


def quarter_end(label: str, fiscal_year_start: int = 1) -> pd.Timestamp:
    """The last day of a quarter label under the given fiscal calendar."""
    return pd.Period(label, freq=quarter_freq(fiscal_year_start)).end_time.normalize()
