"""Data for the inflation case study: loaders, windows, scaling and the split.

The thesis (chapter 5.1) takes Colombia's monthly 12-month CPI inflation from
2000-01 on, divides it by 100, standard-scales it, cuts windows of 12 months that
predict the 13th, and trains on the first 80 % of the windows. This module does
each of those steps as a small function, in the lab's shapes (CONVENTIONS):

    X (n_x, m, T_x)   Y (n_y, m)

Loaders return a `Series` (month-stamped dates and float64 values) and never
return anything half-loaded: the whole file is parsed and checked first, and the
first problem raises `DataFormatError` naming the file, the line and the fix.
"""
from __future__ import annotations

import csv
import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "DataFormatError", "Series", "load_series", "load_banrep_csv", "load_banrep_xlsx",
    "load_default", "default_data_path", "create_sequences", "to_lab_shapes",
    "reshape_data", "StandardScaler", "chronological_split", "Windows", "prepare_windows",
]


class DataFormatError(ValueError):
    """A data file could not be read; the message names the file, line and problem."""


@dataclass(frozen=True)
class Series:
    """A dated univariate series.

    dates: np.datetime64[M] array (one month stamp per observation; quarterly data
    is stamped with the first month of its quarter). values: float64 array.
    periods_per_year: 12 for monthly, 4 for quarterly data.
    """

    dates: np.ndarray
    values: np.ndarray
    name: str = "series"
    units: str = ""
    periods_per_year: int = 12
    source: str = ""
    notes: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.dates.shape != self.values.shape or self.values.ndim != 1:
            raise ValueError(
                f"Series: dates {self.dates.shape} and values {self.values.shape} must be "
                "1-D arrays of the same length")

    def __len__(self) -> int:
        return len(self.values)

    def since(self, start: str) -> "Series":
        """The observations dated `start` ("YYYY-MM") or later."""
        keep = self.dates >= np.datetime64(start, "M")
        if not keep.any():
            raise ValueError(f"Series.since({start!r}): the series ends at {self.dates[-1]}")
        return self._replace(self.dates[keep], self.values[keep])

    def scaled(self, factor: float, units: str) -> "Series":
        """The same series multiplied by `factor` (the thesis divides percent by 100)."""
        return Series(self.dates, self.values * factor, self.name, units,
                      self.periods_per_year, self.source, dict(self.notes))

    def _replace(self, dates, values) -> "Series":
        return Series(dates, values, self.name, self.units, self.periods_per_year,
                      self.source, dict(self.notes))


# ----------------------------------------------------------------------------------
# Loaders
# ----------------------------------------------------------------------------------

def default_data_path() -> Path:
    """Where the shared Colombian CSV sits next to a checkout: ../shared/data/."""
    return (Path(__file__).resolve().parents[1].parent / "shared" / "data"
            / "colombia_inflation_monthly.csv")


