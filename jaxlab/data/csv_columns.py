"""Reading a CSV file and parsing its columns for `jaxlab.data.tabular`: numbers, number strings such as
``"$1,200"``, dates, derived columns and the target.

Empty cells and spelled-out missing values (`MISSING_TEXT`) are missing values. A value that cannot be used (no
number, no date, inf or beyond `LARGEST`) stops the load with an error naming the column, the file line (the header
is line 1), the value and the ``config.data`` key that fixes it; `jaxlab.data.tabular` documents the keys.
"""
import re
from typing import Any

import numpy as np
import pandas as pd
from absl import logging

from jaxlab import errors
from jaxlab.data import paths

NONFINITE = ("error", "missing")  # what an inf or too large number becomes: an error | a missing value
LARGEST = 1e150                   # larger numbers are unusable: their square (in the std) overflows float64
MISSING_TEXT = ("nan", "na", "n/a", "null", "none")  # spelled-out missing values (pandas reads most as NaN)
# Tried in this order for each value when no data.date_format is set (see `jaxlab.data.tabular`).
DATE_FORMATS = ("ISO8601", "%d-%b-%y", "%d-%b-%Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y", "%d %b %Y",
                "%d %B %Y", "%m/%d/%Y", "%m/%d/%y")
DATE_PARTS = {"year": "year", "month": "month", "day": "day", "weekday": "day_of_week"}  # part → pandas .dt name


def read_frame(path: str, delimiter: str = ",", encoding: str = "utf-8") -> pd.DataFrame:
    if not path:
        raise errors.Error("no CSV file given: set --config.data.path=/path/to/file.csv")
    path = paths.existing(path, "CSV file")  # a relative path lies under the data root ($JAXLAB_DATA_DIR)
    try:
        frame = pd.read_csv(path, sep=delimiter, skipinitialspace=True, encoding=encoding)
    except UnicodeDecodeError as exc:
        raise not_decodable(path, encoding) from exc
    except LookupError as exc:
        raise errors.Error(f"unknown encoding {encoding!r} in config.data.encoding: use a Python codec name such "
                           "as utf-8, latin-1 or cp1252") from exc
    except pd.errors.EmptyDataError as exc:
        raise errors.Error(f"CSV file {path} is empty: it needs a header row and data rows") from exc
    except pd.errors.ParserError as exc:
        raise errors.Error(f"CSV file {path} cannot be parsed ({' '.join(str(exc).split())}): check "
                           f"--config.data.delimiter (now {delimiter!r})") from exc
    if frame.empty:
        raise errors.Error(f"CSV file {path} has a header but no data rows")
    frame.columns = [str(name).strip() for name in frame.columns]
    return frame


def not_decodable(path: str, encoding: str) -> errors.Error:
    """The error for a file that is not `encoding` text: the first undecodable byte, its offset and line (pandas
    reports offsets within one field only, so the file's bytes are decoded here once more)."""
    with open(path, "rb") as file:
        data = file.read()
    try:
        data.decode(encoding)
        where = ""
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        where = f": byte 0x{data[exc.start]:02x} at byte offset {exc.start} (line {line}) does not decode"
    return errors.Error(f"CSV file {path} is not {encoding} text{where}; set its encoding with "
                        "--config.data.encoding=latin-1 (or cp1252, …)")


def check_columns(frame: pd.DataFrame, names, key: str) -> None:
    for name in names:
        if name not in frame.columns:
            raise errors.Error(f"unknown column {name!r} in config.data.{key}: available columns are "
                               f"{', '.join(map(str, frame.columns))}")


def missing_as_na(series: pd.Series) -> pd.Series:
    """Stripped strings of a column, with empty cells and spelled-out missing values (`MISSING_TEXT`) as NA."""
    text = series.astype("string").str.strip()
    return text.mask((text == "") | text.str.lower().isin(MISSING_TEXT))


