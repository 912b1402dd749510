"""Reading tables from CSV, Parquet or DataFrames, and the checks every table shares."""

from __future__ import annotations

import csv
import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataValidationError, Problem, row_refs
from .schema import Column

PathOrFrame = str | os.PathLike | pd.DataFrame


@dataclass(frozen=True)
class Table:
    """A raw table with headers normalised, and how to point at its rows in messages."""

    name: str
    frame: pd.DataFrame
    from_file: bool

    #: For a file read with some records left out (``data bookings --where``): the file
    #: position of each record of ``frame``, so messages still name the file's lines.
    positions: np.ndarray | None = None

    def rows(self, mask: np.ndarray | pd.Series) -> tuple[tuple[str, ...], int]:
        """Where the rows selected by ``mask`` are, as the user will find them (CSV line
        numbers for a file, the index labels for a DataFrame)."""
        pos = np.flatnonzero(np.asarray(mask, dtype=bool))
        if self.positions is not None:
            pos = self.positions[pos]
        labels = None if self.from_file else self.frame.index
        return row_refs(pos, lines=self.from_file, labels=labels)

    def subset(self, keep) -> Table:
        """The records where ``keep`` is true, still named by their place in the source."""
        keep = np.asarray(keep, dtype=bool)
        base = self.positions if self.positions is not None else np.arange(len(self.frame))
        if not self.from_file:
            return Table(self.name, self.frame[keep], False)
        return Table(self.name, self.frame[keep].reset_index(drop=True), True, base[keep])

    def problem(self, columns, what: str, fix: str, mask=None) -> Problem:
        rows, n = self.rows(mask) if mask is not None else ((), 0)
        return Problem(self.name, tuple(columns), what, fix, rows, n)


def _delimiter(path: Path) -> str:
    """The delimiter of a CSV export: the most frequent of , ; tab | in its header line."""
    with open(path, encoding="utf-8", errors="replace") as f:
        header = f.readline()
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def normalise_header(name: object) -> str:
    """``" Rep ID "`` -> ``"rep_id"``: lower case, runs of spaces, dashes and dots to ``_``."""
    return re.sub(r"[\s\-.]+", "_", str(name).strip().lower()).strip("_")


def read_table(source: PathOrFrame, name: str) -> Table:
    """Read a CSV or Parquet file, or take a DataFrame, with headers normalised.

    Text columns are read as text (rep ids such as ``007`` keep their zeros). A :class:`Table`
    already read is returned as it is (so a file is read once, and keeps its line numbers).
    """
    if isinstance(source, Table):
        return source
    if isinstance(source, pd.DataFrame):
        frame, label, from_file = source.copy(), f"{name} (DataFrame)", False
    else:
        path = Path(source)
        label, from_file = path.name, True
        if not path.exists():
            raise DataValidationError(
                [Problem(label, (), f"file not found: {path}", "Check the path and the file name.")]
            )
        suffix = path.suffix.lower()
        try:
            if suffix in (".parquet", ".pq"):
                frame = pd.read_parquet(path)
            elif suffix in (".csv", ".txt", ".tsv"):
                frame = pd.read_csv(
                    path, dtype=str, keep_default_na=False, na_values=[""], sep=_delimiter(path)
                )
            else:
                raise DataValidationError(
                    [
                        Problem(
                            label,
                            (),
                            f"unsupported file type '{suffix}'",
                            "Save the table as .csv or .parquet.",
                        )
                    ]
                )
        except DataValidationError:
            raise
        except (
            pd.errors.ParserError,
            pd.errors.EmptyDataError,
            UnicodeDecodeError,
            OSError,
            ValueError,
            csv.Error,
        ) as exc:
            raise DataValidationError(
                [
                    Problem(
                        label,
                        (),
                        f"cannot be read ({exc.__class__.__name__}: {exc})",
                        "Save it as UTF-8 CSV with a header row, or as Parquet.",
                    )
                ]
            ) from exc
    frame.columns = [normalise_header(c) for c in frame.columns]
    return Table(label, frame.reset_index(drop=True) if from_file else frame, from_file)