def load_series(path) -> Series:
    """Load a Banco de la República inflation export: `.csv` or `.xlsx`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"load_series: no file at {path}. Download the monthly 12-month inflation "
            "series from https://suameca.banrep.gov.co/buscador-de-series/ and pass its path.")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return load_banrep_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return load_banrep_xlsx(path)
    raise DataFormatError(f"load_series: {path.name} is neither .csv nor .xlsx; "
                          "export the series from the bank's site in one of those formats")


def load_banrep_csv(path) -> Series:
    """Read a CSV with the header `date,inflation_pct` and one row per month.

    Dates are ISO (`YYYY-MM-DD` or `YYYY-MM`); values are percent (a decimal comma
    inside a quoted field is accepted). Blank lines are skipped. Months must be
    consecutive: a gap would silently corrupt every window that spans it.
    """
    path = Path(path)
    where = f"load_banrep_csv: {path.name}"
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise DataFormatError(f"{where}: the file is empty")
    header = [cell.strip().lower() for cell in rows[0]]
    if header[:2] != ["date", "inflation_pct"]:
        raise DataFormatError(
            f"{where} line 1: expected the header 'date,inflation_pct', found {','.join(rows[0])!r}")
    parsed = []  # (line, month, value)
    for line, row in enumerate(rows[1:], start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) < 2:
            raise DataFormatError(f"{where} line {line}: expected 'date,value', found {','.join(row)!r}")
        month = _parse_iso_month(row[0], f"{where} line {line}")
        value = _parse_number(row[1], f"{where} line {line}")
        parsed.append((line, month, value))
    return _build_monthly(parsed, where, path)


def load_banrep_xlsx(path) -> Series:
    """Read the bank's .xlsx export (needs openpyxl: `pip install tinytape[data]`).

    Layout handled: optional title/header rows, then one row per month with the
    date in the first column (an Excel date or a `dd/mm/yyyy` string) and the
    inflation in percent in the second (a number or a string with a decimal
    comma, `5,18`), then optional trailing text rows (the source line). A data row
    after the trailing text, or a date row with a missing or unreadable value,
    is an error naming the sheet row.
    """
    try:
        import openpyxl
    except ImportError as exc:
        raise ImportError("load_banrep_xlsx needs openpyxl: pip install 'tinytape[data]' "
                          "(or export the series as CSV)") from exc
    path = Path(path)
    where = f"load_banrep_xlsx: {path.name}"
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a non-xlsx file
        raise DataFormatError(f"{where}: not a readable .xlsx workbook ({exc})") from exc
    try:
        rows = [tuple(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()

    parsed, data_started, trailer_line = [], False, None
    for line, row in enumerate(rows, start=1):
        cells = [c for c in row if not (c is None or (isinstance(c, str) and not c.strip()))]
        if not cells:
            continue
        month = _xlsx_month(row[0] if row else None)
        if month is None:
            if data_started and trailer_line is None:
                trailer_line = line  # the source line ("Fuente: ...") and anything after it
            continue
        if trailer_line is not None:
            raise DataFormatError(
                f"{where} line {line}: a dated row after the non-data row at line "
                f"{trailer_line}; only text (the source line) may follow the data")
        value_cell = row[1] if len(row) > 1 else None
        if value_cell is None or (isinstance(value_cell, str) and not value_cell.strip()):
            raise DataFormatError(f"{where} line {line}: the date {month} has no inflation value")
        value = (float(value_cell) if isinstance(value_cell, (int, float))
                 else _parse_number(str(value_cell), f"{where} line {line}"))
        parsed.append((line, month, value))
        data_started = True
    if not parsed:
        raise DataFormatError(f"{where}: no rows with a date (dd/mm/yyyy) in the first column")
    return _build_monthly(parsed, where, path)


_DMY = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{2})(?:-(\d{2}))?\s*$")


def _xlsx_month(cell):
    """The month stamp of an xlsx date cell, or None if the cell is not a date."""
    if isinstance(cell, (_dt.datetime, _dt.date)):
        return np.datetime64(f"{cell.year:04d}-{cell.month:02d}", "M")
    if isinstance(cell, str):
        match = _DMY.match(cell)
        if match:
            day, month, year = (int(g) for g in match.groups())
            if not (1 <= month <= 12 and 1 <= day <= 31):
                return None
            return np.datetime64(f"{year:04d}-{month:02d}", "M")
    return None


def _parse_iso_month(text: str, where: str) -> np.datetime64:
    match = _ISO.match(text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise DataFormatError(f"{where}: cannot read the date {text!r}; expected YYYY-MM-DD")
    return np.datetime64(f"{match.group(1)}-{match.group(2)}", "M")


def _parse_number(text: str, where: str) -> float:
    cleaned = text.strip().replace("%", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")  # decimal comma, as the bank's export writes it
    try:
        value = float(cleaned)
    except ValueError:
        raise DataFormatError(f"{where}: cannot read the number {text!r}") from None
    if not np.isfinite(value):
        raise DataFormatError(f"{where}: the value {text!r} is not finite")
    return value


def _build_monthly(parsed, where: str, path: Path) -> Series:
    """Check order and gaps of (line, month, value) rows, then build the Series."""
    if not parsed:
        raise DataFormatError(f"{where}: no data rows")
    for (line_a, month_a, _), (line_b, month_b, _) in zip(parsed, parsed[1:]):
        if month_b == month_a:
            raise DataFormatError(f"{where} line {line_b}: the month {month_b} repeats line {line_a}")
        if month_b < month_a:
            raise DataFormatError(f"{where} line {line_b}: {month_b} comes after {month_a}; "
                                  "rows must be in increasing date order")
        if month_b != month_a + 1:
            raise DataFormatError(f"{where} line {line_b}: {month_b} follows {month_a}; "
                                  "months are missing in between (the windows need consecutive months)")
    dates = np.array([month for _, month, _ in parsed], dtype="datetime64[M]")
    values = np.array([value for _, _, value in parsed], dtype=np.float64)
    return Series(dates, values, name="Colombia 12-month CPI inflation", units="percent",
                  periods_per_year=12, source=str(path))


# US quarterly CPI inflation, 1959Q1-2009Q3, 203 values in annualised percent: the
# `infl` column of statsmodels' macrodata (public domain, compiled from the Federal
# Reserve Bank of St. Louis's FRED), copied here so the demo needs no download and no
# optional dependency. tests/test_data.py checks it against statsmodels when present.
_US_CPI_INFLATION = """
0 2.34 2.74 0.27 2.31 0.14 2.7 1.21 -0.4 1.47 0.8 0.8 2.26 0.13 2.11 0.79 0.53 2.75 0.78 2.46
0.13 0.9 1.29 2.05 1.28 2.54 0.89 2.9 4.99 2.1 4.9 0.61 2.42 3.61 3.58 4.72 3.5 5.77 4.56 4.51
6.67 5.47 5.4 6.38 6.28 4.13 5.11 5.04 2 4.96 2.94 2.92 2.9 2.88 3.81 4.71 9.26 4.55 12.47 10.39
10.96 9.86 13.56 10.07 5.32 7.48 6.61 6.5 2.14 6.37 6.27 5.49 8.76 5.3 5.23 7.08 7.58 9.89 9.65
8.26 12.08 13.37 11.88 14.62 14.6 8.32 10.04 11.64 8.62 10.63 8.22 4.26 2.53 10.39 2.45 -0.82
3.66 4.03 3.99 5.13 4.67 3.09 3.82 2.28 4.89 2.61 2.96 5.13 -4.39 2.93 2.55 4.33 4.64 3.89 4.2
3.46 4.12 4.41 4.7 4.31 6.22 4.52 2.88 6.64 4.37 4.93 8.79 3.88 1.19 3.24 2.93 3.19 3.17 3.14
3.4 3.09 2.79 1.94 3.03 1.92 2.45 3.25 2.69 2.93 3.44 2.1 2.35 3.11 3.6 2.3 3.05 3.02 1.25 1.25
2.73 1.24 0.49 2.46 1.71 1.95 2.9 1.92 3.35 2.85 3.76 4.19 2.77 3.89 1.82 2.26 0.45 0.23 3.59
1.56 2.66 3.08 1.31 1.09 2.6 3.02 2.35 3.61 3.58 2.09 4.15 1.85 9.14 0.4 2.6 3.97 -1.58 3.3 4.58
2.75 3.45 6.38 2.82 8.53 -3.16 -8.79 0.94 3.37 3.56
"""


def load_default() -> Series:
    """The embedded default: US quarterly CPI inflation 1959Q1-2009Q3 (percent, annualised).

    A real series (statsmodels' `macrodata.infl`, public domain, from FRED), embedded
    so that `tinytape demo` needs neither a download nor an optional package.
    """
    values = np.array([float(v) for v in _US_CPI_INFLATION.split()], dtype=np.float64)
    dates = np.datetime64("1959-01", "M") + 3 * np.arange(len(values))
    return Series(dates.astype("datetime64[M]"), values, name="US quarterly CPI inflation",
                  units="percent (annualised)", periods_per_year=4,
                  source="statsmodels macrodata `infl` (FRED, public domain), embedded")


# ----------------------------------------------------------------------------------
# Windows, shapes, scaling, split
# ----------------------------------------------------------------------------------

def create_sequences(series, n_in: int, n_out: int):
    """Sliding windows: n_in inputs followed by the next n_out values as targets.

    Returns X (m, n_in) and Y (m, n_out) with m = len(series) - n_in - n_out + 1;
    row i is series[i : i+n_in] -> series[i+n_in : i+n_in+n_out] (the lab's first exercise).
    """
    values = np.asarray(series, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"create_sequences: expected a 1-D series, got shape {values.shape}")
    if n_in < 1 or n_out < 1:
        raise ValueError(f"create_sequences: n_in={n_in} and n_out={n_out} must both be >= 1")
    m = len(values) - n_in - n_out + 1
    if m < 1:
        raise ValueError(f"create_sequences: a series of length {len(values)} holds no window of "
                         f"n_in + n_out = {n_in + n_out}; use a longer series or shorter windows")
    starts = np.arange(m)[:, None]                       # (m, 1)
    X = values[starts + np.arange(n_in)]                 # (m, n_in)
    Y = values[starts + n_in + np.arange(n_out)]         # (m, n_out)
    return X, Y


def to_lab_shapes(X, Y):
    """(m, n_in), (m, n_out) windows -> the lab's X (1, m, n_in) and Y (n_out, m).

    One feature per time step (n_x = 1), the window along time (T_x = n_in), and
    the n_out targets as the n_y outputs of a seq-to-one head (the lab's second exercise).
    """
    X, Y = np.asarray(X), np.asarray(Y)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
        raise ValueError(f"to_lab_shapes: expected X (m, n_in) and Y (m, n_out) with the same m, "
                         f"got {X.shape} and {Y.shape}")
    return X[None, :, :].copy(), Y.T.copy()              # (1, m, T_x), (n_y, m)


reshape_data = to_lab_shapes  # the name of the thesis lab's exercise


class StandardScaler:
    """z = (x - mean) / std with the population std (ddof=0), fit on one array."""

    def __init__(self):
        self.mean_ = None
        self.std_ = None

    def fit(self, values) -> "StandardScaler":
        values = np.asarray(values, dtype=np.float64)
        if values.size < 2:
            raise ValueError(f"StandardScaler.fit: need at least 2 values, got {values.size}")
        std = float(values.std())
        if std == 0.0 or not np.isfinite(std):
            raise ValueError("StandardScaler.fit: the values are constant (std 0); nothing to scale")
        self.mean_, self.std_ = float(values.mean()), std
        return self

    def _check(self, name):
        if self.mean_ is None:
            raise RuntimeError(f"StandardScaler.{name}: call fit(...) first")

    def transform(self, values):
        self._check("transform")
        return (np.asarray(values, dtype=np.float64) - self.mean_) / self.std_

    def inverse_transform(self, values):
        self._check("inverse_transform")
        return np.asarray(values, dtype=np.float64) * self.std_ + self.mean_

    def fit_transform(self, values):
        return self.fit(values).transform(values)


def chronological_split(X, Y, train_fraction: float = 0.8):
    """First `int(train_fraction * m)` samples for training, the rest for test.

    X, Y in the lab's shapes (samples along axis 1 of X, axis 1 of Y). No shuffling:
    the test windows come after every training window (the thesis's 80/20 cut).
    """
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"chronological_split: train_fraction={train_fraction} must be in (0, 1)")
    m = X.shape[1]
    if Y.shape[-1] != m:
        raise ValueError(f"chronological_split: X has {m} samples, Y {Y.shape[-1]}; "
                         "pass the lab's shapes X (n_x, m, T_x), Y (n_y, m)")
    n_train = int(train_fraction * m)
    if n_train < 1 or n_train >= m:
        raise ValueError(f"chronological_split: {m} samples leave no train or no test part "
                         f"at train_fraction={train_fraction}")
    return X[:, :n_train], Y[:, :n_train], X[:, n_train:], Y[:, n_train:]


@dataclass
class Windows:
    """Everything the experiment needs from one series, in the lab's shapes.

    X_* (1, m, n_in) and Y_* (n_out, m) are scaled; `target_dates_*` date each
    sample's first target; `scaled` is the whole scaled series (for forecasting).
    """

    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    target_dates_train: np.ndarray
    target_dates_test: np.ndarray
    scaler: StandardScaler
    series: Series
    scaled: np.ndarray
    n_in: int
    n_out: int
    scale_fit: str


def prepare_windows(series: Series, n_in: int = 12, n_out: int = 1,
                    train_fraction: float = 0.8, scale_fit: str = "train") -> Windows:
    """Scale, window and split a series chronologically.

    scale_fit="train" (default) fits the scaler on the values that the training
    windows touch (inputs and targets), so no test value shapes the scaling.
    scale_fit="all" fits it on the whole series, as the thesis does: the test
    period's mean and spread then leak into training (a mild look-ahead), kept
    only to reproduce the thesis.
    """
    if scale_fit not in ("train", "all"):
        raise ValueError(f"prepare_windows: scale_fit={scale_fit!r}; choose 'train' or 'all'")
    values = series.values
    X_raw, _ = create_sequences(values, n_in, n_out)
    m = X_raw.shape[0]
    n_train = int(train_fraction * m)
    if n_train < 1 or n_train >= m:
        raise ValueError(f"prepare_windows: {m} windows leave no train or no test part "
                         f"at train_fraction={train_fraction}")
    # The last training window's last target sits at index n_train - 1 + n_in + n_out - 1.
    fit_on = values if scale_fit == "all" else values[: n_train + n_in + n_out - 1]
    scaler = StandardScaler().fit(fit_on)
    scaled = scaler.transform(values)                    # (T,)
    X, Y = to_lab_shapes(*create_sequences(scaled, n_in, n_out))
    X_tr, Y_tr, X_te, Y_te = chronological_split(X, Y, train_fraction)
    target_dates = series.dates[n_in: n_in + m]          # date of each sample's first target
    return Windows(X_tr, Y_tr, X_te, Y_te, target_dates[:n_train], target_dates[n_train:],
                   scaler, series, scaled, n_in, n_out, scale_fit)
