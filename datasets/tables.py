"""Reading tables from CSV, Excel (.xlsx), Parquet or DataFrames, and the checks every table
shares.

:func:`read_table` is the one reader of files: the command line and the API's uploads both come
through it. What a file is comes from its first bytes (an .xlsx is a zip, ``PK``; Parquet starts
``PAR1``), then from its suffix; anything else is CSV. A workbook's cells are read as the data
they hold, the values a spreadsheet shows (a formula's saved result, never the formula), then
written as a CSV export would write them, so one set of parsing rules reads every format:
numbers keep their value (a cell shown as 5% is 0.05, one shown as $1,200 is 1200), dates are
ISO dates, text stays text (``007`` keeps its zeros, ``=1+1`` typed as text is that text).
Problems name the sheet and its rows (``roster.xlsx (sheet 'Reps') ... at row 7``).
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import math
import os
import re
import threading
import warnings
import zipfile
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

    #: For a file read with some records left out (``data bookings --where``, a sheet's empty
    #: rows): the file position of each record of ``frame``, so messages still name the file's
    #: lines (or the sheet's rows).
    positions: np.ndarray | None = None
    #: What a file's records are called in messages: CSV lines, or a sheet's rows.
    unit: str = "line"

    def rows(self, mask: np.ndarray | pd.Series) -> tuple[tuple[str, ...], int]:
        """Where the rows selected by ``mask`` are, as the user will find them (CSV line
        numbers for a file, the index labels for a DataFrame)."""
        pos = np.flatnonzero(np.asarray(mask, dtype=bool))
        if self.positions is not None:
            pos = self.positions[pos]
        labels = None if self.from_file else self.frame.index
        return row_refs(pos, lines=self.from_file, labels=labels, unit=self.unit)

    def subset(self, keep) -> Table:
        """The records where ``keep`` is true, still named by their place in the source."""
        keep = np.asarray(keep, dtype=bool)
        base = self.positions if self.positions is not None else np.arange(len(self.frame))
        if not self.from_file:
            return Table(self.name, self.frame[keep], False)
        frame = self.frame[keep].reset_index(drop=True)
        return Table(self.name, frame, True, base[keep], self.unit)

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


#: What a file's suffix says it is, when its first bytes say nothing.
SUFFIXES = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
}

#: The largest workbook quotaplan unzips (a zip bomb is refused before it is read).
MAX_UNZIPPED_BYTES = 1 << 30

_WORKBOOK = threading.Lock()


def file_kind(path: Path) -> str | None:
    """What a file is by its first bytes: ``xlsx`` (a zip), ``parquet``, ``xls`` (an Excel
    97-2003 or a password-protected workbook: both are OLE2 files), or None (text)."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return "xlsx"
    if head[:4] == b"PAR1":
        return "parquet"
    if head == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "xls"
    return None


def read_table(source: PathOrFrame, name: str) -> Table:
    """Read a CSV, Excel (.xlsx) or Parquet file, or take a DataFrame, with headers normalised.

    The format is the file's content's (see :func:`file_kind`), else its suffix's. Text columns
    are read as text (rep ids such as ``007`` keep their zeros). A :class:`Table` already read
    is returned as it is (so a file is read once, and keeps its line numbers).
    """
    if isinstance(source, Table):
        return source
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        frame.columns = [normalise_header(c) for c in frame.columns]
        return Table(f"{name} (DataFrame)", frame, False)
    path = Path(source)
    label = path.name
    if not path.exists():
        raise DataValidationError(
            [Problem(label, (), f"file not found: {path}", "Check the path and the file name.")]
        )
    suffix = path.suffix.lower()
    try:
        kind = file_kind(path) or SUFFIXES.get(suffix)
        if kind == "xlsx":
            return _read_xlsx(path, name)
        if kind == "xls":
            raise DataValidationError(
                [
                    Problem(
                        label,
                        (),
                        "is an Excel 97-2003 (.xls) workbook or a password-protected one, which "
                        "quotaplan does not read",
                        "Save it as .xlsx without a password, or as CSV.",
                    )
                ]
            )
        if kind == "parquet":
            frame = pd.read_parquet(path)
        elif kind == "csv":
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
                        "Save the table as .csv, .xlsx or .parquet.",
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
                    "Save it as UTF-8 CSV with a header row, as .xlsx, or as Parquet.",
                )
            ]
        ) from exc
    frame.columns = [normalise_header(c) for c in frame.columns]
    return Table(label, frame.reset_index(drop=True), True)