def check_columns(
    table: Table, schema: tuple[Column, ...], extra_ok=lambda c: False
) -> tuple[list[Problem], list[str]]:
    """Problems for missing, misspelled and repeated columns; and the unknown columns to ignore."""
    problems: list[Problem] = []
    cols = list(table.frame.columns)
    known = {c.name for c in schema}
    dupes = sorted({c for c in cols if cols.count(c) > 1})
    if dupes:
        problems.append(
            table.problem(dupes, "appears more than once", "Keep one column of each name.")
        )
    unknown = [c for c in dict.fromkeys(cols) if c not in known and not extra_ok(c)]
    claimed: set[str] = set()
    for col in schema:
        if col.name in cols:
            continue
        guess = [c for c in unknown if c in col.aliases]
        guess = guess or difflib.get_close_matches(col.name, unknown, n=1, cutoff=0.75)
        if guess:
            claimed.add(guess[0])
            problems.append(
                table.problem(
                    [guess[0]],
                    f"looks like a misspelled or renamed '{col.name}' ({col.description})",
                    f"Rename the column '{guess[0]}' to '{col.name}'.",
                )
            )
        elif col.required:
            found = ", ".join(f"'{c}'" for c in cols) or "none"
            problems.append(
                table.problem(
                    [col.name],
                    f"required column is missing ({col.description}); columns found: {found}",
                    f"Add a '{col.name}' column.",
                )
            )
    ignored = [c for c in unknown if c not in claimed]
    return problems, ignored


def is_blank(values: pd.Series) -> pd.Series:
    """True where a cell is missing or only white space."""
    blank = values.isna()
    if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        return blank | values.str.strip().eq("").fillna(False).astype(bool)
    if values.dtype == object:
        return blank | values.map(lambda v: isinstance(v, str) and not v.strip()).astype(bool)
    return blank


def clean_ids(values: pd.Series) -> pd.Series:
    """Identifiers as stripped text; whole-number floats lose their ``.0`` (274.0 -> "274")."""
    if pd.api.types.is_float_dtype(values.dtype):
        whole = values.notna() & np.isfinite(values) & (values == np.round(values))
        out = values.astype(object)
        out[whole] = values[whole].astype("int64").astype(str)
        out[~whole & values.notna()] = values[~whole & values.notna()].astype(str)
        values = out
    blank = is_blank(values)
    return values.astype(object).where(blank, values.astype(str).str.strip()).where(~blank, None)


#: Cell texts that mean "no value" in exports from spreadsheets, databases and pandas.
_MISSING = {"nan", "null", "none", "na", "n/a", "#n/a", "-"}

_MONEY_JUNK = re.compile(r"[\s,$€£¥_]|^(usd|eur|gbp)|(usd|eur|gbp)$", re.IGNORECASE)


def to_number(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers from a column that may hold text such as ``"$1,200.50"``.

    Returns the numbers (NaN where blank or unreadable) and a mask of cells that were not blank
    but could not be read as a number.
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype(float), pd.Series(False, index=values.index)
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.astype(float), pd.Series(False, index=values.index)
    blank = is_blank(values) | values.astype(object).map(
        lambda v: isinstance(v, str) and v.strip().lower() in _MISSING
    )
    text = values.where(blank, values.astype(str).str.replace(_MONEY_JUNK, "", regex=True))
    numbers = pd.to_numeric(text.where(~blank, None), errors="coerce").astype(float)
    return numbers, numbers.isna() & ~blank


def numeric_column(
    table: Table, col: str, fix: str, problems: list[Problem]
) -> tuple[pd.Series, pd.Series]:
    """A column read as numbers (see :func:`to_number`); a problem is added for unreadable cells."""
    values, unreadable = to_number(table.frame[col])
    if unreadable.any():
        what = f"not a number ({sample_values(table.frame[col], unreadable)})"
        problems.append(table.problem([col], what, fix, unreadable))
    return values, unreadable


def to_dates(values: pd.Series) -> pd.Series:
    """Dates as written in a file or a frame (NaT where unreadable). Whole numbers are read as
    the digits they are (20240301 is 2024-03-01), never as nanoseconds since 1970; so are
    floats such as 20240301.0, what a spreadsheet export makes of them."""

    def digits(v):
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            return str(int(v)) if np.isfinite(v) and float(v).is_integer() else None
        return v

    if not pd.api.types.is_datetime64_any_dtype(values):
        values = values.astype(object).map(digits)
    return pd.to_datetime(values, errors="coerce", format="mixed")


def sample_values(values: pd.Series, mask, n: int = 3) -> str:
    """A few offending values for a message: numbers as numbers, text quoted."""
    picked = values[np.asarray(mask, dtype=bool)].tolist()
    shown = [f"{v:g}" if isinstance(v, int | float) else repr(str(v)) for v in picked]
    return ", ".join(list(dict.fromkeys(shown))[:n])