def to_number(series: pd.Series, name: str, currency: bool = False, nonfinite: str = "error",
              key: str = "") -> pd.Series:
    """Floats from a column; strings such as "$1,200" when `currency`. A value that is no number is an error that
    names the file line, the value and the config key that fixes it (`key`: where the column is declared);
    inf and too large values go through `check_finite`."""
    values = series
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        values = missing_as_na(series)
    numbers = pd.to_numeric(values, errors="coerce").astype(np.float64)
    if currency and values is not series:  # plain numbers ("inf", "1e300") first, then stripped number strings
        stripped = values.str.replace(r"[^\d.eE+\-]", "", regex=True).replace("", pd.NA)
        numbers = numbers.fillna(pd.to_numeric(stripped, errors="coerce").astype(np.float64))
    bad = numbers.isna() & values.notna()
    if bad.any():
        row = bad.idxmax()
        advice = number_advice(str(series[row]), key or ("currency" if currency else "numeric"))
        raise errors.Error(f"column {name!r} has a non-numeric value {series[row]!r} at line {row + 2}: {advice}")
    return check_finite(numbers, series, name, nonfinite)


def number_advice(value: str, key: str) -> str:
    """What fixes a `value` that is no number, in a column declared under ``config.data.<key>``."""
    if key in ("numeric", "currency") and parse_dates(pd.Series([value], dtype="string"), DATE_FORMATS).notna().all():
        return f"it is a date: move the column from config.data.{key} to config.data.dates"
    stripped = re.sub(r"[^\d.eE+\-]", "", value)
    if key == "numeric" and not np.isnan(pd.to_numeric(stripped or "x", errors="coerce")):
        return "it is a number string: move the column from config.data.numeric to config.data.currency"
    if key == "target":
        return "fix the file, or set --config.task=classification if the target holds classes"
    if key == "expression":
        return "fix the file, or change the expression in config.data.derived / config.data.target"
    return f"fix the file, or move the column from config.data.{key} to config.data.categorical if it holds categories"


def check_finite(numbers: pd.Series, shown: pd.Series, name: str, nonfinite: str = "error") -> pd.Series:
    """`numbers` (float64) whose inf and too large (|x| > `LARGEST`) values are an error naming the first one (its
    line and its text in `shown`), or missing values with ``nonfinite="missing"``."""
    unusable = numbers.abs() > LARGEST  # inf included; NaN is not
    if not unusable.any():
        return numbers
    if nonfinite == "missing":
        logging.warning("column %r: %d inf or too large value(s) treated as missing (data.nonfinite=missing)",
                        name, int(unusable.sum()))
        return numbers.mask(unusable)
    row = unusable.idxmax()
    problem = "infinite" if np.isinf(numbers[row]) else f"too large to use (|x| > {LARGEST:.0e})"
    value = shown[row].item() if hasattr(shown[row], "item") else shown[row]
    raise errors.Error(f"column {name!r} has the value {value!r} at line {row + 2}, which is {problem}: fix the "
                       "file, or set --config.data.nonfinite=missing to treat such values as missing")


def parse_dates(text: pd.Series, formats) -> pd.Series:
    """UTC datetimes of strings (NA = missing): each value is read with the first of `formats` it matches, NaT
    when none does."""
    dates = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    for date_format in formats:
        left = dates.isna() & text.notna()
        if not left.any():
            break
        dates[left] = pd.to_datetime(text[left], format=date_format, errors="coerce", utc=True)
    return dates


def to_dates(series: pd.Series, name: str, date_format: str = "") -> pd.Series:
    """Datetimes of a date column (`DATE_FORMATS`, or `date_format` alone); a value that is no date is an error
    naming the line, the value and ``data.date_format``."""
    text = missing_as_na(series)
    try:
        dates = parse_dates(text, (date_format,) if date_format else DATE_FORMATS)
    except ValueError as exc:  # a bad directive such as %Q
        if not date_format:
            raise
        raise errors.Error(f"config.data.date_format {date_format!r} is not a strftime format ({exc}): use e.g. "
                           "--config.data.date_format='%d.%m.%Y'") from exc
    bad = dates.isna() & text.notna()
    if bad.any():
        row = bad.idxmax()
        expected = (f"the format {date_format!r}" if date_format else
                    "any known format ('2009-12-18', '18-Dec-09', 'Dec 18, 2009', '12/18/2009', …)")
        raise errors.Error(f"column {name!r} has a value {series[row]!r} at line {row + 2} that is not a date in "
                           f"{expected}: fix the file or set --config.data.date_format to its strftime format "
                           "(e.g. '%d.%m.%Y')")
    return dates