def _read_xlsx(path: Path, name: str) -> Table:
    """The table in a workbook: the sheet named like the table (``Roster`` for the roster),
    else the first; its header is its first row that is not empty, and empty rows are skipped
    (messages still name the sheet's rows)."""
    import openpyxl  # only for workbooks

    def refuse(what: str, fix: str) -> DataValidationError:
        return DataValidationError([Problem(path.name, (), what, fix)])

    try:
        with zipfile.ZipFile(path) as z:
            unzipped = sum(i.file_size for i in z.infolist())
        if unzipped > MAX_UNZIPPED_BYTES:
            raise refuse(
                f"unzips to {unzipped / 2**20:,.0f} MB, more than quotaplan reads from one "
                f"workbook ({MAX_UNZIPPED_BYTES / 2**20:,.0f} MB)",
                "Save the sheet as CSV.",
            )
        # A file object: openpyxl judges a file by its name, and an upload named roster.csv may
        # hold a workbook. Styles and extensions openpyxl leaves out are not data: no warnings
        # (catch_warnings sets process-wide filters: one workbook at a time, or two threads
        # restoring them in the wrong order would leave every warning ignored).
        with _WORKBOOK, open(path, "rb") as stream, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
            try:
                sheets = book.worksheets
                if not sheets:
                    raise refuse("holds no worksheet", "Put the table on a worksheet.")
                sheet = next((ws for ws in sheets if normalise_header(ws.title) == name), None)
                sheet = sheet or sheets[0]
                rows = [
                    (n, [_cell(v) for v in values])
                    for n, values in enumerate(sheet.iter_rows(values_only=True), start=1)
                ]
            finally:
                book.close()
    except DataValidationError:
        raise
    except Exception as exc:  # a damaged file: any error a reader of zips and XML can raise
        raise refuse(
            f"cannot be read as an Excel workbook ({exc.__class__.__name__}: {exc})",
            "Open it in Excel and save it again as .xlsx, or save the sheet as CSV.",
        ) from exc
    label = f"{path.name} (sheet '{sheet.title}')"
    rows = [(n, cells) for n, cells in rows if any(c is not None for c in cells)]
    if not rows:
        raise DataValidationError(
            [Problem(label, (), "is empty", "Put the table on it, with a header row.")]
        )
    (_, header), body = rows[0], rows[1:]
    width = max([len(header)] + [_width(cells) for _, cells in body])
    while width and header[width - 1] is None and all(_width(cells) < width for _, cells in body):
        width -= 1
    columns = [
        normalise_header(h) if h is not None else f"column_{i + 1}"
        for i, h in enumerate(header[:width] + [None] * (width - len(header)))
    ]
    data = [cells[:width] + [None] * (width - len(cells)) for _, cells in body]
    frame = pd.DataFrame(data, columns=columns, dtype=str) if data else _empty(columns)
    positions = np.array([n - 2 for n, _ in body], dtype=int)
    return Table(label, frame, True, positions, unit="row")


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=str) for c in columns})


def _width(cells: list) -> int:
    """How many of a row's cells there are up to its last one that holds something."""
    return next((i + 1 for i in range(len(cells) - 1, -1, -1) if cells[i] is not None), 0)


def _cell(value) -> str | None:
    """A workbook's cell as a CSV export writes it: whole numbers without ``.0``, other
    numbers exactly (the shortest text that reads back as the same number), dates as ISO
    dates (with the time when there is one), booleans as true/false, blanks as missing."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    text = str(value)
    return text if text != "" else None


def checked_frame(
    table: Table, schema: tuple[Column, ...], empty_fix: str, extra_ok=lambda c: False
) -> tuple[pd.DataFrame, list[str]]:
    """The table's rows once its columns are right (else every column problem at once), and the
    note naming the unknown columns ignored; a table without rows is refused with
    ``empty_fix``."""
    problems, ignored = check_columns(table, schema, extra_ok)
    notes = [f"{table.name}: ignored column(s) {', '.join(map(repr, ignored))}"] if ignored else []
    if problems:
        raise DataValidationError(problems)
    if table.frame.empty:
        raise DataValidationError([table.problem([], "has no rows", empty_fix)])
    return table.frame, notes


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