def add_date_parts(frame: pd.DataFrame, spec: dict[str, Any]) -> None:
    """Adds the numeric column ``<date column>_<part>`` of every date column and part (NaN where missing)."""
    for name in spec.get("dates", ()):
        dates = to_dates(frame[name], name, spec.get("date_format", ""))
        for part in spec.get("date_parts", ()):
            frame[f"{name}_{part}"] = getattr(dates.dt, DATE_PARTS[part]).astype(np.float64)


def referenced(expression: str, columns) -> list[str]:
    """Column names an expression uses (bare identifiers or `backquoted names`)."""
    names = set(re.findall(r"`([^`]+)`", expression)) | set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expression))
    return [name for name in columns if name in names]


def split_derived(definition: str) -> tuple[str, str]:
    if "=" not in definition.replace("==", ""):
        raise errors.Error(f"derived column {definition!r} needs the form 'name = expression' "
                           "(config.data.derived)")
    name, expression = definition.split("=", 1)
    return name.strip(), expression.strip()


def eval_expression(frame: pd.DataFrame, expression: str, key: str) -> pd.Series:
    """`expression` (config.data.`key`) computed over the columns of `frame` by pandas' `DataFrame.eval`."""
    try:
        return frame.eval(expression, engine="python")
    except Exception as exc:  # pandas raises UndefinedVariableError, SyntaxError, TypeError …
        raise errors.Error(f"cannot evaluate {expression!r} in config.data.{key} ({type(exc).__name__}: "
                           f"{' '.join(str(exc).split())}): available columns are "
                           f"{', '.join(map(str, frame.columns))}") from exc


def parse(raw: pd.DataFrame, spec: dict[str, Any], with_target: bool = True) -> pd.DataFrame:
    """Parses the numeric/currency columns and any column used by an expression, adds the derived columns,
    marks zeros as missing where declared, and (with_target) adds the ``__target__`` column (NaN where missing)."""
    frame = raw.copy()
    expressions = [expression for _, expression in map(split_derived, spec["derived"])]
    target_is_column = spec["target"] in frame.columns
    if with_target and not target_is_column:
        expressions.append(spec["target"])
    nonfinite = spec.get("nonfinite", "error")
    for name in spec["currency"]:
        frame[name] = to_number(frame[name], name, currency=True, nonfinite=nonfinite)
    for name in spec["numeric"]:
        if name in raw.columns and name not in spec["currency"]:
            frame[name] = to_number(frame[name], name, nonfinite=nonfinite)
    add_date_parts(frame, spec)
    for expression in expressions:
        for name in referenced(expression, raw.columns):
            if not pd.api.types.is_numeric_dtype(frame[name]):
                frame[name] = to_number(frame[name], name, currency=True, nonfinite=nonfinite, key="expression")
    for definition in spec["derived"]:
        name, expression = split_derived(definition)
        used = referenced(expression, frame.columns)
        values = eval_expression(frame, expression, "derived").astype(np.float64)
        values = values.where(~frame[used].isna().any(axis=1)) if used else values
        frame[name] = check_finite(values, values, name, nonfinite)
    for name in spec["zero_means_missing"]:
        frame[name] = frame[name].mask(frame[name] == 0)
    if with_target:
        if target_is_column:
            target = frame[spec["target"]]
        else:
            used = referenced(spec["target"], frame.columns)
            target = eval_expression(frame, spec["target"], "target")
            if used:
                target = target.where(~frame[used].isna().any(axis=1))
        frame["__target__"] = target
    return frame
